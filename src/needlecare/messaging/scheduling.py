"""What is sent, to whom and when. The handlers here listen to the services' events
(``needlecare.events``), which run inside the services' transactions, so a message is scheduled
exactly when the change that calls for it commits.

Timings come from the protocol (``aftercare.check_ins``: the days, the hour of the invitation
and the reminder delay) and the clinic (time zone, quiet hours), not from code:

- session signed: the aftercare plan with the personal link, now; a check-in invitation on each
  of the protocol's days at ``invite_at_hour`` clinic time; one reminder ``reminder_after_hours``
  after each invitation (sent only if no check-in arrived since the invitation); a reminder of
  the next session when the plan has sessions left;
- appointment booked (in the diary, sessions included): a confirmation now with the calendar
  file, a reminder 24 hours before, and for a consultation the pre-visit forms (with the
  personal link); moved: the change now and the reminder again; cancelled: the cancellation
  (the calendar file cancels the event) and nothing pending about it; a slot offered from the
  waiting list: the offer, with the link to book it;
- check-in at ``contact_clinic`` or above: a note to the patient with what happens next, once
  per escalation state change (opened, or raised to a level); an ``urgent`` or ``emergency``
  escalation: an email alert to each clinician and owner now (once per level), and an
  ``escalation_overdue`` job per recipient at the deadline that alerts again if nobody has
  acknowledged it by then;
- escalation acknowledged or closed with a note to the patient: that note, to the patient;
- a personal link issued: pending link-bearing messages carry the new link, and the check-ins
  and outcome questions still to come are (re)scheduled with it;
- outcome invitations scheduled (a course's last planned session signed): an invitation to
  answer the outcome questions on each one's due day at the invitation hour, and one reminder
  on its reminder day (sent only while it is unanswered);
- link revoked, treatment consent withdrawn: what is pending is cancelled.

Every row has a ``dedupe_key`` naming what it is; writing the same thing twice is a no-op.
Whether a message still applies (no check-in since the invitation, an escalation still open,
the patient's consent and address) is decided again when it is sent.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from needlecare import clock, events
from needlecare.accounts.models import Clinic, Role, User
from needlecare.care.models import ConsentKind, PlanStatus, SessionStatus, TreatmentSession
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.diary.models import Appointment
from needlecare.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentRescheduled,
    CheckinRecorded,
    ConsentWithdrawn,
    EscalationAcknowledged,
    EscalationClosed,
    EscalationOpened,
    EscalationRaised,
    LinkIssued,
    LinkRevoked,
    LinkSent,
    OutcomeInvitationsScheduled,
    SessionSigned,
    SlotOffered,
)
from needlecare.messaging.models import (
    CANCELLABLE,
    LINK_BEARING,
    REPLIES,
    Message,
    MessageChannel,
    MessageKind,
    MessageStatus,
    Recipient,
)
from needlecare.messaging.outbox import enqueue
from needlecare.messaging.quiet_hours import outside_quiet_hours, quiet_hours
from needlecare.outcomes.models import InvitationStatus, OutcomeInvitation
from needlecare.patients.models import Patient
from needlecare.recovery.links import current_session
from needlecare.recovery.models import Escalation, EscalationStatus, PatientLink

#: Triage levels after which the patient gets a note, and escalation levels that alert staff.
NOTE_LEVELS = ("contact_clinic", "urgent", "emergency")
ALERT_LEVELS = ("urgent", "emergency")


def check_in_schedule() -> Any:
    """The protocol's check-in schedule (``days``, ``invite_at_hour``, ``reminder_after_hours``)."""
    return default_protocol().data.aftercare.check_ins


def at_clinic_hour(day: dt.date, hour: int, clinic: Clinic) -> dt.datetime:
    """``hour`` o'clock on ``day`` in the clinic's time zone, as an aware UTC datetime."""
    local = dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo(clinic.time_zone))
    return local.astimezone(dt.UTC)


def _patient_channel(patient: Patient) -> str:
    # "none" is decided (and recorded as skipped) at send time: the patient may change it.
    return patient.preferred_channel if patient.preferred_channel in MessageChannel.values \
        else ""


