"""Properties the triage engine must keep for every check-in, not just the vignettes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needlecare.clinical.protocol.loader import (
    available_versions,
    default_protocol,
    protocol_by_version,
)
from needlecare.clinical.triage import CheckIn, TriageRecord, explain, record_of, triage
from needlecare.clinical.vocabulary import DEVICES, RED_FLAGS, SYMPTOMS, ZONES, Level

SESSION_DAY = dt.date(2026, 11, 20)
TRENDS = ["better", "same", "worse"]

reports = st.fixed_dictionaries({}, optional={
    "severity": st.integers(0, 10),
    "trend": st.sampled_from(TRENDS),
})
sessions = st.fixed_dictionaries({
    "date": st.just(SESSION_DAY.isoformat()),
    "deepest_depth_mm": st.sampled_from([0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0]),
    "zones": st.lists(st.sampled_from(sorted(ZONES)), min_size=1, max_size=3, unique=True),
    "fitzpatrick": st.integers(1, 6),
    "device": st.sampled_from(sorted(DEVICES)),
})


@st.composite
def photos(draw: st.DrawFn, last_day: int) -> list[dict[str, Any]]:
    return draw(st.lists(st.fixed_dictionaries({
        "day": st.integers(0, last_day),
        "a_star_change": st.floats(-5, 20, allow_nan=False),
        "quality_ok": st.booleans(),
    }), max_size=5))


@st.composite
def checkins(draw: st.DrawFn) -> dict[str, Any]:
    day = draw(st.integers(0, 60))
    return {
        "photos": draw(photos(day)),
        "session": draw(sessions),
        "reported_at": dt.datetime.combine(SESSION_DAY + dt.timedelta(days=day),
                                           dt.time(20, 0)).isoformat(),
        "symptoms": draw(st.dictionaries(st.sampled_from(sorted(SYMPTOMS)), reports,
                                         max_size=5)),
        "red_flags": draw(st.dictionaries(st.sampled_from(sorted(RED_FLAGS)),
                                          st.sampled_from([True, False, None]),
                                          max_size=len(RED_FLAGS))),
        "note": draw(st.sampled_from(["", "feels fine", "a bit of pus?", "hot and tight"])),
    }


def level(doc: dict[str, Any]) -> Level:
    return triage(CheckIn.model_validate(doc)).level


def worst_severity_of(doc: dict[str, Any]) -> int:
    return max((r.get("severity", 10) for r in doc["symptoms"].values()), default=0)


@settings(max_examples=300)
@given(checkins(), st.sampled_from(sorted(SYMPTOMS)), reports)
def test_adding_a_symptom_never_lowers_the_level(doc: dict[str, Any], symptom: str,
                                                 report: dict[str, Any]) -> None:
    if symptom in doc["symptoms"]:
        return
    more = {**doc, "symptoms": {**doc["symptoms"], symptom: report}}
    assert level(more).rank >= level(doc).rank


@settings(max_examples=300)
@given(checkins(), st.data())
def test_worsening_a_symptom_never_lowers_the_level(doc: dict[str, Any],
                                                    data: st.DataObject) -> None:
    if not doc["symptoms"]:
        return
    symptom = data.draw(st.sampled_from(sorted(doc["symptoms"])))
    report = dict(doc["symptoms"][symptom])
    if "severity" in report:
        report["severity"] = data.draw(st.integers(report["severity"], 10))
    if data.draw(st.booleans()):
        report["trend"] = "worse"
    worse = {**doc, "symptoms": {**doc["symptoms"], symptom: report}}
    assert level(worse).rank >= level(doc).rank


@settings(max_examples=300)
@given(checkins(), st.data())
def test_removing_an_answer_never_lowers_the_level(doc: dict[str, Any],
                                                   data: st.DataObject) -> None:
    answers = [("red_flags", code) for code in doc["red_flags"]] + [
        ("symptoms", code, field) for code, report in doc["symptoms"].items()
        for field in report]
    if not answers:
        return
    answer = data.draw(st.sampled_from(answers))
    fewer = {**doc, "red_flags": dict(doc["red_flags"]),
             "symptoms": {k: dict(v) for k, v in doc["symptoms"].items()}}
    if answer[0] == "red_flags":
        del fewer["red_flags"][answer[1]]
    else:
        del fewer["symptoms"][answer[1]][answer[2]]
    assert level(fewer).rank >= level(doc).rank


@settings(max_examples=300)
@given(checkins())
def test_photos_never_lower_the_level_the_answers_set(doc: dict[str, Any]) -> None:
    without = {**doc, "photos": []}
    assert level(doc).rank >= level(without).rank


@settings(max_examples=300)
@given(checkins(), st.data())
def test_a_redder_photo_never_lowers_the_level(doc: dict[str, Any], data: st.DataObject) -> None:
    if not doc["photos"]:
        return
    i = data.draw(st.integers(0, len(doc["photos"]) - 1))
    redder = [dict(p) for p in doc["photos"]]
    redder[i]["a_star_change"] += data.draw(st.floats(0, 20, allow_nan=False))
    assert level({**doc, "photos": redder}).rank >= level(doc).rank


@settings(max_examples=300)
@given(checkins())
def test_photos_alone_raise_a_level_to_contact_clinic_at_most(doc: dict[str, Any]) -> None:
    quiet = {**doc, "symptoms": {}, "red_flags": dict.fromkeys(RED_FLAGS, False), "note": ""}
    assert level(quiet).rank <= Level.CONTACT_CLINIC.rank


@settings(max_examples=300)
@given(checkins())
def test_a_red_flag_answered_yes_is_never_dropped(doc: dict[str, Any]) -> None:
    result = triage(CheckIn.model_validate(doc))
    for flag, answer in doc["red_flags"].items():
        if answer:
            assert any(r.subject == flag and r.level.rank >= Level.CONTACT_CLINIC.rank
                       for r in result.reasons), flag
    if any(doc["red_flags"].get(flag) is not False for flag in RED_FLAGS):
        assert result.level.rank >= Level.CONTACT_CLINIC.rank


@settings(max_examples=300)
@given(checkins())
def test_every_reason_cites_sources_that_resolve(doc: dict[str, Any]) -> None:
    bibliography = default_protocol().data.bibliography
    result = triage(CheckIn.model_validate(doc))
    assert result.level.rank == max((r.level.rank for r in result.reasons), default=0)
    for reason in result.reasons:
        assert reason.sources
        for source in reason.sources:
            assert source.key in bibliography
            assert source.citation == bibliography[source.key].citation


@settings(max_examples=300)
@given(checkins(), st.sampled_from(available_versions()))
def test_a_stored_record_explains_exactly_what_the_patient_was_told(doc: dict[str, Any],
                                                                    label: str) -> None:
    # A check-in row keeps only the record; every text, source, line of advice and the
    # expected course must come back from the protocol version it names, unchanged.
    protocol = protocol_by_version(label)
    checkin = CheckIn.model_validate(doc)
    try:
        result = triage(checkin, protocol)
    except ValueError:
        return  # a code or a photo this (older) protocol cannot read: refused, never stored
    stored = record_of(result).model_dump_json(by_alias=True)
    # It grows with the reasons alone (a dozen or more only when most questions are left
    # unanswered), never with texts, sources, advice or the expected course.
    assert len(stored.encode()) <= 150 + 110 * len(result.reasons)
    record = TriageRecord.model_validate_json(stored)
    assert explain(record, checkin, protocol) == result


def test_a_record_is_not_explained_by_another_protocol_version() -> None:
    doc = {"session": {"date": SESSION_DAY.isoformat(), "deepest_depth_mm": 1.0,
                       "zones": ["cheeks"], "fitzpatrick": 2, "device": "pen"},
           "reported_at": f"{SESSION_DAY.isoformat()}T20:00:00",
           "red_flags": {"fever_or_chills": True}}
    checkin = CheckIn.model_validate(doc)
    older, newer = (protocol_by_version(v) for v in available_versions()[:2])
    record = record_of(triage(checkin, older))
    with pytest.raises(ValueError, match="names protocol"):
        explain(record, checkin, newer)
