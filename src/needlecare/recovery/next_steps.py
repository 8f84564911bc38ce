"""What happens next after a check-in, given the clock: one decision that every patient-facing
text renders (the result page, the patient's home page, the text message and the email).

``next_steps`` is a pure function of the triage level, the moment, the clinic's opening hours
(``needlecare.hours.Hours``) and its contact details; it reads no database and knows no
wording. The templates say it in words from the value it returns:

- emergency: call the emergency number now;
- urgent, clinic open: call the clinic now; it calls back by its call-back deadline (and when
  that falls after closing time, whom to call once it has closed);
- urgent or contact the clinic, clinic closed: closed until its next opening; if the patient
  cannot wait, the out-of-hours service; for the emergency signs, the emergency number;
- contact the clinic: a clinician contacts the patient by the deadline.

Nothing clinic- or country-specific is written here or in the templates: the numbers, names
and hours are the clinic's settings.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from needlecare.clinical.protocol.loader import Protocol
from needlecare.clinical.vocabulary import RED_FLAGS, Level
from needlecare.hours import (
    Hours,
    callback_deadline,
    close_of_next_working_day,
    current_interval,
    next_opening,
)


@dataclass(frozen=True)
class ClinicContact:
    """Whom a patient calls: the clinic's settings, copied so the decision needs no row."""

    name: str
    phone: str
    emergency_number: str
    out_of_hours_name: str = ""
    out_of_hours_phone: str = ""

    @classmethod
    def of(cls, clinic: Any) -> ClinicContact:
        """From a ``Clinic`` row (or anything with its contact fields)."""
        return cls(name=clinic.name, phone=clinic.phone,
                   emergency_number=clinic.emergency_number,
                   out_of_hours_name=clinic.out_of_hours_name,
                   out_of_hours_phone=clinic.out_of_hours_phone)

    @property
    def has_out_of_hours(self) -> bool:
        return bool(self.out_of_hours_phone.strip())


@dataclass(frozen=True)
class NextSteps:
    level: str
    #: The moment the advice is for, in the clinic's time zone.
    now: dt.datetime
    contact: ClinicContact
    #: The signs for which the patient calls the emergency number ("difficulty breathing…").
    emergency_signs: str
    open_now: bool
    #: When the clinic closes (the end of the opening it is in now), if open.
    closes_at: dt.datetime | None
    #: When the clinic next opens, if closed now (None: no opening within a year).
    opens_at: dt.datetime | None
    #: By when the clinic will have called back (urgent) or contacted the patient (contact
    #: the clinic), in the clinic's time zone.
    callback_by: dt.datetime | None

    @property
    def is_emergency(self) -> bool:
        return self.level == Level.EMERGENCY

    @property
    def is_urgent(self) -> bool:
        return self.level == Level.URGENT

    @property
    def needs_clinic(self) -> bool:
        """The clinic will get back to the patient (urgent or contact the clinic)."""
        return self.level in (Level.URGENT, Level.CONTACT_CLINIC)

    @property
    def call_clinic_now(self) -> bool:
        """Urgent while the clinic is open: the patient calls now."""
        return self.is_urgent and self.open_now

    @property
    def callback_after_closing(self) -> bool:
        """The clinic is open now but will call back only after it has closed (a report a few
        minutes before closing): the patient also needs to know whom to call meanwhile."""
        return (self.open_now and self.closes_at is not None and self.callback_by is not None
                and self.callback_by > self.closes_at)

    @property
    def callback_at_opening(self) -> bool:
        """Closed now, and the clinic calls back when it opens."""
        return (not self.open_now and self.opens_at is not None
                and self.callback_by == self.opens_at)

    @property
    def show_out_of_hours(self) -> bool:
        """Whether the out-of-hours service belongs in the advice: the clinic is closed (or
        closes before it calls back) and the report needs a clinician."""
        return self.needs_clinic and (not self.open_now
                                      or (self.is_urgent and self.callback_after_closing))

    # Words for the templates, in the clinic's time zone (the values are already in it).
    @property
    def callback_by_text(self) -> str:
        return spoken_time(self.callback_by, self.now) if self.callback_by else ""

    @property
    def opens_at_text(self) -> str:
        return spoken_time(self.opens_at, self.now) if self.opens_at else ""

    @property
    def closes_at_text(self) -> str:
        return spoken_time(self.closes_at, self.now) if self.closes_at else ""


