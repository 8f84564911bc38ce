"""/api/v1/checkins: a patient's check-in with their link, read back by them or a clinician."""

from __future__ import annotations

from typing import Any

import pytest

from needlecare.audit.models import AuditEvent
from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.recovery.models import CheckIn, Escalation
from tests.web.api.conftest import NORMAL_DAY_2, World, add_patient, all_no, call, error_of


def rows() -> tuple[int, int, int]:
    # The date-of-birth check that authenticates the patient is itself audited (a read of
    # their record); anything else written would be a trace of the refused check-in.
    return (CheckIn.objects.count(), Escalation.objects.count(),
            AuditEvent.objects.exclude(action="link.verify").count())


def test_a_normal_check_in_is_201_expected_healing(world: World) -> None:
    response = call("POST", "/checkins", world.link_token, NORMAL_DAY_2)
    assert response.status_code == 201
    body = response.json()
    checkin = CheckIn.objects.get()
    assert body["id"] == checkin.pk
    assert (body["level"], body["day"], body["escalated"]) == ("expected", 2, False)
    assert body["reasons"] == []
    assert body["assumed"] == []
    assert "normal healing" in body["advice"][0]
    assert body["protocol_version"] == "microneedling-2026.2"
    assert body["clinical"] is None
    assert (checkin.session, checkin.link) == (world.session, world.link)
    assert checkin.answers["symptoms"]["redness"] == {"severity": 3, "trend": "better"}
    event = AuditEvent.objects.get(action="checkin.submit")
    assert (event.actor_kind, event.patient) == ("patient", world.patient)


def test_warning_signs_open_an_escalation_and_say_why(world: World) -> None:
    body = call("POST", "/checkins", world.link_token,
                {**NORMAL_DAY_2, "red_flags": all_no(pus_or_yellow_crusts=True,
                                                     fever_or_chills=True)}).json()
    escalation = Escalation.objects.get()
    assert (body["level"], body["escalated"]) == ("urgent", True)
    assert escalation.level == "urgent"
    assert any("signs of infection" in r["text"] for r in body["reasons"])
    assert all(r["basis"] in {"evidence", "limited_evidence", "clinic_policy"}
               for r in body["reasons"])
    # Whom to call, with the clinic's own values (the general protocol line is left out).
    assert "Call the clinic now" not in " ".join(body["advice"])
    steps = body["next_steps"]
    assert steps["clinic_phone"] == world.clinic.phone
    assert steps["emergency_number"] == world.clinic.emergency_number
    assert steps["call_clinic_now"] is steps["open_now"]
    assert steps["callback_by"]
    assert AuditEvent.objects.filter(action="escalation.open", actor_kind="patient").exists()


