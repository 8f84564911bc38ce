"""What a message says, decided when it is sent.

``prepare`` re-reads what the message depends on (the patient's consent to messages, channel
and address; whether a check-in arrived since the invitation; whether the escalation is still
open; the personal link) and either returns what to send or raises ``Skip`` with the reason
staff see, or ``Defer`` when a patient message would go out in quiet hours.

The personal link appears in what is sent but never in what is stored: the stored copy has a
placeholder where the address was.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import get_template
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.care.aftercare import aftercare_document
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.diary.models import UPCOMING, Appointment
from needlecare.documents import services as documents
from needlecare.messaging import composers
from needlecare.messaging.channels import Attachment, Outgoing
from needlecare.messaging.links import LinkUnavailable, resolve_token
from needlecare.messaging.models import (
    APPOINTMENT_KINDS,
    LINK_BEARING,
    REPLIES,
    Message,
    MessageChannel,
    MessageKind,
    MessageStatus,
    Recipient,
)
from needlecare.messaging.quiet_hours import quiet_end, quiet_hours
from needlecare.outcomes.models import InvitationStatus, OutcomeInvitation
from needlecare.patients.models import Channel
from needlecare.recovery.advice import patient_advice, result_protocol
from needlecare.recovery.models import CheckIn, EscalationNote, EscalationStatus, Level
from needlecare.recovery.next_steps import emergency_signs
from needlecare.recovery.results import triage_result
from needlecare.recovery.services import clinic_next_steps, staff_name
from needlecare.recovery.tokens import link_url

logger = logging.getLogger(__name__)

LINK_PLACEHOLDER = "[personal link]"


class Skip(Exception):
    """The message no longer applies or cannot be sent; ``str(exc)`` is the reason."""


class Defer(Exception):
    """Not now: a patient message in quiet hours waits until ``until``."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


def _local(moment: dt.datetime, time_zone: str) -> str:
    return formats.date_format(moment.astimezone(ZoneInfo(time_zone)), "l j F Y, H:i")


def _day(day: dt.date) -> str:
    return formats.date_format(day, "l j F Y")


# --- recipients ---------------------------------------------------------------------------

def _patient_address(message: Message) -> tuple[str, str]:
    patient = message.patient
    assert patient is not None
    patient.refresh_from_db()
    if not patient.messages_opt_in:
        raise Skip(_("The patient has not agreed to messages."))
    channel = patient.preferred_channel
    if channel == Channel.NONE:
        raise Skip(_("The patient asked for no messages."))
    if channel == Channel.EMAIL and not patient.email:
        raise Skip(_("No email address on the patient's record."))
    if channel == Channel.SMS and not patient.phone:
        raise Skip(_("No mobile phone number on the patient's record."))
    return channel, patient.email if channel == Channel.EMAIL else patient.phone


def _staff_address(message: Message) -> tuple[str, str]:
    user = message.staff
    assert user is not None
    user.refresh_from_db()
    if not user.is_active or user.clinic_id != message.clinic_id:
        raise Skip(_("%(name)s no longer works at the clinic.") % {"name": user})
    if not user.email:
        raise Skip(_("%(name)s has no email address.") % {"name": user})
    return "email", user.email


# --- what each kind needs ------------------------------------------------------------------

def _session(message: Message) -> TreatmentSession:
    session = TreatmentSession.objects.select_related("plan", "consent").get(
        pk=message.session_id)
    return session


def _aftercare_items(session: TreatmentSession) -> tuple[list[dict[str, Any]], str]:
    plan, _version = aftercare_document(session)
    items: dict[str, dict[str, Any]] = {}
    for block in [*plan.get("days", []), *plan.get("weeks", [])]:
        for instruction in block.get("instructions", []):
            key = instruction.get("id") or instruction.get("text")
            # Evidence tags ("Clinic policy") are for staff pages, not the patient's copy.
            item = items.setdefault(key, {
                "text": instruction.get("text", ""),
                "from_day": instruction.get("from_day", 0), "until": None})
            until = instruction.get("until_date")
            if until and (item["until"] is None or until > item["until"]):
                item["until"] = until
    ordered = sorted(items.values(), key=lambda i: (i["from_day"], i["until"] or ""))
    for item in ordered:
        item["until"] = _day(dt.date.fromisoformat(item["until"])) if item["until"] else ""
    return ordered, plan.get("call_clinic", "")


