"""Treatment planning as a clinician sees it: depths per zone, the course, dates, preparation."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from needlecare.clinical.common import (
    CLINIC_POLICY_NOTE,
    LIMITED_EVIDENCE_NOTE,
    ProtocolRef,
    basis_of,
)
from needlecare.clinical.planning import (
    NO_DEPTH_RANGE,
    PLAN_REQUEST_SCHEMA,
    PLAN_SCHEMA,
    PlanRequest,
    TreatmentPlan,
    ZonePlan,
    intake_facts,
    plan,
    plan_request,
)
from needlecare.clinical.protocol.loader import default_protocol, load_protocol
from needlecare.clinical.screening import Intake, MedicationAnswer, ScreeningResult, screen
from needlecare.clinical.vocabulary import INDICATIONS, ZONES

ASSESSED = dt.date(2027, 3, 1)
PLANNED = dt.date(2027, 3, 8)
DAY = dt.timedelta(days=1)


def make_intake(**changes: Any) -> Intake:
    fields: dict[str, Any] = {
        "assessed_on": ASSESSED, "planned_date": PLANNED, "fitzpatrick": 2,
        "indications": ["acne_scars"], "zones": ["cheeks"],
    }
    fields.update(changes)
    return Intake(**fields)


def screened(**changes: Any) -> ScreeningResult:
    return screen(make_intake(**changes))


def zone(result: TreatmentPlan, code: str) -> ZonePlan:
    matches = [z for z in result.zones if z.zone == code]
    assert len(matches) == 1, f"{code} planned {len(matches)} times"
    return matches[0]


def dates_every(start: dt.date, days: int, count: int) -> list[dt.date]:
    return [start + n * dt.timedelta(days=days) for n in range(count)]


# --- depth per zone ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("indications", "zone_code", "fitzpatrick", "expected"),
    [
        # (min_mm, max_mm, start_mm, capped_for_skin_type)
        (["acne_scars"], "cheeks", 2, (1.5, 2.0, 1.5, False)),
        (["acne_scars"], "cheeks", 5, (1.5, 1.5, 1.5, True)),
        (["acne_scars"], "cheeks", 4, (1.5, 1.5, 1.5, True)),
        (["acne_scars"], "cheeks", 3, (1.5, 2.0, 1.5, False)),
        (["fine_lines"], "cheeks", 6, (1.0, 1.5, 1.0, False)),
        (["acne_scars", "fine_lines"], "cheeks", 2, (1.0, 2.0, 1.0, False)),
        (["acne_scars", "fine_lines"], "cheeks", 5, (1.0, 1.5, 1.0, True)),
        (["stretch_marks"], "body", 1, (1.5, 2.5, 1.5, False)),
        (["stretch_marks"], "body", 6, (1.5, 1.5, 1.5, True)),
        (["hair_loss"], "scalp", 2, (0.5, 1.5, 0.5, False)),
        (["hair_loss"], "scalp", 5, (0.5, 1.5, 0.5, False)),
        (["acne_scars"], "nose", 2, (0.5, 1.5, 0.5, False)),
        (["fine_lines"], "nose", 2, (0.5, 1.0, 0.5, False)),
        (["fine_lines"], "periorbital", 2, (0.25, 0.5, 0.25, False)),
    ],
)
def test_depth_range_per_zone(indications: list[str], zone_code: str, fitzpatrick: int,
                              expected: tuple[float, float, float, bool]) -> None:
    result = plan(indications, [zone_code], fitzpatrick, screened(fitzpatrick=fitzpatrick,
                                                                  zones=[zone_code]))
    z = zone(result, zone_code)
    assert (z.min_mm, z.max_mm, z.start_mm, z.capped_for_skin_type) == expected


def test_acne_scars_on_cheeks_for_fitzpatrick_ii() -> None:
    result = plan(["acne_scars"], ["cheeks"], 2, screened())
    cheeks = zone(result, "cheeks")
    assert (cheeks.min_mm, cheeks.max_mm) == (1.5, 2.0)
    assert cheeks.skin_type_limit is None
    assert [i.indication for i in cheeks.indications] == ["acne_scars"]
    assert cheeks.indications[0].entry == "cheeks_scars"
    assert cheeks.basis == "clinic_policy"  # the zone table is clinic defaults, not evidence
    assert (result.sessions.sessions_min, result.sessions.sessions_max) == (3, 6)
    assert result.sessions.interval_days == 28
    assert result.status == "ready"
    assert [s.date for s in result.schedule] == dates_every(PLANNED, 28, 6)


def test_darker_skin_caps_the_depth_and_says_why() -> None:
    result = plan(["acne_scars"], ["cheeks"], 5, screened(fitzpatrick=5))
    cheeks = zone(result, "cheeks")
    dark = default_protocol().data.planning.dark_skin
    assert cheeks.max_mm == 1.5
    assert cheeks.protocol_max_mm == 2.0
    assert cheeks.capped_for_skin_type
    assert cheeks.start_mm == cheeks.min_mm == 1.5
    assert cheeks.skin_type_limit is not None
    assert cheeks.skin_type_limit.max_mm == dark.max_mm
    assert {s.key for s in cheeks.skin_type_limit.sources} == set(dark.sources)
    assert set(dark.sources) <= {s.key for s in cheeks.sources}
    # The per-indication range stays what the protocol says, so the cap is visible.
    assert (cheeks.indications[0].min_mm, cheeks.indications[0].max_mm) == (1.5, 2.0)


def test_darker_skin_rule_is_shown_even_when_the_cap_changes_nothing() -> None:
    result = plan(["fine_lines"], ["periorbital"], 6, screened(fitzpatrick=6,
                                                               zones=["periorbital"]))
    eyes = zone(result, "periorbital")
    assert not eyes.capped_for_skin_type
    assert eyes.skin_type_limit is not None


@pytest.mark.parametrize("fitzpatrick", range(1, 7))
def test_periorbital_is_never_above_half_a_millimetre(fitzpatrick: int) -> None:
    index = default_protocol().data.planning.depth
    eye_indications = [i for i in INDICATIONS
                       if any(e.zone == "periorbital" and i in e.indications
                              for e in index.values())]
    assert eye_indications  # the eyes are plannable for something
    screening = screened(fitzpatrick=fitzpatrick, zones=["periorbital"])
    for indication in eye_indications:
        eyes = zone(plan([indication], ["periorbital"], fitzpatrick, screening), "periorbital")
        assert eyes.max_mm <= 0.5, indication
    everything = plan(eye_indications, ["periorbital", "cheeks"], fitzpatrick,
                      screened(fitzpatrick=fitzpatrick, zones=["periorbital", "cheeks"]))
    assert zone(everything, "periorbital").max_mm <= 0.5


def test_mixing_indications_takes_the_union_per_zone() -> None:
    result = plan(["acne_scars", "fine_lines"], ["cheeks", "forehead"], 2,
                  screened(zones=["cheeks", "forehead"]))
    cheeks = zone(result, "cheeks")
    assert (cheeks.min_mm, cheeks.max_mm) == (1.0, 2.0)
    ranges = {i.indication: (i.min_mm, i.max_mm) for i in cheeks.indications}
    assert ranges == {"acne_scars": (1.5, 2.0), "fine_lines": (1.0, 1.5)}
    forehead = zone(result, "forehead")
    assert (forehead.min_mm, forehead.max_mm) == (0.5, 1.0)
    assert (result.sessions.sessions_min, result.sessions.sessions_max) == (3, 6)
    assert [c.indication for c in result.sessions.by_indication] == ["acne_scars", "fine_lines"]


def test_every_depth_entry_carries_its_basis_and_sources() -> None:
    result = plan(["hair_loss"], ["scalp"], 2, screened(zones=["scalp"],
                                                       indications=["hair_loss"]))
    scalp = zone(result, "scalp")
    # The trials ranged 0.5–2.5 mm; the narrower default is the clinic's choice.
    assert scalp.indications[0].basis == "clinic_policy"
    assert "english2021" in [s.key for s in scalp.indications[0].sources]
    assert scalp.indications[0].note
    assert scalp.basis == "clinic_policy"
    cheeks = zone(plan(["acne_scars"], ["cheeks"], 5, screened(fitzpatrick=5)), "cheeks")
    assert cheeks.basis == "clinic_policy"


def test_a_skin_type_cap_that_does_not_bite_leaves_the_range_alone() -> None:
    scalp = zone(plan(["hair_loss"], ["scalp"], 5, screened(fitzpatrick=5, zones=["scalp"])),
                 "scalp")
    assert not scalp.capped_for_skin_type
    assert (scalp.min_mm, scalp.max_mm) == (0.5, 1.5)
    assert scalp.skin_type_limit is not None
    assert scalp.skin_type_limit.basis == "clinic_policy"


# --- zones a request cannot plan ---------------------------------------------------------------


def test_hair_loss_on_the_cheeks_is_not_applicable() -> None:
    result = plan(["hair_loss"], ["scalp", "cheeks"], 2, screened(zones=["scalp", "cheeks"]))
    assert [z.zone for z in result.zones] == ["scalp"]
    assert [(n.zone, n.indication, n.reason) for n in result.not_applicable] == [
        ("cheeks", "hair_loss", NO_DEPTH_RANGE)]


def test_a_request_with_nothing_plannable_is_refused() -> None:
    with pytest.raises(ValueError, match="nothing to plan"):
        plan(["hair_loss"], ["cheeks"], 2, screened())


def test_an_indication_planned_nowhere_does_not_drive_the_course() -> None:
    result = plan(["acne_scars", "hair_loss"], ["cheeks"], 2, screened())
    assert result.sessions.sessions_max == 6  # not hair loss's 12
    assert [c.indication for c in result.sessions.by_indication] == ["acne_scars"]
    assert any("hair_loss" in note for note in result.sessions.notes)
    assert result.indications == ["acne_scars", "hair_loss"]


# --- the course and the schedule ---------------------------------------------------------------


def test_hair_loss_on_the_scalp_is_weekly_for_twelve_weeks() -> None:
    result = plan(["hair_loss"], ["scalp"], 3, screened(zones=["scalp"]))
    course = result.sessions
    assert (course.sessions_min, course.sessions_max, course.interval_days) == (12, 12, 7)
    assert course.notes == []
    assert [s.date for s in result.schedule] == dates_every(PLANNED, 7, 12)
    assert not any(s.beyond_minimum for s in result.schedule)


def test_mixing_weekly_hair_loss_with_monthly_work_keeps_the_longer_interval() -> None:
    result = plan(["hair_loss", "acne_scars"], ["scalp", "cheeks"], 2,
                  screened(zones=["scalp", "cheeks"]))
    assert result.sessions.interval_days == 28
    assert result.sessions.sessions_max == 12
    assert any("hair_loss" in n and "7" in n and "28" in n for n in result.sessions.notes)
    gaps = {(b.date - a.date).days for a, b in zip(result.schedule, result.schedule[1:],
                                                    strict=False)}
    assert gaps == {28}


def test_sessions_after_the_minimum_are_marked() -> None:
    result = plan(["acne_scars"], ["cheeks"], 2, screened())
    assert [s.number for s in result.schedule] == [1, 2, 3, 4, 5, 6]
    assert [s.beyond_minimum for s in result.schedule] == [False] * 3 + [True] * 3


def test_a_later_start_date_moves_the_schedule() -> None:
    start = PLANNED + 10 * DAY
    result = plan(["acne_scars"], ["cheeks"], 2, screened(), start_date=start)
    assert result.earliest_start == start
    assert result.schedule[0].date == start


def test_a_start_before_the_screened_date_is_refused() -> None:
    # A waiting period checked against the planned date may still be running earlier.
    with pytest.raises(ValueError, match="screen again"):
        plan(["acne_scars"], ["cheeks"], 2, screened(), start_date=PLANNED - DAY)


# --- screening verdicts ------------------------------------------------------------------------


def test_a_dated_deferral_moves_the_first_session_and_the_schedule() -> None:
    peel = ASSESSED - DAY  # a light peel: the protocol waits 14 days, past PLANNED
    screening = screened(procedures={"chemical_peel_light": peel})
    assert screening.defer_until == peel + 14 * DAY
    result = plan(["acne_scars"], ["cheeks"], 2, screening)
    assert result.status == "deferred"
    assert result.screening_verdict == "defer"
    assert result.earliest_start == screening.defer_until
    assert [s.date for s in result.schedule] == dates_every(screening.defer_until, 28, 6)
    no_waxing = next(p for p in result.preparation if p.item == "no_waxing")
    assert no_waxing.stop_date == screening.defer_until - 7 * DAY


def test_a_desired_start_after_the_deferral_is_kept() -> None:
    screening = screened(procedures={"chemical_peel_light": ASSESSED - DAY})
    assert screening.defer_until is not None
    later = screening.defer_until + 20 * DAY
    assert plan(["acne_scars"], ["cheeks"], 2, screening, start_date=later).earliest_start == (
        later)


def test_an_undated_deferral_gives_no_dates() -> None:
    screening = screened(conditions={"active_acne": True})
    result = plan(["acne_scars"], ["cheeks"], 2, screening)
    assert result.status == "deferred"
    assert result.earliest_start is None
    assert result.schedule == []
    assert result.resolve_when == ["the active acne is controlled"]
    assert all(p.stop_date is None for p in result.preparation)
    assert result.zones  # the depths are still there for the clinician


def test_an_undated_condition_outweighs_a_dated_one() -> None:
    screening = screened(conditions={"active_acne": True},
                         procedures={"chemical_peel_light": ASSESSED - DAY})
    result = plan(["acne_scars"], ["cheeks"], 2, screening)
    assert result.defer_until == screening.defer_until
    assert result.earliest_start is None
    assert result.schedule == []


def test_not_suitable_gives_no_dates() -> None:
    result = plan(["acne_scars"], ["cheeks"], 2, screened(conditions={"keloid_history": True}))
    assert result.status == "not_suitable"
    assert result.screening_verdict == "not_suitable"
    assert result.earliest_start is None
    assert result.schedule == []
    assert all(p.stop_date is None for p in result.preparation)


def test_precautions_are_copied_from_the_screening() -> None:
    screening = screened(fitzpatrick=5, medications={"anticoagulant": True})
    result = plan(["acne_scars"], ["cheeks"], 5, screening)
    assert result.status == "ready"
    assert result.precautions == screening.precautions
    assert len(result.precautions) >= 2


def test_the_plans_precaution_for_current_isotretinoin_names_isotretinoin() -> None:
    result = plan(["acne_scars"], ["cheeks"], 2, screened(medications={"isotretinoin": True}))
    (precaution,) = [p for p in result.precautions if "Discuss both sources" in p or
                     "discuss both sources" in p]
    assert precaution.startswith("Isotretinoin now or within 6 months:")


def test_a_skin_type_that_contradicts_the_screening_is_refused() -> None:
    with pytest.raises(ValueError, match="contradicts the screening"):
        plan(["acne_scars"], ["cheeks"], 2, screened(fitzpatrick=5))


def test_a_screening_under_another_protocol_is_refused() -> None:
    old = screened().model_copy(update={"protocol": ProtocolRef(name="microneedling",
                                                                version="2025.1")})
    with pytest.raises(ValueError, match=r"2025\.1"):
        plan(["acne_scars"], ["cheeks"], 2, old)


# --- preparation -------------------------------------------------------------------------------


def test_preparation_stop_dates_are_counted_back_from_the_start() -> None:
    start = PLANNED + 30 * DAY
    result = plan(["acne_scars"], ["cheeks"], 2, screened(), start_date=start)
    items = default_protocol().data.planning.preparation
    for step in result.preparation:
        days = items[step.item].stop_days_before
        assert step.stop_days_before == days
        assert step.stop_date == (start - dt.timedelta(days=days) if days is not None
                                  else None)
    assert {p.item for p in result.preparation} == {
        key for key, item in items.items() if not item.when_facts}


def test_a_stop_date_already_past_at_assessment_is_flagged() -> None:
    # Assessed on 1 March for a first session on 8 March: a 14-day lead time began on
    # 22 February, before anyone could tell the patient.
    result = plan(["acne_scars"], ["cheeks"], 2, screened(),
                  facts_present={"medication:topical_retinoid"})
    flagged = {p.item for p in result.preparation if p.stop_date_before_assessment}
    assert flagged == {"avoid_tanning"}
    later = plan(["acne_scars"], ["cheeks"], 2, screened(), start_date=PLANNED + 14 * DAY,
                 facts_present={"medication:topical_retinoid"})
    assert not any(p.stop_date_before_assessment for p in later.preparation)


def test_retinoid_step_only_when_the_patient_uses_one() -> None:
    screening = screened()
    without = plan(["acne_scars"], ["cheeks"], 2, screening)
    assert "stop_topical_actives" not in {p.item for p in without.preparation}
    with_facts = plan(["acne_scars"], ["cheeks"], 2, screening,
                      facts_present={"medication:topical_retinoid"})
    step = next(p for p in with_facts.preparation if p.item == "stop_topical_actives")
    assert step.because_of == ["medication:topical_retinoid"]
    assert step.stop_date == PLANNED - 5 * DAY


def test_retinoid_step_from_the_intake_of_a_plan_request() -> None:
    uses = make_intake(medications={"topical_retinoid": True})
    stopped = make_intake(medications={"topical_retinoid": MedicationAnswer(
        current=False, last_dose=ASSESSED - 40 * DAY)})
    for intake, expected in ((uses, True), (stopped, False), (make_intake(), False)):
        request = PlanRequest(indications=["acne_scars"], zones=["cheeks"], fitzpatrick=2,
                              intake=intake)
        items = {p.item for p in plan_request(request).preparation}
        assert ("stop_topical_actives" in items) is expected


def test_steps_follow_the_facts_a_screening_fired_on() -> None:
    screening = screened(conditions={"cold_sore_history": True},
                         medications={"antiplatelet": True})
    result = plan(["acne_scars"], ["cheeks"], 2, screening)
    steps = {p.item: p for p in result.preparation}
    assert steps["antiviral_decision"].because_of == ["condition:cold_sore_history"]
    assert steps["keep_anticoagulants"].because_of == ["medication:antiplatelet"]
    assert steps["antiviral_decision"].stop_date is None


def test_an_unknown_fact_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fact"):
        plan(["acne_scars"], ["cheeks"], 2, screened(),
             facts_present={"medication:topical_retinol"})


def test_intake_facts_reports_what_is_present_now() -> None:
    intake = make_intake(
        conditions={"cold_sore_history": True, "pregnancy": False},
        medications={"topical_retinoid": True, "nsaid": False,
                     "isotretinoin": MedicationAnswer(current=True)},
        procedures={"botulinum_toxin": ASSESSED - 60 * DAY, "dermal_filler": False},
        allergies={"nickel": True},
    )
    assert intake_facts(intake) == {
        "condition:cold_sore_history", "medication:topical_retinoid",
        "medication:isotretinoin", "procedure:botulinum_toxin", "allergy:nickel"}


# --- texts, basis and sources ------------------------------------------------------------------


def test_clinic_policy_values_are_labelled_for_patients() -> None:
    result = plan(["acne_scars"], ["cheeks"], 2, screened(),
                  facts_present={"medication:topical_retinoid"})
    for step in result.preparation:
        if step.basis == "clinic_policy" and step.stop_days_before is not None:
            assert step.patient.endswith(CLINIC_POLICY_NOTE), step.item
        if step.basis != "clinic_policy":
            assert CLINIC_POLICY_NOTE not in step.patient
    for item in result.anaesthetic:
        if item.basis == "clinic_policy" and item.minutes_max > 0:
            assert item.patient.endswith(CLINIC_POLICY_NOTE), item.item
        if item.basis == "limited_evidence":
            assert LIMITED_EVIDENCE_NOTE in item.clinician
    timeline = default_protocol().data.planning.results_timeline
    for note in result.results_timeline:
        assert note.basis == basis_of(timeline[note.item].evidence)
    assert {n.item: n.basis for n in result.results_timeline}["builds_over_months"] == (
        "evidence")
    assert not any(CLINIC_POLICY_NOTE in n.patient for n in result.results_timeline)


def test_anaesthetic_and_results_timeline_come_from_the_protocol() -> None:
    planning = default_protocol().data.planning
    result = plan(["acne_scars"], ["cheeks"], 2, screened())
    assert [a.item for a in result.anaesthetic] == list(planning.anaesthetic)
    lidocaine = next(a for a in result.anaesthetic if a.item == "topical_lidocaine")
    assert (lidocaine.minutes_min, lidocaine.minutes_max) == (30, 30)
    assert lidocaine.basis == "limited_evidence"
    assert [n.item for n in result.results_timeline] == list(planning.results_timeline)
    assert any("cannot be reversed" in n.patient for n in result.results_timeline)


def _source_refs(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if {"key", "citation", "link", "kind"} <= node.keys():
            yield node
        for value in node.values():
            yield from _source_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _source_refs(value)


def test_every_source_resolves_in_the_bibliography() -> None:
    bibliography = default_protocol().data.bibliography
    result = plan(["acne_scars", "fine_lines", "hair_loss", "stretch_marks"],
                  ["cheeks", "scalp", "body", "periorbital"], 5,
                  screened(fitzpatrick=5, zones=["cheeks", "scalp", "body", "periorbital"]),
                  facts_present={"medication:topical_retinoid", "condition:cold_sore_history",
                                 "medication:anticoagulant"})
    refs = list(_source_refs(result.model_dump(mode="json")))
    assert len(refs) > 20
    for ref in refs:
        assert ref["key"] in bibliography, ref["key"]
        assert ref["citation"] == bibliography[ref["key"]].citation


def test_numbers_come_from_the_protocol_file(tmp_path: Path) -> None:
    overrides = tmp_path / "clinic.toml"
    overrides.write_text("[planning.dark_skin]\nmax_mm = 1.0\n\n"
                         "[planning.preparation.no_waxing]\nstop_days_before = 3\n",
                         encoding="utf-8")
    protocol = load_protocol(overrides=overrides)
    result = plan(["acne_scars"], ["cheeks"], 5, screen(make_intake(fitzpatrick=5), protocol),
                  protocol=protocol)
    cheeks = zone(result, "cheeks")
    assert (cheeks.min_mm, cheeks.max_mm, cheeks.start_mm) == (1.0, 1.0, 1.0)
    no_waxing = next(p for p in result.preparation if p.item == "no_waxing")
    assert no_waxing.stop_date == PLANNED - 3 * DAY


# --- the request document ----------------------------------------------------------------------


def test_a_request_with_a_screening_plans_like_plan() -> None:
    screening = screened()
    request = PlanRequest(indications=["acne_scars"], zones=["cheeks"], fitzpatrick=2,
                          screening=screening)
    assert request.schema_ == PLAN_REQUEST_SCHEMA
    assert plan_request(request) == plan(["acne_scars"], ["cheeks"], 2, screening)


def test_a_request_with_an_intake_screens_it() -> None:
    request = PlanRequest(indications=["acne_scars"], zones=["cheeks"], fitzpatrick=2,
                          intake=make_intake(conditions={"active_acne": True}))
    result = plan_request(request)
    assert result.status == "deferred"
    assert result.earliest_start is None


def test_a_request_fills_in_what_the_intake_left_open() -> None:
    # The cold-sore rule depends on the zones, so an intake without zones is screened on the
    # request's zones.
    intake = make_intake(zones=[], fitzpatrick=None, conditions={"cold_sore_history": True})
    result = plan_request(PlanRequest(indications=["acne_scars"], zones=["forehead"],
                                      fitzpatrick=2, intake=intake))
    assert result.precautions == []
    result = plan_request(PlanRequest(indications=["acne_scars"], zones=["cheeks"],
                                      fitzpatrick=5, intake=intake))
    assert any("antiviral" in p for p in result.precautions)
    assert zone(result, "cheeks").capped_for_skin_type


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, "exactly one"),
        ({"screening": "both", "intake": True}, "exactly one"),
        ({"intake": True, "indications": []}, "at least 1"),
        ({"intake": True, "zones": []}, "at least 1"),
        ({"intake": True, "zones": ["cheek"]}, "unknown zone"),
        ({"intake": True, "indications": ["acne"]}, "unknown indication"),
        ({"intake": True, "zones": ["cheeks", "cheeks"]}, "more than once"),
        ({"intake": True, "fitzpatrick": 7}, "less than or equal to 6"),
        ({"intake": True, "fitzpatrick": 4}, "contradicts the intake"),
        ({"intake": True, "zones": ["cheeks", "scalp"]}, "not screened"),
        ({"intake": True, "surprise": 1}, "Extra inputs"),
        ({"intake": True, "schema": "needlecare.plan-request/2"}, "plan-request/1"),
    ],
)
def test_invalid_requests_are_rejected(changes: dict[str, Any], message: str) -> None:
    doc: dict[str, Any] = {"indications": ["acne_scars"], "zones": ["cheeks"], "fitzpatrick": 2}
    doc.update(changes)
    if "intake" in doc:
        doc["intake"] = make_intake().model_dump(mode="json", by_alias=True)
    if "screening" in doc:
        doc["screening"] = screened().model_dump(mode="json", by_alias=True)
    with pytest.raises(ValidationError, match=message):
        PlanRequest.model_validate(doc)


@pytest.mark.parametrize(
    ("indications", "zones", "fitzpatrick", "message"),
    [
        ([], ["cheeks"], 2, "at least one indication"),
        (["acne_scars"], [], 2, "at least one zone"),
        (["acne"], ["cheeks"], 2, "unknown indication 'acne'"),
        (["acne_scars"], ["cheek"], 2, "unknown zone 'cheek'"),
        (["acne_scars", "acne_scars"], ["cheeks"], 2, "more than once"),
        (["acne_scars"], ["cheeks"], 0, "fitzpatrick"),
        (["acne_scars"], ["cheeks"], 7, "fitzpatrick"),
        (["acne_scars"], ["cheeks"], True, "fitzpatrick"),
    ],
)
def test_invalid_plan_arguments_raise_value_errors(indications: list[str], zones: list[str],
                                                   fitzpatrick: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan(indications, zones, fitzpatrick, screened())


def test_plan_and_request_survive_a_json_round_trip() -> None:
    request = PlanRequest(indications=["acne_scars", "hair_loss"], zones=["cheeks", "scalp"],
                          fitzpatrick=5, start_date=PLANNED + 3 * DAY,
                          intake=make_intake(fitzpatrick=5, zones=["cheeks", "scalp"],
                                             medications={"topical_retinoid": True}))
    request_json = json.dumps(request.model_dump(mode="json", by_alias=True))
    assert PlanRequest.model_validate_json(request_json) == request
    result = plan_request(request)
    doc = result.model_dump(mode="json", by_alias=True)
    assert doc["schema"] == PLAN_SCHEMA
    assert TreatmentPlan.model_validate(json.loads(json.dumps(doc))) == result
    screening_request = PlanRequest(indications=["acne_scars"], zones=["cheeks"],
                                    fitzpatrick=2, screening=screened())
    again = PlanRequest.model_validate_json(
        json.dumps(screening_request.model_dump(mode="json", by_alias=True)))
    assert plan_request(again) == plan_request(screening_request)


# --- properties --------------------------------------------------------------------------------

_NEUTRAL = screen(make_intake(fitzpatrick=None, zones=[], indications=[]))


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 6),
    st.lists(st.sampled_from(sorted(ZONES)), min_size=1, unique=True),
    st.lists(st.sampled_from(sorted(INDICATIONS)), min_size=1, unique=True),
)
def test_planned_depths_stay_within_the_protocol(fitzpatrick: int, zones: list[str],
                                                 indications: list[str]) -> None:
    protocol = default_protocol()
    depth = protocol.data.planning.depth
    dark = protocol.data.planning.dark_skin
    plannable = {(e.zone, i) for e in depth.values() for i in e.indications}
    if not any((z, i) in plannable for z in zones for i in indications):
        with pytest.raises(ValueError, match="nothing to plan"):
            plan(indications, zones, fitzpatrick, _NEUTRAL)
        return
    result = plan(indications, zones, fitzpatrick, _NEUTRAL)
    assert {z.zone for z in result.zones} | {n.zone for n in result.not_applicable} == set(zones)
    for z in result.zones:
        entries = [e for e in depth.values() if e.zone == z.zone]
        assert min(e.min_mm for e in entries) <= z.max_mm <= max(e.max_mm for e in entries)
        if fitzpatrick >= dark.from_fitzpatrick:
            assert z.max_mm <= dark.max_mm
        assert z.min_mm <= z.start_mm <= z.max_mm
    assert len(result.schedule) == result.sessions.sessions_max
