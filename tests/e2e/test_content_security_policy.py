"""Every page, staff and patient, loads in Chromium under the Content-Security-Policy without
one violation: no inline script or style, nothing from another origin.

Violations are caught two ways: the page's ``securitypolicyviolation`` events (recorded by a
script Playwright adds before any of the page's own) and Chromium's console errors. A canary
page with an inline style and an inline script, served under the same policy, shows that the
listeners do catch what they are for. Every named address of the site is either loaded here or
listed, with the reason, among those that are not pages; a new page fails this test until it
is added."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from playwright.sync_api import Page, Route

from needlecare.access import Actor
from needlecare.care.models import Consent
from needlecare.photos.services import Upload, upload_photos
from needlecare.recovery.links import replace_link
from tests.e2e.support import answer_red_flags, sign_in, verify_on_phone
from tests.factories import journey_to_signed_session, make_photo_consent
from tests.photo_files import good_jpeg
from tests.web.routes import _recovery_checkin

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile || document.location.pathname}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
                              + ` at ${where}`);
});
"""

#: Named addresses that are not pages: form targets (POST only), files, JSON, redirects.
NOT_PAGES = {
    "logout", "healthz", "readyz", "favicon", "api-token-revoke", "consultation-override",
    "consent-withdraw", "session-sign", "session-addendum", "session-cancel", "link-revoke",
    "escalation-acknowledge", "escalation-note", "escalation-close", "message-retry",
    "message-cancel", "session-aftercare-pdf", "session-calendar", "consent-pdf",
    "document-download", "patient-aftercare-pdf", "patient-calendar", "openapi-json",
    "api-root", "unknown", "list_patients", "register_patient", "get_patient",
    "submit_checkin", "get_checkin", "list_escalations", "get_escalation", "acknowledge",
    "add_note", "close", "home",
    # Sign-in security, the audit trail and the clinic settings: form targets, the CSV export,
    # the logo image, the passkey endpoints (JSON, script catalogue), the audit API.
    "closure-add", "closure-remove", "link-send", "link-replace", "link-unlock",
    "account-factor-remove", "account-recovery-codes", "staff-factors-reset", "audit-export",
    "clinic-logo", "js-i18n-catalog", "credential-authentication-begin",
    "credential-authentication-complete", "credential-registration-begin",
    "credential-registration-complete", "list_audit",
    # Photos: form targets, image files and PDFs, and the photo API.
    "photo-upload", "photo-scope-withdraw", "photo-delete", "photo-file", "photo-teaching",
    "photo-aligned", "photo-sheet", "patient-photo-file", "patient-photo-sheet", "upload_photo",
    "add_checkin_photo", "list_photos", "compare_photos", "get_photo", "photo_file",
}


#: Pages not loaded here, with the reason: the second sign-in step opens only between a
#: password and a second factor (tests/e2e/test_sign_in.py goes through it).
NOT_LOADED_HERE = {"signin-verify"}


