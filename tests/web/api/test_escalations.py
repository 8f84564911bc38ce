"""/api/v1/escalations: the worklist for programs; clinicians only."""

from __future__ import annotations

from typing import Any

import pytest

from needlecare.access import Actor
from needlecare.audit.models import AuditEvent
from needlecare.recovery.models import Escalation, EscalationNote, EscalationStatus, PatientLink
from needlecare.recovery.services import submit_checkin
from tests.web.api.conftest import World, add_patient, all_no, call, error_of


def escalate(link: PatientLink, **flags: bool) -> Escalation:
    recorded = submit_checkin(Actor.for_link(link),
                              {"red_flags": all_no(**(flags or {"fever_or_chills": True}))})
    assert recorded.escalation is not None
    return recorded.escalation


@pytest.fixture
def escalation(world: World) -> Escalation:
    return escalate(world.link)


def rows() -> tuple[int, int, int]:
    return (EscalationNote.objects.count(), AuditEvent.objects.count(),
            Escalation.objects.exclude(status=EscalationStatus.OPEN).count())


def test_the_list_filters_by_status_most_urgent_first(world: World) -> None:
    urgent = escalate(world.link)
    escalate(add_patient(world)[0], spreading_redness=True)
    emergency = escalate(add_patient(world)[0], breathing_or_throat_swelling=True)
    token = world.tokens["clinician"]
    listed = call("GET", "/escalations?status=open", token).json()
    assert listed["count"] == 3
    assert listed["results"][0]["id"] == emergency.pk
    assert listed["results"][0]["level"] == "emergency"
    call("POST", f"/escalations/{urgent.pk}/close", token, {"outcome": "reassured"})
    closed = call("GET", "/escalations?status=closed", token).json()
    assert [e["id"] for e in closed["results"]] == [urgent.pk]
    assert closed["results"][0]["closed_by"] == str(world.clinician)
    assert call("GET", "/escalations", token).json()["count"] == 3
    assert AuditEvent.objects.filter(action="escalation.list", actor=world.clinician).count() == 3


def test_detail_shows_reasons_check_ins_and_notes(world: World, escalation: Escalation) -> None:
    token = world.tokens["owner"]
    call("POST", f"/escalations/{escalation.pk}/notes", token, {"text": "Rang, no answer."})
    body = call("GET", f"/escalations/{escalation.pk}", token).json()
    assert (body["patient_id"], body["level"], body["status"]) == (
        world.patient.pk, "urgent", "open")
    assert body["reasons"] == ["Fever, chills or feeling unwell"]
    assert body["reasons_detail"][0]["rule"] == "fever"
    assert [c["id"] for c in body["checkins"]] == list(
        escalation.checkins.values_list("pk", flat=True))
    assert [(n["text"], n["by"]) for n in body["notes"]] == [("Rang, no answer.",
                                                              str(world.owner))]
    assert AuditEvent.objects.filter(action="escalation.view", actor=world.owner).exists()


def test_acknowledge_then_close(world: World, escalation: Escalation) -> None:
    token = world.tokens["clinician"]
    acknowledged = call("POST", f"/escalations/{escalation.pk}/acknowledge", token)
    assert acknowledged.status_code == 200
    assert acknowledged.json()["status"] == "acknowledged"
    assert acknowledged.json()["acknowledged_by"] == str(world.clinician)

    again = call("POST", f"/escalations/{escalation.pk}/acknowledge", token)
    assert again.status_code == 409
    assert error_of(again)["code"] == "not_open"

    closed = call("POST", f"/escalations/{escalation.pk}/close", token,
                  {"outcome": "seen_in_clinic", "note": "Seen; mild irritation."})
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["outcome"]) == ("closed", "seen_in_clinic")
    assert EscalationNote.objects.get().text == "Seen; mild irritation."
    twice = call("POST", f"/escalations/{escalation.pk}/close", token, {"outcome": "treated"})
    assert twice.status_code == 409
    assert error_of(twice)["code"] == "already_closed"
    actions = set(AuditEvent.objects.filter(actor=world.clinician)
                  .values_list("action", flat=True))
    assert {"escalation.acknowledge", "escalation.close"} <= actions


