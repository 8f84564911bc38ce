"""Two-factor sign-in: an authenticator app (TOTP), recovery codes and passkeys (the passkey
ceremony itself runs in the browser tests), a clinic setting that requires a factor, and the
owner's reset of a member's factors. Members without a factor in a clinic that does not
require one sign in with the password alone (the demo's staff do)."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from needlecare.accounts import factors
from needlecare.audit.models import AuditEvent
from tests.factories import PASSWORD
from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db


def code_of(device: TOTPDevice, *, later: int = 0) -> str:
    return str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
               ).zfill(device.digits)


def sign_in(client: Client, user: Any, password: str = PASSWORD) -> Any:
    return client.post(reverse("login"), {"username": user.username, "password": password})


def set_up_app(client: Client) -> tuple[TOTPDevice, list[str]]:
    """Set up an authenticator app through the pages; returns it and the recovery codes."""
    page = client.get(reverse("account-totp"))
    assert page.status_code == 200
    assert "<svg" in page.content.decode()  # the QR code, drawn on the server
    device = TOTPDevice.objects.get(confirmed=False)
    shown = client.post(reverse("account-totp"), {"code": code_of(device)})
    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"]
    codes = list(shown.context["codes"])
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    return device, codes


def test_without_a_factor_the_password_is_enough(journey: dict[str, Any]) -> None:
    client = Client()
    assert sign_in(client, journey["clinician"])["Location"] == reverse("home")
    assert client.get(reverse("patient-list")).status_code == 200


def test_with_an_app_the_password_alone_opens_nothing(journey: dict[str, Any]) -> None:
    member = journey["clinician"]
    device, _codes = set_up_app(client_for(member))
    client = Client()
    response = sign_in(client, member)
    assert response.status_code == 302
    page = client.get(reverse("patient-list"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("signin-verify"))
    # The API sees no session either.
    assert client.get("/api/v1/patients").status_code == 401
    wrong = client.post(reverse("signin-verify"), {"code": "000000", "next": "/patients/"})
    assert wrong.status_code == 200
    assert "did not work" in wrong.content.decode()
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=31), tick=False):
        right = client.post(reverse("signin-verify"),
                            {"code": code_of(device), "next": "/patients/"})
        assert right["Location"] == "/patients/"
        assert client.get(reverse("patient-list")).status_code == 200
        assert client.get("/api/v1/patients").status_code == 200
    actions = list(AuditEvent.objects.filter(object_id=str(member.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions[-3:] == ["auth.login", "auth.second_factor_failed", "auth.second_factor"]


def test_wrong_codes_slow_down(journey: dict[str, Any]) -> None:
    member = journey["clinician"]
    device, _codes = set_up_app(client_for(member))
    client = Client()
    sign_in(client, member)
    client.post(reverse("signin-verify"), {"code": "000000"})
    client.post(reverse("signin-verify"), {"code": "111111"})
    refused = client.post(reverse("signin-verify"), {"code": code_of(device)})
    assert "Too many wrong codes" in refused.content.decode()
    assert client.get(reverse("patient-list")).status_code == 302


def test_a_recovery_code_works_once(journey: dict[str, Any]) -> None:
    member = journey["front_desk"]
    _device, codes = set_up_app(client_for(member))
    first = Client()
    sign_in(first, member)
    assert first.post(reverse("signin-verify"), {"code": codes[0].upper()}).status_code == 302
    assert first.get(reverse("patient-list")).status_code == 200
    again = Client()
    sign_in(again, member)
    refused = again.post(reverse("signin-verify"), {"code": codes[0]})
    assert refused.status_code == 200
    assert factors.factors_of(member).recovery_codes_left == 9
    assert AuditEvent.objects.filter(action="auth.second_factor",
                                     detail__factor="recovery_code").count() == 1


def test_a_clinic_that_requires_it_sends_members_without_one_to_set_it_up(
        journey: dict[str, Any]) -> None:
    owner = client_for(journey["owner"])
    response = owner.post(reverse("clinic-security"), {"require_two_factor": "on"})
    assert response.status_code == 302
    journey["clinic"].refresh_from_db()
    assert journey["clinic"].require_two_factor
    change = AuditEvent.objects.get(action="clinic.security")
    assert change.detail == {"changes": {"require_two_factor": {"old": False, "new": True}}}

    member = Client()
    sign_in(member, journey["clinician"])
    page = member.get(reverse("worklist"))
    assert page["Location"].startswith(reverse("account-security"))
    security = member.get(reverse("account-security")).content.decode()
    assert "Your clinic requires two-factor sign-in" in security
    set_up_app(member)
    assert member.get(reverse("worklist")).status_code == 200


def test_the_last_factor_cannot_be_removed_where_the_clinic_requires_one(
        journey: dict[str, Any]) -> None:
    journey["clinic"].require_two_factor = True
    journey["clinic"].save()
    member = Client()
    sign_in(member, journey["clinician"])
    device, _codes = set_up_app(member)
    member.post(reverse("account-factor-remove", args=["totp", device.pk]))
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_removing_ones_own_app_removes_the_recovery_codes_too(
        journey: dict[str, Any]) -> None:
    member = client_for(journey["clinician"])
    device, _codes = set_up_app(member)
    member.post(reverse("account-factor-remove", args=["totp", device.pk]))
    mine = factors.factors_of(journey["clinician"])
    assert (mine.any, mine.recovery_codes_left) == (False, 0)
    assert AuditEvent.objects.filter(action="auth.factor_removed").exists()


def test_the_owner_resets_a_members_factors(journey: dict[str, Any]) -> None:
    member = journey["clinician"]
    set_up_app(client_for(member))
    owner = client_for(journey["owner"])
    overview = owner.get(reverse("clinic-security")).content.decode()
    assert "authenticator app" in overview
    response = owner.post(reverse("staff-factors-reset", args=[member.pk]))
    assert response.status_code == 302
    assert not factors.factors_of(member).any
    reset = AuditEvent.objects.get(action="staff.factors_reset")
    assert reset.actor == journey["owner"]
    assert reset.object_id == str(member.pk)
    assert reset.detail == {"removed": {"totp": 1, "recovery_codes": 1}}
    client = Client()
    sign_in(client, member)
    assert client.get(reverse("worklist")).status_code == 200


def test_only_owners_reset_factors_and_only_of_their_clinic(journey: dict[str, Any]) -> None:
    member = journey["front_desk"]
    set_up_app(client_for(member))
    response = client_for(journey["clinician"]).post(
        reverse("staff-factors-reset", args=[member.pk]))
    assert response.status_code == 403
    assert factors.factors_of(member).any


def test_setting_up_a_second_factor_needs_a_verified_session(journey: dict[str, Any]) -> None:
    # Someone with only the password cannot add their own factor to a member's account.
    member = journey["clinician"]
    set_up_app(client_for(member))
    thief = Client()
    sign_in(thief, member)
    assert thief.get(reverse("account-totp"))["Location"].startswith(reverse("signin-verify"))
    begin = thief.post(reverse("otp_webauthn:credential-registration-begin"))
    assert begin.status_code in (302, 403)