class _Planner:
    """Builds the rows for one clinic, adjusting patient messages out of quiet hours."""

    def __init__(self, clinic: Clinic) -> None:
        self.clinic = clinic
        self.rows: list[Message] = []

    @functools.cached_property
    def hours(self) -> tuple[dt.time, dt.time]:
        # Read when a patient message is planned, not for every check-in that plans none.
        return quiet_hours(self.clinic)

    # ``kind`` is a MessageKind (typed Any: Django's choices are untyped here).
    def patient(self, patient: Patient, kind: Any, due: dt.datetime, key: str, *,
                session: TreatmentSession | None = None, link: PatientLink | None = None,
                escalation: Escalation | None = None, appointment: Appointment | None = None,
                context: dict[str, Any] | None = None) -> Message:
        if kind not in REPLIES:
            due = outside_quiet_hours(due, self.clinic, self.hours)
        return self._add(Message(
            clinic_id=self.clinic.pk, recipient=Recipient.PATIENT, patient=patient,
            session=session, link=link, escalation=escalation, appointment=appointment,
            kind=kind,
            channel=_patient_channel(patient), context=context or {}, due_at=due,
            next_attempt_at=due, dedupe_key=key))

    def staff(self, user: Any, patient: Patient, kind: Any, due: dt.datetime, key: str, *,
              escalation: Escalation | None = None, session: TreatmentSession | None = None,
              context: dict[str, Any] | None = None) -> Message:
        return self._add(Message(
            clinic_id=self.clinic.pk, recipient=Recipient.STAFF, staff=user, patient=patient,
            session=session, escalation=escalation, kind=kind, channel=MessageChannel.EMAIL,
            context=context or {}, due_at=due, next_attempt_at=due, dedupe_key=key))

    def _add(self, message: Message) -> Message:
        self.rows.append(message)
        return message

    def write(self) -> None:
        enqueue(self.rows)
        self.rows = []


def _cancel(messages: Any, reason: str) -> int:
    return messages.filter(status__in=CANCELLABLE).update(status=MessageStatus.CANCELLED,
                                                          reason=reason)


# --- check-ins -----------------------------------------------------------------------------

def invitation_key(session_id: int, day: int, generation: int) -> str:
    return f"checkin-invitation.s{session_id}.d{day}.g{generation}"


def _plan_checkins(planner: _Planner, session: TreatmentSession, link: PatientLink | None,
                   now: dt.datetime, skip_days: Iterable[int] = ()) -> None:
    """An invitation on each protocol day still ahead, and the reminder that may follow it.

    ``generation`` 0 is the first schedule (the link is issued when first needed); a link
    issued later schedules the days it finds missing under its own id."""
    schedule = check_in_schedule()
    assert session.performed_on is not None
    skip = set(skip_days)
    generation = link.pk if link is not None else 0
    for day in schedule.days:
        if day in skip:
            continue
        due = at_clinic_hour(session.performed_on + dt.timedelta(days=day),
                             schedule.invite_at_hour, session.clinic)
        if due <= now:
            continue
        invitation = planner.patient(
            session.patient, MessageKind.CHECKIN_INVITATION, due,
            invitation_key(session.pk, day, generation), session=session, link=link,
            context={"day": day})
        # Elapsed hours, added in UTC (a clock change does not shorten the wait).
        planner.patient(
            session.patient, MessageKind.CHECKIN_REMINDER,
            invitation.due_at + dt.timedelta(hours=schedule.reminder_after_hours),
            f"checkin-reminder.s{session.pk}.d{day}.g{generation}", session=session, link=link,
            context={"day": day, "invitation": invitation.dedupe_key})


def _scheduled_days(session_id: int) -> set[int]:
    contexts = Message.objects.filter(session_id=session_id,
                                      kind=MessageKind.CHECKIN_INVITATION).exclude(
        status=MessageStatus.CANCELLED).values_list("context", flat=True)
    return {c["day"] for c in contexts if isinstance(c, dict) and "day" in c}


# --- the handlers (registered in MessagingConfig.ready) --------------------------------------

