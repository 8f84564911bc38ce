"""When the clinic must answer an escalation, and which days after a session a check-in is due.

Pure functions of a moment and the clinic's hours, so they can be tested with fixed datetimes
in any time zone. Deadlines are returned as aware datetimes in the clinic's zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from needlecare.clinical.protocol.loader import default_protocol
from needlecare.clinical.vocabulary import Level

if TYPE_CHECKING:
    from needlecare.accounts.models import Clinic

#: Days after a session on which the patient is asked to check in (the protocol's schedule).
CHECKIN_DAYS: tuple[int, ...] = tuple(default_protocol().data.aftercare.check_ins.days)

EMERGENCY_WINDOW = dt.timedelta(hours=1)
ALL_WEEKDAYS = frozenset(range(7))


def next_working_day_close(now: dt.datetime, *, closes_at: dt.time, time_zone: str,
                           working_weekdays: Collection[int]) -> dt.datetime:
    """Closing time, in the clinic's zone, of the first working day after ``now``'s local day.

    "Within one working day" means by the end of the next working day whatever the hour of
    the report: a Friday-evening report (or a Saturday one) is due at Monday's close."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    zone = ZoneInfo(time_zone)
    weekdays = {d for d in working_weekdays if 0 <= d <= 6} or ALL_WEEKDAYS
    day = now.astimezone(zone).date() + dt.timedelta(days=1)
    while day.weekday() not in weekdays:
        day += dt.timedelta(days=1)
    # fold=0 picks the first of a repeated wall time; a time skipped by a clock change is
    # resolved by zoneinfo to the equivalent instant after the gap.
    return dt.datetime.combine(day, closes_at, tzinfo=zone)


def escalation_deadline(level: Level | str, now: dt.datetime, *, urgent_callback_hours: int,
                        closes_at: dt.time, time_zone: str,
                        working_weekdays: Collection[int]) -> dt.datetime:
    """The moment by which the clinic must have acted on a report of ``level``."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    level = Level(level)
    zone = ZoneInfo(time_zone)
    # Elapsed hours are added in UTC: Python adds wall-clock time within one zone, which is
    # an hour out across a clock change.
    utc_now = now.astimezone(dt.UTC)
    if level is Level.EMERGENCY:
        return (utc_now + EMERGENCY_WINDOW).astimezone(zone)
    if level is Level.URGENT:
        return (utc_now + dt.timedelta(hours=urgent_callback_hours)).astimezone(zone)
    if level is Level.CONTACT_CLINIC:
        return next_working_day_close(now, closes_at=closes_at, time_zone=time_zone,
                                      working_weekdays=working_weekdays)
    raise ValueError("expected healing has no deadline")


def clinic_deadline(level: Level | str, now: dt.datetime, clinic: Clinic) -> dt.datetime:
    """``escalation_deadline`` with the hours of a ``Clinic`` row."""
    closes_at: dt.time | str = clinic.closes_at
    if isinstance(closes_at, str):  # a row created in this process keeps the string default
        closes_at = dt.time.fromisoformat(closes_at)
    return escalation_deadline(
        level, now, urgent_callback_hours=clinic.urgent_callback_hours, closes_at=closes_at,
        time_zone=clinic.time_zone, working_weekdays=clinic.working_weekdays())


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
