"""The diary's one booking service: book, move, cancel, confirm and the day's states, for the
desk's calendar, a whole course, the patient's own link and the API alike.

Every write runs in one transaction that reaches the patient through the access layer (its
audit row commits with the change), asks the rules (``diary.rules``, the clinical core's
``earliest_safe_date`` for a session) and either refuses with every problem named or writes.
Rules a person may book past (hours; for clinicians the healing rules) need a written reason,
kept on the appointment and in the audit row. A double booking is never allowed: the check
here runs inside SQLite's IMMEDIATE transaction (writers take turns), and on PostgreSQL the
exclusion constraints catch two requests racing for one slot (``slot_taken``, 409, either
way). Changes the patient should hear about are announced (``Appointment*`` events) and the
messaging app writes the outbox rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.access import Actor, Permission, audit, record_id, refuse
from needlecare.accounts.models import Clinic, User
from needlecare.care import services as care
from needlecare.care.models import SessionStatus, TreatmentPlan, TreatmentSession
from needlecare.diary import healing, rules
from needlecare.diary.models import (
    HOLDING,
    UPCOMING,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AppointmentType,
    Device,
    PreVisit,
    Room,
    WaitlistEntry,
    WaitlistStatus,
)
from needlecare.diary.resources import (
    LONGEST,
    ClinicHours,
    clinic_hours,
    clinic_types,
    diary_settings,
    practitioner_hours,
    resource_label,
)
from needlecare.diary.rules import Problem
from needlecare.errors import Conflict, ErrorKind, NotFound, ServiceError
from needlecare.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentRescheduled,
    SlotOffered,
    emit,
)
from needlecare.patients.access import access_patient, access_record
from needlecare.patients.models import Patient

MIN_REASON = 10
#: One override reason (the form's and the API's limit too).
MAX_REASON = 2000
#: Patients on the waiting list a cancelled slot is offered to at once (first come, first
#: served through their link).
OFFERS_PER_SLOT = 3


class BookingRefused(ServiceError):
    """A booking the rules refuse, with every problem (``problems``) and, for a session too
    early, the earliest safe date. A double booking is a conflict (409, ``slot_taken``); the
    other rules are ``invalid`` (422) with the first rule's code."""

    def __init__(self, problems: Sequence[Problem], extra: str = "") -> None:
        self.problems = list(problems)
        dates = [p.earliest_safe_date for p in self.problems if p.earliest_safe_date]
        self.earliest_safe_date = max(dates) if dates else None
        clash = any(p.code.endswith("_busy") or p.code == "slot_taken" for p in self.problems)
        message = " ".join([*(p.message for p in self.problems), extra]).strip()
        super().__init__("slot_taken" if clash else self.problems[0].code, message,
                         kind=ErrorKind.CONFLICT if clash else ErrorKind.INVALID)


def _limit(field: str) -> int:
    limit: int = Appointment._meta.get_field(field).max_length
    return limit


def _slot_taken() -> BookingRefused:
    return BookingRefused([Problem("slot_taken", _(
        "Someone booked this time a moment ago; choose another."), rules.NEVER)])


@dataclass(frozen=True)
class Proposal:
    """Where an appointment is to go. Without a room or device, a free one is chosen when the
    type needs it."""

    patient_id: int
    type_id: int
    practitioner_id: int | None
    starts_at: dt.datetime
    room_id: int | None = None
    device_id: int | None = None
    plan_id: int | None = None
    notes: str = ""


@dataclass
class Placement:
    """What the rules found for a proposal: its block, the resources chosen, the problems."""

    type: AppointmentType
    practitioner: User | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    block_start: dt.datetime
    block_end: dt.datetime
    room: Room | None
    device: Device | None
    plan: TreatmentPlan | None
    problems: list[Problem] = field(default_factory=list)


def _day(moment: dt.datetime, zone: ZoneInfo) -> str:
    return formats.date_format(moment.astimezone(zone), "l j F Y, H:i")


def _can_book(actor: Actor) -> Permission:
    return Permission.PATIENT_SELF if actor.link is not None else Permission.BOOK


def _busy(clinic_id: int, start: dt.datetime, end: dt.datetime, *, practitioner_id: int | None,
          room_ids: Sequence[int], device_ids: Sequence[int], excluding: int | None
          ) -> list[dict[str, Any]]:
    """Active appointments overlapping ``start``–``end`` that hold the practitioner or one of
    the rooms or devices (one query)."""
    wanted = Q(practitioner_id=practitioner_id) if practitioner_id else Q(pk__in=[])
    if room_ids:
        wanted |= Q(room_id__in=list(room_ids))
    if device_ids:
        wanted |= Q(device_id__in=list(device_ids))
    found = Appointment.objects.filter(wanted, clinic_id=clinic_id, status__in=HOLDING,
                                       block_start__lt=end, block_start__gte=start - LONGEST,
                                       block_end__gt=start)
    if excluding is not None:
        found = found.exclude(pk=excluding)
    return list(found.values("practitioner_id", "room_id", "device_id"))


