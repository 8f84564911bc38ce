"""The calendar file: RFC 5545 structure (CRLF, folding at 75 octets, escaping, balanced
blocks), one event per check-in day at the invitation hour in the clinic's time zone, the next
booked session, and UIDs that stay the same from one download to the next."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from needlecare.care.models import SessionStatus
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.documents import ics, services
from tests.web.patients.support import make_booked_session

SCHEDULE = default_protocol().data.aftercare.check_ins


# --- a tiny reader, strict about what calendar programs are strict about --------------------

def physical_lines(content: bytes) -> list[bytes]:
    assert content.endswith(b"\r\n")
    lines = content[:-2].split(b"\r\n")
    for line in lines:
        assert b"\n" not in line, line  # no bare LF
        assert b"\r" not in line, line  # nor CR
        assert len(line) <= 75, (len(line), line)
        line.decode("utf-8")  # folding never splits a character
    return lines


def unfold(content: bytes) -> list[str]:
    logical: list[str] = []
    for raw in physical_lines(content):
        line = raw.decode("utf-8")
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    return logical


def unescape(value: str) -> str:
    out, chars = "", iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars)
            out += "\n" if nxt in "nN" else nxt
        else:
            assert ch not in ",;", f"unescaped {ch!r} in {value!r}"
            out += ch
    return out


def parse(content: bytes) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The calendar's own properties and its events (nested alarms flattened as ALARM-*)."""
    stack: list[str] = []
    calendar: dict[str, str] = {}
    events: list[dict[str, str]] = []
    for line in unfold(content):
        name, _sep, value = line.partition(":")
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                events.append({})
            continue
        if name == "END":
            assert stack, f"END:{value} outside any block"
            assert stack.pop() == value, f"END:{value} does not close the open block"
            continue
        if stack == ["VCALENDAR"]:
            calendar[name] = value
        elif stack == ["VCALENDAR", "VEVENT"]:
            events[-1][name] = value
        elif stack == ["VCALENDAR", "VEVENT", "VALARM"]:
            events[-1][f"ALARM-{name}"] = value
        else:
            raise AssertionError(f"{line!r} outside any block")
    assert stack == [], "unclosed blocks"
    return calendar, events


def utc(value: str) -> dt.datetime:
    assert value.endswith("Z")
    return dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)


# --- the writer alone -----------------------------------------------------------------------

def test_text_is_escaped_and_long_lines_fold_between_characters() -> None:
    event = ics.Event(uid="u-1@example.test",
                      start=dt.datetime(2026, 3, 2, 18, tzinfo=dt.UTC),
                      duration=dt.timedelta(minutes=15),
                      summary="Call us; now, please \\ thanks",
                      description="Line one\nline two, " + "é, ü; " * 40)
    content = ics.calendar([event], name="Clinic, North; Ltd",
                           now=dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC))
    calendar, (got,) = parse(content)
    assert unescape(calendar["X-WR-CALNAME"]) == "Clinic, North; Ltd"
    assert unescape(got["SUMMARY"]) == "Call us; now, please \\ thanks"
    assert unescape(got["DESCRIPTION"]) == "Line one\nline two, " + "é, ü; " * 40
    assert got["DTSTAMP"] == "20260301T093000Z"
    assert got["DURATION"] == "PT15M"
    # Folding is not done inside an escape pair either.
    for line in physical_lines(content):
        assert not line.endswith(b"\\") or line.endswith(b"\\\\")


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        ics.utc_stamp(dt.datetime(2026, 3, 2, 18))  # noqa: DTZ001 - the point of the test


# --- the patient's calendar --------------------------------------------------------------------

def _session_on(journey: dict, day: dt.date, time_zone: str) -> object:
    clinic = journey["clinic"]
    clinic.time_zone = time_zone
    clinic.save()
    session = journey["session"]
    session.performed_on = day
    session.save()
    session.refresh_from_db()
    return session


@pytest.mark.django_db
def test_one_event_per_check_in_day_at_the_invitation_hour_in_clinic_time(
        journey: dict) -> None:
    # Day 0 before the clocks go forward in the UK (29 March 2026), day 14 after it.
    session = _session_on(journey, dt.date(2026, 3, 20), "Europe/London")
    content = services.calendar_ics(session, now=dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC))
    calendar, events = parse(content)

    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert len(events) == len(SCHEDULE.days)
    zone = ZoneInfo("Europe/London")
    for day, event in zip(SCHEDULE.days, events, strict=True):
        local = utc(event["DTSTART"]).astimezone(zone)
        assert local.date() == dt.date(2026, 3, 20) + dt.timedelta(days=day)
        assert (local.hour, local.minute) == (SCHEDULE.invite_at_hour, 0)
        assert f"day {day} after your treatment" in unescape(event["SUMMARY"])
        assert journey["clinic"].phone in unescape(event["DESCRIPTION"])
        assert event["DTSTAMP"] == "20260320T120000Z"
        assert event["TRANSP"] == "TRANSPARENT"
        assert event["ALARM-ACTION"] == "DISPLAY"
    # 18:00 is 18:00 UTC in winter and 17:00 UTC in summer time.
    assert events[0]["DTSTART"] == "20260321T180000Z"
    assert events[SCHEDULE.days.index(14)]["DTSTART"] == "20260403T170000Z"


@pytest.mark.django_db
def test_dates_are_the_clinics_even_far_from_utc(journey: dict) -> None:
    session = _session_on(journey, dt.date(2026, 6, 1), "Pacific/Auckland")
    _calendar, events = parse(services.calendar_ics(session))
    first = utc(events[0]["DTSTART"])
    assert first == dt.datetime(2026, 6, 2, SCHEDULE.invite_at_hour,
                                tzinfo=ZoneInfo("Pacific/Auckland"))
    assert first.date() == dt.date(2026, 6, 2)


@pytest.mark.django_db
def test_the_next_booked_session_is_in_the_calendar(journey: dict) -> None:
    session = journey["session"]
    make_booked_session(journey["plan"], journey["clinician"], days_ahead=40)
    sooner = make_booked_session(journey["plan"], journey["clinician"], days_ahead=28)
    make_booked_session(journey["plan"], journey["clinician"], days_ahead=14,
                        status=SessionStatus.CANCELLED)
    make_booked_session(journey["plan"], journey["clinician"], days_ahead=-2)  # not charted

    _calendar, events = parse(services.calendar_ics(session))
    assert len(events) == len(SCHEDULE.days) + 1
    appointment = events[0]
    assert utc(appointment["DTSTART"]) == sooner.scheduled_for.replace(microsecond=0)
    assert appointment["DURATION"] == "PT1H"
    assert appointment["TRANSP"] == "OPAQUE"
    assert appointment["UID"].startswith(f"session-{sooner.pk}@")
    assert journey["clinic"].name in unescape(appointment["LOCATION"])


@pytest.mark.django_db
def test_uids_are_unique_and_the_same_in_every_download(journey: dict) -> None:
    make_booked_session(journey["plan"], journey["clinician"], days_ahead=28)
    session = journey["session"]
    first = parse(services.calendar_ics(session, now=timezone.now()))[1]
    later = parse(services.calendar_ics(session, now=timezone.now() + dt.timedelta(days=3)))[1]
    uids = [e["UID"] for e in first]
    assert len(set(uids)) == len(uids)
    assert uids == [e["UID"] for e in later]
    assert all("@" in uid for uid in uids)
