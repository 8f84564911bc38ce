"""What the services announce, and who listens.

A service that changes something others may react to (send a message, later keep a summary)
emits a typed event instead of calling them: the apps that react register handlers for the
event's type in their ``AppConfig.ready()``. So care and recovery never import messaging, and
a new feature listens without touching the services.

``emit`` runs the handlers synchronously, in the order they were registered, inside the
caller's transaction: an outbox row a handler writes commits or rolls back with the change
that caused it. A handler only writes rows and must not fail on valid data; if one raises, the
exception propagates and the whole change rolls back (nothing half-done), which is a bug the
tests catch, never a silent loss. Emitting outside a transaction is refused for that reason.

Events carry ids and the values handlers decide on, not model instances: this module sits
below every app and imports none of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction


@dataclass(frozen=True)
class Event:
    """Base of every event; ``clinic_id`` and ``patient_id`` say whose it is."""

    clinic_id: int
    patient_id: int


@dataclass(frozen=True)
class SessionSigned(Event):
    session_id: int
    plan_id: int


@dataclass(frozen=True)
class AppointmentBooked(Event):
    """An appointment was booked in the diary (a session's booking included)."""

    appointment_id: int
    #: The appointment type's kind (consultation, session, review).
    kind: str
    starts_at: dt.datetime
    #: Whether the patient is to get the pre-visit forms (the type says so).
    pre_visit: bool
    by_patient: bool


@dataclass(frozen=True)
class AppointmentRescheduled(Event):
    appointment_id: int
    starts_at: dt.datetime
    previous_starts_at: dt.datetime
    by_patient: bool


@dataclass(frozen=True)
class AppointmentCancelled(Event):
    appointment_id: int
    reason: str
    by_patient: bool


@dataclass(frozen=True)
class SlotOffered(Event):
    """A cancelled slot offered to a patient on the waiting list for its type."""

    waitlist_entry_id: int
    appointment_type_id: int
    starts_at: dt.datetime
    practitioner_id: int | None


@dataclass(frozen=True)
class ConsentWithdrawn(Event):
    consent_id: int
    kind: str


@dataclass(frozen=True)
class LinkIssued(Event):
    """A patient's personal link was made (the first, or one replacing a revoked link)."""

    link_id: int


@dataclass(frozen=True)
class LinkSent(Event):
    """Staff asked for the patient's personal link to be sent to them now."""

    link_id: int


@dataclass(frozen=True)
class LinkRevoked(Event):
    link_id: int


@dataclass(frozen=True)
class CheckinRecorded(Event):
    checkin_id: int
    session_id: int
    #: The triage level of this check-in.
    level: str
    #: The escalation it joined or opened, if any.
    escalation_id: int | None
    #: Days since the session (0 = the session day), as triage counted them in the clinic's
    #: time zone; None when the emitter did not triage.
    day: int | None = None


@dataclass(frozen=True)
class EscalationOpened(Event):
    escalation_id: int
    session_id: int
    level: str
    deadline: dt.datetime


@dataclass(frozen=True)
class EscalationRaised(Event):
    """A more severe check-in raised an open or acknowledged escalation's level."""

    escalation_id: int
    session_id: int
    level: str
    previous_level: str
    deadline: dt.datetime


@dataclass(frozen=True)
class OutcomeInvitationsScheduled(Event):
    """Invitations for the patient to report their own outcome measures were written
    (``outcomes.OutcomeInvitation`` rows; the follow-ups when a course's last planned session
    is signed): each waits to be sent on its due day, with one reminder."""

    plan_id: int
    invitation_ids: tuple[int, ...]


@dataclass(frozen=True)
class EscalationAcknowledged(Event):
    """A clinician has seen the escalation and is dealing with it."""

    escalation_id: int
    session_id: int
    #: The note to the patient written with it, if any (internal notes are never announced).
    patient_note_id: int | None


@dataclass(frozen=True)
class EscalationClosed(Event):
    escalation_id: int
    session_id: int
    outcome: str
    #: The note to the patient written with it, if any.
    patient_note_id: int | None


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], None]

_handlers: dict[type[Event], list[Handler]] = {}


def subscribe(event_type: type[E], handler: Callable[[E], None]) -> None:
    """Register ``handler`` for events of exactly ``event_type`` (call from ``ready()``).

    Registering the same handler twice keeps one: ``ready()`` may run more than once."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


def emit(event: Event) -> None:
    """Run every handler of ``event``'s type now, inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{type(event).__name__} emitted outside a transaction: its "
                           "handlers' rows would not commit or roll back with the change")
    for handler in _handlers.get(type(event), ()):
        handler(event)


def event_types() -> list[type[Event]]:
    """Every event this module defines, in definition order."""
    return [c for c in globals().values()
            if isinstance(c, type) and issubclass(c, Event) and c is not Event]


def registered() -> dict[type[Event], list[Handler]]:
    """The handlers of each event type (a copy), for tests and the architecture doc."""
    return {kind: list(handlers) for kind, handlers in _handlers.items()}
