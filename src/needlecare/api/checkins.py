"""/api/v1/checkins: a patient sends a check-in with their personal link's token; the patient
(that check-in only) and the clinic's clinicians read it back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.http import HttpRequest
from ninja import Path, Router, Status

from needlecare.api.auth import PATIENT, PATIENT_OR_STAFF, actor
from needlecare.api.errors import responses
from needlecare.api.schemas import (
    MAX_ID,
    CheckInClinical,
    CheckInIn,
    CheckInResult,
    ClinicianReason,
    NextSteps,
    PatientReason,
)
from needlecare.recovery import services
from needlecare.recovery.advice import patient_advice, result_protocol
from needlecare.recovery.models import CheckIn, Level
from needlecare.recovery.results import triage_result

router = Router(tags=["check-ins"])


def _patient_reasons(reasons: Iterable[Mapping[str, Any]]) -> list[PatientReason]:
    # As on the patient's result page: what is not expected healing, each text once.
    shown: dict[str, PatientReason] = {}
    for reason in reasons:
        if reason["level"] != Level.EXPECTED and reason["patient"] not in shown:
            shown[reason["patient"]] = PatientReason(
                text=reason["patient"], level=reason["level"], basis=reason["basis"],
                assumed=reason["assumed"])
    return list(shown.values())


def clinician_reasons(reasons: Iterable[Mapping[str, Any]]) -> list[ClinicianReason]:
    return [ClinicianReason(rule=r["rule"], level=r["level"], subject=r.get("subject"),
                            assumed=r["assumed"], text=r["clinician"], basis=r["basis"])
            for r in reasons]


def next_steps_out(checkin: CheckIn) -> NextSteps | None:
    found = services.checkin_next_steps(checkin)
    if found is None:
        return None
    contact = found.contact
    return NextSteps(
        open_now=found.open_now, closes_at=found.closes_at, opens_at=found.opens_at,
        callback_by=found.callback_by, call_clinic_now=found.call_clinic_now,
        call_emergency_now=found.is_emergency, show_out_of_hours=found.show_out_of_hours,
        clinic_phone=contact.phone, out_of_hours_name=contact.out_of_hours_name,
        out_of_hours_phone=contact.out_of_hours_phone,
        emergency_number=contact.emergency_number, emergency_signs=found.emergency_signs)


def checkin_result(checkin: CheckIn, *, clinical: bool) -> CheckInResult:
    result = triage_result(checkin)
    answers = checkin.answers
    return CheckInResult(
        id=checkin.pk, submitted_at=checkin.submitted_at, day=result["day"],
        level=checkin.level,
        advice=patient_advice(result, result_protocol(checkin.protocol_version)),
        next_steps=next_steps_out(checkin),
        reasons=_patient_reasons(result["reasons"]), assumed=result["unanswered"],
        escalated=checkin.escalation_id is not None,
        protocol_version=checkin.protocol_version,
        clinical=CheckInClinical(
            patient_id=checkin.patient_id, session_id=checkin.session_id,
            escalation_id=checkin.escalation_id,
            answers={k: answers.get(k) for k in ("symptoms", "red_flags", "note")},
            reasons=clinician_reasons(result["reasons"])) if clinical else None)


@router.post("/checkins", auth=PATIENT,
             response=responses({200: CheckInResult, 201: CheckInResult}, 409),
             summary="Send the patient's check-in (personal link token)",
             description="Triaged at once: 201 with the level, advice and reasons, and whether "
                         "the clinic was asked to review it. Identical answers sent again the "
                         "same day answer 200 with the check-in already recorded. Warning signs "
                         "left unanswered are read as yes; `assumed` lists them.")
def submit_checkin(request: HttpRequest, payload: CheckInIn) -> Status[CheckInResult]:
    recorded = services.submit_checkin(actor(request), payload.answers())
    return Status(201 if recorded.created else 200,
                  checkin_result(recorded.checkin, clinical=False))


@router.get("/checkins/{checkin_id}", auth=PATIENT_OR_STAFF,
            response=responses({200: CheckInResult}),
            summary="A check-in: its patient (with their link's token) or a clinician")
def get_checkin(request: HttpRequest,
                checkin_id: int = Path(..., ge=1, le=MAX_ID)) -> CheckInResult:
    who = actor(request)
    if who.link is not None:
        return checkin_result(services.patient_checkin(who, checkin_id), clinical=False)
    return checkin_result(services.checkin_detail(who, checkin_id), clinical=True)
