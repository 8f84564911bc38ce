"""Escalation deadlines follow the clinic's opening hours: pure functions tested with fixed
datetimes and time zones (weekday, night, weekend, holiday, the minute before closing, and a
daylight-saving change)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from needlecare.hours import Hours
from needlecare.recovery.deadlines import (
    CHECKIN_DAYS,
    checkin_due_session_dates,
    escalation_deadline,
    local_day_bounds,
)

LONDON = "Europe/London"
UTC = dt.UTC
T = dt.time


NINE, HALF_FIVE = T(9), T(17, 30)


def weekdays(opens: dt.time = NINE, closes: dt.time = HALF_FIVE, days: range = range(5),
             zone: str = LONDON, **extra: object) -> Hours:
    return Hours(time_zone=zone, weekly={d: [(opens, closes)] for d in days}, **extra)


WEEK = weekdays()


def deadline(level: str, now: dt.datetime, hours: Hours = WEEK, callback: int = 4
             ) -> dt.datetime:
    return escalation_deadline(level, now, hours, urgent_callback_hours=callback)


def at(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


def test_an_emergency_is_due_within_the_hour_whatever_the_hours() -> None:
    now = at(LONDON, 2026, 11, 28, 21, 15)  # a Saturday night
    assert deadline("emergency", now) == now + dt.timedelta(hours=1)


def test_an_urgent_report_in_opening_hours_is_due_within_the_callback_hours() -> None:
    now = at(LONDON, 2026, 11, 24, 9, 0)  # Tuesday
    assert deadline("urgent", now, callback=4) == at(LONDON, 2026, 11, 24, 13, 0)
    assert deadline("urgent", now, callback=2) == at(LONDON, 2026, 11, 24, 11, 0)


@pytest.mark.parametrize("now", [
    at(LONDON, 2026, 11, 24, 20, 21),   # Tuesday night
    at(LONDON, 2026, 11, 25, 6, 0),     # Wednesday before opening
    at(LONDON, 2026, 11, 24, 17, 29),   # the minute before Tuesday's close
])
def test_an_urgent_report_out_of_hours_is_due_at_opening(now: dt.datetime) -> None:
    assert deadline("urgent", now) == at(LONDON, 2026, 11, 25, 9, 0)


def test_an_urgent_report_late_in_the_day_is_due_by_close_or_first_thing() -> None:
    # At 16:00 four hours of open time run into tomorrow; the next opening comes first.
    assert deadline("urgent", at(LONDON, 2026, 11, 24, 16, 0)) == at(LONDON, 2026, 11, 25, 9)
    # At 13:00 they fit today.
    assert deadline("urgent", at(LONDON, 2026, 11, 24, 13, 0)) == at(LONDON, 2026, 11, 24, 17)


def test_an_urgent_report_on_saturday_night_is_due_at_mondays_opening() -> None:
    assert deadline("urgent", at(LONDON, 2026, 11, 28, 20, 21)) == at(LONDON, 2026, 11, 30, 9)


def test_a_holiday_moves_the_opening_to_the_next_working_day() -> None:
    holiday = weekdays(closed_dates=frozenset({dt.date(2026, 12, 25)}))
    christmas_eve_night = at(LONDON, 2026, 12, 24, 22, 0)  # Thursday; Friday is Christmas
    assert deadline("urgent", christmas_eve_night, holiday) == at(LONDON, 2026, 12, 28, 9)
    assert deadline("contact_clinic", christmas_eve_night, holiday) == at(
        LONDON, 2026, 12, 28, 17, 30)


def test_a_break_at_lunch_is_not_counted_as_open_time() -> None:
    split = Hours(time_zone=LONDON, weekly={d: [(T(9), T(13)), (T(14), T(18))]
                                            for d in range(5)})
    # From 12:00, two hours of open time end at 15:00 after the break, not 14:00; but a
    # report before the break is called back no later than the reopening.
    assert deadline("urgent", at(LONDON, 2026, 11, 24, 9, 30), split, callback=3) == at(
        LONDON, 2026, 11, 24, 12, 30)
    assert deadline("urgent", at(LONDON, 2026, 11, 24, 12, 0), split, callback=2) == at(
        LONDON, 2026, 11, 24, 14, 0)
    # During the break the clinic is closed: due when it reopens.
    assert deadline("urgent", at(LONDON, 2026, 11, 24, 13, 30), split) == at(
        LONDON, 2026, 11, 24, 14, 0)


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


def test_the_clinics_own_days_and_closing_time_are_used() -> None:
    tue_to_sat = weekdays(closes=T(19), days=range(1, 6))
    assert deadline("contact_clinic", at(LONDON, 2026, 11, 27, 20, 0), tue_to_sat) == at(
        LONDON, 2026, 11, 28, 19, 0)
    assert deadline("contact_clinic", at(LONDON, 2026, 11, 28, 10, 0), tue_to_sat) == at(
        LONDON, 2026, 12, 1, 19, 0)


def test_the_next_working_day_is_counted_in_the_clinics_time_zone() -> None:
    # 03:00 UTC on Saturday is still Friday evening in New York: due Monday at 17:30 there.
    now = dt.datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    new_york = weekdays(zone="America/New_York")
    assert deadline("contact_clinic", now, new_york) == at("America/New_York", 2026, 11, 30,
                                                           17, 30)
    sydney = weekdays(zone="Australia/Sydney")
    assert deadline("contact_clinic", now, sydney) == at("Australia/Sydney", 2026, 11, 30,
                                                         17, 30)


def test_a_deadline_across_a_clock_change_keeps_the_local_closing_time() -> None:
    # Clocks go forward in London on Sunday 29 March 2026: Monday's close is 16:30 UTC.
    due = deadline("contact_clinic", at(LONDON, 2026, 3, 27, 18, 0))
    assert due.astimezone(UTC) == dt.datetime(2026, 3, 30, 16, 30, tzinfo=UTC)


def test_urgent_hours_are_real_hours_across_a_clock_change() -> None:
    # A clinic open all night on the night the clocks go forward: 00:30 GMT + 4 hours is
    # 05:30 BST.
    always = Hours(time_zone=LONDON, weekly={d: [(T(0), T(23, 59))] for d in range(7)})
    now = at(LONDON, 2026, 3, 29, 0, 30)
    due = deadline("urgent", now, always, callback=4)
    assert due.astimezone(UTC) - now.astimezone(UTC) == dt.timedelta(hours=4)
    assert (due.hour, due.minute) == (5, 30)


def test_a_clinic_that_never_opens_still_gives_a_deadline() -> None:
    never = Hours(time_zone=LONDON, weekly={})
    now = at(LONDON, 2026, 11, 28, 10, 0)
    assert deadline("urgent", now, never) == now + dt.timedelta(days=1)
    assert deadline("contact_clinic", now, never) == now + dt.timedelta(days=1)


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
