"""The pure booking rules: free starts (hypothesis), whether a time fits in hours."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from needlecare.diary.rules import fits, free_starts, overlaps
from needlecare.hours import Hours

UTC = dt.UTC
DAY = dt.datetime(2026, 3, 2, tzinfo=UTC)
minutes = st.integers(min_value=0, max_value=24 * 60)


def _span(a: int, b: int) -> tuple[dt.datetime, dt.datetime]:
    a, b = sorted((a, b))
    return DAY + dt.timedelta(minutes=a), DAY + dt.timedelta(minutes=b + 1)


@given(open_spans=st.lists(st.tuples(minutes, minutes).map(lambda t: _span(*t)), max_size=3),
       busy=st.lists(st.tuples(minutes, minutes).map(lambda t: _span(*t)), max_size=6),
       duration=st.integers(5, 120), before=st.integers(0, 30), after=st.integers(0, 30),
       step=st.sampled_from([5, 10, 15, 30]), not_before=minutes)
def test_free_starts_are_open_clear_of_busy_and_in_order(open_spans, busy, duration, before,
                                                         after, step, not_before) -> None:
    length, pre, post = (dt.timedelta(minutes=m) for m in (duration, before, after))
    earliest = DAY + dt.timedelta(minutes=not_before)
    starts = list(free_starts(open_spans, busy, duration=length, before=pre, after=post,
                              step=dt.timedelta(minutes=step), not_before=earliest))
    assert starts == sorted(starts) or len(open_spans) > 1
    for start in starts:
        assert start >= earliest
        assert any(o <= start and start + length <= c for o, c in open_spans)
        block = (start - pre, start + length + post)
        assert not any(overlaps(block, b) for b in busy)


def test_with_nothing_busy_every_step_is_offered() -> None:
    spans = [(DAY + dt.timedelta(hours=9), DAY + dt.timedelta(hours=12))]
    starts = list(free_starts(spans, [], duration=dt.timedelta(minutes=30),
                              before=dt.timedelta(0), after=dt.timedelta(0),
                              step=dt.timedelta(minutes=15), not_before=DAY))
    assert len(starts) == 11  # 09:00 … 11:30


def test_a_time_fits_when_one_interval_holds_it_all() -> None:
    hours = Hours(time_zone="Europe/London",
                  weekly={0: [(dt.time(9), dt.time(13)), (dt.time(14), dt.time(17))]})
    assert fits(hours, DAY + dt.timedelta(hours=9), DAY + dt.timedelta(hours=13))
    assert not fits(hours, DAY + dt.timedelta(hours=12, minutes=30),
                    DAY + dt.timedelta(hours=14, minutes=30))  # across the lunch break
    assert not fits(hours, DAY + dt.timedelta(hours=16, minutes=45),
                    DAY + dt.timedelta(hours=17, minutes=15))