def _place(clinic: Clinic, patient: Patient, proposal: Proposal, *, now: dt.datetime,
           excluding: int | None = None, hours: ClinicHours | None = None) -> Placement:
    """Check a proposal against every rule; choose a free room and device when needed."""
    types = {t.pk: t for t in clinic_types(clinic.pk)}
    kind = types.get(proposal.type_id)
    if kind is None or not kind.active:
        raise ServiceError("type_invalid", _("Choose an appointment type of this clinic."),
                           field="type")
    zone = ZoneInfo(clinic.time_zone)
    start = proposal.starts_at
    if start.tzinfo is None:
        raise ServiceError("time_invalid", _("Give the time with its time zone."),
                           field="starts_at")
    if not 2000 <= start.year <= 2100:
        raise ServiceError("time_invalid", _("Choose a time this century."), field="starts_at")
    start = start.astimezone(dt.UTC).replace(second=0, microsecond=0)
    end = start + kind.duration
    block = (start - kind.buffer_before, end + kind.buffer_after)
    practitioner = (User.objects.filter(pk=proposal.practitioner_id, clinic_id=clinic.pk,
                                        is_active=True).first()
                    if proposal.practitioner_id else None)
    if practitioner is None:
        raise ServiceError("practitioner_invalid", _("Choose a practitioner of this clinic."),
                           field="practitioner")
    room = device = None
    if proposal.room_id is not None:
        room = Room.objects.filter(pk=proposal.room_id, clinic_id=clinic.pk, active=True).first()
        if room is None:
            raise ServiceError("room_invalid", _("Choose a room of this clinic."), field="room")
    if proposal.device_id is not None:
        device = Device.objects.filter(pk=proposal.device_id, clinic_id=clinic.pk,
                                       active=True).first()
        if device is None:
            raise ServiceError("device_invalid", _("Choose a device of this clinic."),
                               field="device")
    plan = None
    if kind.kind == AppointmentKind.SESSION:
        if proposal.plan_id is None:
            raise ServiceError("plan_required", _("A session belongs to a treatment plan; "
                                                  "book it from the plan."), field="plan")
        plan = TreatmentPlan.objects.filter(pk=proposal.plan_id, patient_id=patient.pk).first()
        if plan is None:
            raise NotFound(_("No such plan."))
    problems: list[Problem] = []
    if start < now:
        problems.append(Problem("in_the_past", _("That time has passed; choose a later one."),
                                rules.NEVER))
    problems += rules.role_problems(practitioner.role, kind.roles, str(practitioner),
                                    kind.name)
    # Rooms and devices to try: the one asked for, else every one of the clinic when needed.
    room_pool = [room] if room else (list(Room.objects.filter(clinic_id=clinic.pk, active=True))
                                     if kind.needs_room else [])
    device_pool = [device] if device else (
        list(Device.objects.filter(clinic_id=clinic.pk, active=True))
        if kind.needs_device else [])
    busy = _busy(clinic.pk, *block, practitioner_id=practitioner.pk,
                 room_ids=[r.pk for r in room_pool], device_ids=[d.pk for d in device_pool],
                 excluding=excluding)
    clashes = []
    if any(b["practitioner_id"] == practitioner.pk for b in busy):
        clashes.append(rules.Clash("practitioner", str(practitioner)))
    taken_rooms = {b["room_id"] for b in busy}
    taken_devices = {b["device_id"] for b in busy}
    free_room = next((r for r in room_pool if r.pk not in taken_rooms), None)
    free_device = next((d for d in device_pool if d.pk not in taken_devices), None)
    if room_pool and free_room is None:
        clashes.append(rules.Clash("room", resource_label("room", room.name) if room
                                   else _("Every room")))
    if device_pool and free_device is None:
        clashes.append(rules.Clash("device", resource_label("device", device.name) if device
                                   else _("Every device")))
    problems += rules.clash_problems(clashes)
    hours = hours or clinic_hours(clinic, start.astimezone(zone).date() - dt.timedelta(days=1),
                                  [practitioner.pk])
    problems += rules.hours_problems(start, end, clinic=hours.clinic,
                                     practitioner=practitioner_hours(hours, clinic,
                                                                     practitioner.pk),
                                     practitioner_name=str(practitioner))
    if plan is not None:
        today = now.astimezone(zone).date()
        day = start.astimezone(zone).date()
        course = healing.course_dates(patient.pk, plan.pk, clinic.time_zone,
                                      excluding=excluding)
        problems += rules.healing_problems(
            healing.safe_date(course, today=today, day=day), day,
            next_session=healing.next_session_after(course, day),
            interval_days=plan.interval_days)
    return Placement(type=kind, practitioner=practitioner, starts_at=start, ends_at=end,
                     block_start=block[0], block_end=block[1], room=free_room,
                     device=free_device, plan=plan, problems=problems)