def on_session_signed(event: SessionSigned) -> None:
    """The aftercare plan and personal link now, the check-ins, the next-session reminder."""
    session = TreatmentSession.objects.select_related("clinic", "patient", "plan").get(
        pk=event.session_id)
    assert session.performed_on is not None
    now = clock.now()
    planner = _Planner(session.clinic)
    planner.patient(session.patient, MessageKind.AFTERCARE_PLAN, now,
                    f"aftercare-plan.s{session.pk}", session=session)
    _plan_checkins(planner, session, None, now)

    plan = session.plan
    _cancel(Message.objects.filter(kind=MessageKind.NEXT_SESSION, session__plan_id=plan.pk)
            .exclude(session_id=session.pk), "A later session was signed.")
    signed = TreatmentSession.objects.filter(plan_id=plan.pk,
                                             status=SessionStatus.SIGNED).count()
    if plan.status == PlanStatus.ACTIVE and signed < plan.sessions_planned:
        eligible = session.performed_on + dt.timedelta(days=plan.interval_days)
        lead = dt.timedelta(days=getattr(settings, "MESSAGING_NEXT_SESSION_LEAD_DAYS", 3))
        due = max(now, at_clinic_hour(eligible - lead, check_in_schedule().invite_at_hour,
                                      session.clinic))
        planner.patient(session.patient, MessageKind.NEXT_SESSION, due,
                        f"next-session.s{session.pk}", session=session,
                        context={"eligible_from": eligible.isoformat()})
    planner.write()


# --- the diary ----------------------------------------------------------------------------

#: The appointment reminder goes this long before the appointment.
REMINDER_BEFORE = dt.timedelta(hours=24)


def _appointment(appointment_id: int) -> Appointment:
    return Appointment.objects.select_related("clinic", "patient", "type").get(
        pk=appointment_id)


def _remind(planner: _Planner, appointment: Appointment, now: dt.datetime) -> None:
    due = appointment.starts_at - REMINDER_BEFORE
    if due > now:
        planner.patient(appointment.patient, MessageKind.APPOINTMENT_REMINDER, due,
                        f"appointment-reminder.a{appointment.pk}.q{appointment.sequence}",
                        appointment=appointment,
                        context={"starts_at": appointment.starts_at.isoformat()})


def on_appointment_booked(event: AppointmentBooked) -> None:
    """The confirmation now, the reminder a day before, the pre-visit forms now."""
    appointment = _appointment(event.appointment_id)
    now = clock.now()
    planner = _Planner(appointment.clinic)
    planner.patient(appointment.patient, MessageKind.APPOINTMENT_BOOKED, now,
                    f"appointment-booked.a{appointment.pk}", appointment=appointment,
                    context={"starts_at": appointment.starts_at.isoformat()})
    _remind(planner, appointment, now)
    if event.pre_visit:
        planner.patient(appointment.patient, MessageKind.PRE_VISIT, now,
                        f"pre-visit.a{appointment.pk}", appointment=appointment)
    planner.write()


def on_appointment_rescheduled(event: AppointmentRescheduled) -> None:
    """The new time now; the reminder of the old time gives way to one for the new."""
    appointment = _appointment(event.appointment_id)
    _cancel(Message.objects.filter(appointment_id=appointment.pk,
                                   kind=MessageKind.APPOINTMENT_REMINDER),
            "The appointment was moved.")
    now = clock.now()
    planner = _Planner(appointment.clinic)
    planner.patient(appointment.patient, MessageKind.APPOINTMENT_CHANGED, now,
                    f"appointment-changed.a{appointment.pk}.q{appointment.sequence}",
                    appointment=appointment,
                    context={"starts_at": appointment.starts_at.isoformat(),
                             "previous": event.previous_starts_at.isoformat()})
    _remind(planner, appointment, now)
    planner.write()


