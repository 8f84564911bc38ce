"""/api/v1/patients: search, register, read; what each role sees."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from needlecare.access import Actor
from needlecare.audit.models import AuditEvent
from needlecare.patients.models import Patient
from needlecare.patients.services import PAGE_SIZE
from needlecare.recovery.services import submit_checkin
from tests.factories import make_patient
from tests.web.api.conftest import World, all_no, call, error_of


def new_patient(**changes: Any) -> dict[str, Any]:
    return {"given_name": "Kim", "family_name": "Sample", "date_of_birth": "1985-03-04",
            "phone": "07700 900456", "email": "kim@example.test", "preferred_channel": "sms",
            **changes}


def rows() -> tuple[int, int]:
    return Patient.objects.count(), AuditEvent.objects.count()


def test_search_pages_through_the_clinics_patients(world: World, other_world: World) -> None:
    for n in range(PAGE_SIZE + 2):
        make_patient(world.clinic, world.clinician, family_name=f"Paged{n:02}")
    token = world.tokens["front_desk"]
    first = call("GET", "/patients?q=paged", token).json()
    assert (first["kind"], first["count"], first["pages"], first["page"]) == (
        "name", PAGE_SIZE + 2, 2, 1)
    assert len(first["results"]) == PAGE_SIZE
    second = call("GET", "/patients?q=paged&page=2", token).json()
    assert [p["family_name"] for p in second["results"]] == [
        f"Paged{PAGE_SIZE:02}", f"Paged{PAGE_SIZE + 1:02}"]
    everyone = call("GET", "/patients", token).json()
    assert other_world.patient.pk not in {p["id"] for p in everyone["results"]}
    search = AuditEvent.objects.filter(action="patient.search").latest("id")
    assert search.actor == world.front_desk


def test_search_by_date_of_birth_and_phone(world: World) -> None:
    token = world.tokens["clinician"]
    by_date = call("GET", "/patients?q=17/05/1990", token).json()
    assert by_date["kind"] == "date_of_birth"
    assert [p["id"] for p in by_date["results"]] == [world.patient.pk]
    by_phone = call("GET", "/patients?q=07700%20900123", token).json()
    assert by_phone["kind"] == "phone"
    assert [p["id"] for p in by_phone["results"]] == [world.patient.pk]


def test_registering_answers_201_and_audits(world: World) -> None:
    response = call("POST", "/patients", world.tokens["front_desk"], new_patient())
    assert response.status_code == 201
    body = response.json()
    patient = Patient.objects.get(pk=body["id"])
    assert (patient.clinic, patient.created_by) == (world.clinic, world.front_desk)
    assert body["date_of_birth"] == "1985-03-04"
    assert AuditEvent.objects.filter(action="patient.register", patient=patient,
                                     actor=world.front_desk).exists()


def test_a_possible_duplicate_is_409_with_the_matches_until_confirmed(world: World) -> None:
    token = world.tokens["front_desk"]
    same = new_patient(given_name="sam", family_name=world.patient.family_name.upper(),
                       date_of_birth="1990-05-17")
    before = rows()
    refused = call("POST", "/patients", token, same)
    assert refused.status_code == 409
    error = error_of(refused)
    assert error["code"] == "possible_duplicate"
    assert error["matches"] == [world.patient.pk]
    assert "confirm_duplicate" in error["message"]
    assert rows() == before
    accepted = call("POST", "/patients", token, {**same, "confirm_duplicate": True})
    assert accepted.status_code == 201
    event = AuditEvent.objects.get(action="patient.register",
                                   patient_id=accepted.json()["id"])
    assert event.detail == {"duplicate_confirmed_of": [world.patient.pk]}


@pytest.mark.parametrize(("changes", "field"), [
    ({"given_name": 5}, "given_name"),
    ({"given_name": ""}, "given_name"),
    ({"family_name": "x" * 101}, "family_name"),
    ({"date_of_birth": 0}, "date_of_birth"),
    ({"date_of_birth": "17/05/1990"}, "date_of_birth"),
    ({"date_of_birth": "2001-02-30"}, "date_of_birth"),
    ({"email": "not an email"}, "email"),
    ({"phone": "call me"}, "phone"),
    ({"phone": "123"}, "phone"),
    ({"preferred_channel": "pigeon"}, "preferred_channel"),
    ({"confirm_duplicate": "yes"}, "confirm_duplicate"),
    ({"confirm_duplicate": 1}, "confirm_duplicate"),
    ({"given_name": "Kim\x00"}, "given_name"),
    ({"nickname": "Kimmy"}, "nickname"),
])
def test_bad_registrations_name_the_field_and_write_nothing(
        world: World, changes: dict[str, Any], field: str) -> None:
    before = rows()
    response = call("POST", "/patients", world.tokens["clinician"], new_patient(**changes))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert rows() == before


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"date_of_birth": (dt.date.today() + dt.timedelta(days=1)).isoformat()},  # noqa: DTZ011
     "dob_future", "date_of_birth"),
    ({"given_name": "   "}, "required", "given_name"),
    ({"phone": "", "preferred_channel": "sms"}, "channel_needs_phone", "phone"),
    ({"email": "", "preferred_channel": "email"}, "channel_needs_email", "email"),
])
def test_the_clinics_rules_answer_422_with_the_services_code(
        world: World, changes: dict[str, Any], code: str, field: str) -> None:
    before = rows()
    response = call("POST", "/patients", world.tokens["clinician"], new_patient(**changes))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == code
    assert list(error["fields"]) == [field]
    assert rows() == before


def test_a_clinician_sees_the_clinical_summary(world: World) -> None:
    submit_checkin(Actor.for_link(world.link), {"red_flags": all_no(fever_or_chills=True)})
    response = call("GET", f"/patients/{world.patient.pk}", world.tokens["clinician"])
    assert response.status_code == 200
    body = response.json()
    assert body["patient"]["family_name"] == world.patient.family_name
    assert body["appointments"] == [{"id": world.session.pk, "status": "signed",
                                     "scheduled_for": body["appointments"][0]["scheduled_for"]}]
    clinical = body["clinical"]
    assert [c["verdict"] for c in clinical["consultations"]] == ["suitable"]
    assert clinical["plans"][0]["sessions_planned"] == 3
    assert clinical["sessions"][0]["summary"] == "Cheeks 1.50 mm, 3 passes"
    assert [c["level"] for c in clinical["checkins"]] == ["urgent"]
    assert [(e["level"], e["status"]) for e in clinical["escalations"]] == [("urgent", "open")]
    assert AuditEvent.objects.filter(action="patient.view", patient=world.patient,
                                     actor=world.clinician).exists()


def test_front_desk_sees_demographics_and_appointments_only(world: World) -> None:
    submit_checkin(Actor.for_link(world.link), {"red_flags": all_no(fever_or_chills=True)})
    body = call("GET", f"/patients/{world.patient.pk}", world.tokens["front_desk"]).json()
    assert body["clinical"] is None
    assert [a["id"] for a in body["appointments"]] == [world.session.pk]
    text = str(body)
    for clinical in ("urgent", "suitable", "Cheeks"):
        assert clinical not in text


def test_another_clinics_patient_is_not_found(world: World, other_world: World) -> None:
    before = AuditEvent.objects.count()
    before_id = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for role in ("owner", "clinician", "front_desk"):
        response = call("GET", f"/patients/{other_world.patient.pk}", world.tokens[role])
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert call("GET", "/patients/999999", world.tokens["owner"]).status_code == 404
    # Nothing of the patient is read; each refusal is in the trail of the asking clinic.
    refused = list(AuditEvent.objects.filter(pk__gt=before_id))
    assert len(refused) == 4
    assert {e.action for e in refused} == {"access.refused"}
    assert {e.clinic_id for e in refused} == {world.clinic.pk}
    assert all(e.patient_id is None for e in refused)
    assert AuditEvent.objects.count() == before + 4


@pytest.mark.parametrize("path", ["/patients/abc", "/patients/0", "/patients/-1",
                                  f"/patients/{2**64}", "/patients?page=0",
                                  "/patients?page=x", "/patients?q=%00"])
def test_bad_addresses_are_422_naming_the_parameter(world: World, path: str) -> None:
    response = call("GET", path, world.tokens["clinician"])
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert fields
    assert set(fields) <= {"patient_id", "page", "q"}


def test_search_reads_a_bounded_number_of_queries(
        world: World, django_assert_max_num_queries: Any) -> None:
    for n in range(10):
        make_patient(world.clinic, world.clinician, family_name=f"Many{n}")
    with django_assert_max_num_queries(8):
        response = call("GET", "/patients", world.tokens["clinician"])
    assert response.json()["count"] == 11
