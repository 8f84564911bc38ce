"""Signing in, in Chromium: with an authenticator-app code, with a passkey (Chromium's virtual
authenticator, through the DevTools protocol), and a forgotten password reset by the emailed
link. The live server answers on ``localhost``: a passkey belongs to a host name, and an IP
address cannot be a WebAuthn relying party."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential
from playwright.sync_api import Browser, BrowserContext, Page, expect

from needlecare.accounts.models import Role
from needlecare.audit.models import AuditEvent
from tests.e2e.support import DESKTOP, TIMEOUT_MS, screenshot
from tests.factories import PASSWORD, make_clinic, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _passkeys_on_this_server(settings: Any, live_server: Any) -> None:
    assert live_server.url.startswith("http://localhost:"), live_server.url
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]


@pytest.fixture
def context(browser: Browser, live_server: Any) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP, locale="en-GB",
                                  timezone_id="Europe/London")
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


def _password_step(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _signed_in(page: Page) -> None:
    expect(page.get_by_role("button", name=re.compile("Sign out", re.I))).to_be_visible()


def test_sign_in_with_an_authenticator_app_code(context: BrowserContext) -> None:
    clinic = make_clinic(name="Harbour Skin Clinic", require_two_factor=True)
    member = make_user(clinic, Role.CLINICIAN, username="nurse.app")
    page = context.new_page()

    # The clinic requires a second factor: the first sign-in sets up the app.
    _password_step(page, "nurse.app")
    expect(page.get_by_text("Your clinic requires two-factor sign-in.")).to_be_visible()
    page.get_by_role("link", name="Set up an authenticator app").click()
    expect(page.locator("svg.qr")).to_be_visible()
    screenshot(page, "20-totp-setup")
    device = TOTPDevice.objects.get(user=member, confirmed=False)
    page.get_by_label("Code from the app").fill(_code(device))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    assert page.locator("#recovery-codes li").count() == 10
    page.get_by_role("link", name="I have kept them").click()
    page.get_by_role("button", name=re.compile("Sign out")).click()

    # Next time: password, then the code the app shows.
    _password_step(page, "nurse.app")
    expect(page.get_by_role("heading", name="One more step")).to_be_visible()
    screenshot(page, "21-second-step")
    device.refresh_from_db()
    page.get_by_label("Code").fill(_code(device, step_ahead=1))
    page.get_by_role("button", name="Continue").click()
    _signed_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Worklist"))
    assert AuditEvent.objects.filter(action="auth.second_factor", actor=member,
                                     detail__factor="totp").exists()


def _code(device: TOTPDevice, step_ahead: int = 0) -> str:
    # A code is accepted once; the second sign-in uses the next one (the device allows one
    # step of drift either way).
    return str(totp(device.bin_key, device.step, device.t0 - step_ahead * device.step,
                    device.digits, device.drift)).zfill(device.digits)


def _virtual_authenticator(context: BrowserContext, page: Page) -> Any:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return cdp


def test_sign_in_with_a_passkey(context: BrowserContext) -> None:
    clinic = make_clinic(name="Harbour Skin Clinic")
    member = make_user(clinic, Role.FRONT_DESK, username="desk.key", first_name="Robin",
                       last_name="Ashby")
    page = context.new_page()
    _virtual_authenticator(context, page)

    # Signed in with the password (no factor yet), the member adds a passkey.
    _password_step(page, "desk.key")
    _signed_in(page)
    page.get_by_role("link", name="Sign-in and security").click()
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("cell", name="never")).to_be_visible()  # reloaded with the key
    assert WebAuthnCredential.objects.filter(user=member, confirmed=True).count() == 1
    page.get_by_role("button", name=re.compile("Sign out")).click()

    # The password alone is no longer enough; the passkey is the second step.
    _password_step(page, "desk.key")
    expect(page.get_by_role("heading", name="One more step")).to_be_visible()
    page.get_by_role("button", name="Use your passkey").click()
    _signed_in(page)
    page.get_by_role("button", name=re.compile("Sign out")).click()

    # Or the passkey alone, which proves both the key and the person (user verification).
    page.goto("/login/")
    page.get_by_role("button", name="Use a passkey").click()
    _signed_in(page)
    # The front desk's home is today's diary.
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Today"))
    screenshot(page, "22-signed-in-with-passkey")
    logins = AuditEvent.objects.filter(action="auth.login", actor=member)
    assert {e.detail["method"] for e in logins} == {"password", "passkey"}
    assert AuditEvent.objects.filter(action="auth.second_factor", actor=member,
                                     detail__factor="passkey").exists()


def test_a_forgotten_password_is_reset_by_the_emailed_link(context: BrowserContext) -> None:
    clinic = make_clinic(name="Harbour Skin Clinic")
    member = make_user(clinic, Role.CLINICIAN, username="nurse.forgot",
                       email="nurse.forgot@example.test")
    page = context.new_page()
    page.goto("/login/")
    page.get_by_role("link", name="Forgotten your password?").click()
    page.get_by_label("Email").fill("nurse.forgot@example.test")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    [message] = mail.outbox
    link = re.search(r"http\S+/login/reset/\S+/", message.body)
    assert link, message.body
    page.goto(link.group(0))
    new = "lighthouse-orchard-velvet-19"
    page.locator("#id_new_password1").fill(new)
    page.locator("#id_new_password2").fill(new)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Your new password is set")).to_be_visible()

    # The link worked once.
    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    _password_step(page, "nurse.forgot", new)
    _signed_in(page)
    member.refresh_from_db()
    assert member.check_password(new)
