"""Refused access is in the audit trail, although the refused request's transaction rolls back:
the access layer notes the refusal and the RefusalTrail middleware writes it afterwards."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse

from needlecare.access import Actor
from needlecare.audit import refusals
from needlecare.audit.models import AuditEvent
from needlecare.care import services as care
from needlecare.errors import Forbidden, NotFound
from needlecare.recovery import links, services
from needlecare.recovery.models import PatientLink
from tests.factories import journey_to_signed_session
from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db


def _refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="access.refused").order_by("id"))


def test_a_role_without_the_permission_is_refused_and_the_refusal_is_kept(
        journey: dict[str, Any]) -> None:
    desk = client_for(journey["front_desk"])
    response = desk.get(reverse("consultation-detail", args=[journey["consultation"].pk]))
    assert response.status_code == 403
    [row] = _refusals()
    assert row.actor == journey["front_desk"]
    assert row.actor_role == "front_desk"
    assert row.clinic == journey["clinic"]
    assert row.patient == journey["patient"]  # the clinic's own patient: named
    assert row.detail == {"refusal": "forbidden", "permission": "view_clinical",
                          "wanted": "care.consultation",
                          "wanted_id": str(journey["consultation"].pk),
                          "route": "consultation-detail", "method": "GET"}
    assert row.ip_address == "127.0.0.1"


def test_another_clinics_record_is_refused_without_naming_its_patient(
        journey: dict[str, Any]) -> None:
    stranger = journey_to_signed_session()["clinician"]
    response = client_for(stranger).get(reverse("patient-detail",
                                                args=[journey["patient"].pk]))
    assert response.status_code == 404
    [row] = _refusals()
    assert row.clinic_id == stranger.clinic_id  # in the asking clinic's trail
    assert row.patient is None
    assert row.detail["refusal"] == "not_found"
    assert row.detail["wanted"] == "patients.patient"


def test_the_refusal_row_outlives_the_rolled_back_transaction(
        journey: dict[str, Any]) -> None:
    # A service refuses inside its transaction; the change it was part of rolls back.
    with refusals.kept_until_done(), pytest.raises(Forbidden), transaction.atomic():
        care.view_consultation(Actor(user=journey["front_desk"]), journey["consultation"].pk)
    assert [r.detail["refusal"] for r in _refusals()] == ["forbidden"]


def test_a_refusal_through_the_api_is_kept_too(journey: dict[str, Any]) -> None:
    response = client_for(journey["front_desk"]).get("/api/v1/escalations")
    assert response.status_code == 403
    [row] = _refusals()
    assert row.detail["route"].startswith("api")


def test_a_patient_link_reaching_for_another_check_in_is_refused_and_kept(
        journey: dict[str, Any]) -> None:
    issued = links.replace_link(Actor(user=journey["clinician"]), journey["patient"].pk).link
    link = PatientLink.objects.select_related("clinic").get(pk=issued.pk)
    with refusals.kept_until_done(), pytest.raises(NotFound), transaction.atomic():
        services.patient_checkin(Actor.for_link(link), 10**9)
    [row] = _refusals()
    assert row.actor_kind == "patient"
    assert row.clinic == journey["clinic"]
