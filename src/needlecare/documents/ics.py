"""iCalendar (RFC 5545) files, written by hand: a calendar of a few events needs no library.

What calendar programs are strict about, and this module does: CRLF line endings; content
lines folded at 75 octets (never inside a UTF-8 character), continuation lines starting with
one space; backslash, semicolon, comma and newline escaped in text; DTSTAMP and the event
times in UTC (a ``TZID`` would need a VTIMEZONE block describing the zone's rules); and a UID
that stays the same every time the file is made, so importing a newer file updates the events
instead of adding copies.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

CRLF = "\r\n"
MAX_OCTETS = 75


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


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def utc_stamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("calendar times must be aware datetimes")
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds <= 0:
        raise ValueError("an event lasts a positive time")
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minute:
        out += f"{minute}M"
    if second:
        out += f"{second}S"
    return out


_UNITS = re.compile(r"\\.|.", re.DOTALL)


def fold(line: str) -> str:
    """Split a content line into pieces of at most 75 octets (the first) and 74 octets plus
    the leading space (the rest). Pieces end between characters, and never inside an escape
    such as ``\\,``: the RFC allows that, but some readers unfold it wrongly."""
    pieces: list[str] = []
    current = ""
    size = 0
    limit = MAX_OCTETS
    for unit in _UNITS.findall(line):
        width = len(unit.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, MAX_OCTETS - 1
        current += unit
        size += width
    pieces.append(current)
    return (CRLF + " ").join(pieces)


def _event_lines(event: Event, stamp: str) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{utc_stamp(event.start)}",
        f"DURATION:{duration(event.duration)}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    lines.append("TRANSP:OPAQUE" if event.busy else "TRANSP:TRANSPARENT")
    if event.alarm is not None:
        lines += ["BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:PT0S",
                  f"DESCRIPTION:{escape_text(event.alarm)}", "END:VALARM"]
    lines.append("END:VEVENT")
    return lines


def calendar(events: Iterable[Event], *, name: str, now: dt.datetime,
             product: str = "-//Needlecare//Aftercare calendar//EN") -> bytes:
    """A VCALENDAR holding ``events``, as UTF-8 bytes with CRLF line endings."""
    stamp = utc_stamp(now)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{product}", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{escape_text(name)}"]
    for event in events:
        lines += _event_lines(event, stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines).encode("utf-8")