def _checked_in_since(session_id: int, since: dt.datetime) -> bool:
    return CheckIn.objects.filter(session_id=session_id, submitted_at__gte=since).exists()


def _kind_context(message: Message, now: dt.datetime) -> dict[str, Any]:
    kind = message.kind
    clinic = message.clinic
    context: dict[str, Any] = {}
    if kind == MessageKind.AFTERCARE_PLAN:
        session = _session(message)
        items, call_clinic = _aftercare_items(session)
        assert session.performed_on is not None
        context.update(items=items, call_clinic=call_clinic,
                       session_day=_day(session.performed_on))
    elif kind == MessageKind.CHECKIN_INVITATION:
        # The day it was meant for (a worker that was down may send it later).
        zone = ZoneInfo(clinic.time_zone)
        start = dt.datetime.combine(message.due_at.astimezone(zone).date(), dt.time(0),
                                    tzinfo=zone)
        if _checked_in_since(message.session_id, start):
            raise Skip(_("The patient has checked in since the start of the day it was "
                         "for."))
        context["day"] = message.context.get("day")
    elif kind == MessageKind.CHECKIN_REMINDER:
        invitation = Message.objects.filter(
            dedupe_key=message.context.get("invitation", "")).first()
        if invitation is None or invitation.status != MessageStatus.SENT \
                or invitation.sent_at is None:
            raise Skip(_("The invitation it follows was not sent."))
        if _checked_in_since(message.session_id, invitation.sent_at):
            raise Skip(_("The patient checked in after the invitation."))
        context["day"] = message.context.get("day")
    elif kind == MessageKind.TRIAGE_NOTE:
        context.update(_triage_note(message, now))
    elif kind == MessageKind.ESCALATION_UPDATE:
        note = EscalationNote.objects.select_related("by").filter(
            pk=message.context.get("note"), to_patient=True).first()
        if note is None:
            raise Skip(_("The note to the patient no longer exists."))
        context.update(note=note.text, clinician=staff_name(note.by),
                       state=message.context.get("state", ""),
                       emergency_signs=emergency_signs(default_protocol()))
    elif kind == MessageKind.SESSION_REMINDER:
        session = _session(message)
        if session.status != SessionStatus.BOOKED or session.scheduled_for <= now:
            raise Skip(_("The session is no longer booked."))
        context["when"] = _local(session.scheduled_for, clinic.time_zone)
    elif kind == MessageKind.NEXT_SESSION:
        session = _session(message)
        plan = session.plan
        sessions = TreatmentSession.objects.filter(plan_id=plan.pk)
        signed = sessions.filter(status=SessionStatus.SIGNED).count()
        if plan.status != "active" or signed >= plan.sessions_planned:
            raise Skip(_("The treatment plan has no sessions left."))
        if sessions.filter(status=SessionStatus.BOOKED).exists():
            raise Skip(_("The next session is already booked."))
        if sessions.filter(status=SessionStatus.SIGNED,
                           performed_on__gt=session.performed_on).exists():
            raise Skip(_("A later session has been signed."))
        context["eligible_from"] = _day(
            dt.date.fromisoformat(message.context["eligible_from"]))
    elif kind in (MessageKind.OUTCOME_INVITATION, MessageKind.OUTCOME_REMINDER):
        invitation = OutcomeInvitation.objects.filter(
            pk=message.context.get("invitation")).first()
        if invitation is None or invitation.status != InvitationStatus.PENDING:
            raise Skip(_("The patient has answered the outcome questions, or they were "
                         "cancelled."))
        today = now.astimezone(ZoneInfo(clinic.time_zone)).date()
        if today > invitation.answer_by:
            raise Skip(_("The outcome questions have closed."))
        if kind == MessageKind.OUTCOME_REMINDER:
            sent = Message.objects.filter(
                dedupe_key=message.context.get("invitation_message", ""),
                status=MessageStatus.SENT).exists()
            if not sent:
                raise Skip(_("The invitation it follows was not sent."))
        context.update(invitation=invitation.pk, answer_by=_day(invitation.answer_by),
                       label=invitation.label)
    elif kind in APPOINTMENT_KINDS or kind == MessageKind.PRE_VISIT:
        appointment = _appointment(message)
        if kind == MessageKind.APPOINTMENT_CANCELLED:
            context["by_patient"] = bool(message.context.get("by_patient"))
        elif appointment.status not in UPCOMING or appointment.starts_at <= now:
            raise Skip(_("The appointment is no longer to come."))
        elif kind == MessageKind.APPOINTMENT_REMINDER and \
                message.context.get("starts_at") != appointment.starts_at.isoformat():
            raise Skip(_("The appointment was moved since."))
        context.update(appointment=appointment,
                       when=_local(appointment.starts_at, clinic.time_zone),
                       with_whom=str(appointment.practitioner or ""))
        if kind == MessageKind.APPOINTMENT_CHANGED and message.context.get("previous"):
            context["previous"] = _local(dt.datetime.fromisoformat(message.context["previous"]),
                                         clinic.time_zone)
        if kind == MessageKind.PRE_VISIT:
            previsit = getattr(appointment, "previsit", None)
            if previsit is not None and previsit.completed_at is not None:
                raise Skip(_("The patient has filled in the forms already."))
    elif kind == MessageKind.SLOT_OFFER:
        starts_at = dt.datetime.fromisoformat(message.context["starts_at"])
        if starts_at <= now:
            raise Skip(_("The offered time has passed."))
        context["when"] = _local(starts_at, clinic.time_zone)
    elif kind in (MessageKind.CLINICIAN_ALERT, MessageKind.ESCALATION_OVERDUE):
        escalation = message.escalation
        assert escalation is not None
        escalation.refresh_from_db()
        if escalation.status == EscalationStatus.CLOSED:
            raise Skip(_("The escalation was closed."))
        if escalation.status == EscalationStatus.ACKNOWLEDGED:
            raise Skip(_("A clinician acknowledged the escalation."))
        context.update(level=Level(escalation.level).label,
                       deadline=_local(escalation.deadline, clinic.time_zone),
                       escalation_url=settings.PUBLIC_BASE_URL.rstrip("/")
                       + reverse("escalation-detail", args=[escalation.pk]),
                       overdue=kind == MessageKind.ESCALATION_OVERDUE)
    return context


