"""The earliest safe date for the next session, and the arithmetic of a course."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from needlecare.clinical.course import (
    CourseFacts,
    SafeDate,
    SafeDateFacts,
    course_progress,
    earliest_safe_date,
)
from needlecare.clinical.protocol.loader import default_protocol, protocol_by_version

TODAY = dt.date(2026, 12, 1)


def facts(**changes: Any) -> SafeDateFacts:
    fields: dict[str, Any] = {"from_date": TODAY, "active_plan": True,
                              "consent_valid_from": dt.date(2026, 10, 1)}
    fields.update(changes)
    return SafeDateFacts.model_validate(fields)


def codes(items: list[Any]) -> list[str]:
    return [item.code for item in items]


# --- earliest safe date: vignettes -------------------------------------------------------------

def test_the_plans_interval_after_the_last_session_binds() -> None:
    safe = earliest_safe_date(facts(last_session_date=dt.date(2026, 11, 28), interval_days=28))
    assert safe.date == dt.date(2026, 12, 26)
    assert codes(safe.binding) == ["min_interval"]
    (rule,) = safe.binding
    assert rule.basis == "evidence"
    assert {s.key for s in rule.sources} >= {"harris2015", "minutilli2024"}
    assert safe.blocked == []


def test_without_the_plans_interval_the_protocol_default_applies() -> None:
    safe = earliest_safe_date(facts(last_session_date=dt.date(2026, 11, 28)))
    assert safe.date == dt.date(2026, 11, 28) + dt.timedelta(days=28)


def test_weekly_scalp_sessions_follow_the_plan() -> None:
    safe = earliest_safe_date(facts(last_session_date=dt.date(2026, 11, 28), interval_days=7))
    assert safe.date == dt.date(2026, 12, 5)


def test_a_later_screening_deferral_binds_instead() -> None:
    safe = earliest_safe_date(facts(last_session_date=dt.date(2026, 11, 1), interval_days=28,
                                    defer_until=dt.date(2026, 12, 10)))
    assert safe.date == dt.date(2026, 12, 10)
    assert codes(safe.binding) == ["screening_defer"]
    assert codes(safe.constraints) == ["min_interval", "screening_defer", "consent_valid_from"]


def test_two_rules_on_the_same_day_both_bind() -> None:
    safe = earliest_safe_date(facts(last_session_date=dt.date(2026, 11, 28), interval_days=28,
                                    defer_until=dt.date(2026, 12, 26)))
    assert codes(safe.binding) == ["min_interval", "screening_defer"]


def test_nothing_later_than_today_means_today_with_nothing_binding() -> None:
    safe = earliest_safe_date(facts(last_session_date=dt.date(2026, 9, 1), interval_days=28))
    assert safe.date == TODAY
    assert safe.binding == []


def test_a_consent_that_starts_later_binds() -> None:
    safe = earliest_safe_date(facts(consent_valid_from=dt.date(2026, 12, 4)))
    assert safe.date == dt.date(2026, 12, 4)
    assert codes(safe.binding) == ["consent_valid_from"]


@pytest.mark.parametrize(("changes", "blocked"), [
    ({"escalation_open": True}, ["open_escalation"]),
    ({"active_plan": False}, ["no_active_plan"]),
    ({"consent_valid_from": None}, ["no_consent"]),
    ({"resolve_when": ["the active acne is controlled"]}, ["screening_undated"]),
    ({"last_session_date": dt.date(2026, 11, 28), "interval_days": 28,
      "consent_valid_until": dt.date(2026, 12, 20)}, ["consent_expired"]),
    ({"escalation_open": True, "active_plan": False, "consent_valid_from": None},
     ["open_escalation", "no_active_plan", "no_consent"]),
])
def test_rules_without_a_date_mean_not_now(changes: dict[str, Any], blocked: list[str]) -> None:
    safe = earliest_safe_date(facts(**changes))
    assert safe.date is None
    assert safe.binding == []
    assert codes(safe.blocked) == blocked
    for block in safe.blocked:
        assert block.clinician
        assert block.patient
        assert block.sources


def test_a_consent_that_lasts_past_the_date_is_fine() -> None:
    safe = earliest_safe_date(facts(last_session_date=dt.date(2026, 11, 28), interval_days=28,
                                    consent_valid_until=dt.date(2026, 12, 26)))
    assert safe.date == dt.date(2026, 12, 26)


@pytest.mark.parametrize("changes", [
    {"consent_valid_from": None, "consent_valid_until": dt.date(2027, 1, 1)},
    {"consent_valid_from": dt.date(2026, 12, 1), "consent_valid_until": dt.date(2026, 11, 1)},
    {"interval_days": 0},
    {"escalation_open": "no"},
])
def test_contradictory_facts_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        facts(**changes)


def test_a_protocol_without_course_rules_says_so() -> None:
    with pytest.raises(ValueError, match=r"microneedling-2026\.1 has no course rules"):
        earliest_safe_date(facts(), protocol_by_version("microneedling-2026.1"))


def test_the_answer_names_its_protocol() -> None:
    safe = earliest_safe_date(facts())
    assert (safe.protocol.name, safe.protocol.version) == ("microneedling", "2026.2")


# --- earliest safe date: properties ------------------------------------------------------------

_dates = st.integers(-120, 120).map(lambda n: TODAY + dt.timedelta(days=n))


@st.composite
def fact_docs(draw: st.DrawFn) -> dict[str, Any]:
    consent_from = draw(st.none() | _dates)
    until = draw(st.none() | st.integers(0, 200)) if consent_from is not None else None
    return {
        "from_date": TODAY,
        "last_session_date": draw(st.none() | _dates.filter(lambda d: d <= TODAY)),
        "interval_days": draw(st.none() | st.integers(1, 60)),
        "defer_until": draw(st.none() | _dates),
        "resolve_when": draw(st.lists(st.just("the infection has cleared"), max_size=1)),
        "escalation_open": draw(st.booleans()),
        "active_plan": draw(st.booleans()),
        "consent_valid_from": consent_from,
        "consent_valid_until": (None if until is None or consent_from is None
                                else consent_from + dt.timedelta(days=until)),
    }


def later(safe: SafeDate) -> dt.date:
    """The answer on a time line where "not now" is later than any date."""
    return safe.date or dt.date.max


@settings(max_examples=400, deadline=None)
@given(fact_docs())
def test_the_date_never_precedes_a_rule_or_the_first_day(doc: dict[str, Any]) -> None:
    safe = earliest_safe_date(SafeDateFacts.model_validate(doc))
    assert (safe.date is None) == bool(safe.blocked)
    if safe.date is None:
        return
    assert safe.date >= doc["from_date"]
    for rule in safe.constraints:
        assert safe.date >= rule.not_before, rule.code
    assert all(rule.not_before == safe.date for rule in safe.binding)
    if safe.date > doc["from_date"]:
        assert safe.binding, "a date later than asked must name what binds it"
    if doc["consent_valid_until"] is not None:
        assert safe.date <= doc["consent_valid_until"]


def _stricter(doc: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """The same facts with one more (or one tighter) constraint."""
    choice = draw(st.sampled_from([
        "later_session", "longer_interval", "defer", "undated", "escalation", "no_plan",
        "no_consent", "later_consent", "consent_ends"]))
    more = dict(doc)
    if choice == "later_session":
        last = doc["last_session_date"] or TODAY - dt.timedelta(days=120)
        more["last_session_date"] = last + dt.timedelta(
            days=draw(st.integers(0, (TODAY - last).days)))
    elif choice == "longer_interval":
        more["interval_days"] = min(365, (doc["interval_days"] or 28) + draw(st.integers(0, 60)))
    elif choice == "defer":
        more["defer_until"] = max(filter(None, [doc["defer_until"], draw(_dates)]))
    elif choice == "undated":
        more["resolve_when"] = ["the wound has healed"]
    elif choice == "escalation":
        more["escalation_open"] = True
    elif choice == "no_plan":
        more["active_plan"] = False
    elif choice == "no_consent":
        more["consent_valid_from"] = None
        more["consent_valid_until"] = None
    elif choice == "later_consent" and doc["consent_valid_from"] is not None:
        start = doc["consent_valid_from"] + dt.timedelta(days=draw(st.integers(0, 60)))
        more["consent_valid_from"] = start
        if doc["consent_valid_until"] is not None:
            more["consent_valid_until"] = max(start, doc["consent_valid_until"])
            if more["consent_valid_until"] > doc["consent_valid_until"]:
                return doc  # moving the start would lengthen the window: not stricter
    elif choice == "consent_ends" and doc["consent_valid_from"] is not None:
        end = doc["consent_valid_from"] + dt.timedelta(days=draw(st.integers(0, 200)))
        more["consent_valid_until"] = min(filter(None, [doc["consent_valid_until"], end]))
    return more


@settings(max_examples=400, deadline=None)
@given(fact_docs(), st.data())
def test_adding_a_constraint_never_makes_the_date_earlier(doc: dict[str, Any],
                                                          data: st.DataObject) -> None:
    before = earliest_safe_date(SafeDateFacts.model_validate(doc))
    more = _stricter(doc, data.draw)
    after = earliest_safe_date(SafeDateFacts.model_validate(more))
    assert later(after) >= later(before)


# --- the course ------------------------------------------------------------------------------

def test_the_current_position_names_the_next_safe_date() -> None:
    safe = earliest_safe_date(facts(last_session_date=dt.date(2026, 11, 28), interval_days=28))
    progress = course_progress(CourseFacts(
        sessions_planned=4, interval_days=28,
        session_dates=[dt.date(2026, 11, 28), dt.date(2026, 10, 31)]), safe)
    assert progress.summary == "Session 3 of 4, next safe from 26 Dec 2026"
    assert (progress.sessions_done, progress.sessions_remaining) == (2, 2)
    assert progress.next_session == 3
    assert progress.next_safe == safe
    assert not progress.complete


def test_intervals_are_checked_against_the_protocols_window() -> None:
    dates = [dt.date(2026, 1, 1), dt.date(2026, 1, 21), dt.date(2026, 2, 18),
             dt.date(2026, 4, 1), dt.date(2026, 5, 13)]
    progress = course_progress(CourseFacts(sessions_planned=6, interval_days=28,
                                           session_dates=dates))
    assert [(i.days, i.status) for i in progress.intervals] == [
        (20, "early"), (28, "on_time"), (42, "on_time"), (42, "on_time")]
    assert {(i.min_days, i.max_days) for i in progress.intervals} == {(28, 42)}
    assert (progress.early, progress.on_time, progress.late) == (1, 3, 0)
    late = course_progress(CourseFacts(sessions_planned=3, interval_days=28,
                                       session_dates=[dt.date(2026, 1, 1), dt.date(2026, 2, 13)]))
    assert [(i.days, i.status) for i in late.intervals] == [(43, "late")]


def test_a_finished_course_says_so() -> None:
    dates = [dt.date(2026, 1, 1) + dt.timedelta(days=28 * n) for n in range(4)]
    progress = course_progress(CourseFacts(sessions_planned=4, interval_days=28,
                                           session_dates=dates), earliest_safe_date(facts()))
    assert progress.complete
    assert progress.summary == "Course complete: 4 of 4 sessions"
    assert progress.next_session is None
    assert progress.next_safe is None


def test_a_course_that_cannot_go_on_now_says_why() -> None:
    safe = earliest_safe_date(facts(last_session_date=dt.date(2026, 11, 28),
                                    escalation_open=True))
    progress = course_progress(CourseFacts(sessions_planned=3, interval_days=28,
                                           session_dates=[dt.date(2026, 11, 28)]), safe)
    assert progress.summary == "Session 2 of 3, not bookable now (open escalation)"


def test_before_the_first_session() -> None:
    progress = course_progress(CourseFacts(sessions_planned=3, interval_days=28))
    assert progress.summary == "Session 1 of 3"
    assert progress.intervals == []
    assert progress.sessions_done == 0


def test_the_late_margin_is_protocol_data() -> None:
    course = default_protocol().data.course
    assert course is not None
    assert course.late_after_extra_days == 14
    assert course.evidence.value == "P"
