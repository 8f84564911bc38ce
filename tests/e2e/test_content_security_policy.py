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
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, Route

from needlecare.access import Actor
from needlecare.care.models import Consent
from needlecare.clinical.protocol.outcomes_loader import default_outcomes
from needlecare.education import articles, newsletter
from needlecare.education import consent as subscriptions
from needlecare.education.models import Article, CommunicationConsent
from needlecare.outcomes import referrals
from needlecare.outcomes.models import OutcomeInvitation
from needlecare.photos.services import Upload, upload_photos
from needlecare.recovery.links import replace_link
from tests.e2e.support import answer_red_flags, sign_in, verify_on_phone
from tests.factories import journey_to_signed_session, make_photo_consent
from tests.photo_files import good_jpeg
from tests.web.education.support import draft
from tests.web.routes import _appointment, _recovery_checkin, _request, _waitlist_entry

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
    "add_note", "close", "home", "closure-add", "closure-remove", "clinic-logo",
    "staff-factors-reset", "audit-export", "account-recovery-codes", "account-factor-remove",
    "link-send", "link-replace", "link-unlock", "list_audit", "js-i18n-catalog",
    "credential-authentication-begin", "credential-authentication-complete",
    "credential-registration-begin", "credential-registration-complete",
    # Shown only between the password and the second factor: the sign-in browser tests
    # (tests/e2e/test_sign_in.py) go through it.
    "signin-verify",
    # outcomes: form targets, files and the outcomes API
    "consultation-alternatives-choose", "treatment-choice-copy", "referral-outcome",
    "referral-letter", "numbers-csv", "plan_outcomes", "record_outcome", "answer",
    "clinic_numbers",
    # Education (issue 13): form targets, images, the Atom feed (a CSP header is checked in
    # tests/web/education/test_public.py), a counting redirect, the provider's webhook, the
    # patient's two consent forms' targets and the API.
    "article-import-starter", "article-submit", "article-review", "article-publish",
    "article-unpublish", "article-staff-image", "campaign-test", "campaign-schedule",
    "campaign-cancel", "public-feed", "public-article-image", "newsletter-click",
    "email-events", "patient-reading", "patient-newsletter", "list_articles", "get_article",
    "subscribe",
    # The diary: form targets and the API's operations.
    "appointment-status", "appointment-confirm", "appointment-cancel", "diary-waitlist-remove",
    "diary-request-act", "previsit-countersign", "patient-appointment-confirm",
    "patient-appointment-cancel", "list_appointments", "get_appointment", "book", "move",
    "cancel", "set_status", "list_types", "availability",
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
        "clinic-settings": reverse("clinic-settings"),
        "clinic-security": reverse("clinic-security"),
        "audit-list": reverse("audit-list"),
        "account-security": reverse("account-security"),
        "account-totp": reverse("account-totp"),
        "password-change": reverse("password-change"),
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
        **_outcome_pages(j, checkin.escalation_id),
        **_education_pages(j),
    }


def _education_pages(j: dict[str, Any]) -> dict[str, str]:
    """The article (written by the owner, reviewed and published by the clinician) and the
    newsletter pages, staff side."""
    owner, clinician = Actor(user=j["owner"]), Actor(user=j["clinician"])
    article = articles.create_article(owner, draft())
    articles.submit_for_review(owner, article.pk)
    articles.review(clinician, article.pk, approve=True, publish_now=True)
    campaign = newsletter.create_campaign(owner, newsletter.CampaignDraft(
        subject="News", body="Hello from the clinic."))
    return {
        "article-list": reverse("article-list"),
        "article-new": reverse("article-new"),
        "article-detail": reverse("article-detail", args=[article.pk]),
        "article-edit": reverse("article-edit", args=[article.pk]),
        "article-version": reverse("article-version", args=[article.pk, 1]),
        "campaign-list": reverse("campaign-list"),
        "campaign-new": reverse("campaign-new"),
        "campaign-detail": reverse("campaign-detail", args=[campaign.pk]),
        "campaign-edit": reverse("campaign-edit", args=[campaign.pk]),
        "newsletter-settings": reverse("newsletter-settings"),
    }


def _public_pages(j: dict[str, Any]) -> dict[str, str]:
    """The clinic's public resources, and the links a newsletter sign-up mails out."""
    clinic = j["clinic"]
    slug = Article.objects.get(clinic=clinic).slug
    subscriptions.subscribe_public(clinic, "reader@example.test", adult=True, source="public_page",
                             ip=None)
    pending = CommunicationConsent.objects.get(subscriber__email="reader@example.test")
    return {
        "public-articles": reverse("public-articles", args=[clinic.slug]),
        "public-article": reverse("public-article", args=[clinic.slug, slug]),
        "public-subscribe": reverse("public-subscribe", args=[clinic.slug]),
        "newsletter-confirm": reverse("newsletter-confirm",
                                      args=[subscriptions.confirm_token(pending)]),
        "newsletter-unsubscribe": reverse("newsletter-unsubscribe",
                                          args=[subscriptions.unsubscribe_token(pending.pk, None)]),
    }


