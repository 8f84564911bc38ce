"""Scoring a recorded outcome, its change from baseline, the assessment schedule of a course,
and adverse events: what a clinician or patient would see."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needlecare.clinical.outcomes import (
    AdverseEventRecord,
    InvalidOutcome,
    RecordedOutcome,
    ScoredOutcome,
    assessment_schedule,
    measures_for,
    outcome_change,
    validate_adverse_event,
    validate_outcome,
)
from needlecare.clinical.protocol.outcomes_loader import default_outcomes

OUTCOMES = default_outcomes()
JAN = dt.date(2026, 1, 5)


def score(measure: str, on: dt.date = JAN, **values: int) -> ScoredOutcome:
    return validate_outcome(RecordedOutcome.model_validate(
        {"measure": measure, "assessed_on": on, "values": values}))


def later(days: int) -> dt.date:
    return JAN + dt.timedelta(days=days)


# --- change from baseline ----------------------------------------------------------------

def test_a_grade_that_falls_from_four_to_two_is_two_thirds_of_the_possible_improvement() -> None:
    change = outcome_change(score("goodman_baron_grade", later(150), grade=2),
                            score("goodman_baron_grade", grade=4))
    assert (change.change, change.improvement, change.direction) == (-2, 2, "improved")
    assert change.percent_of_possible == 66.7
    assert (change.baseline_on, change.assessed_on) == (JAN, later(150))


def test_posas_improvement_counts_from_its_floor_of_six() -> None:
    items = ("vascularity", "pigmentation", "thickness", "relief", "pliability", "surface_area")
    before = score("posas_observer", **dict.fromkeys(items, 5), overall_opinion=6)   # 30
    after = score("posas_observer", later(91), **dict.fromkeys(items, 3), overall_opinion=2)
    change = outcome_change(after, before)
    assert (before.score, after.score, change.improvement) == (30, 18, 12)
    assert change.percent_of_possible == 50.0   # 12 of the 24 points down to normal skin


def test_more_scars_is_worse() -> None:
    change = outcome_change(score("acne_scar_counts", later(91), icepick=4, boxcar=12, rolling=6),
                            score("acne_scar_counts", icepick=4, boxcar=10, rolling=6))
    assert (change.improvement, change.direction) == (-2, "worse")
    assert change.percent_of_possible == -10.0


def test_a_baseline_already_at_the_best_score_has_no_percentage() -> None:
    change = outcome_change(score("glogau", later(91), type=1), score("glogau", type=1))
    assert (change.direction, change.percent_of_possible) == ("unchanged", None)


@pytest.mark.parametrize(("rating", "direction", "improvement"),
                         [(1, "worse", -1), (2, "unchanged", 0), (3, "improved", 1),
                          (5, "improved", 3)])
def test_the_aesthetic_improvement_rating_is_read_without_a_baseline(
        rating: int, direction: str, improvement: int) -> None:
    for measure in ("gais_patient", "gais_clinician"):
        change = outcome_change(score(measure, later(28), rating=rating))
        assert (change.direction, change.improvement) == (direction, improvement)
        assert change.baseline_score is None
        assert change.percent_of_possible is None


def test_change_refuses_mismatched_or_missing_baselines() -> None:
    grade = score("goodman_baron_grade", later(91), grade=2)
    with pytest.raises(ValueError, match="none was given"):
        outcome_change(grade)
    with pytest.raises(ValueError, match="baseline is glogau"):
        outcome_change(grade, score("glogau", type=2))
    with pytest.raises(ValueError, match="dated after the follow-up"):
        outcome_change(score("goodman_baron_grade", grade=2),
                       score("goodman_baron_grade", later(1), grade=3))
    with pytest.raises(ValueError, match="takes no baseline"):
        outcome_change(score("gais_patient", later(91), rating=4),
                       score("gais_patient", rating=2))
    with pytest.raises(ValueError, match="not a measure of change"):
        outcome_change(score("satisfaction", later(28), satisfaction=8))


def baseline_measures() -> list[str]:
    return sorted(k for k, m in OUTCOMES.measures.items() if m.change == "from_baseline")


@st.composite
def pair_of_records(draw: st.DrawFn) -> tuple[ScoredOutcome, ScoredOutcome]:
    key = draw(st.sampled_from(baseline_measures()))
    measure = OUTCOMES.measures[key]

    def values() -> dict[str, int]:
        return {k: draw(st.integers(item.min, item.max)) for k, item in measure.items.items()}

    return score(key, **values()), score(key, later(91), **values())


@given(pair_of_records())
def test_swapping_baseline_and_follow_up_reverses_the_change(
        pair: tuple[ScoredOutcome, ScoredOutcome]) -> None:
    before, after = pair
    forward = outcome_change(after, before)
    backward = outcome_change(before.model_copy(update={"assessed_on": later(91)}),
                              after.model_copy(update={"assessed_on": JAN}))
    assert forward.improvement == -backward.improvement
    assert {forward.direction, backward.direction} in (
        {"unchanged"}, {"improved", "worse"})


@given(pair_of_records())
def test_the_percentage_never_exceeds_a_complete_improvement(
        pair: tuple[ScoredOutcome, ScoredOutcome]) -> None:
    change = outcome_change(pair[1], pair[0])
    assert change.percent_of_possible is None or change.percent_of_possible <= 100
    assert pair[1].score_min <= pair[1].score <= pair[1].score_max


# --- which measures, and when ------------------------------------------------------------

def test_measures_follow_the_indication() -> None:
    acne = measures_for(["acne_scars"])
    assert "goodman_baron_grade" in acne
    assert "acne_scar_counts" in acne
    assert "vancouver_scar_scale" not in acne
    assert "glogau" not in acne
    surgical = measures_for(["surgical_scars"])
    assert {"vancouver_scar_scale", "posas_observer"} <= set(surgical)
    assert "goodman_baron_grade" not in surgical
    assert "glogau" in measures_for(["fine_lines"])
    for indications in (["acne_scars"], ["stretch_marks"], ["hair_loss"]):
        assert {"gais_patient", "gais_clinician", "satisfaction"} <= set(
            measures_for(indications))


def test_measures_refuse_unknown_or_missing_indications() -> None:
    with pytest.raises(ValueError, match="unknown indication code"):
        measures_for(["acne"])
    with pytest.raises(ValueError, match="at least one indication"):
        measures_for([])


def test_a_three_session_acne_course_is_assessed_at_baseline_each_session_and_after() -> None:
    sessions = [JAN, later(28), later(56)]
    schedule = assessment_schedule(sessions, ["acne_scars"])
    assert [(a.point, a.due, a.session) for a in schedule] == [
        ("baseline", JAN, None),
        ("each_session", later(28), 2),
        ("each_session", later(56), 3),
        ("four_weeks_after", later(56 + 28), None),
        ("three_months_after", later(56 + 91), None),
        ("six_months_after", later(56 + 182), None),
    ]
    baseline = schedule[0]
    assert baseline.clinician_measures == ["goodman_baron_grade", "acne_scar_counts"]
    assert (baseline.patient_measures, baseline.invite_patient) == ([], False)
    four_weeks = schedule[3]
    assert four_weeks.patient_measures == ["gais_patient", "satisfaction"]
    assert four_weeks.invite_patient
    assert four_weeks.patient
    assert four_weeks.answer_by == later(56 + 28 + 14)
    assert four_weeks.remind_on == later(56 + 28 + 7)
    three_months = schedule[4]
    assert three_months.clinician_measures == [
        "goodman_baron_grade", "acne_scar_counts", "gais_clinician"]
    assert [s.key for s in three_months.sources] == ["minutilli2024"]
    assert three_months.basis == "evidence"
    assert four_weeks.basis == "clinic_policy"


def test_the_schedule_moves_with_the_last_session() -> None:
    short = assessment_schedule([JAN], ["surgical_scars"])
    assert [a.point for a in short] == ["baseline", "four_weeks_after", "three_months_after",
                                       "six_months_after"]
    assert short[1].due == later(28)
    longer = assessment_schedule([JAN, later(35)], ["surgical_scars"])
    assert [a.due for a in longer if a.point == "four_weeks_after"] == [later(63)]
    assert longer[0].clinician_measures == ["vancouver_scar_scale", "posas_observer"]


def test_the_schedule_refuses_an_empty_or_duplicated_course() -> None:
    with pytest.raises(ValueError, match="at least one session"):
        assessment_schedule([], ["acne_scars"])
    with pytest.raises(ValueError, match="same date"):
        assessment_schedule([JAN, JAN], ["acne_scars"])


@given(st.lists(st.dates(dt.date(2025, 1, 1), dt.date(2030, 1, 1)), min_size=1, max_size=8,
                unique=True))
def test_every_assessment_falls_on_or_after_the_first_session(dates: list[dt.date]) -> None:
    schedule = assessment_schedule(dates, ["acne_scars", "fine_lines"])
    assert schedule == sorted(schedule, key=lambda a: a.due)
    assert all(a.due >= min(dates) for a in schedule)
    after = [a for a in schedule if a.point.endswith("_after")]
    assert all(a.due > max(dates) for a in after)
    assert sum(a.point == "each_session" for a in schedule) == len(dates) - 1


# --- adverse events ----------------------------------------------------------------------

def adverse(**fields: Any) -> AdverseEventRecord:
    return AdverseEventRecord.model_validate(
        {"type": "pih", "severity": 2, "onset": later(20)} | fields)


def test_an_adverse_event_is_graded_and_timed() -> None:
    event = validate_adverse_event(adverse(resolved=later(62)), session_date=JAN)
    assert (event.type_label, event.severity_label) == (
        "Post-inflammatory hyperpigmentation", "Moderate")
    assert (event.serious, event.lasted_days) == (False, 42)
    assert "ctcae5" in [s.key for s in event.sources]
    assert validate_adverse_event(adverse(severity=3)).serious


def test_a_doubtful_adverse_event_lists_every_problem() -> None:
    with pytest.raises(InvalidOutcome) as caught:
        validate_adverse_event(adverse(type="other", severity=6, resolved=later(10)),
                               session_date=later(25))
    assert caught.value.problems == [
        "severity: grade 6 is not defined; grades are 1, 2, 3, 4, 5",
        "resolved: is before onset",
        "onset: is before the session it follows",
        "note: describe an adverse event of type 'other'",
    ]
    with pytest.raises(InvalidOutcome, match="unknown adverse event type 'rash'"):
        validate_adverse_event(adverse(type="rash"))