def test_the_same_answers_again_answer_200_with_the_same_check_in(world: World) -> None:
    answers = {**NORMAL_DAY_2, "red_flags": all_no(fever_or_chills=True)}
    first = call("POST", "/checkins", world.link_token, answers)
    before = rows()[:2]
    again = call("POST", "/checkins", world.link_token, answers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert rows()[:2] == before


def test_unanswered_warning_signs_are_read_as_yes_and_said_so(world: World) -> None:
    flags = all_no()
    del flags["breathing_or_throat_swelling"]
    flags["vision_change"] = None  # type: ignore[assignment]
    body = call("POST", "/checkins", world.link_token,
                {"symptoms": {"redness": {"severity": 2}}, "red_flags": flags}).json()
    assert body["level"] == "emergency"
    assert set(body["assumed"]) == {"red_flags.breathing_or_throat_swelling",
                                    "red_flags.vision_change", "symptoms.redness.trend"}
    assert all(r["assumed"] for r in body["reasons"] if r["level"] == "emergency")
    assert any(r["text"].startswith("You did not tell us") for r in body["reasons"])


def test_an_empty_check_in_assumes_every_warning_sign(world: World) -> None:
    body = call("POST", "/checkins", world.link_token, {}).json()
    assert body["level"] == "emergency"
    assert {f"red_flags.{code}" for code in RED_FLAGS} == set(body["assumed"])


@pytest.mark.parametrize(("answers", "field"), [
    ({"symptoms": {"redness": {"severity": True, "trend": "better"}}},
     "symptoms.redness.severity"),
    ({"symptoms": {"redness": {"severity": "3", "trend": "better"}}},
     "symptoms.redness.severity"),
    ({"symptoms": {"redness": {"severity": 2.5, "trend": "better"}}},
     "symptoms.redness.severity"),
    ({"symptoms": {"redness": {"severity": 11, "trend": "better"}}},
     "symptoms.redness.severity"),
    ({"symptoms": {"redness": {"severity": -1, "trend": "better"}}},
     "symptoms.redness.severity"),
    ({"symptoms": {"redness": {"severity": 3, "trend": "sideways"}}},
     "symptoms.redness.trend"),
    ({"symptoms": {"redness": {"severity": 3, "colour": "red"}}}, "symptoms.redness.colour"),
    ({"symptoms": {"glowing": {"severity": 3, "trend": "same"}}}, "symptoms.glowing"),
    ({"symptoms": ["redness"]}, "symptoms"),
    ({"red_flags": {"fever_or_chills": "no"}}, "red_flags.fever_or_chills"),
    ({"red_flags": {"fever_or_chills": 0}}, "red_flags.fever_or_chills"),
    ({"red_flags": {"zombie_bite": False}}, "red_flags.zombie_bite"),
    ({"note": "x" * 4001}, "note"),
    ({"note": 42}, "note"),
    ({"note": "a\x00b"}, "note"),
    ({"session": {"date": "2020-01-01"}}, "session"),
])
def test_bad_answers_name_the_field_and_write_nothing(
        world: World, answers: dict[str, Any], field: str) -> None:
    before = rows()
    response = call("POST", "/checkins", world.link_token,
                    {**NORMAL_DAY_2, **answers})
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert rows() == before


@pytest.mark.parametrize(("raw", "status"), [
    ("{", 400), ('{"note": "unfinished', 400), ("[]", 422), ('"hello"', 422), ("null", 422),
    (b"\xff\xfe\x00", 400),
])
def test_a_body_that_is_not_a_json_object_is_refused(world: World, raw: Any,
                                                     status: int) -> None:
    before = rows()
    response = call("POST", "/checkins", world.link_token, raw=raw)
    assert response.status_code == status
    assert error_of(response)["code"] == ("malformed_json" if status == 400 else "invalid")
    assert rows() == before


def test_a_lone_surrogate_is_refused_not_a_server_error(world: World) -> None:
    before = rows()
    response = call("POST", "/checkins", world.link_token,
                    raw='{"note": "broken \\ud800 text"}')
    assert response.status_code == 422
    assert "note" in error_of(response)["fields"]
    assert rows() == before


# --- reading a check-in back ------------------------------------------------------------------

def test_the_patient_reads_their_own_check_in(world: World) -> None:
    sent = call("POST", "/checkins", world.link_token, NORMAL_DAY_2).json()
    response = call("GET", f"/checkins/{sent['id']}", world.link_token)
    assert response.status_code == 200
    assert response.json() == sent
    assert AuditEvent.objects.filter(action="checkin.result", actor_kind="patient").exists()


def test_another_patients_link_never_reaches_the_check_in(world: World) -> None:
    sent = call("POST", "/checkins", world.link_token, NORMAL_DAY_2).json()
    _, other = add_patient(world)
    response = call("GET", f"/checkins/{sent['id']}", other)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert "redness" not in response.content.decode()


def test_a_clinician_reads_the_answers_and_clinical_reasons(world: World) -> None:
    sent = call("POST", "/checkins", world.link_token,
                {**NORMAL_DAY_2, "red_flags": all_no(fever_or_chills=True)}).json()
    body = call("GET", f"/checkins/{sent['id']}", world.tokens["clinician"]).json()
    clinical = body["clinical"]
    assert clinical["patient_id"] == world.patient.pk
    assert clinical["escalation_id"] == Escalation.objects.get().pk
    assert clinical["answers"]["red_flags"]["fever_or_chills"] is True
    assert any(r["rule"] == "fever" for r in clinical["reasons"])
    assert AuditEvent.objects.filter(action="checkin.view", actor=world.clinician).exists()


def test_front_desk_may_not_read_check_ins(world: World) -> None:
    sent = call("POST", "/checkins", world.link_token, NORMAL_DAY_2).json()
    response = call("GET", f"/checkins/{sent['id']}", world.tokens["front_desk"])
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    assert "redness" not in response.content.decode()


def test_another_clinics_clinician_gets_not_found(world: World, other_world: World) -> None:
    sent = call("POST", "/checkins", world.link_token, NORMAL_DAY_2).json()
    response = call("GET", f"/checkins/{sent['id']}", other_world.tokens["clinician"])
    assert response.status_code == 404
    response = call("GET", f"/checkins/{sent['id']}", other_world.link_token)
    assert response.status_code == 404


class TestTheDateOfBirthComesWithTheLink:
    def test_a_token_alone_is_refused(self, world: World) -> None:
        response = call("POST", "/checkins", world.link_token, NORMAL_DAY_2,
                        headers={"X-Date-Of-Birth": ""})
        assert response.status_code == 401
        assert error_of(response)["code"] == "date_of_birth_required"
        assert not CheckIn.objects.exists()

    def test_a_wrong_date_is_refused_and_five_lock_the_link(self, world: World) -> None:
        wrong = {"X-Date-Of-Birth": "1901-01-01"}
        for _attempt in range(4):
            response = call("POST", "/checkins", world.link_token, NORMAL_DAY_2, headers=wrong)
            assert error_of(response)["code"] == "date_of_birth_mismatch"
        response = call("POST", "/checkins", world.link_token, NORMAL_DAY_2, headers=wrong)
        assert error_of(response)["code"] == "link_locked"
        # Locked for the right date too, as on the phone pages: the clinic issues a new link.
        response = call("POST", "/checkins", world.link_token, NORMAL_DAY_2)
        assert response.status_code == 401
        assert error_of(response)["code"] == "link_locked"
        assert not CheckIn.objects.exists()

    def test_a_date_that_is_not_a_date_is_refused(self, world: World) -> None:
        response = call("GET", "/checkins/1", world.link_token,
                        headers={"X-Date-Of-Birth": "17/05/1990"})
        assert response.status_code == 401
        assert error_of(response)["code"] == "date_of_birth_invalid"