def on_appointment_cancelled(event: AppointmentCancelled) -> None:
    """Nothing pending about it is sent; the patient hears it was cancelled."""
    appointment = _appointment(event.appointment_id)
    pending = Message.objects.filter(appointment_id=appointment.pk)
    if appointment.treatment_session_id is not None:
        # Reminders of a session booked before the diary hang on the session itself.
        pending = pending | Message.objects.filter(session_id=appointment.treatment_session_id,
                                                   kind=MessageKind.SESSION_REMINDER)
    _cancel(pending, "The appointment was cancelled.")
    planner = _Planner(appointment.clinic)
    planner.patient(appointment.patient, MessageKind.APPOINTMENT_CANCELLED, clock.now(),
                    f"appointment-cancelled.a{appointment.pk}", appointment=appointment,
                    context={"starts_at": appointment.starts_at.isoformat(),
                             "by_patient": event.by_patient})
    planner.write()


def on_slot_offered(event: SlotOffered) -> None:
    """The offer of a freed slot, with the link to book it (first come, first served)."""
    patient = Patient.objects.select_related("clinic").get(pk=event.patient_id)
    planner = _Planner(patient.clinic)
    planner.patient(patient, MessageKind.SLOT_OFFER, clock.now(),
                    f"slot-offer.w{event.waitlist_entry_id}.t{int(event.starts_at.timestamp())}",
                    context={"starts_at": event.starts_at.isoformat(),
                             "waitlist_entry": event.waitlist_entry_id,
                             "type": event.appointment_type_id,
                             "practitioner": event.practitioner_id})
    planner.write()


def on_consent_withdrawn(event: ConsentWithdrawn) -> None:
    """Withdrawing the treatment consent stops every pending message to the patient."""
    if event.kind != ConsentKind.TREATMENT:
        return
    _cancel(Message.objects.filter(patient_id=event.patient_id, recipient=Recipient.PATIENT),
            "The patient withdrew their treatment consent.")


def on_link_issued(event: LinkIssued) -> None:
    """Pending link-bearing messages of the patient now carry the new link, and check-ins of
    their current session still ahead that are not scheduled (cancelled with a revoked link)
    are scheduled with it."""
    Message.objects.filter(patient_id=event.patient_id, recipient=Recipient.PATIENT,
                           kind__in=LINK_BEARING, status__in=CANCELLABLE).update(
        link_id=event.link_id)
    session = current_session(event.patient_id)
    if session is None or session.performed_on is None:
        return
    session = TreatmentSession.objects.select_related("clinic", "patient").get(pk=session.pk)
    link = PatientLink.objects.get(pk=event.link_id)
    planner = _Planner(session.clinic)
    now = clock.now()
    _plan_checkins(planner, session, link, now, skip_days=_scheduled_days(session.pk))
    open_questions = list(OutcomeInvitation.objects.filter(
        patient_id=event.patient_id, status=InvitationStatus.PENDING,
        answer_by__gte=now.astimezone(ZoneInfo(session.clinic.time_zone)).date())
        .select_related("clinic", "patient", "session").order_by("due", "id"))
    if open_questions:
        _plan_outcome_questions(planner, open_questions, link, now)
    planner.write()


def on_link_sent(event: LinkSent) -> None:
    """The patient's personal link, now (staff asked; a double click sends it once)."""
    link = PatientLink.objects.select_related("clinic", "patient").get(pk=event.link_id)
    now = clock.now()
    planner = _Planner(link.clinic)
    planner.patient(link.patient, MessageKind.PERSONAL_LINK, now,
                    f"personal-link.l{link.pk}.t{int(now.timestamp()) // 60}", link=link)
    planner.write()


def on_link_revoked(event: LinkRevoked) -> None:
    """Cancel the pending messages that would carry the revoked link (or the patient's link,
    still to be issued)."""
    _cancel(Message.objects.filter(patient_id=event.patient_id, kind__in=LINK_BEARING)
            .filter(Q(link_id=event.link_id) | Q(link__isnull=True)),
            "The personal link was revoked.")


def triage_note_key(escalation_id: int, level: str) -> str:
    return f"triage-note.e{escalation_id}.{level}"