def _resolve(actor: Actor, placement: Placement, reason: str) -> list[str]:
    """Refuse, or return the codes of the rules booked past with ``reason``."""
    problems = placement.problems
    if not problems:
        return []
    if any(p.override == rules.NEVER for p in problems) or actor.link is not None:
        raise BookingRefused(problems)
    reason = " ".join(reason.split())
    if not reason:
        raise BookingRefused(problems, _("To book it anyway, give the reason."))
    if len(reason) < MIN_REASON:
        raise BookingRefused(problems, _("Write the reason in a sentence (at least %(n)d "
                                         "characters).") % {"n": MIN_REASON})
    if len(reason) > MAX_REASON:
        raise BookingRefused(problems, _("Write the reason in at most %(n)d characters.")
                             % {"n": MAX_REASON})
    if any(p.override == rules.CLINICIAN for p in problems) \
            and not actor.can(Permission.WRITE_CLINICAL):
        raise BookingRefused(problems, _("Only a clinician may book past this rule."))
    return [p.code for p in problems]


def _save(appointment: Appointment, **kwargs: Any) -> None:
    try:
        # A savepoint: on PostgreSQL an exclusion violation would end the transaction.
        with transaction.atomic():
            appointment.save(**kwargs)
    except IntegrityError:
        raise _slot_taken() from None


def _detail(placement: Placement, overridden: list[str], reason: str) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "type": placement.type.kind, "starts_at": placement.starts_at.isoformat(),
        "practitioner": placement.practitioner.pk if placement.practitioner else None,
        "room": placement.room.pk if placement.room else None,
        "device": placement.device.pk if placement.device else None}
    if overridden:
        detail["override"] = {"rules": overridden, "reason": reason}
    return detail


def _apply(appointment: Appointment, placement: Placement, actor: Actor,
           overridden: list[str], reason: str) -> None:
    appointment.type = placement.type
    appointment.practitioner = placement.practitioner
    appointment.room = placement.room
    appointment.device = placement.device
    appointment.starts_at = placement.starts_at
    appointment.ends_at = placement.ends_at
    appointment.block_start = placement.block_start
    appointment.block_end = placement.block_end
    if overridden:
        appointment.override_rules = sorted({*appointment.override_rules, *overridden})
        # The latest reasons that fit the field; every one stays in its audit row.
        appointment.override_reason = "\n".join(
            r for r in (appointment.override_reason, " ".join(reason.split())) if r
        )[-_limit("override_reason"):].lstrip()
        appointment.overridden_by = actor.user


def check(actor: Actor, proposal: Proposal) -> Placement:
    """What the rules say about a proposal, without booking (audited as a look)."""
    with transaction.atomic():
        patient = access_patient(actor, proposal.patient_id, permission=_can_book(actor),
                                 action="appointment.check")
        clinic = Clinic.objects.get(pk=patient.clinic_id)
        return _place(clinic, patient, proposal, now=clock.now())


def book(actor: Actor, proposal: Proposal, *, override_reason: str = "") -> Appointment:
    """Book an appointment; for a session, make its session record too."""
    with transaction.atomic():
        patient = access_patient(actor, proposal.patient_id, permission=_can_book(actor),
                                 action="appointment.book")
        clinic = Clinic.objects.get(pk=patient.clinic_id)
        now = clock.now()
        placement = _place(clinic, patient, proposal, now=now)
        overridden = _resolve(actor, placement, override_reason)
        appointment = Appointment(clinic_id=clinic.pk, patient=patient, plan=placement.plan,
                                  notes=proposal.notes.strip()[:300],
                                  booked_by=actor.user, booked_by_patient=actor.link is not None,
                                  created_at=now)
        _apply(appointment, placement, actor, overridden, override_reason)
        _save(appointment)
        if placement.plan is not None:
            appointment.treatment_session = care.open_booked_session(
                placement.plan.pk, appointment.starts_at,
                actor.user or appointment.practitioner)
            appointment.save(update_fields=["treatment_session"])
        if placement.type.pre_visit:
            PreVisit.objects.create(clinic_id=clinic.pk, patient=patient,
                                    appointment=appointment)
        audit(actor, "appointment.booked", patient=patient, obj=appointment,
              detail=_detail(placement, overridden, override_reason))
        emit(AppointmentBooked(clinic_id=clinic.pk, patient_id=patient.pk,
                               appointment_id=appointment.pk, kind=placement.type.kind,
                               starts_at=appointment.starts_at,
                               pre_visit=placement.type.pre_visit,
                               by_patient=actor.link is not None))
        return appointment


