"""Opening hours: when a clinic (or a practitioner) is open, and what follows from it.

Pure functions over a weekly pattern (intervals per weekday, several for a day with a break),
dated exceptions (closures and holidays, extra shifts) and a time zone. Everything that asks
"is the clinic open now, and if not, when does it open?" (escalation deadlines, the advice a
patient reads after a check-in, the diary) asks here, so every answer agrees.

Wall-clock times are combined with the zone by ``zoneinfo``: on the day the clocks go forward a
time that does not exist is read with the offset before the change (01:30 becomes 02:30 on
the clock), and on the day they go back the first of the repeated times is used (fold 0).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

#: How far ahead the search for the next opening looks before giving up (a clinic closed for
#: longer than this has, for patients, no next opening).
SEARCH_DAYS = 400

#: (opens, closes); a closing time of 00:00 means midnight at the end of the day ("24:00").
Interval = tuple[dt.time, dt.time]
MIDNIGHT = dt.time(0)


@dataclass(frozen=True)
class Hours:
    """Open intervals by weekday (Monday = 0), dates closed all day, and dates with their own
    intervals (an extra Saturday, shorter hours on Christmas Eve)."""

    time_zone: str
    weekly: Mapping[int, Sequence[Interval]]
    closed_dates: frozenset[dt.date] = frozenset()
    special_dates: Mapping[dt.date, Sequence[Interval]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # an unknown zone fails here, not at the first question
        for day, intervals in [*self.weekly.items(), *self.special_dates.items()]:
            for opens, closes in intervals:
                if not (opens < closes or closes == MIDNIGHT):
                    raise ValueError(f"{day}: an interval must open before it closes "
                                     f"({opens:%H:%M}–{closes:%H:%M})")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def intervals_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open intervals of ``day`` as aware datetimes, in order."""
        if day in self.special_dates:
            wall = self.special_dates[day]
        elif day in self.closed_dates:
            wall = ()
        else:
            wall = self.weekly.get(day.weekday(), ())
        zone = self.zone
        spans = [(_at(day, opens, zone),
                  _at(day + dt.timedelta(days=1), closes, zone) if closes == MIDNIGHT
                  else _at(day, closes, zone)) for opens, closes in wall]
        return sorted(span for span in spans if span[0] < span[1])

    def is_working_day(self, day: dt.date) -> bool:
        return bool(self.intervals_on(day))


def _at(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    local = dt.datetime.combine(day, time, tzinfo=zone)
    # The round trip through UTC normalises a wall time the clocks skip (see above), so that
    # comparisons and printed times agree.
    return local.astimezone(dt.UTC).astimezone(zone)


def _require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("moment must be an aware datetime")


def _intervals_from(hours: Hours, moment: dt.datetime
                    ) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Open intervals that end after ``moment``, in time order."""
    day = moment.astimezone(hours.zone).date()
    for offset in range(SEARCH_DAYS):
        for opens, closes in hours.intervals_on(day + dt.timedelta(days=offset)):
            if closes > moment:
                yield opens, closes


def current_interval(hours: Hours, moment: dt.datetime
                     ) -> tuple[dt.datetime, dt.datetime] | None:
    """The open interval ``moment`` falls in, or None when closed."""
    _require_aware(moment)
    for opens, closes in _intervals_from(hours, moment):
        return (opens, closes) if opens <= moment else None
    return None


def is_open(hours: Hours, moment: dt.datetime) -> bool:
    return current_interval(hours, moment) is not None


def next_opening(hours: Hours, moment: dt.datetime) -> dt.datetime | None:
    """When the clinic next opens after ``moment`` (``moment`` itself never: if it is open now,
    the start of its next interval), or None when it does not open within ``SEARCH_DAYS``."""
    _require_aware(moment)
    for opens, _closes in _intervals_from(hours, moment):
        if opens > moment:
            return opens
    return None


def open_time_after(hours: Hours, moment: dt.datetime,
                    duration: dt.timedelta) -> dt.datetime | None:
    """The moment ``duration`` of open time has passed since ``moment`` (counting only the
    hours the clinic is open), or None when it never has within ``SEARCH_DAYS``."""
    _require_aware(moment)
    left = duration
    for opens, closes in _intervals_from(hours, moment):
        start = max(opens, moment)
        if start + left <= closes:
            return (start.astimezone(dt.UTC) + left).astimezone(hours.zone)
        left -= closes - start
    return None


def close_of_next_working_day(hours: Hours, moment: dt.datetime) -> dt.datetime | None:
    """Closing time (the end of the last interval) of the first working day after
    ``moment``'s local day: "within one working day" whatever the hour of the report."""
    _require_aware(moment)
    day = moment.astimezone(hours.zone).date()
    for offset in range(1, SEARCH_DAYS):
        intervals = hours.intervals_on(day + dt.timedelta(days=offset))
        if intervals:
            return intervals[-1][1]
    return None


def callback_deadline(hours: Hours, moment: dt.datetime,
                      callback: dt.timedelta) -> dt.datetime | None:
    """When a clinic that promises to call back within ``callback`` of open time must have
    called: if it is closed, when it opens; if open, ``callback`` of open time after
    ``moment`` but never later than its next opening after this interval ends (a report a
    minute before closing is called back first thing, like one that came in at night)."""
    _require_aware(moment)
    interval = current_interval(hours, moment)
    if interval is None:
        return next_opening(hours, moment)
    candidates = [m for m in (open_time_after(hours, moment, callback),
                              next_opening(hours, interval[1])) if m is not None]
    return min(candidates) if candidates else None
