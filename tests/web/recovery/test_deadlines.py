"""Escalation deadlines: pure functions tested with fixed datetimes and time zones."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from needlecare.recovery.deadlines import (
    CHECKIN_DAYS,
    checkin_due_session_dates,
    escalation_deadline,
    local_day_bounds,
    next_working_day_close,
)

LONDON = "Europe/London"
UTC = dt.UTC
WEEKDAYS = {0, 1, 2, 3, 4}
CLOSES = dt.time(17, 30)


def deadline(level: str, now: dt.datetime, *, zone: str = LONDON, hours: int = 4,
             weekdays: set[int] = WEEKDAYS, closes: dt.time = CLOSES) -> dt.datetime:
    return escalation_deadline(level, now, urgent_callback_hours=hours, closes_at=closes,
                               time_zone=zone, working_weekdays=weekdays)


def at(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


def test_an_emergency_is_due_within_the_hour() -> None:
    now = at(LONDON, 2026, 11, 27, 21, 15)  # a Friday evening: hours do not matter
    assert deadline("emergency", now) == now + dt.timedelta(hours=1)


def test_an_urgent_report_is_due_within_the_clinics_callback_hours() -> None:
    now = at(LONDON, 2026, 11, 24, 9, 0)
    assert deadline("urgent", now, hours=4) == at(LONDON, 2026, 11, 24, 13, 0)
    assert deadline("urgent", now, hours=2) == at(LONDON, 2026, 11, 24, 11, 0)


def test_contact_clinic_on_a_tuesday_is_due_at_wednesdays_close() -> None:
    assert deadline("contact_clinic", at(LONDON, 2026, 11, 24, 9, 0)) == at(
        LONDON, 2026, 11, 25, 17, 30)


@pytest.mark.parametrize("now", [
    at(LONDON, 2026, 11, 27, 9, 0),    # Friday morning
    at(LONDON, 2026, 11, 27, 19, 45),  # Friday evening
    at(LONDON, 2026, 11, 28, 12, 0),   # Saturday
    at(LONDON, 2026, 11, 29, 23, 59),  # Sunday night
])
def test_contact_clinic_at_the_weekend_is_due_at_mondays_close(now: dt.datetime) -> None:
    due = deadline("contact_clinic", now)
    assert due == at(LONDON, 2026, 11, 30, 17, 30)
    assert due.weekday() == 0


def test_the_clinics_own_working_days_and_closing_time_are_used() -> None:
    # A clinic open Tuesday to Saturday, closing at 19:00.
    tue_to_sat = {1, 2, 3, 4, 5}
    friday_evening = at(LONDON, 2026, 11, 27, 20, 0)
    assert deadline("contact_clinic", friday_evening, weekdays=tue_to_sat,
                    closes=dt.time(19)) == at(LONDON, 2026, 11, 28, 19, 0)
    saturday = at(LONDON, 2026, 11, 28, 10, 0)
    assert deadline("contact_clinic", saturday, weekdays=tue_to_sat,
                    closes=dt.time(19)) == at(LONDON, 2026, 12, 1, 19, 0)


def test_the_next_working_day_is_counted_in_the_clinics_time_zone() -> None:
    # 03:00 UTC on Saturday is still Friday evening in New York: due Monday at 17:30 there.
    now = dt.datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    due = deadline("contact_clinic", now, zone="America/New_York")
    assert due == at("America/New_York", 2026, 11, 30, 17, 30)
    assert due.astimezone(UTC) == dt.datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    # The same instant is already Saturday in Sydney: due Monday 17:30 Sydney time.
    assert deadline("contact_clinic", now, zone="Australia/Sydney") == at(
        "Australia/Sydney", 2026, 11, 30, 17, 30)


def test_a_deadline_across_a_clock_change_keeps_the_local_closing_time() -> None:
    # Clocks go forward in London on Sunday 29 March 2026: Monday's close is 16:30 UTC.
    friday = at(LONDON, 2026, 3, 27, 18, 0)
    due = deadline("contact_clinic", friday)
    assert due.astimezone(UTC) == dt.datetime(2026, 3, 30, 16, 30, tzinfo=UTC)


def test_urgent_hours_are_real_hours_across_a_clock_change() -> None:
    # 00:30 GMT + 4 hours on the night the clocks go forward is 05:30 BST.
    now = at(LONDON, 2026, 3, 29, 0, 30)
    due = deadline("urgent", now, hours=4)
    assert due.astimezone(UTC) - now.astimezone(UTC) == dt.timedelta(hours=4)
    assert (due.hour, due.minute) == (5, 30)


def test_a_clinic_with_no_working_days_set_still_gets_a_deadline() -> None:
    now = at(LONDON, 2026, 11, 28, 10, 0)
    assert next_working_day_close(now, closes_at=CLOSES, time_zone=LONDON,
                                  working_weekdays=set()) == at(LONDON, 2026, 11, 29, 17, 30)


def test_expected_healing_has_no_deadline_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="no deadline"):
        deadline("expected", at(LONDON, 2026, 11, 24, 9, 0))
    with pytest.raises(ValueError, match="aware"):
        deadline("urgent", dt.datetime(2026, 11, 24, 9, 0))  # noqa: DTZ001


def test_check_ins_are_due_on_the_protocol_days() -> None:
    assert CHECKIN_DAYS == (1, 3, 7, 14, 28, 56)
    assert checkin_due_session_dates(dt.date(2026, 11, 26))[:3] == [
        dt.date(2026, 11, 25), dt.date(2026, 11, 23), dt.date(2026, 11, 19)]


def test_a_local_day_is_23_hours_long_when_the_clocks_go_forward() -> None:
    start, end = local_day_bounds(dt.date(2026, 3, 29), LONDON)
    assert end.astimezone(UTC) - start.astimezone(UTC) == dt.timedelta(hours=23)
