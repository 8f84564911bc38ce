"""iCalendar (RFC 5545) files, written with the ``icalendar`` library.

The library does what calendar programs are strict about (CRLF line endings, folding at 75
octets without splitting a character or an escape pair, escaping text); this module decides
the content: times in UTC (a ``TZID`` would need a VTIMEZONE block describing the zone's
rules), a UID that stays the same every time an event is written, and a ``SEQUENCE`` that
rises with each change, so that importing a newer file updates the event instead of adding a
copy. A cancelled appointment is sent as ``METHOD:CANCEL`` with ``STATUS:CANCELLED``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import icalendar


@dataclass(frozen=True)
class Event:
    uid: str
    start: dt.datetime
    duration: dt.timedelta
    summary: str
    description: str = ""
    location: str = ""
    #: Text of a reminder shown when the event starts; None for no reminder.
    alarm: str | None = None
    #: Whether the time shows as busy (an appointment) or free (a reminder to do something).
    busy: bool = True
    #: Raised on every change of the event (RFC 5545 §3.8.7.4).
    sequence: int = 0
    cancelled: bool = False


def utc_stamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("calendar times must be aware datetimes")
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _utc(moment: dt.datetime) -> dt.datetime:
    utc_stamp(moment)  # refuses naive times
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def _event(event: Event, stamp: dt.datetime) -> icalendar.Event:
    if event.duration <= dt.timedelta(0):
        raise ValueError("an event lasts a positive time")
    item = icalendar.Event()
    item.add("uid", event.uid)
    item.add("dtstamp", stamp)
    item.add("dtstart", _utc(event.start))
    item.add("duration", event.duration)
    item.add("sequence", event.sequence)
    item.add("summary", event.summary)
    if event.description:
        item.add("description", event.description)
    if event.location:
        item.add("location", event.location)
    item.add("transp", "OPAQUE" if event.busy else "TRANSPARENT")
    if event.cancelled:
        item.add("status", "CANCELLED")
    if event.alarm is not None and not event.cancelled:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", dt.timedelta(0))
        alarm.add("description", event.alarm)
        item.add_component(alarm)
    return item


def calendar(events: Iterable[Event], *, name: str, now: dt.datetime,
             product: str = "-//Needlecare//Aftercare calendar//EN",
             method: str = "PUBLISH") -> bytes:
    """A VCALENDAR holding ``events``, as UTF-8 bytes with CRLF line endings. ``method`` is
    ``PUBLISH``, or ``CANCEL`` for events that no longer take place."""
    stamp = _utc(now)
    cal = icalendar.Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", product)
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    # An X- property has no declared type: say it is TEXT, so that it is escaped like one.
    cal.add("x-wr-calname", icalendar.vText(name))
    for event in events:
        cal.add_component(_event(event, stamp))
    content: bytes = cal.to_ical()
    return content