def next_steps(level: Level | str, now: dt.datetime, hours: Hours, contact: ClinicContact, *,
               callback_hours: int, emergency_signs: str,
               deadline: dt.datetime | None = None) -> NextSteps:
    """What the patient should do now, and what the clinic will do, for a report of ``level``
    at ``now`` (aware).

    ``deadline`` is the open escalation's deadline when there is one (it may be earlier than
    this level alone gives: a deadline only moves earlier); without it the call-back time is
    worked out from the hours as an escalation's would be."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    level = Level(level)
    zone = hours.zone
    local = now.astimezone(zone)
    interval = current_interval(hours, now)
    callback: dt.datetime | None = None
    if level is Level.URGENT:
        callback = deadline or callback_deadline(hours, now, dt.timedelta(hours=callback_hours))
    elif level is Level.CONTACT_CLINIC:
        callback = deadline or close_of_next_working_day(hours, now)
    return NextSteps(
        level=level.value, now=local, contact=contact, emergency_signs=emergency_signs,
        open_now=interval is not None,
        closes_at=interval[1].astimezone(zone) if interval is not None else None,
        opens_at=None if interval is not None else _local(next_opening(hours, now), zone),
        callback_by=_local(callback, zone))


def _local(moment: dt.datetime | None, zone: Any) -> dt.datetime | None:
    return moment.astimezone(zone) if moment is not None else None


def spoken_time(moment: dt.datetime, now: dt.datetime) -> str:
    """A moment as a patient reads it, relative to ``now`` (both in the clinic's zone):
    "17:30" today, "tomorrow at 09:00" or "yesterday at 20:21", "Monday at 09:00" within the
    week either side, else with the date ("Monday 5 January at 09:00"). Midnight is the end
    of the day before ("by the end of tomorrow"), as a clinic open until "24:00" means it."""
    days = (moment.date() - now.date()).days
    if moment.time() == dt.time(0) and days > 0:
        return _end_of(moment - dt.timedelta(days=1), days - 1)
    time = formats.time_format(moment, "H:i")
    if days == 0:
        return time
    if days == 1:
        return _("tomorrow at %(time)s") % {"time": time}
    if days == -1:
        return _("yesterday at %(time)s") % {"time": time}
    if -7 < days < 7:
        return _("%(day)s at %(time)s") % {"day": formats.date_format(moment, "l"),
                                           "time": time}
    return _("%(day)s at %(time)s") % {"day": formats.date_format(moment, "l j F"),
                                       "time": time}


def _end_of(day: dt.datetime, days: int) -> str:
    if days == 0:
        return _("the end of today")
    if days == 1:
        return _("the end of tomorrow")
    if days < 7:
        return _("the end of %(day)s") % {"day": formats.date_format(day, "l")}
    return _("the end of %(day)s") % {"day": formats.date_format(day, "l j F")}


def emergency_signs(protocol: Protocol) -> str:
    """The signs for which a patient calls the emergency services, in the patient's words:
    the red flags that alone make a check-in an emergency under ``protocol``."""
    return join_or([RED_FLAGS[c].patient for c in _emergency_codes(protocol)
                    if c in RED_FLAGS])


@functools.cache  # protocols live as long as the process and hash by identity
def _emergency_codes(protocol: Protocol) -> tuple[str, ...]:
    codes: list[str] = []
    for rule in protocol.data.triage.rules.values():
        if rule.kind == "red_flag" and Level(rule.level) is Level.EMERGENCY:
            codes += [c for c in rule.red_flags if c not in codes]
    return tuple(codes)


def join_or(items: Sequence[str]) -> str:
    """"a; b; or c": the items carry commas of their own, so semicolons keep them apart."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return _("%(items)s; or %(last)s") % {"items": "; ".join(items[:-1]), "last": items[-1]}
