"""The outbox routes as every persona, the same checks tests/web/test_access_personas.py makes
for the other areas: strangers are sent to sign in, another clinic's staff find nothing, a
role without the permission is refused, and a role with it is answered."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needlecare.access import ROLE_PERMISSIONS, Permission
from needlecare.accounts.models import Role
from needlecare.messaging.models import Message, MessageKind, MessageStatus, Recipient
from tests.factories import journey_to_signed_session
from tests.web.patients.support import client_for
from tests.web.routes import Route

pytestmark = pytest.mark.django_db


def _message(journey: dict[str, Any], status: str) -> dict[str, Any]:
    now = timezone.now()
    message = Message.objects.create(
        clinic=journey["clinic"], recipient=Recipient.PATIENT, patient=journey["patient"],
        session=journey["session"], kind=MessageKind.CHECKIN_INVITATION, channel="sms",
        context={"day": 1}, due_at=now, next_attempt_at=now, status=status,
        dedupe_key=f"route-test.{journey['session'].pk}.{status}")
    return {"pk": message.pk}


MESSAGING_ROUTES = [
    Route("outbox", lambda j: {}, "get", Permission.VIEW_DEMOGRAPHICS),
    Route("message-retry", lambda j: _message(j, MessageStatus.FAILED), "post", Permission.BOOK),
    Route("message-cancel", lambda j: _message(j, MessageStatus.PENDING), "post",
          Permission.BOOK),
]
ROLES = [Role.FRONT_DESK, Role.CLINICIAN, Role.OWNER]


def _request(client: Client, route: Route, journey: dict[str, Any]) -> Any:
    url = reverse(route.name, kwargs=route.kwargs(journey))
    return client.post(url, {}) if route.method == "post" else client.get(url)


@pytest.fixture
def journey(db: None) -> dict[str, Any]:
    return journey_to_signed_session()


@pytest.mark.parametrize("route", MESSAGING_ROUTES, ids=lambda r: f"{r.method} {r.name}")
def test_anonymous_is_sent_to_sign_in(route: Route, journey: dict[str, Any]) -> None:
    response = _request(Client(), route, journey)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("route", MESSAGING_ROUTES[1:], ids=lambda r: f"{r.method} {r.name}")
def test_another_clinics_staff_find_nothing(route: Route, journey: dict[str, Any]) -> None:
    stranger = journey_to_signed_session()[Role.OWNER]
    assert _request(client_for(stranger), route, journey).status_code == 404


@pytest.mark.parametrize("route", MESSAGING_ROUTES, ids=lambda r: f"{r.method} {r.name}")
@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_answered_or_refused_by_its_permissions(
        route: Route, role: str, journey: dict[str, Any]) -> None:
    response = _request(client_for(journey[role]), route, journey)
    if route.permission in ROLE_PERMISSIONS[role]:
        assert response.status_code < 400, response.status_code
    else:
        assert response.status_code == 403
