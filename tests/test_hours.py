"""Opening hours: when a clinic is open and what follows, tested without a database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needlecare.hours import (
    Hours,
    callback_deadline,
    close_of_next_working_day,
    current_interval,
    is_open,
    next_opening,
    open_time_after,
)

LONDON = ZoneInfo("Europe/London")
T = dt.time
SPLIT = Hours(time_zone="Europe/London",
              weekly={d: [(T(9), T(13)), (T(14), T(17, 30))] for d in range(5)},
              closed_dates=frozenset({dt.date(2026, 12, 25)}),
              special_dates={dt.date(2026, 12, 24): [(T(9), T(12))],
                             dt.date(2026, 12, 19): [(T(10), T(14))]})


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


def test_open_and_closed_moments() -> None:
    assert is_open(SPLIT, at(2026, 11, 24, 9, 0))          # opening minute
    assert not is_open(SPLIT, at(2026, 11, 24, 13, 30))    # lunch break
    assert not is_open(SPLIT, at(2026, 11, 24, 17, 30))    # closing minute
    assert not is_open(SPLIT, at(2026, 11, 28, 11, 0))     # Saturday
    assert not is_open(SPLIT, at(2026, 12, 25, 10, 0))     # holiday
    assert is_open(SPLIT, at(2026, 12, 19, 11, 0))         # an extra Saturday
    assert not is_open(SPLIT, at(2026, 12, 24, 12, 30))    # shorter Christmas Eve
    assert current_interval(SPLIT, at(2026, 11, 24, 15, 0)) == (at(2026, 11, 24, 14),
                                                                at(2026, 11, 24, 17, 30))


def test_next_opening_skips_weekends_breaks_and_holidays() -> None:
    assert next_opening(SPLIT, at(2026, 11, 24, 13, 10)) == at(2026, 11, 24, 14)
    assert next_opening(SPLIT, at(2026, 11, 27, 18, 0)) == at(2026, 11, 30, 9)
    assert next_opening(SPLIT, at(2026, 12, 24, 12, 0)) == at(2026, 12, 28, 9)


def test_open_time_counts_only_open_hours() -> None:
    assert open_time_after(SPLIT, at(2026, 11, 24, 12, 0), dt.timedelta(hours=2)) == at(
        2026, 11, 24, 15, 0)
    assert open_time_after(SPLIT, at(2026, 11, 27, 17, 0), dt.timedelta(hours=1)) == at(
        2026, 11, 30, 9, 30)


def test_close_of_next_working_day_is_the_last_interval_end() -> None:
    assert close_of_next_working_day(SPLIT, at(2026, 12, 23, 10, 0)) == at(2026, 12, 24, 12)


def test_an_interval_that_closes_before_it_opens_and_an_unknown_zone_are_refused() -> None:
    with pytest.raises(ValueError, match="open before it closes"):
        Hours(time_zone="Europe/London", weekly={0: [(T(18), T(9))]})
    with pytest.raises(KeyError):
        Hours(time_zone="Mars/Olympus_Mons", weekly={})


def test_a_time_the_clocks_skip_is_read_with_the_offset_before_the_change() -> None:
    night = Hours(time_zone="Europe/London", weekly={6: [(T(1, 30), T(4))]})
    # 29 March 2026: 01:00–02:00 does not exist in London; 01:30 is read as 01:30 GMT,
    # which the clocks show as 02:30.
    opening = next_opening(night, at(2026, 3, 28, 12, 0))
    assert opening is not None
    assert opening.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    assert (opening.hour, opening.minute) == (2, 30)


moments = st.datetimes(min_value=dt.datetime(2026, 1, 1),  # noqa: DTZ001 (hypothesis wants naive bounds)
                       max_value=dt.datetime(2027, 12, 31),  # noqa: DTZ001
                       timezones=st.just(LONDON))
spans = st.integers(min_value=1, max_value=24 * 60).map(lambda m: dt.timedelta(minutes=m))


@given(moment=moments)
def test_the_next_opening_is_later_and_open(moment: dt.datetime) -> None:
    opening = next_opening(SPLIT, moment)
    assert opening is not None
    assert opening > moment
    assert is_open(SPLIT, opening)


@given(moment=moments, first=spans, more=spans)
def test_more_open_time_ends_no_earlier(moment: dt.datetime, first: dt.timedelta,
                                        more: dt.timedelta) -> None:
    shorter = open_time_after(SPLIT, moment, first)
    longer = open_time_after(SPLIT, moment, first + more)
    assert shorter is not None
    assert longer is not None
    assert moment < shorter <= longer


@given(moment=moments, callback=spans)
def test_a_callback_is_due_at_opening_when_closed_and_never_after_the_next(
        moment: dt.datetime, callback: dt.timedelta) -> None:
    due = callback_deadline(SPLIT, moment, callback)
    assert due is not None
    assert due > moment
    interval = current_interval(SPLIT, moment)
    if interval is None:
        assert due == next_opening(SPLIT, moment)
    else:
        assert due <= next_opening(SPLIT, interval[1])
