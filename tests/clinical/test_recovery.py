"""The expected course after a session: what a patient is told is normal on each day."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from needlecare.clinical.protocol.loader import default_protocol
from needlecare.clinical.recovery import depth_band, expected_course
from needlecare.clinical.session import SessionFacts


def session(**changes: Any) -> SessionFacts:
    facts: dict[str, Any] = {"date": dt.date(2026, 11, 20), "deepest_depth_mm": 1.5,
                             "zones": ["cheeks"], "fitzpatrick": 3}
    facts.update(changes)
    return SessionFacts.model_validate(facts)


@pytest.mark.parametrize(("depth", "device", "band"), [
    (0.25, "pen", "shallow"), (0.5, "pen", "shallow"), (0.75, "pen", "medium"),
    (1.5, "roller", "medium"), (2.0, "pen", "deep"), (3.0, "stamp", "deep"),
    (2.5, "rf", "shallow"),  # RF without bleeding: redness lasts hours, not days
])
def test_depth_band(depth: float, device: str, band: str) -> None:
    assert depth_band(session(deepest_depth_mm=depth, device=device),
                      default_protocol()) == band


@pytest.mark.parametrize(("depth", "last_normal_day"), [(0.5, 1), (1.5, 3), (2.5, 5)])
def test_redness_is_normal_longer_after_deeper_needling(depth: float,
                                                        last_normal_day: int) -> None:
    s = session(deepest_depth_mm=depth)
    assert expected_course(s, last_normal_day).for_symptom("redness").phase == "normal"
    after = expected_course(s, last_normal_day + 1).for_symptom("redness")
    assert after.phase == "fading"
    assert after.max_severity < expected_course(s, 0).for_symptom("redness").max_severity


@pytest.mark.parametrize("depth", [0.5, 1.5, 2.5])
def test_redness_beyond_seven_days_is_never_expected(depth: float) -> None:
    redness = expected_course(session(deepest_depth_mm=depth), 8).for_symptom("redness")
    assert redness.phase == "not_expected"
    assert not redness.expected
    assert redness.max_severity == 0


def test_pinpoint_bleeding_is_only_expected_on_the_day() -> None:
    s = session()
    assert expected_course(s, 0).for_symptom("pinpoint_bleeding").expected
    assert not expected_course(s, 1).for_symptom("pinpoint_bleeding").expected


def test_flaking_starts_the_next_day() -> None:
    s = session()
    assert expected_course(s, 0).for_symptom("dryness_flaking").phase == "not_yet"
    assert expected_course(s, 2).for_symptom("dryness_flaking").phase == "normal"


def test_darker_skin_gets_its_note() -> None:
    assert expected_course(session(fitzpatrick=5), 2).skin_notes
    assert not expected_course(session(fitzpatrick=2), 2).skin_notes


def test_every_symptom_has_a_cited_course_every_day() -> None:
    bibliography = default_protocol().data.bibliography
    for day in range(0, 30):
        course = expected_course(session(), day)
        for item in course.symptoms:
            assert item.sources
            assert all(s.key in bibliography for s in item.sources)
            assert 0 <= item.max_severity <= 10
            if item.expected:
                assert item.patient


def test_negative_day_is_refused() -> None:
    with pytest.raises(ValueError, match="day"):
        expected_course(session(), -1)
