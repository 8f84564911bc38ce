"""Who reaches the clinic-side pages: every route in tests/web/routes.py's CARE_ROUTES, as
every persona, and what the front desk may and may not do."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from needlecare.access import ROLE_PERMISSIONS
from needlecare.accounts.models import Role
from tests.factories import journey_to_signed_session
from tests.web.care.support import chart_post, client_for, intake_post
from tests.web.routes import CARE_ROUTES, Route

pytestmark = pytest.mark.django_db

ROLES = [Role.FRONT_DESK, Role.CLINICIAN, Role.OWNER]
RECORD_ROUTES = [r for r in CARE_ROUTES if r.name != "lot-search"]


def _id(route: Route) -> str:
    return f"{route.method.upper()} {route.name}"


def _request(client: Client, route: Route, journey: dict[str, Any]) -> Any:
    url = reverse(route.name, kwargs=route.kwargs(journey))
    return client.post(url, {}) if route.method == "post" else client.get(url)


@pytest.mark.parametrize("route", CARE_ROUTES, ids=_id)
def test_anonymous_is_sent_to_sign_in(route: Route, journey: dict[str, Any]) -> None:
    response = _request(Client(), route, journey)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("route", RECORD_ROUTES, ids=_id)
@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.OWNER])
def test_another_clinics_clinicians_find_nothing(route: Route, role: str,
                                                 journey: dict[str, Any]) -> None:
    stranger = journey_to_signed_session()[role]
    assert _request(client_for(stranger), route, journey).status_code == 404


@pytest.mark.parametrize("route", [r for r in RECORD_ROUTES if r.permission
                                   in ROLE_PERMISSIONS[Role.FRONT_DESK]], ids=_id)
def test_another_clinics_front_desk_finds_nothing(route: Route,
                                                  journey: dict[str, Any]) -> None:
    stranger = journey_to_signed_session()[Role.FRONT_DESK]
    assert _request(client_for(stranger), route, journey).status_code == 404


@pytest.mark.parametrize("route", CARE_ROUTES, ids=_id)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_answered_or_refused_by_its_permissions(
        route: Route, role: str, journey: dict[str, Any]) -> None:
    response = _request(client_for(journey[role]), route, journey)
    if route.permission in ROLE_PERMISSIONS[role]:
        assert response.status_code < 400, response.status_code
    else:
        assert response.status_code == 403


def test_the_front_desk_is_refused_clinical_pages_even_with_valid_input(
        journey: dict[str, Any]) -> None:
    client = client_for(journey["front_desk"])
    patient, session = journey["patient"], journey["session"]
    refused = [
        ("consultation-new", [patient.pk], intake_post()),
        ("consultation-override", [journey["consultation"].pk],
         {"verdict": "defer", "reason": "Front desk should never do this."}),
        ("consent-new", [patient.pk], {"signed_name": patient.full_name, "understood": "on"}),
        ("plan-new", [journey["consultation"].pk],
         {"indications": ["acne_scars"], "zones": ["cheeks"]}),
        ("plan-edit", [journey["plan"].pk], {"sessions_planned": "9", "interval_days": "28",
                                             "min_cheeks": "1.5", "max_cheeks": "2.0",
                                             "reason": "Front desk should never do this."}),
        ("session-detail", [session.pk], chart_post()),
        ("session-sign", [session.pk], {}),
    ]
    for name, args, data in refused:
        assert client.post(reverse(name, args=args), data).status_code == 403, name
    for name, args in (("consultation-detail", [journey["consultation"].pk]),
                       ("plan-detail", [journey["plan"].pk]), ("lot-search", [])):
        assert client.get(reverse(name, args=args)).status_code == 403, name
