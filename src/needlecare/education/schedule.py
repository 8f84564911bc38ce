"""When reading rows are due: the outbox rows written for a patient who asked for reading.

Rows are written only for patients whose reading consent is given (so the outbox shows no
row that could only ever be skipped); a patient who gives it later gets the rows still ahead
of their current session at that moment. Both paths use the same dedupe keys, so nothing is
written twice. What a row sends is decided when it is due (``reading.compose_reading``).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from needlecare import clock
from needlecare.accounts.models import Clinic
from needlecare.care.models import TreatmentSession
from needlecare.messaging.models import Message, MessageChannel, MessageKind, Recipient
from needlecare.messaging.outbox import enqueue
from needlecare.messaging.quiet_hours import outside_quiet_hours
from needlecare.patients.models import Patient

#: Days after a signed session when a reading row is due (day 2 of healing, early in weeks
#: 2–8, after the weeks of remodelling), and the hour (clinic time).
READING_DAYS = (2, 15, 57)
READING_HOUR = 10


def _at(day: dt.date, clinic: Clinic) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(READING_HOUR),
                               tzinfo=ZoneInfo(clinic.time_zone)).astimezone(dt.UTC)


def _row(patient: Patient, clinic: Clinic, due: dt.datetime, key: str) -> Message:
    due = outside_quiet_hours(due, clinic)
    return Message(clinic_id=clinic.pk, recipient=Recipient.PATIENT, patient=patient,
                   kind=MessageKind.READING,
                   channel=patient.preferred_channel if patient.preferred_channel
                   in MessageChannel.values else "",
                   context={}, due_at=due, next_attempt_at=due, dedupe_key=key)


def before_first_session(patient: Patient, session_id: int) -> None:
    """Reading on preparing for the first session, now."""
    enqueue([_row(patient, patient.clinic, clock.now(), f"reading:booked:{session_id}")])


def after_session(session: TreatmentSession) -> None:
    """The rows still ahead of a signed session."""
    if session.performed_on is None:
        return
    now = clock.now()
    rows = []
    for day in READING_DAYS:
        due = _at(session.performed_on + dt.timedelta(days=day), session.clinic)
        if due > now:
            rows.append(_row(session.patient, session.clinic, due,
                             f"reading:{session.pk}:day{day}"))
    enqueue(rows)