def _outcome_pages(j: dict[str, Any], escalation_id: int) -> dict[str, str]:
    plan, consultation = j["plan"].pk, j["consultation"].pk
    referral = referrals.close_with_referral(
        Actor(user=j["clinician"]), escalation_id, outcome="referred_dermatology", note="",
        details=referrals.ReferralDetails(
            to="dermatologist", reason="suspected_infection",
            summary="Fever on day 1 after microneedling of the cheeks; please assess."))
    return {
        "outcome-new": reverse("outcome-new", args=[plan]) + "?measure=goodman_baron_grade",
        "adverse-event-new": reverse("adverse-event-new", args=[plan]),
        "consultation-alternatives": reverse("consultation-alternatives", args=[consultation]),
        "clinic-offerings": reverse("clinic-offerings"),
        "escalation-referral": reverse("escalation-referral", args=[escalation_id]),
        "referral-list": reverse("referral-list"),
        "referral-detail": reverse("referral-detail", args=[referral.pk]),
        "numbers": reverse("numbers"),
        "numbers-records": reverse("numbers-records") + "?metric=sessions",
    }


def _open_invitation(j: dict[str, Any]) -> OutcomeInvitation:
    """The patient's 4-week questions, due today (as if the course had ended 4 weeks ago)."""
    point = default_outcomes().data.schedule["four_weeks_after"]
    today = j["session"].performed_on
    return OutcomeInvitation.objects.create(
        clinic=j["clinic"], patient=j["patient"], plan=j["plan"], session=j["session"],
        point="four_weeks_after", label=point.label, measures=["gais_patient", "satisfaction"],
        due=today, answer_by=today, remind_on=today, outcomes_version=default_outcomes().label)


def _diary_staff_pages(j: dict[str, Any]) -> dict[str, str]:
    appointment = _appointment(j)  # a consultation with its pre-visit forms signed ahead
    return {
        "diary-today": reverse("diary-today"),
        "diary-day": reverse("diary-day"),
        "diary-week": reverse("diary-week"),
        "diary-book": reverse("diary-book"),
        "appointment-detail": reverse("appointment-detail", args=[appointment.pk]),
        "appointment-move": reverse("appointment-move", args=[appointment.pk]),
        "diary-waitlist": reverse("diary-waitlist"),
        "diary-requests": reverse("diary-requests"),
        "diary-request": reverse("diary-request", args=[_request(j)["pk"]]),
        "diary-settings": reverse("diary-settings"),
        "previsit-review": reverse("previsit-review", args=[appointment.previsit.pk]),
    }


def _diary_patient_pages(j: dict[str, Any], token: str) -> dict[str, str]:
    appointment = _appointment(j).pk
    return {
        "patient-appointments": reverse("patient-appointments", args=[token]),
        "patient-appointment-rebook": reverse("patient-appointment-rebook",
                                              args=[token, appointment]),
        "patient-presession": reverse("patient-presession", args=[token, appointment]),
        "patient-offer": reverse("patient-offer", args=[token, _waitlist_entry(j)["pk"]]),
        "patient-previsit": reverse("patient-previsit", args=[token, appointment]),
        "patient-previsit-consent": reverse("patient-previsit-consent",
                                            args=[token, appointment]),
        "patient-access-log": reverse("patient-access-log", args=[token]),
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
    staff = {**_staff_pages(journey), **_diary_staff_pages(journey)}
    issued = replace_link(Actor(user=journey["clinician"]), journey["patient"].pk)
    token = issued.url.rstrip("/").rsplit("/", 1)[-1]
    invitation = _open_invitation(journey)
    patient_pages = {
        "patient-verify": reverse("patient-verify", args=[token]),
        "patient-home": reverse("patient-home", args=[token]),
        "patient-access-log": reverse("patient-access-log", args=[token]),
    }
    owner = journey["owner"]
    anonymous = {
        "login": reverse("login"), "password-reset": reverse("password-reset"),
        "password-reset-sent": reverse("password-reset-sent"),
        "password-reset-confirm": reverse("password-reset-confirm", args=[
            urlsafe_base64_encode(force_bytes(owner.pk)),
            default_token_generator.make_token(owner)]),
        "password-reset-done": reverse("password-reset-done"),
    }
    patient_pages |= {
        "patient-outcomes": reverse("patient-outcomes", args=[token, invitation.pk]),
        "patient-outcomes-thanks": reverse("patient-outcomes-thanks",
                                           args=[token, invitation.pk]),
    }
    anonymous |= _public_pages(journey)
    patient_pages |= _diary_patient_pages(journey, token)
    slug = journey["clinic"].slug
    anonymous |= {
        "public-booking": reverse("public-booking", args=[slug]),
        "public-booking-thanks": reverse("public-booking-thanks", args=[slug]),
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
    sign_in(desk, owner.username)
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
    for name, url in patient_pages.items():
        if name not in ("patient-verify", "patient-home"):
            problems[name] = _load(phone, url, phone_console)
    # Home last: the check-in below is posted from it.
    problems["patient-home"] = _load(phone, patient_pages["patient-home"], phone_console)
    problems["patient-access-log"] = _load(phone, patient_pages["patient-access-log"],
                                           phone_console)
    problems["patient-home"] += _load(phone, patient_pages["patient-home"], phone_console)
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
    for name in ("patient-outcomes", "patient-outcomes-thanks"):
        problems[name] = _load(phone, patient_pages[name], phone_console)
    problems["unknown link"] = _load(phone, "/p/" + "x" * 43 + "/", phone_console)

    assert {name: found for name, found in problems.items() if found} == {}
