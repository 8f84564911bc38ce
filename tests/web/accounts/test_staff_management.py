from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from needlecare.accounts.models import Role, User
from needlecare.audit.models import AuditEvent
from tests.factories import PASSWORD, journey_to_signed_session, make_user
from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "plum-orchard-lantern-42"


def _new(**changes: Any) -> dict[str, Any]:
    data = {"username": "jordan", "first_name": "Jordan", "last_name": "Reed",
            "email": "jordan@example.test", "title": "Registered nurse", "role": "clinician",
            "password": GOOD_PASSWORD, "password_again": GOOD_PASSWORD}
    data.update(changes)
    return data


def _edit(member: User, **changes: Any) -> dict[str, Any]:
    data = {"first_name": member.first_name, "last_name": member.last_name,
            "email": member.email, "title": member.title, "role": member.role,
            "is_active": "on" if member.is_active else ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_the_owner_sees_their_clinics_staff_only(journey: dict) -> None:
    other = journey_to_signed_session()
    response = client_for(journey["owner"]).get(reverse("staff-list"))
    shown = {u.pk for u in response.context["staff"]}
    assert shown == {journey[r].pk for r in ("owner", "clinician", "front_desk")}
    assert other["clinician"].username not in response.content.decode()


def test_the_owner_adds_a_staff_member_who_can_then_sign_in(journey: dict) -> None:
    response = client_for(journey["owner"]).post(reverse("staff-new"), _new())
    assert response.status_code == 302
    user = User.objects.get(username="jordan")
    assert user.clinic == journey["clinic"]
    assert user.role == Role.CLINICIAN
    assert user.title == "Registered nurse"
    event = AuditEvent.objects.get(action="staff.create")
    assert event.actor == journey["owner"]
    assert event.patient is None
    assert event.object_id == str(user.pk)
    assert event.detail == {"username": "jordan", "role": "clinician"}
    signed_in = Client().post(reverse("login"), {"username": "jordan",
                                                 "password": GOOD_PASSWORD})
    assert signed_in.status_code == 302


@pytest.mark.parametrize(("changes", "message"), [
    ({"password": "short1", "password_again": "short1"}, "too short"),
    ({"password": "password123", "password_again": "password123"}, "too common"),
    ({"password": "1234567890123", "password_again": "1234567890123"}, "entirely numeric"),
    ({"password": "jordanreed1", "password_again": "jordanreed1"}, "too similar"),
    ({"password_again": "something-else-entirely"}, "The two passwords differ"),
    ({"username": "JORDAN-TAKEN"}, "That username is taken"),
    ({"username": "bad name!"}, "Enter a valid username"),
    ({"role": "superhero"}, "Select a valid choice"),
])
def test_a_refused_staff_member_is_explained_and_nothing_is_written(
        journey: dict, changes: dict, message: str) -> None:
    make_user(journey["clinic"], Role.FRONT_DESK, username="jordan-taken")
    owner = client_for(journey["owner"])  # (signing in is audited: before counting)
    before = (User.objects.count(), AuditEvent.objects.count())
    response = owner.post(reverse("staff-new"), _new(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert (User.objects.count(), AuditEvent.objects.count()) == before


def test_the_owner_changes_a_role_and_the_change_is_audited(journey: dict) -> None:
    member = journey["front_desk"]
    response = client_for(journey["owner"]).post(
        reverse("staff-edit", args=[member.pk]), _edit(member, role="clinician"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == Role.CLINICIAN
    event = AuditEvent.objects.get(action="staff.update")
    assert event.patient is None
    assert event.detail == {"changes": {"role": {"old": "front_desk", "new": "clinician"}},
                            "password_reset": False, "api_tokens_revoked": 0}


def test_a_deactivated_member_can_no_longer_sign_in_or_use_their_session(
        journey: dict) -> None:
    member = journey["clinician"]
    their_session = client_for(member)
    client_for(journey["owner"]).post(reverse("staff-edit", args=[member.pk]),
                                      _edit(member, is_active=""))
    member.refresh_from_db()
    assert not member.is_active
    assert their_session.get(reverse("patient-list")).status_code == 302
    response = Client().post(reverse("login"), {"username": member.username,
                                                "password": PASSWORD})
    assert "_auth_user_id" not in response.client.session


def test_an_owner_cannot_deactivate_themself(journey: dict) -> None:
    owner = journey["owner"]
    make_user(journey["clinic"], Role.OWNER)  # not the last owner: the self rule alone
    response = client_for(owner).post(reverse("staff-edit", args=[owner.pk]),
                                      _edit(owner, is_active=""))
    assert response.status_code == 200
    assert "cannot deactivate your own account" in response.content.decode()
    owner.refresh_from_db()
    assert owner.is_active
    assert not AuditEvent.objects.filter(action="staff.update").exists()


def test_the_last_owner_cannot_stop_being_an_owner(journey: dict) -> None:
    owner = journey["owner"]
    make_user(journey["clinic"], Role.OWNER, is_active=False)  # a former owner does not count
    response = client_for(owner).post(reverse("staff-edit", args=[owner.pk]),
                                      _edit(owner, role="clinician"))
    assert response.status_code == 200
    assert "only owner" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_an_owner_may_step_down_when_another_owner_remains(journey: dict) -> None:
    owner = journey["owner"]
    make_user(journey["clinic"], Role.OWNER)
    client = client_for(owner)
    response = client.post(reverse("staff-edit", args=[owner.pk]),
                           _edit(owner, role="clinician"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("staff-list")).status_code == 403


def test_an_owner_may_deactivate_another_owner_if_one_remains(journey: dict) -> None:
    second = make_user(journey["clinic"], Role.OWNER)
    response = client_for(journey["owner"]).post(reverse("staff-edit", args=[second.pk]),
                                                 _edit(second, is_active=""))
    assert response.status_code == 302
    second.refresh_from_db()
    assert not second.is_active


def test_a_password_reset_replaces_the_password_and_lifts_a_lockout(journey: dict) -> None:
    member = journey["front_desk"]
    for _attempt in range(5):
        Client().post(reverse("login"), {"username": member.username, "password": "wrong!"})
    new = "violet-harbour-kettle-7"
    response = client_for(journey["owner"]).post(
        reverse("staff-edit", args=[member.pk]),
        _edit(member, new_password=new, new_password_again=new))
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="staff.update").detail["password_reset"] is True
    signed_in = Client().post(reverse("login"), {"username": member.username,
                                                 "password": new})
    assert signed_in.status_code == 302
    assert "_auth_user_id" in signed_in.client.session


def test_a_weak_reset_password_is_refused(journey: dict) -> None:
    member = journey["front_desk"]
    response = client_for(journey["owner"]).post(
        reverse("staff-edit", args=[member.pk]),
        _edit(member, new_password="password", new_password_again="password"))
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_operators_manage_clinics_and_accounts_in_the_admin(journey: dict) -> None:
    operator = make_user(None, Role.OWNER, is_staff=True, is_superuser=True)
    client = client_for(operator)
    for url in ["/operator/accounts/user/", "/operator/accounts/user/add/",
                f"/operator/accounts/user/{journey['owner'].pk}/change/",
                "/operator/accounts/clinic/",
                f"/operator/accounts/clinic/{journey['clinic'].pk}/change/"]:
        assert client.get(url).status_code == 200, url