def _triage_note(message: Message, now: dt.datetime) -> dict[str, Any]:
    """What happens next, said when the note is sent (the clinic may have opened or closed
    since the check-in): the escalation's level and deadline, the clinic's hours and numbers,
    and the check-in's advice without the lines the next steps say."""
    escalation = message.escalation
    if escalation is None:
        raise Skip(_("The note has no escalation to speak about."))
    escalation.refresh_from_db()
    if escalation.status == EscalationStatus.CLOSED:
        raise Skip(_("The escalation was closed."))
    checkins = CheckIn.objects.filter(escalation_id=escalation.pk)
    checkin = (checkins.filter(pk=message.context.get("checkin")).first()
               or checkins.order_by("-submitted_at", "-id").first())
    protocol = result_protocol(checkin.protocol_version) if checkin is not None else None
    return {
        "level": escalation.level,
        "next": clinic_next_steps(message.clinic, escalation.level, now=now,
                                  deadline=escalation.deadline, protocol=protocol),
        "advice": (patient_advice(triage_result(checkin), protocol) if checkin is not None
                   else []),
    }
def _appointment(message: Message) -> Appointment:
    return Appointment.objects.select_related("type", "practitioner", "clinic").get(
        pk=message.appointment_id)


def _link_address(message: Message, token: str) -> str:
    """Where a link-bearing message points: the page it is about, else the home page."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    if message.kind == MessageKind.PRE_VISIT:
        return base + reverse("patient-previsit", args=[token, message.appointment_id])
    if message.kind == MessageKind.SLOT_OFFER:
        return base + reverse("patient-offer", args=[token, message.context["waitlist_entry"]]) \
            + "?start=" + message.context["starts_at"].replace("+", "%2B")
    return link_url(token)


# --- attachments ---------------------------------------------------------------------------

def _documents(message: Message) -> tuple[Attachment, ...]:
    """The aftercare plan, signed consent and check-in calendar. A document that cannot be
    made is left out and logged (the message still carries the link to the phone page, which
    offers the documents)."""
    if not getattr(settings, "MESSAGING_ATTACH_DOCUMENTS", True):
        return ()
    session = _session(message)
    wanted: list[tuple[str, Callable[[], bytes], str]] = [
        ("aftercare-plan.pdf", lambda: documents.aftercare_pdf(session), "application/pdf"),
        ("check-ins.ics", lambda: documents.calendar_ics(session), "text/calendar"),
    ]
    consent = session.consent
    if consent is not None:
        wanted.insert(1, ("consent.pdf", lambda: documents.consent_pdf(consent),
                          "application/pdf"))
    attachments = []
    for filename, make, mimetype in wanted:
        try:
            attachments.append(Attachment(filename, make(), mimetype))
        except Exception:
            # A broken renderer must not stop the plan and the link reaching the patient.
            logger.exception("could not make %s for message %s", filename, message.pk)
    return tuple(attachments)


# --- putting it together -------------------------------------------------------------------

_BLANK_LINES = re.compile(r"\n{3,}")


def _render(kind: str, part: str, context: dict[str, Any]) -> str:
    text = get_template(f"messaging/messages/{kind}.{part}.txt").render(context)
    if part in ("subject", "sms"):
        return " ".join(text.split())
    return _BLANK_LINES.sub("\n\n", text.strip()) + "\n"


def prepare(message: Message, now: dt.datetime | None = None) -> tuple[Outgoing, Outgoing]:
    """What to send, and the copy to store (the same with the link replaced)."""
    now = now or clock.now()
    composer = composers.composer_for(message.kind)
    if composer is not None:  # a kind an app above messaging composes (composers.py)
        return composer(message, now)
    clinic = message.clinic
    if message.recipient == Recipient.PATIENT:
        channel, address = _patient_address(message)
        if message.kind not in REPLIES:
            quiet_from, quiet_until = quiet_hours(clinic)
            end = quiet_end(now, quiet_from=quiet_from, quiet_until=quiet_until,
                            time_zone=clinic.time_zone)
            if end is not None:
                raise Defer(end)
    else:
        channel, address = _staff_address(message)
    context: dict[str, Any] = {
        "clinic": clinic, "patient": message.patient, "staff": message.staff,
        **_kind_context(message, now)}
    url = None
    if message.kind in LINK_BEARING:
        try:
            link, token = resolve_token(message)
        except LinkUnavailable as exc:
            raise Skip(str(exc)) from None
        url = _link_address(message, token)
        message.link = link
    attachments: tuple[Attachment, ...] = ()
    if message.kind == MessageKind.AFTERCARE_PLAN and channel == MessageChannel.EMAIL:
        attachments = _documents(message)
    elif message.kind in APPOINTMENT_KINDS and channel == MessageChannel.EMAIL:
        attachments = (Attachment("appointment.ics", documents.appointment_ics(
            _appointment(message), now=now), "text/calendar"),)
    context["attachments"] = [a.filename for a in attachments]
    body_part = "sms" if channel == MessageChannel.SMS else "email"
    sent = Outgoing(channel=channel, to=address,
                    subject=_render(message.kind, "subject", {**context, "link_url": url}),
                    body=_render(message.kind, body_part, {**context, "link_url": url}),
                    dedupe_key=message.dedupe_key, attachments=attachments)
    stored = Outgoing(channel=channel, to=address,
                      subject=_render(message.kind, "subject",
                                      {**context, "link_url": LINK_PLACEHOLDER}),
                      body=_render(message.kind, body_part,
                                   {**context, "link_url": LINK_PLACEHOLDER}),
                      dedupe_key=message.dedupe_key)
    return sent, stored
