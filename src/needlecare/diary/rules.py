"""The diary's booking rules as pure decisions over facts the services load.

One place answers "may this appointment go here?" for every way of booking (the desk's
calendar, a whole course, the patient rebooking from their link, the API): the slot must be
free for its practitioner, room and device; inside the practitioner's working hours and the
clinic's opening hours; done by a role the appointment type allows; and, for a treatment
session, allowed by the healing rules of the clinical core (``clinical.course
.earliest_safe_date``: the plan's interval after the last session, a screening deferral, an open
escalation, an active plan and a consent valid on the day). Each problem names its rule, says
who may book past it with a written reason, and, for a session too early, the earliest safe
date. ``free_starts`` finds the free starts in open time for "the next safe slot".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _

from needlecare.clinical.course import SafeDate
from needlecare.hours import Hours

#: Who may book past a problem with a written reason.
NEVER = ""
#: Anyone who books (front desk included): hours, for a practitioner who agreed to stay.
DESK = "book"
#: A clinician or owner: the clinical rules.
CLINICIAN = "clinician"

Span = tuple[dt.datetime, dt.datetime]


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    override: str
    earliest_safe_date: dt.date | None = None


def _day(day: dt.date) -> str:
    return formats.date_format(day, "l j F Y")


def fits(hours: Hours, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether ``start``–``end`` lies inside one open interval of ``hours``."""
    local = start.astimezone(hours.zone).date()
    for day in (local - dt.timedelta(days=1), local):
        for opens, closes in hours.intervals_on(day):
            if opens <= start and end <= closes:
                return True
    return False


def hours_problems(start: dt.datetime, end: dt.datetime, *, clinic: Hours,
                   practitioner: Hours | None, practitioner_name: str) -> list[Problem]:
    problems = []
    if not fits(clinic, start, end):
        problems.append(Problem("outside_opening_hours", _(
            "The clinic is not open for the whole appointment."), DESK))
    if practitioner is not None and not fits(practitioner, start, end):
        problems.append(Problem("outside_working_hours", _(
            "%(name)s is not working for the whole appointment.") % {"name": practitioner_name},
            DESK))
    return problems


@dataclass(frozen=True)
class Clash:
    """Another appointment holding a resource this one needs over an overlapping time."""

    resource: str  # "practitioner", "room" or "device"
    label: str


_CLASH_CODES = {"practitioner": "practitioner_busy", "room": "room_busy",
                "device": "device_busy"}


def clash_problems(clashes: Sequence[Clash]) -> list[Problem]:
    """Double bookings: never booked past, whatever the reason."""
    seen: set[str] = set()
    problems = []
    for clash in clashes:
        if clash.resource in seen:
            continue
        seen.add(clash.resource)
        problems.append(Problem(_CLASH_CODES[clash.resource], _(
            "%(what)s is booked at that time already.") % {"what": clash.label}, NEVER))
    return problems


def healing_problems(safe: SafeDate, day: dt.date, *, next_session: dt.date | None = None,
                     interval_days: int | None = None) -> list[Problem]:
    """Why a treatment session may not be on ``day``, from the clinical core's answer
    (``safe`` asked from the day the booking is made)."""
    if safe.blocked:
        return [Problem(block.code, block.clinician, CLINICIAN) for block in safe.blocked]
    problems = []
    if safe.date is not None and day < safe.date:
        for constraint in [c for c in safe.constraints if c.not_before > day]:
            problems.append(Problem(constraint.code, _(
                "%(rule)s The earliest safe date is %(date)s.") % {
                "rule": constraint.clinician, "date": _day(safe.date)},
                CLINICIAN, safe.date))
    if next_session is not None and interval_days is not None \
            and (next_session - day).days < interval_days:
        problems.append(Problem("before_next_session", _(
            "Another session of the plan is booked for %(next)s, less than the plan's "
            "%(days)d days after this one.") % {"next": _day(next_session),
                                                 "days": interval_days}, CLINICIAN))
    return problems


def role_problems(role: str, allowed: Sequence[str], name: str, type_name: str
                  ) -> list[Problem]:
    if role in allowed:
        return []
    return [Problem("role_not_allowed", _("%(name)s does not perform “%(type)s” "
                                          "appointments.") % {"name": name, "type": type_name},
                    NEVER)]


def overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def free_starts(open_spans: Sequence[Span], busy: Sequence[Span], *, duration: dt.timedelta,
                before: dt.timedelta, after: dt.timedelta, step: dt.timedelta,
                not_before: dt.datetime) -> Iterator[dt.datetime]:
    """Starts, in time order and ``step`` apart from each opening, at which an appointment of
    ``duration`` lies inside an open span and its block (with the buffers) overlaps nothing
    busy. ``busy`` may be in any order."""
    if step <= dt.timedelta(0) or duration <= dt.timedelta(0):
        raise ValueError("step and duration must be positive")
    ordered = sorted(busy)
    for opens, closes in sorted(open_spans):
        start = opens
        if start < not_before:
            skipped = -((opens - not_before) // step)  # whole steps to reach not_before
            start = opens + skipped * step
        while start + duration <= closes:
            block = (start - before, start + duration + after)
            clash = next((b for b in ordered if overlaps(block, b)), None)
            if clash is None:
                yield start
                start += step
            else:
                # Jump past the clash to the next step boundary after it.
                gap = clash[1] + before - start
                start += max(step, -(-gap // step) * step)
