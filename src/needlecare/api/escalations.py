"""/api/v1/escalations: the clinicians' side of the worklist."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from needlecare.api.auth import STAFF, actor
from needlecare.api.checkins import clinician_reasons
from needlecare.api.errors import responses
from needlecare.api.schemas import (
    MAX_ID,
    MAX_PAGE,
    CheckInItem,
    CloseIn,
    EscalationDetailOut,
    EscalationOut,
    EscalationPage,
    NoteIn,
    NoteOut,
)
from needlecare.recovery import services
from needlecare.recovery.models import Escalation, EscalationNote, EscalationStatus

router = Router(tags=["escalations"], auth=STAFF)



def _name(user: object | None) -> str | None:
    return str(user) if user is not None else None


def escalation_out(escalation: Escalation) -> EscalationOut:
    return EscalationOut(**_fields(escalation))


def _fields(e: Escalation) -> dict[str, Any]:
    return {
        "id": e.pk, "patient_id": e.patient_id, "patient_name": e.patient.full_name,
        "session_id": e.session_id, "level": e.level, "status": e.status,
        "reasons": [str(label) for label in services.reasons_summary(e.reasons)],
        "opened_at": e.opened_at, "deadline": e.deadline,
        "overdue": e.is_overdue(),
        "acknowledged_by": _name(e.acknowledged_by), "acknowledged_at": e.acknowledged_at,
        "outcome": e.outcome or None, "closed_by": _name(e.closed_by),
        "closed_at": e.closed_at,
    }


def note_out(note: EscalationNote) -> NoteOut:
    return NoteOut(id=note.pk, text=note.text, by=str(note.by), at=note.at)


@router.get("/escalations", response=responses({200: EscalationPage}),
            summary="The clinic's escalations, most urgent first")
def list_escalations(request: HttpRequest,
                     status: EscalationStatus | None = None,
                     page: int = Query(1, ge=1, le=MAX_PAGE)) -> EscalationPage:
    shown = services.list_escalations(actor(request), status.value if status else None, page)
    return EscalationPage(status=status, page=shown.number, pages=shown.paginator.num_pages,
                          count=shown.paginator.count,
                          results=[escalation_out(e) for e in shown.object_list])


@router.get("/escalations/{escalation_id}", response=responses({200: EscalationDetailOut}),
            summary="An escalation with its check-ins and notes")
def get_escalation(request: HttpRequest,
                   escalation_id: int = Path(..., ge=1, le=MAX_ID)) -> EscalationDetailOut:
    detail = services.escalation_detail(actor(request), escalation_id)
    e = detail.escalation
    return EscalationDetailOut(
        **_fields(e), reasons_detail=clinician_reasons(e.reasons),
        checkins=[CheckInItem(id=c.pk, submitted_at=c.submitted_at, level=c.level,
                              escalation_id=c.escalation_id) for c in detail.checkins],
        notes=[note_out(n) for n in detail.notes])


@router.post("/escalations/{escalation_id}/acknowledge",
             response=responses({200: EscalationOut}, 409),
             summary="A clinician has seen it and is dealing with it")
def acknowledge(request: HttpRequest,
                escalation_id: int = Path(..., ge=1, le=MAX_ID)) -> EscalationOut:
    return escalation_out(services.acknowledge_escalation(actor(request), escalation_id))


@router.post("/escalations/{escalation_id}/notes", response=responses({201: NoteOut}),
             summary="Add a note")
def add_note(request: HttpRequest, payload: NoteIn,
             escalation_id: int = Path(..., ge=1, le=MAX_ID)) -> Status[NoteOut]:
    note = services.add_escalation_note(actor(request), escalation_id, payload.text)
    return Status(201, note_out(note))


@router.post("/escalations/{escalation_id}/close",
             response=responses({200: EscalationOut}, 409),
             summary="Close with an outcome (acknowledging it too if nobody had)")
def close(request: HttpRequest, payload: CloseIn,
          escalation_id: int = Path(..., ge=1, le=MAX_ID)) -> EscalationOut:
    escalation = services.close_escalation(actor(request), escalation_id,
                                           payload.outcome.value, payload.note,
                                           payload.note_to_patient)
    return escalation_out(escalation)