def book_session(actor: Actor, plan_id: int | str, practitioner_id: int,
                 starts_at: dt.datetime, *, override_reason: str = "") -> Appointment:
    """Book the next session of a plan (its patient and the clinic's session type)."""
    plan = TreatmentPlan.objects.filter(pk=record_id(plan_id),
                                        clinic_id=actor.clinic_id or 0).first()
    if plan is None:
        raise refuse(actor, NotFound(_("No such plan.")), wanted=TreatmentPlan,
                     wanted_id=plan_id)
    kind = next(t for t in clinic_types(plan.clinic_id) if t.kind == AppointmentKind.SESSION)
    return book(actor, Proposal(patient_id=plan.patient_id, type_id=kind.pk,
                                practitioner_id=practitioner_id, starts_at=starts_at,
                                plan_id=plan.pk), override_reason=override_reason)


_UNSET: Any = object()


def move(actor: Actor, appointment_id: int | str, starts_at: dt.datetime, *,
         practitioner_id: int | None = None, room_id: int | None = _UNSET,
         device_id: int | None = _UNSET, override_reason: str = "") -> Appointment:
    """Move an upcoming appointment (another time, practitioner, room or device). The
    patient moves their own within the clinic's notice period."""
    with transaction.atomic():
        appointment = access_record(actor, Appointment, appointment_id,
                                    permission=_can_book(actor), action="appointment.move",
                                    related=("clinic", "type"), lock=True,
                                    detail={"to": starts_at.isoformat()
                                            if starts_at.tzinfo else str(starts_at)})
        if appointment.status not in UPCOMING:
            raise Conflict("not_upcoming", _("Only a booked or confirmed appointment can be "
                                             "moved."))
        now = clock.now()
        if actor.link is not None:
            _within_notice(appointment, now)
        clinic = appointment.clinic
        proposal = Proposal(
            patient_id=appointment.patient_id, type_id=appointment.type_id,
            practitioner_id=practitioner_id or appointment.practitioner_id,
            starts_at=starts_at,
            room_id=appointment.room_id if room_id is _UNSET else room_id,
            device_id=appointment.device_id if device_id is _UNSET else device_id,
            plan_id=appointment.plan_id)
        placement = _place(clinic, appointment.patient, proposal, now=now,
                           excluding=appointment.pk)
        if (placement.starts_at, placement.practitioner, placement.room, placement.device) == (
                appointment.starts_at, appointment.practitioner, appointment.room,
                appointment.device):
            raise ServiceError("no_change", _("The appointment is already there."))
        overridden = _resolve(actor, placement, override_reason)
        if overridden:
            audit(actor, "appointment.override", patient=appointment.patient, obj=appointment,
                  detail=_detail(placement, overridden, override_reason))
        previous = appointment.starts_at
        _apply(appointment, placement, actor, overridden, override_reason)
        appointment.sequence += 1
        appointment.status = AppointmentStatus.BOOKED  # a moved appointment is confirmed anew
        appointment.confirmed_at = None
        _save(appointment)
        if appointment.treatment_session_id is not None:
            care.move_booked_session(appointment.treatment_session_id, appointment.starts_at)
        emit(AppointmentRescheduled(clinic_id=clinic.pk, patient_id=appointment.patient_id,
                                    appointment_id=appointment.pk,
                                    starts_at=appointment.starts_at,
                                    previous_starts_at=previous,
                                    by_patient=actor.link is not None))
        return appointment


