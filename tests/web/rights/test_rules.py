"""How much may be erased: the clinical record is kept for the retention period after its
last entry; before any clinical entry, or after the period, everything may go."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from needlecare.rights.rules import erasure_plan

DAY = dt.date(2026, 3, 2)


def test_a_record_without_clinical_entries_may_be_erased_in_full() -> None:
    plan = erasure_plan(None, DAY, 8)
    assert (plan.full, plan.kept_until) == (True, None)


def test_a_recent_record_keeps_its_clinical_part_for_the_retention_period() -> None:
    plan = erasure_plan(dt.date(2025, 6, 1), DAY, 8)
    assert (plan.full, plan.kept_until) == (False, dt.date(2033, 6, 1))


def test_the_last_day_of_retention_still_keeps_it_and_the_next_does_not() -> None:
    last = dt.date(2018, 3, 2)
    assert erasure_plan(last, DAY, 8).full is False
    assert erasure_plan(last, DAY + dt.timedelta(days=1), 8).full is True


def test_a_29_february_ends_on_28_february() -> None:
    plan = erasure_plan(dt.date(2024, 2, 29), dt.date(2024, 3, 1), 1)
    assert plan.kept_until == dt.date(2025, 2, 28)


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 1, 1)),
       st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 1, 1)),
       st.integers(min_value=0, max_value=30))
def test_full_erasure_exactly_when_retention_has_run_out(last: dt.date, today: dt.date,
                                                         years: int) -> None:
    plan = erasure_plan(last, today, years)
    if plan.full:
        assert plan.kept_until is None
        assert today.year - last.year >= years
    else:
        assert plan.kept_until is not None
        assert plan.kept_until >= last
        assert today <= plan.kept_until
