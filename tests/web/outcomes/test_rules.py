"""The outcomes app's pure decisions: which invitation day a check-in answers, depth overrides,
and the median from counts (against the standard library's, as a property)."""

from __future__ import annotations

import statistics
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needlecare.outcomes.rules import answered_checkin_day, depth_overrides, median_from_counts

DAYS = (1, 3, 7, 14, 28, 56)


@pytest.mark.parametrize(("day", "answers"), [
    (0, None), (1, 1), (2, 1), (3, 3), (6, 3), (7, 7), (13, 7), (14, 14), (27, 14), (28, 28),
    (55, 28), (56, 56), (62, 56), (63, None), (400, None)])
def test_a_check_in_answers_the_latest_invitation_day_until_the_next(
        day: int, answers: int | None) -> None:
    assert answered_checkin_day(day, DAYS) == answers


def test_no_invitation_days_means_nothing_is_answered() -> None:
    assert answered_checkin_day(3, ()) is None


def test_depth_overrides_count_zones_deeper_than_the_plan_s_maximum() -> None:
    ranges = {"cheeks": [1.5, 2.0], "forehead": [0.5, 1.0]}
    assert depth_overrides([("cheeks", Decimal("2.00")), ("forehead", Decimal("1.01"))],
                           ranges) == 1
    assert depth_overrides([("cheeks", Decimal("2.50")), ("neck", Decimal("2.5"))],
                           ranges) == 1  # a zone not in the plan is not an override
    assert depth_overrides([], ranges) == 0


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=60))
def test_the_median_from_counts_is_the_median_of_the_values(values: list[int]) -> None:
    counts: dict[int, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    assert median_from_counts(list(counts.items())) == statistics.median(values)


def test_no_values_have_no_median() -> None:
    assert median_from_counts([]) is None
    assert median_from_counts([(5, 0)]) is None


def test_every_invitation_day_of_every_shipped_protocol_has_its_bit() -> None:
    from needlecare.clinical.protocol.loader import available_versions, protocol_by_version
    from needlecare.outcomes.models import ANSWERED_DAY_BITS

    for label in available_versions():
        days = protocol_by_version(label).data.aftercare.check_ins.days
        assert set(days) <= set(ANSWERED_DAY_BITS), label
    assert len(set(ANSWERED_DAY_BITS.values())) == len(ANSWERED_DAY_BITS)
    assert max(ANSWERED_DAY_BITS.values()) < 31  # fits the column