def _within_notice(appointment: Appointment, now: dt.datetime) -> None:
    notice = dt.timedelta(hours=diary_settings(appointment.clinic_id).cancel_notice_hours)
    if appointment.starts_at - now < notice:
        raise Conflict("inside_notice", _(
            "It is less than %(hours)d hours before your appointment: please call the clinic "
            "to change it.") % {"hours": int(notice.total_seconds() // 3600)})


def cancel(actor: Actor, appointment_id: int | str, reason: str) -> Appointment:
    """Cancel an upcoming appointment with the reason; the slot is offered to the waiting
    list."""
    reason = " ".join(reason.split())
    limit = _limit("cancelled_reason")
    if len(reason) > limit:
        raise ServiceError("too_long", _("Write the reason in at most %(n)d characters.")
                           % {"n": limit}, field="reason")
    with transaction.atomic():
        appointment = access_record(actor, Appointment, appointment_id,
                                    permission=_can_book(actor), action="appointment.cancel",
                                    related=("clinic", "type"), lock=True,
                                    detail={"reason": reason})
        if not reason:
            raise ServiceError("reason_required", _("Give the reason for cancelling."),
                               field="reason")
        now = clock.now()
        if actor.link is not None:
            _within_notice(appointment, now)
        updated = Appointment.objects.filter(pk=appointment.pk, status__in=UPCOMING).update(
            status=AppointmentStatus.CANCELLED, cancelled_at=now, cancelled_reason=reason,
            cancelled_by_patient=actor.link is not None, sequence=appointment.sequence + 1)
        if not updated:
            raise Conflict("not_upcoming", _("Only a booked or confirmed appointment can be "
                                             "cancelled."))
        appointment.refresh_from_db()
        if appointment.treatment_session_id is not None:
            care.cancel_booked_session(appointment.treatment_session_id, reason)
        emit(AppointmentCancelled(clinic_id=appointment.clinic_id,
                                  patient_id=appointment.patient_id,
                                  appointment_id=appointment.pk, reason=reason,
                                  by_patient=actor.link is not None))
        if appointment.starts_at > now:
            _offer_slot(appointment, now)
        return appointment


def cancel_session_booking(actor: Actor, session_id: int | str, reason: str) -> None:
    """Cancel a booked session from its page: its appointment when the diary booked it, else
    (a booking from before the diary) the session record alone."""
    reason = " ".join(reason.split())
    with transaction.atomic():
        session = access_record(actor, TreatmentSession, session_id,
                                permission=Permission.BOOK, action="session.cancel",
                                detail={"reason": reason})
        if not reason:
            raise ServiceError("reason_required", _("Give the reason for cancelling."),
                               field="reason")
        appointment = Appointment.objects.filter(treatment_session_id=session.pk).first()
        if appointment is None:
            if not reason:
                raise ServiceError("reason_required", _("Give the reason for cancelling."),
                                   field="reason")
            if session.status != SessionStatus.BOOKED:
                raise Conflict("not_booked", _("Only a booked session can be cancelled."))
            care.cancel_booked_session(session.pk, reason)
            return
    cancel(actor, appointment.pk, reason)


def _offer_slot(appointment: Appointment, now: dt.datetime) -> None:
    waiting = (WaitlistEntry.objects.filter(
        clinic_id=appointment.clinic_id, type_id=appointment.type_id,
        status=WaitlistStatus.WAITING)
        .filter(Q(practitioner__isnull=True) | Q(practitioner_id=appointment.practitioner_id))
        .exclude(patient_id=appointment.patient_id).order_by("created_at", "id")
        [:OFFERS_PER_SLOT])
    for entry in waiting:
        WaitlistEntry.objects.filter(pk=entry.pk).update(last_offered_at=now,
                                                         offers=entry.offers + 1)
        emit(SlotOffered(clinic_id=entry.clinic_id, patient_id=entry.patient_id,
                         waitlist_entry_id=entry.pk, appointment_type_id=entry.type_id,
                         starts_at=appointment.starts_at,
                         practitioner_id=appointment.practitioner_id))


def book_offer(actor: Actor, entry_id: int | str, starts_at: dt.datetime) -> Appointment:
    """A patient on the waiting list takes a slot offered to them (if it is still free and
    every rule allows it): the entry is then booked."""
    with transaction.atomic():
        entry = access_record(actor, WaitlistEntry, entry_id, permission=_can_book(actor),
                              action="waitlist.take_offer", related=("type",), lock=True)
        if entry.status != WaitlistStatus.WAITING or entry.last_offered_at is None:
            raise Conflict("not_offered", _("This offer is no longer open."))
        plan_id = None
        if entry.type.kind == AppointmentKind.SESSION:
            plan = TreatmentPlan.objects.filter(patient_id=entry.patient_id,
                                                status="active").order_by("-created_at").first()
            if plan is None:
                raise Conflict("no_active_plan", _("Please call the clinic to book."))
            plan_id = plan.pk
        if entry.practitioner_id is not None:
            practitioner_id = entry.practitioner_id
        else:
            taken = Appointment.objects.filter(
                clinic_id=entry.clinic_id, type_id=entry.type_id, starts_at=starts_at,
                status=AppointmentStatus.CANCELLED).order_by("-cancelled_at").first()
            if taken is None:
                raise Conflict("not_offered", _("This offer is no longer open."))
            practitioner_id = taken.practitioner_id
        appointment = book(actor, Proposal(patient_id=entry.patient_id, type_id=entry.type_id,
                                           practitioner_id=practitioner_id,
                                           starts_at=starts_at, plan_id=plan_id))
        WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistStatus.BOOKED)
        return appointment


def join_waitlist(actor: Actor, patient_id: int | str, type_id: int, *,
                  practitioner_id: int | None = None, note: str = "") -> WaitlistEntry:
    with transaction.atomic():
        patient = access_patient(actor, patient_id, permission=Permission.BOOK,
                                 action="waitlist.add")
        kind = next((t for t in clinic_types(patient.clinic_id) if t.pk == type_id), None)
        if kind is None:
            raise ServiceError("type_invalid", _("Choose an appointment type of this clinic."),
                               field="type")
        if practitioner_id is not None and not User.objects.filter(
                pk=practitioner_id, clinic_id=patient.clinic_id).exists():
            raise ServiceError("practitioner_invalid", _("Choose a practitioner of this "
                                                         "clinic."), field="practitioner")
        if WaitlistEntry.objects.filter(patient=patient, type=kind,
                                        status=WaitlistStatus.WAITING).exists():
            raise Conflict("already_waiting", _("The patient is on the waiting list for this "
                                                "already."))
        return WaitlistEntry.objects.create(
            clinic_id=patient.clinic_id, patient=patient, type=kind,
            practitioner_id=practitioner_id, note=note.strip()[:300], created_by=actor.user)


def leave_waitlist(actor: Actor, entry_id: int | str) -> WaitlistEntry:
    with transaction.atomic():
        entry = access_record(actor, WaitlistEntry, entry_id, permission=Permission.BOOK,
                              action="waitlist.remove")
        WaitlistEntry.objects.filter(pk=entry.pk, status=WaitlistStatus.WAITING).update(
            status=WaitlistStatus.REMOVED)
        entry.refresh_from_db()
        return entry


def confirm(actor: Actor, appointment_id: int | str) -> Appointment:
    """The patient said they will come (on the phone to the desk, or on their link)."""
    with transaction.atomic():
        appointment = access_record(actor, Appointment, appointment_id,
                                    permission=_can_book(actor), action="appointment.confirm")
        updated = Appointment.objects.filter(pk=appointment.pk,
                                             status=AppointmentStatus.BOOKED).update(
            status=AppointmentStatus.CONFIRMED, confirmed_at=clock.now())
        if not updated:
            raise Conflict("not_booked", _("Only a booked appointment can be confirmed."))
        appointment.refresh_from_db()
        return appointment


#: What the desk may move an appointment to on the day, from each state.
# Keyed by AppointmentStatus values (typed Any: Django's choices are untyped here).
TRANSITIONS: dict[Any, tuple[Any, ...]] = {
    AppointmentStatus.BOOKED: (AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW),
    AppointmentStatus.CONFIRMED: (AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW),
    AppointmentStatus.ARRIVED: (AppointmentStatus.IN_PROGRESS, AppointmentStatus.DONE),
    AppointmentStatus.IN_PROGRESS: (AppointmentStatus.DONE,),
}
_STAMPS: dict[Any, str] = {AppointmentStatus.ARRIVED: "arrived_at",
                           AppointmentStatus.IN_PROGRESS: "started_at",
                           AppointmentStatus.DONE: "finished_at"}


def set_status(actor: Actor, appointment_id: int | str, status: Any) -> Appointment:
    """Arrived, in the room, done, or did not attend (``status``: an AppointmentStatus)."""
    with transaction.atomic():
        appointment = access_record(actor, Appointment, appointment_id,
                                    permission=Permission.BOOK, action="appointment.status",
                                    detail={"status": status}, lock=True)
        if status not in TRANSITIONS.get(appointment.status, ()):
            raise Conflict("status_invalid", _("An appointment that is “%(now)s” cannot become "
                                               "“%(next)s”.") % {
                "now": appointment.get_status_display(),
                "next": dict(AppointmentStatus.choices).get(status, status)})
        now = clock.now()
        if status == AppointmentStatus.NO_SHOW and appointment.starts_at > now:
            raise Conflict("not_started", _("A patient can be marked as not attending once "
                                            "the appointment's time has come."))
        fields: dict[str, Any] = {"status": status}
        if status in _STAMPS:
            fields[_STAMPS[status]] = now
        if status == AppointmentStatus.DONE and appointment.started_at is None:
            fields["started_at"] = appointment.arrived_at or now
        updated = Appointment.objects.filter(pk=appointment.pk,
                                             status=appointment.status).update(**fields)
        if not updated:
            raise Conflict("changed", _("The appointment changed meanwhile; reload the page."))
        if status == AppointmentStatus.NO_SHOW and appointment.treatment_session_id:
            care.cancel_booked_session(appointment.treatment_session_id,
                                       _("The patient did not attend."))
        appointment.refresh_from_db()
        return appointment


def session_signed(session_id: int) -> None:
    """A signed session's appointment is done (the treatment happened)."""
    now = clock.now()
    Appointment.objects.filter(treatment_session_id=session_id, status__in=[
        AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.ARRIVED,
        AppointmentStatus.IN_PROGRESS]).update(status=AppointmentStatus.DONE, finished_at=now)


# --- the next safe slot and whole courses -------------------------------------------------------

@dataclass(frozen=True)
class Slot:
    starts_at: dt.datetime
    practitioner: User
    room: Room | None
    device: Device | None


SEARCH_WINDOW = dt.timedelta(days=7)
SEARCH_HORIZON = dt.timedelta(days=120)


def _spans(hours: Any, day: dt.date) -> list[rules.Span]:
    return list(hours.intervals_on(day))


def _intersect(a: Sequence[rules.Span], b: Sequence[rules.Span]) -> list[rules.Span]:
    out = []
    for a0, a1 in a:
        for b0, b1 in b:
            start, end = max(a0, b0), min(a1, b1)
            if start < end:
                out.append((start, end))
    return sorted(out)


def find_slots(clinic: Clinic, kind: AppointmentType, staff: Sequence[User], *,
               not_before: dt.datetime, count: int, until: dt.datetime | None = None
               ) -> list[Slot]:
    """The first ``count`` free starts for ``kind`` with any of ``staff``, in time order: in
    their working hours and the clinic's, their block clear of the practitioner's
    appointments, with a free room and device when the type needs them. Reads a week of
    appointments at a time (one query per week searched)."""
    zone = ZoneInfo(clinic.time_zone)
    until = until or not_before + SEARCH_HORIZON
    step = dt.timedelta(minutes=diary_settings(clinic.pk).slot_minutes)
    staff = [p for p in staff if p.role in kind.roles]
    if not staff:
        return []
    room_pool = list(Room.objects.filter(clinic_id=clinic.pk, active=True)) \
        if kind.needs_room else []
    device_pool = list(Device.objects.filter(clinic_id=clinic.pk, active=True)) \
        if kind.needs_device else []
    first_day = not_before.astimezone(zone).date()
    hours = clinic_hours(clinic, first_day - dt.timedelta(days=1), [p.pk for p in staff])
    found: list[Slot] = []
    window_start = not_before
    # A day first (the next slot is usually near), then wider: the rows read follow the days
    # searched.
    window = dt.timedelta(days=1)
    while window_start < until and len(found) < count:
        window_end = min(window_start + window, until)
        window = min(window * 3, SEARCH_WINDOW)
        rows = list(Appointment.objects.filter(
            Q(practitioner_id__in=[p.pk for p in staff])
            | Q(room_id__in=[r.pk for r in room_pool]) | Q(device_id__in=[d.pk for d in
                                                                           device_pool]),
            clinic_id=clinic.pk, status__in=HOLDING,
            block_start__lt=window_end + dt.timedelta(days=1),
            block_start__gte=window_start - dt.timedelta(days=1) - LONGEST,
            block_end__gt=window_start - dt.timedelta(days=1))
            .values_list("practitioner_id", "room_id", "device_id", "block_start", "block_end"))
        by_practitioner: dict[int, list[rules.Span]] = {}
        by_room: dict[int, list[rules.Span]] = {}
        by_device: dict[int, list[rules.Span]] = {}
        for practitioner_id, room_id, device_id, start, end in rows:
            by_practitioner.setdefault(practitioner_id, []).append((start, end))
            by_room.setdefault(room_id, []).append((start, end))
            by_device.setdefault(device_id, []).append((start, end))
        day = window_start.astimezone(zone).date()
        last_day = window_end.astimezone(zone).date()
        while day <= last_day and len(found) < count:
            candidates: list[Slot] = []
            for practitioner in staff:
                theirs = 0
                spans = _intersect(_spans(practitioner_hours(hours, clinic, practitioner.pk),
                                          day), _spans(hours.clinic, day))
                for start in rules.free_starts(
                        spans, by_practitioner.get(practitioner.pk, []),
                        duration=kind.duration, before=kind.buffer_before,
                        after=kind.buffer_after, step=step, not_before=not_before):
                    if start >= until:
                        break
                    block = (start - kind.buffer_before, start + kind.duration
                             + kind.buffer_after)
                    room = next((r for r in room_pool if not any(
                        rules.overlaps(block, b) for b in by_room.get(r.pk, []))), None)
                    device = next((d for d in device_pool if not any(
                        rules.overlaps(block, b) for b in by_device.get(d.pk, []))), None)
                    if (room_pool and room is None) or (device_pool and device is None):
                        continue
                    candidates.append(Slot(start, practitioner, room, device))
                    theirs += 1
                    if theirs >= count:
                        break
            candidates.sort(key=lambda s: (s.starts_at, str(s.practitioner)))
            found += candidates[:count - len(found)]
            day += dt.timedelta(days=1)
        window_start = window_end
    return found


@dataclass(frozen=True)
class SafeSlots:
    slots: list[Slot]
    #: For a session: the earliest safe date from the clinical core (None: "not now").
    earliest_safe_date: dt.date | None
    #: For a session that cannot be booked now: the rules that block it.
    blocked: list[Problem]


def next_safe_slots(actor: Actor, patient_id: int | str, type_id: int, *,
                    practitioner_id: int | None = None, plan_id: int | None = None,
                    count: int = 5, not_before: dt.datetime | None = None) -> SafeSlots:
    """The first slots that satisfy every rule for the patient, with one practitioner or
    any who performs the type."""
    # The audited look in a short transaction of its own; the search only reads, so it holds
    # no write lock (SQLite's IMMEDIATE transactions would make every booking wait for it).
    with transaction.atomic():
        patient = access_patient(actor, patient_id, permission=_can_book(actor),
                                 action="appointment.find_slots")
    clinic = Clinic.objects.get(pk=patient.clinic_id)
    kind = next((t for t in clinic_types(clinic.pk) if t.pk == type_id and t.active), None)
    if kind is None:
        raise ServiceError("type_invalid", _("Choose an appointment type of this clinic."),
                           field="type")
    zone = ZoneInfo(clinic.time_zone)
    now = clock.now()
    start = max(now, not_before or now)
    safe_day = None
    if kind.kind == AppointmentKind.SESSION:
        if plan_id is None:
            raise ServiceError("plan_required", _("A session belongs to a treatment plan."),
                               field="plan")
        course = healing.course_dates(patient.pk, plan_id, clinic.time_zone)
        if course.plan is None:
            raise NotFound(_("No such plan."))
        safe = healing.safe_date(course, today=now.astimezone(zone).date())
        if safe.date is None:
            return SafeSlots([], None, rules.healing_problems(safe, now.astimezone(zone).date()))
        safe_day = safe.date
        start = max(start, dt.datetime.combine(safe.date, dt.time(0), tzinfo=zone))
    staff = list(User.objects.filter(clinic_id=clinic.pk, is_active=True,
                                     role__in=kind.roles).order_by("last_name", "id"))
    if practitioner_id is not None:
        staff = [p for p in staff if p.pk == practitioner_id]
    # Whole minutes from the next step boundary.
    step = diary_settings(clinic.pk).slot_minutes
    start = start.astimezone(zone).replace(second=0, microsecond=0)
    start += dt.timedelta(minutes=(-start.minute) % step)
    return SafeSlots(find_slots(clinic, kind, staff, not_before=start, count=count),
                     safe_day, [])


def book_course(actor: Actor, plan_id: int | str, first: dt.datetime, *,
                practitioner_id: int, override_reason: str = "") -> list[Appointment]:
    """Book the plan's remaining sessions at once: the first at ``first``, each next one the
    plan's interval later at the same time, or the first free time with the practitioner
    within a week after that (each booking checked by every rule). All or nothing."""
    with transaction.atomic():
        plan = access_record(actor, TreatmentPlan, plan_id, permission=Permission.BOOK,
                             action="appointment.book_course")
        clinic = Clinic.objects.get(pk=plan.clinic_id)
        kind = next(t for t in clinic_types(clinic.pk) if t.kind == AppointmentKind.SESSION)
        course = healing.course_dates(plan.patient_id, plan.pk, clinic.time_zone)
        done = len(course.session_days)  # signed, and booked already
        remaining = max(plan.sessions_planned - done, 0)
        if remaining == 0:
            raise Conflict("course_booked", _("Every session of this plan is booked or done."))
        zone = ZoneInfo(clinic.time_zone)
        practitioner = User.objects.filter(pk=practitioner_id, clinic_id=clinic.pk).first()
        booked: list[Appointment] = []
        when = first
        for number in range(remaining):
            proposal = Proposal(patient_id=plan.patient_id, type_id=kind.pk,
                                practitioner_id=practitioner_id, starts_at=when, plan_id=plan.pk)
            if number > 0 and practitioner is not None:
                # The same time of day, or the practitioner's first free time that week.
                slots = find_slots(clinic, kind, [practitioner], not_before=when, count=1,
                                   until=when + dt.timedelta(days=7))
                if slots:
                    proposal = replace(proposal, starts_at=slots[0].starts_at)
            try:
                booked.append(book(actor, proposal, override_reason=override_reason))
            except BookingRefused as exc:
                raise BookingRefused(exc.problems, _("(Session %(n)d of the course, %(when)s.)")
                                     % {"n": done + number + 1,
                                        "when": _day(proposal.starts_at, zone)}) from None
            local = booked[-1].starts_at.astimezone(zone)
            when = dt.datetime.combine(local.date() + dt.timedelta(days=plan.interval_days),
                                       first.astimezone(zone).time(), tzinfo=zone)
        return booked