def on_checkin_recorded(event: CheckinRecorded) -> None:
    """A note to the patient when their check-in opened an escalation or raised its level:
    one per state change of the escalation, never one per submission (a patient who sends
    the same worry ten times gets one answer). A check-in that joins an escalation at its
    level, or below it, changes nothing the patient has not been told."""
    if event.level not in NOTE_LEVELS or event.escalation_id is None:
        return
    escalation = Escalation.objects.select_related("clinic", "patient", "session").get(
        pk=event.escalation_id)
    if escalation.level != event.level:
        return
    key = triage_note_key(escalation.pk, escalation.level)
    planner = _Planner(escalation.clinic)
    planner.patient(escalation.patient, MessageKind.TRIAGE_NOTE, clock.now(), key,
                    session=escalation.session, escalation=escalation,
                    context={"level": escalation.level, "checkin": event.checkin_id})
    planner.write()
    # A note about a lower level still waiting to be sent says less than this one.
    _cancel(Message.objects.filter(escalation_id=escalation.pk, kind=MessageKind.TRIAGE_NOTE)
            .exclude(dedupe_key=key), "A newer note about the same escalation replaces it.")


def _note_to_patient(escalation_id: int, note_id: int | None, state: str) -> None:
    if note_id is None:
        return
    escalation = Escalation.objects.select_related("clinic", "patient", "session").get(
        pk=escalation_id)
    planner = _Planner(escalation.clinic)
    planner.patient(escalation.patient, MessageKind.ESCALATION_UPDATE, clock.now(),
                    f"escalation-update.e{escalation.pk}.n{note_id}", session=escalation.session,
                    escalation=escalation, context={"note": note_id, "state": state})
    planner.write()


def on_escalation_acknowledged(event: EscalationAcknowledged) -> None:
    """The clinician's note to the patient, when they wrote one while acknowledging."""
    _note_to_patient(event.escalation_id, event.patient_note_id, "acknowledged")


def on_escalation_closed(event: EscalationClosed) -> None:
    """The clinician's note to the patient, when they wrote one while closing; a triage note
    not yet sent no longer applies."""
    _cancel(Message.objects.filter(escalation_id=event.escalation_id,
                                   kind=MessageKind.TRIAGE_NOTE),
            "The escalation was closed before the note was sent.")
    _note_to_patient(event.escalation_id, event.patient_note_id, "closed")


def on_escalation_opened(event: EscalationOpened) -> None:
    if event.level in ALERT_LEVELS:
        _alert(event.escalation_id)


def on_escalation_raised(event: EscalationRaised) -> None:
    # Raising re-opens an acknowledged escalation, so the clinicians are alerted again.
    if event.level in ALERT_LEVELS:
        _alert(event.escalation_id)


def _plan_outcome_questions(planner: _Planner, invitations: Sequence[OutcomeInvitation],
                            link: PatientLink | None, now: dt.datetime) -> None:
    """For each invitation without them (none yet, or cancelled with a revoked link): the
    invitation on its due day at the invitation hour (now, when that has passed) and one
    reminder on its reminder day, while that is ahead. ``generation`` 0 is the first schedule;
    a link issued later schedules what it finds missing under its own id."""
    hour = check_in_schedule().invite_at_hour
    generation = link.pk if link is not None else 0
    # (invitation id, message kind) -> dedupe key of the message already scheduled.
    scheduled: dict[tuple[int, Any], str] = {}
    for kind, context, key in (Message.objects.filter(
            patient_id=invitations[0].patient_id,
            kind__in=[MessageKind.OUTCOME_INVITATION, MessageKind.OUTCOME_REMINDER])
            .exclude(status=MessageStatus.CANCELLED).order_by("id")
            .values_list("kind", "context", "dedupe_key")):
        if isinstance(context, dict) and "invitation" in context:
            scheduled[(context["invitation"], kind)] = key
    for invitation in invitations:
        context = {"invitation": invitation.pk, "point": invitation.point}
        invite_key = scheduled.get((invitation.pk, MessageKind.OUTCOME_INVITATION))
        if invite_key is None:
            invite = planner.patient(
                invitation.patient, MessageKind.OUTCOME_INVITATION,
                max(now, at_clinic_hour(invitation.due, hour, invitation.clinic)),
                f"outcome-invitation.i{invitation.pk}.g{generation}",
                session=invitation.session, link=link, context=context)
            invite_key, invite_due = invite.dedupe_key, invite.due_at
        else:
            invite_due = now
        remind = at_clinic_hour(invitation.remind_on, hour, invitation.clinic)
        if (invitation.pk, MessageKind.OUTCOME_REMINDER) not in scheduled \
                and remind > max(invite_due, now):
            planner.patient(invitation.patient, MessageKind.OUTCOME_REMINDER, remind,
                            f"outcome-reminder.i{invitation.pk}.g{generation}",
                            session=invitation.session, link=link,
                            context={**context, "invitation_message": invite_key})


