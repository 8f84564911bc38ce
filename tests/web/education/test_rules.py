"""The pure decisions: which reading suits a patient, the weekly cap, who a segment takes in,
who is a minor."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needlecare.clinical.expectations import STAGES
from needlecare.education.models import Stage
from needlecare.education.rules import (
    READING_CAP,
    ArticleFacts,
    PatientFacts,
    Segment,
    is_minor,
    months_before,
    reading_allowed_at,
    reading_for,
    spread,
)

T0 = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)


def test_the_stages_are_the_clinical_cores() -> None:
    assert tuple(Stage.values) == STAGES


def test_reading_fits_stage_indication_and_skin_type_most_specific_first() -> None:
    general = ArticleFacts(1, "healing", published_at=T0)
    for_scars = ArticleFacts(2, "healing", indication="acne_scars", published_at=T0)
    for_dark = ArticleFacts(3, "healing", skin_types=(5, 6), published_at=T0)
    other_stage = ArticleFacts(4, "remodelling", published_at=T0)
    patient = PatientFacts(stage="healing", indications=("acne_scars",), fitzpatrick=2)
    chosen = reading_for([general, for_scars, for_dark, other_stage], patient)
    assert [a.id for a in chosen] == [2, 1]
    assert [a.id for a in reading_for([general, for_scars], patient, already={2})] == [1]
    assert reading_for([general], PatientFacts(stage=None)) == []


@given(st.lists(st.integers(min_value=0, max_value=30 * 24), min_size=1, max_size=40))
def test_the_weekly_cap_holds_whenever_rows_fall_due(hours: list[int]) -> None:
    """Rows due at any moments: each is sent when the cap allows, and no two sends are less
    than a week apart."""
    sent: list[dt.datetime] = []
    for due in sorted(T0 + dt.timedelta(hours=h) for h in hours):
        moment = reading_allowed_at(sent[-1] if sent else None, due)
        assert moment >= due
        sent.append(moment)
    assert all(b - a >= READING_CAP for a, b in itertools.pairwise(sent))


def test_a_minor_is_under_18_on_the_day() -> None:
    born = dt.date(2008, 6, 15)
    assert is_minor(born, dt.date(2026, 6, 14))
    assert not is_minor(born, dt.date(2026, 6, 15))


def test_months_before_keeps_the_day_or_the_months_end() -> None:
    assert months_before(dt.date(2026, 5, 31), 3) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2026, 1, 15), 3) == dt.date(2025, 10, 15)


def test_a_segment_of_past_patients_whose_course_ended_over_3_months_ago() -> None:
    today = dt.date(2026, 6, 1)
    segment = Segment(audience="patients", course_ended_months=3)
    ended_long_ago = PatientFacts(stage="after_course", course_ended_on=dt.date(2026, 2, 1),
                                  treated=True)
    ended_recently = PatientFacts(stage="after_course", course_ended_on=dt.date(2026, 4, 1),
                                  treated=True)
    still_in_course = PatientFacts(stage="remodelling", treated=True)
    assert segment.takes(ended_long_ago, today)
    assert not segment.takes(ended_recently, today)
    assert not segment.takes(still_in_course, today)
    assert not segment.takes_public  # public subscribers have no course to select on
    assert Segment.from_dict(segment.as_dict()) == segment


def test_an_unknown_audience_is_refused() -> None:
    with pytest.raises(ValueError, match="audience"):
        Segment(audience="all")


def test_spread_keeps_to_the_rate() -> None:
    times = spread(121, T0, 60)
    assert times[0] == T0
    assert times[60] == T0 + dt.timedelta(minutes=1)
    assert sum(1 for t in times if t < T0 + dt.timedelta(minutes=1)) == 60
