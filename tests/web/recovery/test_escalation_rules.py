"""How a check-in changes its session's escalation, decided without a database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needlecare.clinical.vocabulary import Level
from needlecare.recovery.rules import (
    ActiveEscalation,
    EscalationAction,
    decide_escalation,
    reason_key,
)

T0 = dt.datetime(2026, 3, 5, 8, 0, tzinfo=dt.UTC)
ABOVE_EXPECTED = [Level.CONTACT_CLINIC, Level.URGENT, Level.EMERGENCY]


def reason(rule: str, subject: str | None = None, level: str = "urgent") -> dict[str, Any]:
    return {"rule": rule, "subject": subject, "level": level}


def test_the_first_check_in_above_expected_opens_an_escalation() -> None:
    decision = decide_escalation(None, "urgent", [reason("infection_signs", "pus")], T0)
    assert decision.action is EscalationAction.OPEN
    assert (decision.level, decision.status, decision.deadline) == ("urgent", "open", T0)


def test_expected_healing_opens_nothing() -> None:
    with pytest.raises(ValueError, match="expected"):
        decide_escalation(None, "expected", [], T0)


def test_a_more_severe_check_in_reopens_an_acknowledged_escalation() -> None:
    current = ActiveEscalation("contact_clinic", "acknowledged", T0 + dt.timedelta(days=1),
                               [reason("firm_bumps", "firm_bumps", "contact_clinic")])
    decision = decide_escalation(current, "urgent", [reason("infection_signs", "pus")], T0)
    assert decision.action is EscalationAction.RAISE
    assert (decision.level, decision.status) == ("urgent", "open")
    assert decision.clear_acknowledgement
    assert decision.deadline == T0
    assert [r["rule"] for r in decision.reasons] == ["firm_bumps", "infection_signs"]


def test_a_milder_check_in_keeps_level_status_and_deadline() -> None:
    current = ActiveEscalation("urgent", "acknowledged", T0, [reason("fever", "fever")])
    decision = decide_escalation(current, "contact_clinic",
                                 [reason("dark_patches", "new_dark_patches", "contact_clinic")],
                                 T0 + dt.timedelta(days=2))
    assert decision.action is EscalationAction.UPDATE
    assert (decision.level, decision.status, decision.deadline) == ("urgent", "acknowledged",
                                                                      T0)
    assert not decision.clear_acknowledgement
    # The new reason is kept, even at a lower level.
    assert {r["rule"] for r in decision.reasons} == {"fever", "dark_patches"}


levels = st.sampled_from([level.value for level in ABOVE_EXPECTED])
reasons = st.lists(st.builds(reason, st.sampled_from(["a", "b", "c"]),
                             st.sampled_from([None, "x", "y"]), levels), max_size=4)
moments = st.integers(min_value=0, max_value=72).map(lambda h: T0 + dt.timedelta(hours=h))
actives = st.builds(ActiveEscalation, levels, st.sampled_from(["open", "acknowledged"]),
                    moments, reasons)


@given(current=actives, level=levels, new=reasons, deadline=moments)
def test_nothing_is_ever_dropped_lowered_or_put_off(current: ActiveEscalation, level: str,
                                                    new: list[dict[str, Any]],
                                                    deadline: dt.datetime) -> None:
    decision = decide_escalation(current, level, new, deadline)
    kept = {reason_key(r) for r in decision.reasons}
    assert {reason_key(r) for r in [*current.reasons, *new]} <= kept
    assert Level(decision.level).rank >= max(Level(current.level).rank, Level(level).rank)
    assert decision.deadline <= min(current.deadline, deadline)
    if Level(level).rank > Level(current.level).rank:
        assert decision.status == "open"
