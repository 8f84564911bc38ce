"""Staff's view of the outbox and their two actions on it: send again, cancel.

Who sees what: message bodies hold clinical advice, so clinicians and owners see every message
of their clinic with what it said; the front desk sees status lines only (kind, recipient,
channel, times, status, error) and nothing of the clinical kinds (notes after a check-in and
clinician alerts reveal triage results and escalations). Another clinic's messages do not
exist for anyone (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from needlecare import clock, paging
from needlecare.access import Actor, Permission, audit, refuse, require
from needlecare.errors import Conflict, NotFound, ServiceError
from needlecare.messaging.models import (
    CANCELLABLE,
    CLINICAL_KINDS,
    LINK_BEARING,
    RETRYABLE,
    Message,
    MessageStatus,
)
from needlecare.patients.access import access_patient, access_record
from needlecare.patients.models import Patient

PAGE_SIZE = 50
#: The failures shown above the list (newest first); the status filter shows them all.
FAILURES_SHOWN = 100
#: Messages shown on a patient's page, newest due first.
PATIENT_MESSAGES_SHOWN = 100
FAILURE_STATUSES = (MessageStatus.FAILED, MessageStatus.DEAD)
WAITING_STATUSES = (MessageStatus.PENDING, MessageStatus.SENDING)
#: What the worker or staff have dealt with (listed below failures and what is waiting).
DEALT_WITH_STATUSES = tuple(s for s in MessageStatus.values
                            if s not in (*FAILURE_STATUSES, *WAITING_STATUSES))
NEXT_UP_SHOWN = 20


def _visible(actor: Actor) -> Any:
    require(actor, Permission.VIEW_DEMOGRAPHICS)
    messages = Message.objects.filter(clinic_id=actor.clinic_id)
    if not actor.can(Permission.VIEW_CLINICAL):
        messages = messages.exclude(kind__in=CLINICAL_KINDS)
    return messages


@dataclass
class OutboxPage:
    status: str | None
    #: Failed and dead messages, newest first (only on the unfiltered view).
    failures: list[Message]
    #: How many failures ``failures`` holds; ``more_failures``: there are more than that (not
    #: counted: a clinic's outbox holds millions of messages, its failures thousands).
    failure_count: int
    #: The messages waiting to go out, soonest first (only on the unfiltered view).
    next_up: list[Message]
    #: Whether more messages are waiting than ``next_up`` shows (not counted: a clinic can
    #: have a hundred thousand reminders scheduled).
    more_waiting: bool
    #: The other messages (or those in ``status``): waiting ones soonest first, the rest
    #: newest first, a page at a time from a cursor.
    page: paging.Keyset[Message]
    #: Whether bodies are shown (clinicians and owners).
    clinical: bool
    more_failures: bool = False
    statuses: list[tuple[str, str]] = field(default_factory=lambda: list(
        MessageStatus.choices))


def _soonest(visible: Any, statuses: tuple[Any, ...], limit: int) -> list[Message]:
    """The ``limit`` soonest due messages in ``statuses``: one query per status, each served
    in order by the (clinic, status, due_at) index, merged here. One query with
    ``status IN (...)`` cannot be read in due order from that index, so the database would
    read every waiting message (or walk the clinic's messages from the oldest) to sort them."""
    found = [m for status in statuses
             for m in visible.filter(status=status).order_by("due_at", "id")[:limit]]
    return sorted(found, key=lambda m: (m.due_at, m.pk))[:limit]


def _newest(visible: Any, statuses: tuple[Any, ...], limit: int) -> list[Message]:
    """The ``limit`` latest due messages in ``statuses``, one query per status for the same
    reason as ``_soonest``."""
    found = [m for status in statuses
             for m in visible.filter(status=status).order_by("-due_at", "-id")[:limit]]
    return sorted(found, key=lambda m: (m.due_at, m.pk), reverse=True)[:limit]


def outbox(actor: Actor, status: str | None = None, *, after: str | None = None,
           before: str | None = None) -> OutboxPage:
    """The clinic's messages: failures first with their errors, then the rest."""
    if status is not None and status not in MessageStatus.values:
        raise ServiceError("status_invalid", _("Choose a status from the list."),
                           field="status")
    with transaction.atomic():
        visible = _visible(actor).select_related("patient", "staff")
        failures: list[Message] = []
        next_up: list[Message] = []
        more_waiting = more_failures = False
        if status is None:
            failures = _newest(visible, FAILURE_STATUSES, FAILURES_SHOWN + 1)
            more_failures = len(failures) > FAILURES_SHOWN
            failures = failures[:FAILURES_SHOWN]
            # What goes out next matters more than a reminder weeks away, so waiting
            # messages come soonest first, apart from what has already been dealt with.
            next_up = _soonest(visible, WAITING_STATUSES, NEXT_UP_SHOWN + 1)
            more_waiting = len(next_up) > NEXT_UP_SHOWN
            next_up = next_up[:NEXT_UP_SHOWN]
            rest = visible.filter(status__in=DEALT_WITH_STATUSES)
            newest_first = True
        else:
            rest = visible.filter(status=status)
            newest_first = status not in WAITING_STATUSES
        shown = paging.keyset(rest, "due_at", PAGE_SIZE, newest_first=newest_first,
                              after=after, before=before)
        audit(actor, "outbox.view", detail={
            "status": status, "after": after, "before": before,
            "messages": [m.pk for m in [*failures, *next_up, *shown.object_list]]})
    return OutboxPage(status=status, failures=failures, failure_count=len(failures),
                      more_failures=more_failures, next_up=next_up,
                      more_waiting=more_waiting, page=shown,
                      clinical=actor.can(Permission.VIEW_CLINICAL))


@dataclass
class PatientMessages:
    patient: Patient
    messages: list[Message]
    clinical: bool


def messages_of(actor: Actor, patient: Patient) -> PatientMessages:
    """The messages to or about ``patient`` (failures first, then newest due first), for a
    page that has already reached the patient through the access layer (whose audit row
    records the page's read)."""
    if patient.clinic_id != actor.clinic_id:
        raise NotFound("No such patient.")
    messages = list(_visible(actor).filter(patient_id=patient.pk).select_related("staff")
                    .order_by("-due_at", "-id")[:PATIENT_MESSAGES_SHOWN])
    messages.sort(key=lambda m: not m.is_failure)  # failures first, each part newest first
    return PatientMessages(patient=patient, messages=messages,
                           clinical=actor.can(Permission.VIEW_CLINICAL))


def link_deliveries(actor: Actor, patient: Patient) -> list[Message]:
    """The messages that carried the patient's personal link, newest first (for a page that
    has reached the patient through the access layer)."""
    if patient.clinic_id != actor.clinic_id:
        raise NotFound("No such patient.")
    return list(_visible(actor).filter(patient_id=patient.pk, kind__in=LINK_BEARING)
                .exclude(status=MessageStatus.CANCELLED).order_by("-due_at", "-id")[:20])


def patient_messages(actor: Actor, patient_id: int | str) -> PatientMessages:
    """The messages to or about a patient, newest due first, with their status (audited)."""
    with transaction.atomic():
        patient = access_patient(actor, patient_id, action="message.list")
        return messages_of(actor, patient)


def _reach(actor: Actor, message_id: int | str, action: str) -> Message:
    message = access_record(
        actor, Message, message_id, permission=Permission.BOOK, action=action,
        detail=lambda m: {"before": {"status": m.status, "attempts": m.attempts,
                                     "last_error": m.last_error, "reason": m.reason}})
    if message.kind in CLINICAL_KINDS and not actor.can(Permission.VIEW_CLINICAL):
        raise refuse(actor, NotFound("No such message."), wanted=message,
                     wanted_id=message.pk, patient=message.patient,
                     permission=Permission.VIEW_CLINICAL)
    return message


def retry_message(actor: Actor, message_id: int | str) -> Message:
    """Send a failed, dead or skipped message again now (the decision whether it still
    applies is taken again when it is sent). The attempt count starts afresh."""
    with transaction.atomic():
        message = _reach(actor, message_id, "message.retry")
        now = clock.now()
        changed = Message.objects.filter(pk=message.pk, status__in=RETRYABLE).update(
            status=MessageStatus.PENDING, next_attempt_at=now, attempts=0, reason="",
            claimed_by="", claimed_at=None)
        if not changed:
            raise Conflict("not_retryable", _(
                "Only a failed or unsent message can be sent again; this one is %(status)s.")
                % {"status": message.get_status_display().lower()})
        message.refresh_from_db()
    return message


def cancel_message(actor: Actor, message_id: int | str) -> Message:
    """Stop a message that has not been sent yet."""
    with transaction.atomic():
        message = _reach(actor, message_id, "message.cancel")
        changed = Message.objects.filter(pk=message.pk, status__in=CANCELLABLE).update(
            status=MessageStatus.CANCELLED,
            reason=(_("Cancelled by %(name)s.") % {"name": actor.user})[:300])
        if not changed:
            raise Conflict("not_cancellable", _(
                "Only a message still waiting to be sent can be cancelled; this one is "
                "%(status)s.") % {"status": message.get_status_display().lower()})
        message.refresh_from_db()
    return message
