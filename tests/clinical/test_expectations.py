"""What the patient's page says to expect at each stage of a course."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from needlecare.clinical.expectations import (
    STAGES,
    TOPIC_ORDER,
    expectations_for,
    stage_of,
)
from needlecare.clinical.protocol.loader import protocol_by_version

# Words that present a statement as evidence; clinic policy must not use them with patients.
EVIDENCE_WORDS = re.compile(r"\b(stud(y|ies)|research|evidence|proven|trials?|data)\b", re.I)
SESSION = dt.date(2026, 11, 2)


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_has_expectations_in_reading_order(stage: str) -> None:
    result = expectations_for(stage)  # type: ignore[arg-type]
    assert result.stage == stage
    assert result.items
    topics = [item.topic for item in result.items]
    assert topics == sorted(topics, key=TOPIC_ORDER.index)
    assert topics[-1] == "lasting"
    for item in result.items:
        assert item.text
        assert item.sources
        if item.basis == "clinic_policy":
            assert not EVIDENCE_WORDS.search(item.text), item.id


def test_before_the_first_session_the_patient_learns_what_the_course_is_like() -> None:
    texts = " ".join(i.text for i in expectations_for("booked").items)
    assert "mild sunburn" in texts
    assert "not immediate" in texts
    assert "Each session adds to the last" in texts


def test_in_the_healing_week_the_result_is_not_visible_yet() -> None:
    items = {i.id: i for i in expectations_for("healing").items}
    assert items["healing_week"].text.startswith("This week:")
    assert items["no_result_yet"].topic == "results_show"
    assert items["no_result_yet"].basis == "evidence"


def test_after_the_course_the_result_is_judged_at_three_months() -> None:
    items = {i.id: i for i in expectations_for("after_course").items}
    assert "three months after your last session" in items["judge_after_course"].text
    assert {s.key for s in items["judge_after_course"].sources} >= {"minutilli2024"}


def test_that_results_last_is_clinic_policy_never_evidence() -> None:
    for stage in STAGES:
        (lasting,) = [i for i in expectations_for(stage).items if i.topic == "lasting"]
        assert lasting.basis == "clinic_policy"
        assert lasting.evidence.value == "P"
        assert "do not wear off" in lasting.text


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown stage 'week_3'"):
        expectations_for("week_3")  # type: ignore[arg-type]


def test_a_protocol_without_expectations_says_so() -> None:
    with pytest.raises(ValueError, match=r"microneedling-2026\.1 has no expectations"):
        expectations_for("booked", protocol_by_version("microneedling-2026.1"))


@pytest.mark.parametrize(("days_after", "complete", "maintenance", "stage"), [
    (None, False, False, "booked"),
    (0, False, False, "healing"),
    (7, False, False, "healing"),
    (8, False, False, "remodelling"),
    (56, True, False, "remodelling"),
    (57, True, False, "after_course"),
    (57, False, False, "remodelling"),
    (200, True, True, "maintenance"),
    (3, True, True, "healing"),
])
def test_the_stage_follows_the_last_session(days_after: int | None, complete: bool,
                                            maintenance: bool, stage: str) -> None:
    today = SESSION + dt.timedelta(days=days_after or 0)
    last = None if days_after is None else SESSION
    assert stage_of(today, last, course_complete=complete, maintenance=maintenance) == stage


def test_a_last_session_in_the_future_is_refused() -> None:
    with pytest.raises(ValueError, match="after today"):
        stage_of(SESSION, SESSION + dt.timedelta(days=1), course_complete=False)
