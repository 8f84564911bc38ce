"""Passwords: everyone changes their own; a forgotten one is reset by an emailed link that
works once and for an hour; weak ones (short, common, numeric, like or containing one's names)
are refused, offline. API tokens expire (90 days unless chosen otherwise), show their last use,
and stop when the owner resets the member's password, the member resets it by email, or the
owner deactivates them. Sign-ins, failed sign-ins and sign-outs are in the audit trail."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needlecare.access import Actor
from needlecare.accounts.models import ApiToken
from needlecare.accounts.passwords import NamesInPasswordValidator
from needlecare.accounts.services import issue_api_token
from needlecare.audit.models import AuditEvent
from tests.factories import PASSWORD, make_user
from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db
NEW = "quiet-meadow-lantern-83"


def _works(secret: str) -> bool:
    response = Client().get("/api/v1/patients", headers={"Authorization": f"Bearer {secret}"})
    return response.status_code == 200


# --- changing one's own password ---------------------------------------------------------------

def test_the_front_desk_changes_their_own_password(journey: dict[str, Any]) -> None:
    member = journey["front_desk"]
    client = client_for(member)
    response = client.post(reverse("password-change"), {
        "old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    assert client.get(reverse("patient-list")).status_code == 200  # still signed in
    member.refresh_from_db()
    assert member.check_password(NEW)
    assert AuditEvent.objects.filter(action="auth.password_changed", actor=member).exists()


@pytest.mark.parametrize(("password", "message"), [
    ("short1", "too short"),
    ("password1234", "too common"),
    ("83749283746512", "entirely numeric"),
    ("Marlowe-is-my-name-77", "must not contain your name"),
    ("harbourside-2026-xy", "must not contain your name"),  # the clinic's name
])
def test_weak_passwords_are_refused(journey: dict[str, Any], password: str,
                                    message: str) -> None:
    clinic = journey["clinic"]
    clinic.name = "Harbourside Skin Clinic"
    clinic.save()
    member = make_user(clinic, "front_desk", first_name="Quinn", last_name="Marlowe")
    response = client_for(member).post(reverse("password-change"), {
        "old_password": PASSWORD, "new_password1": password, "new_password2": password})
    assert response.status_code == 200
    assert message in response.content.decode()


def test_the_name_check_ignores_short_names_and_common_clinic_words() -> None:
    class Member:
        first_name, last_name, username, email, clinic_id = "Jo", "Li", "jo.li", "", None

    NamesInPasswordValidator().validate("joyful-lions-clinic-42", Member())
    with pytest.raises(ValidationError):
        NamesInPasswordValidator().validate("JOLI-2026-and-more", Member())


# --- a forgotten password ----------------------------------------------------------------------

def _reset_link() -> str:
    [message] = mail.outbox
    match = re.search(r"http\S+/login/reset/\S+/", message.body)
    assert match, message.body
    return match.group(0)


def test_a_forgotten_password_is_reset_by_a_link_that_works_once(
        journey: dict[str, Any], settings: Any) -> None:
    settings.PUBLIC_BASE_URL = "https://clinic.example.test"
    member = journey["clinician"]
    member.email = "casey@example.test"
    member.save()
    secret = issue_api_token(Actor(user=member), member.pk, "sync").secret
    sent = Client().post(reverse("password-reset"), {"email": "CASEY@example.test"})
    assert sent["Location"] == reverse("password-reset-sent")
    link = _reset_link()
    assert link.startswith("https://clinic.example.test/login/reset/")
    path = link.removeprefix("https://clinic.example.test")

    client = Client()
    form = client.get(path, follow=True)
    assert "Set a new password" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert done["Location"] == reverse("password-reset-done")
    member.refresh_from_db()
    assert member.check_password(NEW)
    assert not _works(secret)  # the reset revoked the member's API tokens
    again = Client().get(path, follow=True).content.decode()
    assert "This link no longer works" in again
    actions = set(AuditEvent.objects.filter(object_id=str(member.pk))
                  .values_list("action", flat=True))
    assert {"auth.password_reset_sent", "auth.password_reset"} <= actions
    # The reset does not sign in: the password (and any second factor) comes next.
    assert "_auth_user_id" not in client.session


def test_a_reset_link_expires_after_an_hour(journey: dict[str, Any]) -> None:
    member = journey["clinician"]
    member.email = "casey@example.test"
    member.save()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        Client().post(reverse("password-reset"), {"email": member.email})
        path = "/" + _reset_link().split("/", 3)[3]
        clock.shift(dt.timedelta(minutes=61))
        page = Client().get(path, follow=True).content.decode()
    assert "This link no longer works" in page


def test_an_unknown_address_gets_the_same_answer_and_no_mail(journey: dict[str, Any]) -> None:
    response = Client().post(reverse("password-reset"), {"email": "nobody@example.test"})
    assert response["Location"] == reverse("password-reset-sent")
    assert mail.outbox == []


# --- API tokens ---------------------------------------------------------------------------------

def test_a_token_expires_after_the_chosen_time(journey: dict[str, Any]) -> None:
    member = journey["clinician"]
    with time_machine.travel(timezone.now(), tick=False) as clock:
        default = issue_api_token(Actor(user=member), member.pk, "default")
        short = issue_api_token(Actor(user=member), member.pk, "short", days=30)
        assert default.token.expires_at - default.token.created_at == dt.timedelta(days=90)
        clock.shift(dt.timedelta(days=31))
        assert not _works(short.secret)
        assert _works(default.secret)
        clock.shift(dt.timedelta(days=60))
        assert not _works(default.secret)


def test_the_token_page_shows_expiry_and_last_use(journey: dict[str, Any]) -> None:
    member = journey["clinician"]
    client = client_for(member)
    client.post(reverse("api-tokens"), {"name": "booking", "days": "180"})
    token = ApiToken.objects.get(name="booking")
    assert (token.expires_at - token.created_at).days == 180
    page = client.get(reverse("api-tokens")).content.decode()
    assert "Expires" in page
    assert "Last used" in page
    assert "never" in page


@pytest.mark.parametrize("change", ["password", "deactivate"])
def test_the_owner_resetting_the_password_or_deactivating_revokes_the_tokens(
        journey: dict[str, Any], change: str) -> None:
    member = journey["clinician"]
    secret = issue_api_token(Actor(user=member), member.pk, "sync").secret
    assert _works(secret)
    form = {"first_name": member.first_name, "last_name": member.last_name, "email": "",
            "title": "", "role": member.role, "is_active": "on"}
    if change == "password":
        form |= {"new_password": NEW, "new_password_again": NEW}
    else:
        form.pop("is_active")
    response = client_for(journey["owner"]).post(reverse("staff-edit", args=[member.pk]), form)
    assert response.status_code == 302
    assert not _works(secret)
    assert ApiToken.objects.get(user=member).revoked_at is not None
    update = AuditEvent.objects.get(action="staff.update")
    assert update.detail["api_tokens_revoked"] == 1


# --- sign-ins in the trail ----------------------------------------------------------------------

def test_sign_ins_failures_and_sign_outs_are_audited(journey: dict[str, Any]) -> None:
    member = journey["clinician"]
    client = Client()
    client.post(reverse("login"), {"username": member.username, "password": "nope-nope"})
    client.post(reverse("login"), {"username": "my-secret-password", "password": "x"})
    client.post(reverse("login"), {"username": member.username, "password": PASSWORD})
    client.post(reverse("logout"))
    rows = list(AuditEvent.objects.filter(action__startswith="auth.").order_by("id"))
    assert [r.action for r in rows] == ["auth.login_failed", "auth.login_failed",
                                        "auth.login", "auth.logout"]
    known, unknown, login, logout = rows
    assert known.clinic == journey["clinic"]
    assert known.detail == {"username": member.username}
    # A name that is no member's is not kept: it may have been a password typed there.
    assert unknown.clinic is None
    assert unknown.detail == {"username_known": False}
    assert "my-secret-password" not in str(unknown.detail)
    assert login.actor == member
    assert login.detail == {"method": "password"}
    assert logout.actor == member