def _names(patterns: list[Any]) -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern) != "operator/":  # Django's admin, for operators
                names |= _names(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names


def _staff_pages(j: dict[str, Any]) -> dict[str, str]:
    checkin = _recovery_checkin(j)
    patient, session = j["patient"].pk, j["session"].pk
    consent = Consent.objects.filter(patient=j["patient"]).latest("id").pk
    # Two photos of the same view, before and after, for the photo pages and the compare.
    make_photo_consent(j["patient"], j["clinician"])
    before, after = (upload_photos(Actor(user=j["clinician"]), patient,
                                   [Upload(good_jpeg(), "front")], session_id=session,
                                   moment=moment)[0] for moment in ("before", "follow_up"))
    return {
        "patient-photos": reverse("patient-photos", args=[patient]),
        "photo-detail": reverse("photo-detail", args=[before.pk]),
        "photo-eyes": reverse("photo-eyes", args=[before.pk]),
        "photo-compare": reverse("photo-compare") + f"?before={before.pk}&after={after.pk}",
        "photo-compare (slider)": reverse("photo-compare")
        + f"?before={before.pk}&after={after.pk}&mode=slider",
        "photo-library": reverse("photo-library") + "?use=marketing",
        "photo-settings": reverse("photo-settings"),
        "patient-list": reverse("patient-list"),
        "patient-new": reverse("patient-new"),
        "patient-detail": reverse("patient-detail", args=[patient]),
        "patient-edit": reverse("patient-edit", args=[patient]),
        "patient-record-export": reverse("patient-record-export", args=[patient]),
        "patient-record-erase": reverse("patient-record-erase", args=[patient]),
        "staff-list": reverse("staff-list"),
        "staff-new": reverse("staff-new"),
        "staff-edit": reverse("staff-edit", args=[j["clinician"].pk]),
        "api-tokens": reverse("api-tokens"),
        "account-security": reverse("account-security"),
        "account-totp": reverse("account-totp"),
        "password-change": reverse("password-change"),
        "audit-list": reverse("audit-list"),
        "clinic-security": reverse("clinic-security"),
        "clinic-settings": reverse("clinic-settings"),
        "consultation-new": reverse("consultation-new", args=[patient]),
        "consultation-detail": reverse("consultation-detail", args=[j["consultation"].pk]),
        "consent-new": reverse("consent-new", args=[patient]),
        "consent-detail": reverse("consent-detail", args=[consent]),
        "plan-new": reverse("plan-new", args=[j["consultation"].pk]),
        "plan-detail": reverse("plan-detail", args=[j["plan"].pk]),
        "plan-edit": reverse("plan-edit", args=[j["plan"].pk]),
        "session-book": reverse("session-book", args=[j["plan"].pk]),
        "lot-search": reverse("lot-search") + "?lot=CART",
        "session-detail": reverse("session-detail", args=[session]),
        "patient-link": reverse("patient-link", args=[patient]),
        "worklist": reverse("worklist"),
        "escalation-detail": reverse("escalation-detail", args=[checkin.escalation_id]),
        "checkin-detail": reverse("checkin-detail", args=[checkin.pk]),
        "outbox": reverse("outbox"),
        "openapi-view": reverse("api:openapi-view"),
    }


def _violations(page: Page, console: list[str]) -> list[str]:
    found: list[str] = page.evaluate("window.__cspViolations || []")
    return found + console


def _load(page: Page, url: str, console: list[str], wait: Callable[[Page], None] | None = None
          ) -> list[str]:
    console.clear()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    if wait is not None:
        wait(page)
    return _violations(page, console)


def _listening(page: Page) -> list[str]:
    console: list[str] = []
    page.add_init_script(LISTEN)
    page.on("console", lambda m: console.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text else None)
    return console


def test_the_listeners_catch_an_inline_style_and_script(desk: Page, live_server: Any) -> None:
    """Without this, a test that never hears a violation could not fail."""
    policy = Client().get("/login/")["Content-Security-Policy"]

    def canary(route: Route) -> None:
        route.fulfill(status=200, headers={"Content-Type": "text/html",
                                           "Content-Security-Policy": policy},
                      body='<!doctype html><p style="color: red">x</p>'
                           '<script>document.title = "ran"</script>')

    console = _listening(desk)
    desk.route("**/csp-canary", canary)
    found = _load(desk, "/csp-canary", console)
    assert any("style-src" in v for v in found), found
    assert any("script-src" in v for v in found), found
    assert desk.title() != "ran"


def test_every_staff_and_patient_page_loads_without_a_violation(
        desk: Page, phone: Page, live_server: Any, settings: Any, tmp_path: Any) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}
    journey = journey_to_signed_session()
    staff = _staff_pages(journey)
    issued = replace_link(Actor(user=journey["clinician"]), journey["patient"].pk)
    token = issued.url.rstrip("/").rsplit("/", 1)[-1]
    patient_pages = {
        "patient-verify": reverse("patient-verify", args=[token]),
        "patient-home": reverse("patient-home", args=[token]),
        "patient-access-log": reverse("patient-access-log", args=[token]),
    }
    anonymous = {
        "login": reverse("login"),
        "password-reset": reverse("password-reset"),
        "password-reset-sent": reverse("password-reset-sent"),
        "password-reset-done": reverse("password-reset-done"),
        # An unknown link: the page that says so.
        "password-reset-confirm": reverse("password-reset-confirm", args=["MQ", "set-password"]),
    }
    unlisted = _names(get_resolver().url_patterns) - NOT_PAGES - set(staff) \
        - set(patient_pages) - set(anonymous) - NOT_LOADED_HERE \
        - {"patient-checkin", "patient-checkin-result",  # reached by posting the check-in
           "patient-checkin-photos"}
    assert not unlisted, f"load these pages here (or list them in NOT_PAGES): {unlisted}"

    problems: dict[str, list[str]] = {}
    console = _listening(desk)
    for name, url in anonymous.items():
        problems[name] = _load(desk, url, console)
    sign_in(desk, journey["owner"].username)
    for name, url in staff.items():
        wait = None
        if name == "openapi-view":
            # Swagger UI renders after its script has fetched the OpenAPI document.
            def wait(page: Page) -> None:
                page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
        problems[name] = _load(desk, url, console, wait)
    problems["not-found"] = _load(desk, "/patients/999999999/", console)

    phone_console = _listening(phone)
    problems["patient-verify"] = _load(phone, patient_pages["patient-verify"], phone_console)
    verify_on_phone(phone, issued.url, journey["patient"].date_of_birth)
    problems["patient-access-log"] = _load(phone, patient_pages["patient-access-log"],
                                           phone_console)
    problems["patient-home"] = _load(phone, patient_pages["patient-home"], phone_console)
    phone_console.clear()
    phone.get_by_role("button", name="Send to the clinic").click()  # unanswered: errors shown
    phone.wait_for_load_state("networkidle")
    problems["patient-checkin (errors)"] = _violations(phone, phone_console)
    phone_console.clear()
    answer_red_flags(phone, yes=set())
    phone.get_by_role("button", name="Send to the clinic").click()
    phone.wait_for_url("**/checkins/*/")
    phone.wait_for_load_state("networkidle")
    problems["patient-checkin-result"] = _violations(phone, phone_console)
    # The photo step, then its page after a photo was sent (checked, with the framing guide).
    phone_console.clear()
    phone.get_by_role("link", name="Add a photo").click()
    phone.wait_for_url("**/photos/")
    phone.wait_for_load_state("networkidle")
    problems["patient-checkin-photos"] = _violations(phone, phone_console)
    phone_console.clear()
    phone.locator("input[type=file]").set_input_files(
        {"name": "IMG_0001.JPG", "mimeType": "image/jpeg", "buffer": good_jpeg()})
    phone.get_by_role("button", name="Send the photo").click()
    phone.get_by_role("heading", name="Thank you: your photo is clear").wait_for()
    phone.wait_for_load_state("networkidle")
    problems["patient-checkin-photos (sent)"] = _violations(phone, phone_console)
    problems["unknown link"] = _load(phone, "/p/" + "x" * 43 + "/", phone_console)

    assert {name: found for name, found in problems.items() if found} == {}