def test_a_note_answers_201(world: World, escalation: Escalation) -> None:
    response = call("POST", f"/escalations/{escalation.pk}/notes", world.tokens["clinician"],
                    {"text": "  Called back; advised cool compress.  "})
    assert response.status_code == 201
    note = EscalationNote.objects.get()
    assert response.json() == {"id": note.pk, "text": "Called back; advised cool compress.",
                               "by": str(world.clinician), "at": response.json()["at"]}
    assert AuditEvent.objects.filter(action="escalation.note").exists()


@pytest.mark.parametrize(("path", "body", "field"), [
    ("notes", {"text": ""}, "text"),
    ("notes", {"text": None}, "text"),
    ("notes", {"text": "x" * 10001}, "text"),
    ("notes", {}, "text"),
    ("notes", {"text": "ok", "urgent": True}, "urgent"),
    ("close", {"outcome": "cured_by_magic"}, "outcome"),
    ("close", {"outcome": True}, "outcome"),
    ("close", {"note": "no outcome"}, "outcome"),
    ("close", {"outcome": "reassured", "note": ["a"]}, "note"),
])
def test_bad_input_names_the_field_and_changes_nothing(
        world: World, escalation: Escalation, path: str, body: dict[str, Any],
        field: str) -> None:
    before = rows()
    response = call("POST", f"/escalations/{escalation.pk}/{path}", world.tokens["clinician"],
                    body)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert rows() == before


def test_a_blank_note_is_the_services_refusal(world: World, escalation: Escalation) -> None:
    before = rows()
    response = call("POST", f"/escalations/{escalation.pk}/notes", world.tokens["clinician"],
                    {"text": "   "})
    assert response.status_code == 422
    assert error_of(response)["code"] == "note_empty"
    assert rows() == before


def test_a_malformed_body_is_400(world: World, escalation: Escalation) -> None:
    before = rows()
    response = call("POST", f"/escalations/{escalation.pk}/close", world.tokens["clinician"],
                    raw='{"outcome": "reassured",}')
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"
    assert rows() == before


def test_front_desk_is_refused_every_escalation_operation(
        world: World, escalation: Escalation) -> None:
    token = world.tokens["front_desk"]
    before = rows()
    for method, path, body in [
            ("GET", "/escalations", None), ("GET", f"/escalations/{escalation.pk}", None),
            ("POST", f"/escalations/{escalation.pk}/acknowledge", None),
            ("POST", f"/escalations/{escalation.pk}/notes", {"text": "hello"}),
            ("POST", f"/escalations/{escalation.pk}/close", {"outcome": "reassured"})]:
        response = call(method, path, token, body)
        assert response.status_code == 403, path
        assert error_of(response)["code"] == "forbidden"
        assert "Fever" not in response.content.decode()
    # Nothing changed; each refusal is in the audit trail.
    after = rows()
    assert (after[0], after[2]) == (before[0], before[2])
    assert after[1] == before[1] + 5
    assert AuditEvent.objects.filter(action="access.refused", actor=world.front_desk,
                                     detail__refusal="forbidden").count() == 5


def test_another_clinic_sees_no_such_escalation(
        world: World, other_world: World, escalation: Escalation) -> None:
    token = other_world.tokens["clinician"]
    before = rows()
    for method, path, body in [
            ("GET", f"/escalations/{escalation.pk}", None),
            ("POST", f"/escalations/{escalation.pk}/acknowledge", None),
            ("POST", f"/escalations/{escalation.pk}/notes", {"text": "hello"}),
            ("POST", f"/escalations/{escalation.pk}/close", {"outcome": "reassured"})]:
        response = call(method, path, token, body)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"
    assert call("GET", "/escalations", token).json()["count"] == 0
    after = rows()
    # (Listing its own, empty, escalations is audited at the other clinic.)
    assert (after[0], after[2]) == (before[0], before[2])


def test_the_list_reads_a_bounded_number_of_queries(
        world: World, django_assert_max_num_queries: Any) -> None:
    for _ in range(5):
        escalation = escalate(add_patient(world)[0])
        acknowledged = call("POST", f"/escalations/{escalation.pk}/acknowledge",
                            world.tokens["clinician"])
        assert acknowledged.status_code == 200
    with django_assert_max_num_queries(8):
        response = call("GET", "/escalations", world.tokens["clinician"])
    assert response.json()["count"] == 5