def on_outcome_invitations_scheduled(event: OutcomeInvitationsScheduled) -> None:
    """Each invitation on its due day at the invitation hour, and one reminder on its reminder
    day (skipped at send time once the patient has answered)."""
    invitations = list(OutcomeInvitation.objects.filter(pk__in=event.invitation_ids)
                       .select_related("clinic", "patient", "session").order_by("due", "id"))
    if not invitations:
        return
    planner = _Planner(invitations[0].clinic)
    _plan_outcome_questions(planner, invitations, None, clock.now())
    planner.write()


def clinicians(clinic_id: int) -> Sequence[User]:
    return list(User.objects.filter(clinic_id=clinic_id, is_active=True,
                                    role__in=[Role.CLINICIAN, Role.OWNER]).order_by("pk"))


def _alert(escalation_id: int) -> None:
    """An email to each clinician and owner now, and a check at the deadline that alerts
    again if nobody has acknowledged the escalation by then."""
    escalation = Escalation.objects.select_related("clinic", "patient", "session").get(
        pk=escalation_id)
    if escalation.status != EscalationStatus.OPEN:
        return
    planner = _Planner(escalation.clinic)
    now = clock.now()
    stamp = int(escalation.deadline.timestamp())
    overdue_keys = []
    for user in clinicians(escalation.clinic_id):
        planner.staff(user, escalation.patient, MessageKind.CLINICIAN_ALERT, now,
                      f"clinician-alert.e{escalation.pk}.{escalation.level}.u{user.pk}",
                      escalation=escalation, session=escalation.session,
                      context={"level": escalation.level,
                               "deadline": escalation.deadline.isoformat()})
        key = f"escalation-overdue.e{escalation.pk}.t{stamp}.u{user.pk}"
        overdue_keys.append(key)
        planner.staff(user, escalation.patient, MessageKind.ESCALATION_OVERDUE,
                      max(escalation.deadline, now), key, escalation=escalation,
                      session=escalation.session,
                      context={"level": escalation.level,
                               "deadline": escalation.deadline.isoformat()})
    planner.write()
    # A raised escalation's deadline only moves earlier: the later checks are superseded.
    _cancel(Message.objects.filter(escalation_id=escalation.pk,
                                   kind=MessageKind.ESCALATION_OVERDUE)
            .exclude(dedupe_key__in=overdue_keys), "The deadline moved earlier.")


def register() -> None:
    """Listen to the services' events (called once from MessagingConfig.ready)."""
    events.subscribe(SessionSigned, on_session_signed)
    events.subscribe(AppointmentBooked, on_appointment_booked)
    events.subscribe(AppointmentRescheduled, on_appointment_rescheduled)
    events.subscribe(AppointmentCancelled, on_appointment_cancelled)
    events.subscribe(SlotOffered, on_slot_offered)
    events.subscribe(ConsentWithdrawn, on_consent_withdrawn)
    events.subscribe(LinkIssued, on_link_issued)
    events.subscribe(LinkSent, on_link_sent)
    events.subscribe(LinkRevoked, on_link_revoked)
    events.subscribe(CheckinRecorded, on_checkin_recorded)
    events.subscribe(EscalationOpened, on_escalation_opened)
    events.subscribe(EscalationRaised, on_escalation_raised)
    events.subscribe(OutcomeInvitationsScheduled, on_outcome_invitations_scheduled)
    events.subscribe(EscalationAcknowledged, on_escalation_acknowledged)
    events.subscribe(EscalationClosed, on_escalation_closed)
