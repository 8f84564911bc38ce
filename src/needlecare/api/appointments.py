"""/api/v1/appointments and /api/v1/availability: the diary, for staff programs.

The same booking service as the pages, so the same rules and codes: a double booking answers
409 ``slot_taken``; a rule refusal answers 422 with the first rule's code (``min_interval``,
``open_escalation``, ``outside_working_hours``…), every rule in ``error.rules`` and, for a
session too early, ``error.earliest_safe_date``. Rules a person may book past take
``override_reason``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.db import transaction
from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status
from pydantic import AfterValidator, AwareDatetime, Field

from needlecare.access import Permission, require
from needlecare.api.auth import STAFF, actor
from needlecare.api.errors import responses
from needlecare.api.schemas import MAX_ID, NO_NUL, Input, _storable
from needlecare.diary import calendar, services
from needlecare.diary.models import Appointment, AppointmentKind, AppointmentStatus
from needlecare.diary.resources import clinic_types
from needlecare.errors import ErrorKind, ServiceError
from needlecare.patients.access import access_record

router = Router(tags=["appointments"], auth=STAFF)

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Reason = Annotated[str, Field(max_length=2000, pattern=NO_NUL), AfterValidator(_storable)]
#: The diary's times: aware, so that a wall-clock time is never read in the wrong zone.
Moment = Annotated[AwareDatetime, Field(description="ISO 8601 with its offset, e.g. "
                                                    "2026-03-02T10:00:00+00:00")]


class AppointmentTypeOut(Schema):
    id: int
    kind: AppointmentKind
    name: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    active: bool


class AppointmentOut(Schema):
    id: int
    patient_id: int
    patient_name: str
    type_id: int
    kind: AppointmentKind
    practitioner_id: int | None
    practitioner: str | None
    room_id: int | None
    device_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: AppointmentStatus
    sequence: int = Field(description="raised on every change the patient is told about")
    treatment_session_id: int | None
    override_rules: list[str]


class BookIn(Input):
    patient_id: Id
    type_id: Id
    practitioner_id: Id
    starts_at: Moment
    room_id: Id | None = None
    device_id: Id | None = None
    plan_id: Id | None = Field(default=None, description="required for a session")
    notes: Annotated[str, Field(max_length=300, pattern=NO_NUL),
                     AfterValidator(_storable)] = ""
    override_reason: Reason = ""


class MoveIn(Input):
    starts_at: Moment
    practitioner_id: Id | None = None
    override_reason: Reason = ""


class CancelIn(Input):
    reason: Annotated[str, Field(min_length=1, max_length=500, pattern=NO_NUL),
                      AfterValidator(_storable)]


class StatusIn(Input):
    status: AppointmentStatus


class SlotOut(Schema):
    starts_at: dt.datetime
    practitioner_id: int
    practitioner: str
    room_id: int | None
    device_id: int | None


class RuleOut(Schema):
    code: str
    message: str


class AvailabilityOut(Schema):
    earliest_safe_date: dt.date | None = Field(
        description="for a session: the clinical core's earliest safe date (null: not now)")
    blocked: list[RuleOut] = Field(description="for a session: the rules that block it now")
    slots: list[SlotOut]


def appointment_out(a: Appointment) -> AppointmentOut:
    return AppointmentOut(
        id=a.pk, patient_id=a.patient_id, patient_name=a.patient.full_name, type_id=a.type_id,
        kind=a.type.kind, practitioner_id=a.practitioner_id,
        practitioner=str(a.practitioner) if a.practitioner else None, room_id=a.room_id,
        device_id=a.device_id, starts_at=a.starts_at, ends_at=a.ends_at, status=a.status,
        sequence=a.sequence, treatment_session_id=a.treatment_session_id,
        override_rules=list(a.override_rules))


def _read(request: HttpRequest, pk: int) -> Appointment:
    return access_record(actor(request), Appointment, pk,
                         permission=Permission.BOOK, action="appointment.view",
                         related=("type", "practitioner"))


@router.get("/appointment-types", response=responses({200: list[AppointmentTypeOut]}),
            summary="The clinic's appointment types")
def list_types(request: HttpRequest) -> list[AppointmentTypeOut]:
    who = actor(request)
    require(who, Permission.BOOK)
    assert who.clinic_id is not None
    return [AppointmentTypeOut(id=t.pk, kind=t.kind, name=t.name,
                               duration_minutes=t.duration_minutes,
                               buffer_before_minutes=t.buffer_before_minutes,
                               buffer_after_minutes=t.buffer_after_minutes, active=t.active)
            for t in clinic_types(who.clinic_id)]


_DAY = Query(..., description="the first day, YYYY-MM-DD")


@router.get("/appointments", response=responses({200: list[AppointmentOut]}),
            summary="The clinic's appointments of one day (or a range of up to 31 days)")
def list_appointments(request: HttpRequest, day: dt.date = _DAY,
                      days: int = Query(1, ge=1, le=31),
                      practitioner_id: int | None = Query(None, ge=1, le=MAX_ID),
                      ) -> list[AppointmentOut]:
    found = calendar.appointments_between(actor(request), day, days,
                                          practitioner_id=practitioner_id)
    return [appointment_out(a) for a in found]


@router.post("/appointments", response=responses({201: AppointmentOut}),
             summary="Book an appointment (a session books its treatment session)")
def book(request: HttpRequest, payload: BookIn) -> Status[AppointmentOut]:
    appointment = services.book(actor(request), services.Proposal(
        patient_id=payload.patient_id, type_id=payload.type_id,
        practitioner_id=payload.practitioner_id, starts_at=payload.starts_at,
        room_id=payload.room_id, device_id=payload.device_id, plan_id=payload.plan_id,
        notes=payload.notes), override_reason=payload.override_reason)
    return Status(201, appointment_out(_reread(appointment.pk)))


def _reread(pk: int) -> Appointment:
    return Appointment.objects.select_related("patient", "type", "practitioner").get(pk=pk)


@router.get("/appointments/{appointment_id}", response=responses({200: AppointmentOut}),
            summary="One appointment")
def get_appointment(request: HttpRequest,
                    appointment_id: int = Path(..., ge=1, le=MAX_ID)) -> AppointmentOut:
    with transaction.atomic():
        return appointment_out(_read(request, appointment_id))


@router.post("/appointments/{appointment_id}/move", response=responses({200: AppointmentOut}),
             summary="Move an upcoming appointment (the patient is told)")
def move(request: HttpRequest, payload: MoveIn,
         appointment_id: int = Path(..., ge=1, le=MAX_ID)) -> AppointmentOut:
    moved = services.move(actor(request), appointment_id, payload.starts_at,
                          practitioner_id=payload.practitioner_id,
                          override_reason=payload.override_reason)
    return appointment_out(_reread(moved.pk))


@router.post("/appointments/{appointment_id}/cancel",
             response=responses({200: AppointmentOut}),
             summary="Cancel an upcoming appointment (the patient is told; the waiting list "
                     "is offered the time)")
def cancel(request: HttpRequest, payload: CancelIn,
           appointment_id: int = Path(..., ge=1, le=MAX_ID)) -> AppointmentOut:
    cancelled = services.cancel(actor(request), appointment_id, payload.reason)
    return appointment_out(_reread(cancelled.pk))


@router.post("/appointments/{appointment_id}/status",
             response=responses({200: AppointmentOut}),
             summary="Confirmed, arrived, in the room, done or did not attend")
def set_status(request: HttpRequest, payload: StatusIn,
               appointment_id: int = Path(..., ge=1, le=MAX_ID)) -> AppointmentOut:
    if payload.status == AppointmentStatus.CONFIRMED:
        changed = services.confirm(actor(request), appointment_id)
    elif payload.status in (AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED):
        raise ServiceError("status_invalid", "Book or cancel through their own operations.",
                           field="status", kind=ErrorKind.CONFLICT)
    else:
        changed = services.set_status(actor(request), appointment_id, payload.status)
    return appointment_out(_reread(changed.pk))


@router.get("/availability", response=responses({200: AvailabilityOut}),
            summary="The next safe slots for a patient and an appointment type")
def availability(request: HttpRequest, patient_id: int = Query(..., ge=1, le=MAX_ID),
                 type_id: int = Query(..., ge=1, le=MAX_ID),
                 practitioner_id: int | None = Query(None, ge=1, le=MAX_ID),
                 plan_id: int | None = Query(None, ge=1, le=MAX_ID),
                 count: int = Query(5, ge=1, le=20)) -> AvailabilityOut:
    found = services.next_safe_slots(actor(request), patient_id, type_id,
                                     practitioner_id=practitioner_id, plan_id=plan_id,
                                     count=count)
    return AvailabilityOut(
        earliest_safe_date=found.earliest_safe_date,
        blocked=[RuleOut(code=p.code, message=p.message) for p in found.blocked],
        slots=[SlotOut(starts_at=s.starts_at, practitioner_id=s.practitioner.pk,
                       practitioner=str(s.practitioner), room_id=s.room.pk if s.room else None,
                       device_id=s.device.pk if s.device else None) for s in found.slots])
