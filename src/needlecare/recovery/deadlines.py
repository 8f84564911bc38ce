"""When the clinic must answer an escalation, and which days after a session a check-in is due.

Pure functions of a moment and the clinic's opening hours (``needlecare.hours``), so they can
be tested with fixed datetimes in any time zone. Deadlines are aware datetimes in the clinic's
zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from needlecare.accounts.models import Clinic
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.clinical.vocabulary import Level
from needlecare.hours import Hours, callback_deadline, close_of_next_working_day

#: Days after a session on which the patient is asked to check in (the protocol's schedule).
CHECKIN_DAYS: tuple[int, ...] = tuple(default_protocol().data.aftercare.check_ins.days)

EMERGENCY_WINDOW = dt.timedelta(hours=1)


def escalation_deadline(level: Level | str, now: dt.datetime, hours: Hours, *,
                        urgent_callback_hours: int) -> dt.datetime:
    """The moment by which the clinic must have acted on a report of ``level``.

    - emergency: within the hour, whatever the clinic's hours (the patient is told to call
      the emergency services now; the clinic follows up);
    - urgent: when the clinic is open, within its call-back hours of open time but no later
      than its next opening after it closes; when it is closed, at its next opening;
    - contact the clinic: by closing time of the next working day.

    A clinic with no opening in sight (closed for over a year) still gets a deadline: the
    patient's report must never wait without one."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    level = Level(level)
    # Elapsed hours are added in UTC: Python adds wall-clock time within one zone, which is
    # an hour out across a clock change.
    utc_now = now.astimezone(dt.UTC)
    fallback = (utc_now + dt.timedelta(days=1)).astimezone(hours.zone)
    if level is Level.EMERGENCY:
        return (utc_now + EMERGENCY_WINDOW).astimezone(hours.zone)
    if level is Level.URGENT:
        return callback_deadline(hours, now, dt.timedelta(hours=urgent_callback_hours)) \
            or fallback
    if level is Level.CONTACT_CLINIC:
        return close_of_next_working_day(hours, now) or fallback
    raise ValueError("expected healing has no deadline")


def clinic_deadline(level: Level | str, now: dt.datetime, clinic: Clinic,
                    hours: Hours | None = None) -> dt.datetime:
    """``escalation_deadline`` with a ``Clinic`` row's hours and call-back promise."""
    return escalation_deadline(level, now, hours or clinic.hours(),
                               urgent_callback_hours=clinic.urgent_callback_hours)


def local_date(now: dt.datetime, time_zone: str) -> dt.date:
    return now.astimezone(ZoneInfo(time_zone)).date()


def local_day_bounds(day: dt.date, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of ``day`` and of the next day, in the clinic's zone."""
    zone = ZoneInfo(time_zone)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)


def checkin_due_session_dates(today: dt.date) -> list[dt.date]:
    """Session dates whose patients are due a check-in on ``today``."""
    return [today - dt.timedelta(days=d) for d in CHECKIN_DAYS]
