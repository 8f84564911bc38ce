"""/api/v1/appointments and /api/v1/availability: the diary's rules and codes, over JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
import time_machine
from django.test import Client

from needlecare.diary.models import Appointment, AppointmentKind
from tests.web.api.conftest import World, make_world
from tests.web.diary.support import london

pytestmark = pytest.mark.django_db


def call(token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    client = Client()
    kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(f"/api/v1{path}", **kwargs)


@pytest.fixture
def api_world() -> Any:
    with time_machine.travel(london(2026, 3, 2, 8, 0), tick=False):
        yield make_world()


def _type(world: World, token: str, kind: str) -> int:
    types = call(token, "get", "/appointment-types").json()
    return next(t["id"] for t in types if t["kind"] == kind)


def test_book_list_move_and_cancel(api_world: World) -> None:
    desk = api_world.tokens["front_desk"]
    consultation = _type(api_world, desk, AppointmentKind.CONSULTATION)
    body = {"patient_id": api_world.patient.pk, "type_id": consultation,
            "practitioner_id": api_world.clinician.pk, "starts_at": "2026-03-04T10:00:00+00:00"}
    booked = call(desk, "post", "/appointments", body)
    assert booked.status_code == 201, booked.content
    appointment = booked.json()
    assert (appointment["kind"], appointment["status"], appointment["sequence"]) == (
        "consultation", "booked", 0)
    taken = call(desk, "post", "/appointments", body)
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "slot_taken"
    assert {r["code"] for r in taken.json()["error"]["rules"]} == {"practitioner_busy"}
    listed = call(desk, "get", "/appointments?day=2026-03-04").json()
    assert [a["id"] for a in listed] == [appointment["id"]]
    moved = call(desk, "post", f"/appointments/{appointment['id']}/move",
                 {"starts_at": "2026-03-05T10:00:00+00:00"})
    assert moved.json()["sequence"] == 1
    naive = call(desk, "post", f"/appointments/{appointment['id']}/move",
                 {"starts_at": "2026-03-05T11:00:00"})
    assert naive.status_code == 422
    cancelled = call(desk, "post", f"/appointments/{appointment['id']}/cancel",
                     {"reason": "Patient unwell"})
    assert cancelled.json()["status"] == "cancelled"


def test_a_session_too_early_answers_its_rule_and_the_earliest_safe_date(
        api_world: World) -> None:
    clinician = api_world.tokens["clinician"]
    session_type = _type(api_world, clinician, AppointmentKind.SESSION)
    # The world's session was signed two days ago (28 February): the plan's interval is 28.
    body = {"patient_id": api_world.patient.pk, "type_id": session_type,
            "practitioner_id": api_world.clinician.pk, "plan_id": api_world.session.plan_id,
            "starts_at": "2026-03-09T10:00:00+00:00"}
    refused = call(clinician, "post", "/appointments", body)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "min_interval"
    assert error["earliest_safe_date"] == "2026-03-28"
    assert error["rules"][0]["override"] == "clinician"
    available = call(clinician, "get", f"/availability?patient_id={api_world.patient.pk}"
                                       f"&type_id={session_type}"
                                       f"&plan_id={api_world.session.plan_id}&count=2").json()
    assert available["earliest_safe_date"] == "2026-03-28"
    assert available["slots"][0]["starts_at"].startswith("2026-03-28T00:00")
    booked = call(clinician, "post", "/appointments",
                  {**body, "override_reason": "Reviewed the skin; light session."})
    assert booked.status_code == 201
    assert booked.json()["override_rules"] == ["min_interval"]
    assert Appointment.objects.get(pk=booked.json()["id"]).treatment_session is not None


def test_another_clinics_appointment_is_not_found(api_world: World) -> None:
    desk = api_world.tokens["front_desk"]
    consultation = _type(api_world, desk, AppointmentKind.CONSULTATION)
    mine = call(desk, "post", "/appointments", {
        "patient_id": api_world.patient.pk, "type_id": consultation,
        "practitioner_id": api_world.clinician.pk,
        "starts_at": "2026-03-04T10:00:00+00:00"}).json()
    other = make_world()
    assert call(other.tokens["owner"], "get", f"/appointments/{mine['id']}").status_code == 404
