"""Who may call the API: staff by session (with CSRF) or API token, patients by their link."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from needlecare.access import AccessDenied, Actor, hash_token
from needlecare.accounts.models import ApiToken, Role
from needlecare.accounts.services import (
    API_TOKEN_PREFIX,
    issue_api_token,
    list_api_tokens,
    revoke_api_token,
)
from needlecare.audit.models import AuditEvent
from needlecare.errors import NotFound, ServiceError
from needlecare.recovery.models import PatientLink
from tests.factories import make_user
from tests.web.api.conftest import NORMAL_DAY_2, World, call, error_of

STAFF_OPERATIONS = [
    ("GET", "/patients"),
    ("POST", "/patients"),
    ("GET", "/patients/1"),
    ("GET", "/checkins/1"),
    ("GET", "/escalations"),
    ("GET", "/escalations/1"),
    ("POST", "/escalations/1/acknowledge"),
    ("POST", "/escalations/1/notes"),
    ("POST", "/escalations/1/close"),
]


@pytest.mark.parametrize(("method", "path"), [*STAFF_OPERATIONS, ("POST", "/checkins")])
def test_anonymous_requests_are_401_with_a_json_error(world: World, method: str,
                                                       path: str) -> None:
    before = AuditEvent.objects.count()
    response = call(method, path, body={})
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("token", ["nonsense", f"{API_TOKEN_PREFIX}forged", "x" * 5000, ""])
def test_unknown_tokens_are_401(world: World, token: str) -> None:
    response = call("GET", "/patients", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_a_revoked_token_stops_working(world: World) -> None:
    token = world.tokens["clinician"]
    assert call("GET", "/patients", token).status_code == 200
    stored = ApiToken.objects.get(token_hash=hash_token(token))
    revoked = revoke_api_token(Actor(user=world.clinician), stored.pk)
    assert revoked.revoked_at is not None
    assert call("GET", "/patients", token).status_code == 401


def test_a_deactivated_users_token_stops_working(world: World) -> None:
    world.clinician.is_active = False
    world.clinician.save()
    assert call("GET", "/patients", world.tokens["clinician"]).status_code == 401


def test_a_patient_link_does_not_open_staff_operations(world: World) -> None:
    for method, path in STAFF_OPERATIONS:
        if path.startswith("/checkins"):
            continue
        assert call(method, path, world.link_token, {}).status_code == 401, path


def test_a_staff_token_cannot_send_a_check_in(world: World) -> None:
    response = call("POST", "/checkins", world.tokens["clinician"], NORMAL_DAY_2)
    assert response.status_code == 401


def _signed_in(world: World, *, csrf: bool) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(world.clinician)
    return client


def test_a_signed_in_session_reads_without_a_token(world: World) -> None:
    client = _signed_in(world, csrf=True)
    response = call("GET", f"/patients/{world.patient.pk}", client=client)
    assert response.status_code == 200
    assert response.json()["patient"]["id"] == world.patient.pk


def test_a_session_post_needs_the_csrf_token(world: World) -> None:
    client = _signed_in(world, csrf=True)
    body = {"given_name": "Kim", "family_name": "Sample", "date_of_birth": "1985-03-04",
            "phone": "07700 900456"}
    refused = call("POST", "/patients", body=body, client=client)
    assert refused.status_code == 403
    assert error_of(refused)["code"] == "csrf_failed"
    assert not world.clinic.patients.filter(family_name="Sample").exists()

    client.get("/patients/")  # a page sets the csrftoken cookie, as in a browser
    csrf = client.cookies["csrftoken"].value
    accepted = call("POST", "/patients", body=body, client=client,
                    headers={"X-CSRFToken": csrf})
    assert accepted.status_code == 201, accepted.content


def test_a_bearer_token_needs_no_csrf_token(world: World) -> None:
    body = {"given_name": "Kim", "family_name": "Sample", "date_of_birth": "1985-03-04",
            "phone": "07700 900456"}
    response = call("POST", "/patients", world.tokens["front_desk"], body,
                    client=Client(enforce_csrf_checks=True))
    assert response.status_code == 201


# --- patient links ------------------------------------------------------------------------

def _post_checkin(world: World) -> tuple[int, str]:
    response = call("POST", "/checkins", world.link_token, NORMAL_DAY_2)
    return response.status_code, error_of(response)["code"] if response.status_code >= 400 \
        else ""


def test_an_expired_link_is_401_link_expired(world: World) -> None:
    PatientLink.objects.filter(pk=world.link.pk).update(
        created_at=timezone.now() - dt.timedelta(days=400), last_opened_at=None,
        last_verified_at=None)
    assert _post_checkin(world) == (401, "link_expired")
    assert call("GET", "/checkins/1", world.link_token).status_code == 401
    assert not world.session.checkins.exists()


def test_a_revoked_link_is_401_link_revoked(world: World) -> None:
    PatientLink.objects.filter(pk=world.link.pk).update(revoked_at=timezone.now())
    assert _post_checkin(world) == (401, "link_revoked")
    assert not world.session.checkins.exists()


def test_a_locked_link_is_401_link_locked(world: World) -> None:
    PatientLink.objects.filter(pk=world.link.pk).update(
        locked_until=timezone.now() + dt.timedelta(minutes=15))
    assert _post_checkin(world) == (401, "link_locked")


# --- issuing and revoking tokens ------------------------------------------------------------

def test_a_token_is_shown_once_and_stored_only_as_its_hash(world: World) -> None:
    issued = issue_api_token(Actor(user=world.clinician), world.clinician.pk, "  Booking   app ")
    assert issued.secret.startswith(API_TOKEN_PREFIX)
    assert len(issued.secret) > 40
    token = ApiToken.objects.get(pk=issued.token.pk)
    assert token.name == "Booking app"
    assert token.token_hash == hash_token(issued.secret)
    assert issued.secret not in str(ApiToken.objects.values().get(pk=token.pk))
    event = AuditEvent.objects.get(action="api_token.issue", object_id=str(token.pk))
    assert event.actor == world.clinician
    assert issued.secret not in str(event.detail)


def test_using_a_token_records_when(world: World) -> None:
    token = ApiToken.objects.get(token_hash=hash_token(world.tokens["owner"]))
    assert token.last_used_at is None
    call("GET", "/patients", world.tokens["owner"])
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_an_owner_manages_staff_tokens_and_others_only_their_own(
        world: World, other_world: World) -> None:
    owner, clinician, desk = (Actor(user=world.owner), Actor(user=world.clinician),
                              Actor(user=world.front_desk))
    for_desk = issue_api_token(owner, world.front_desk.pk, "kiosk")
    assert for_desk.token.user == world.front_desk
    with pytest.raises(AccessDenied):
        issue_api_token(clinician, world.front_desk.pk, "not mine")
    with pytest.raises(AccessDenied):
        revoke_api_token(desk, ApiToken.objects.get(user=world.clinician).pk)
    with pytest.raises(NotFound):
        issue_api_token(owner, other_world.clinician.pk, "another clinic")
    with pytest.raises(NotFound):
        revoke_api_token(owner, ApiToken.objects.get(user=other_world.clinician).pk)
    assert [t.name for t in list_api_tokens(desk, world.front_desk.pk)] == ["kiosk", "tests"]
    revoked = revoke_api_token(owner, for_desk.token.pk)
    again = revoke_api_token(owner, for_desk.token.pk)
    assert again.revoked_at == revoked.revoked_at
    assert AuditEvent.objects.filter(action="api_token.revoke").count() == 2


def test_refusals_write_nothing(world: World) -> None:
    owner = Actor(user=world.owner)
    inactive = make_user(world.clinic, Role.CLINICIAN, is_active=False)
    before = (ApiToken.objects.count(), AuditEvent.objects.count())
    for user_id, name, code in [(world.clinician.pk, "   ", "required"),
                                (world.clinician.pk, "x" * 101, "too_long"),
                                (inactive.pk, "tool", "user_inactive")]:
        with pytest.raises(ServiceError) as refused:
            issue_api_token(owner, user_id, name)
        assert refused.value.code == code
    assert (ApiToken.objects.count(), AuditEvent.objects.count()) == before
