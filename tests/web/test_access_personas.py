"""Every staff route of tests/web/routes.py, as every persona: strangers are sent to sign in,
another clinic's staff find nothing, a role without the permission is refused, and a role
with it is answered. Every refusal is in the audit trail, in the refused actor's clinic."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from needlecare.access import ROLE_PERMISSIONS, Permission
from needlecare.accounts.models import Role
from needlecare.audit.models import AuditEvent
from tests.factories import journey_to_signed_session
from tests.web.patients.support import client_for
from tests.web.routes import (
    ACCOUNT_ROUTES,
    CARE_ROUTES,
    DIARY_ROUTES,
    EDUCATION_ROUTES,
    OUTCOMES_ROUTES,
    PATIENT_ROUTES,
    PHOTO_ROUTES,
    RECOVERY_ROUTES,
    RIGHTS_ROUTES,
    SIGN_IN_PAGES,
    STAFF_ROUTES,
    Route,
)

pytestmark = pytest.mark.django_db

ROUTES = [*PATIENT_ROUTES, *STAFF_ROUTES, *CARE_ROUTES, *RECOVERY_ROUTES, *PHOTO_ROUTES,
          *RIGHTS_ROUTES, *ACCOUNT_ROUTES, *OUTCOMES_ROUTES, *EDUCATION_ROUTES, *DIARY_ROUTES]
ROLES = [Role.FRONT_DESK, Role.CLINICIAN, Role.OWNER]


def _id(route: Route) -> str:
    return f"{route[2].upper()} {route[0]}"


def _request(client: Client, route: Route, journey: dict[str, Any]) -> Any:
    name, kwargs, method, _permission = route
    url = reverse(name, kwargs=kwargs(journey))
    return client.post(url, {}) if method == "post" else client.get(url)


def _least_role_with(permission: Permission) -> str:
    return next(role for role in ROLES if permission in ROLE_PERMISSIONS[role])


@pytest.mark.parametrize("route", ROUTES, ids=_id)
def test_anonymous_is_sent_to_sign_in(route: Route, journey: dict) -> None:
    response = _request(Client(), route, journey)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def _names_a_record(route: Route) -> bool:
    """Whether the route's address takes arguments (a list or a blank form does not: each
    clinic sees its own)."""
    return any(params for possibilities, *_rest in get_resolver().reverse_dict.getlist(route[0])
               for _path, params in possibilities)


@pytest.mark.parametrize("route", [r for r in ROUTES if _names_a_record(r)], ids=_id)
def test_another_clinics_staff_find_nothing(route: Route, journey: dict) -> None:
    other = journey_to_signed_session()
    stranger = other[_least_role_with(route[3])]
    response = _request(client_for(stranger), route, journey)
    assert response.status_code == 404
    _assert_refusal_audited(stranger, "not_found")


def _assert_refusal_audited(user: Any, kind: str) -> None:
    refusal = AuditEvent.objects.filter(action="access.refused", actor=user).last()
    assert refusal is not None, "the refusal is not in the audit trail"
    assert refusal.clinic_id == user.clinic_id
    assert refusal.detail["refusal"] == kind


@pytest.mark.parametrize("route", ROUTES, ids=_id)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_answered_or_refused_by_its_permissions(route: Route, role: str,
                                                             journey: dict) -> None:
    response = _request(client_for(journey[role]), route, journey)
    if route[3] in ROLE_PERMISSIONS[role]:
        assert response.status_code < 400, response.status_code
        assert not AuditEvent.objects.filter(action="access.refused").exists()
    else:
        assert response.status_code == 403
        _assert_refusal_audited(journey[role], "forbidden")


@pytest.mark.parametrize("name", SIGN_IN_PAGES)
def test_the_sign_in_pages_open_without_signing_in(name: str) -> None:
    assert Client().get(reverse(name)).status_code == 200


def test_the_second_step_needs_the_password_first() -> None:
    response = Client().get(reverse("signin-verify"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_front_desk_gets_no_clinical_content_on_the_patient_page(journey: dict) -> None:
    page = client_for(journey["front_desk"]).get(
        reverse("patient-detail", args=[journey["patient"].pk])).content.decode()
    assert "Appointment" in page
    for clinical in ["Consultation", "Suitable", "verdict-", "1.50 mm", "Cheeks", "Check-in",
                     "Escalation", "Aftercare"]:
        assert clinical not in page, clinical


def test_an_operator_without_a_clinic_reaches_no_patient(journey: dict) -> None:
    from tests.factories import make_user

    operator = make_user(None, Role.OWNER, is_staff=True, is_superuser=True)
    client = client_for(operator)
    assert client.get(reverse("patient-list")).status_code == 403
    assert client.get(reverse("patient-detail", args=[journey["patient"].pk])).status_code \
        == 404
