"""Choosing between microneedling and its alternatives: one test per risk rule, the rules the
issue names (darker skin, isotretinoin, keloids, cold sores), the clinic's "refer" marking, and
properties (adding a risk factor, or forgetting an answer, never removes a flagged risk)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.alternatives import (
    AlternativeRow,
    AlternativesRequest,
    Comparison,
    compare_alternatives,
    request_from_screening,
)
from needlecare.clinical.protocol.alternatives_loader import default_alternatives
from needlecare.clinical.protocol.alternatives_schema import RiskRule
from needlecare.clinical.screening import screen
from needlecare.clinical.vocabulary import Verdict

from .conftest import days_before_planned, make_intake

DATA = default_alternatives().data
OPTIONS = list(DATA.options)


def request(**fields: Any) -> AlternativesRequest:
    return AlternativesRequest.model_validate({"indications": ["acne_scars"]} | fields)


def rows(comparison: Comparison) -> dict[str, AlternativeRow]:
    return {row.option: row for row in comparison.rows}


def flagged(comparison: Comparison) -> dict[str, dict[str, str]]:
    """option → {risk: level} for the risks flagged for this patient."""
    return {row.option: {f.risk: f.level for f in row.patient_risks}
            for row in comparison.rows}


def risks_named(comparison: Comparison, risk: str) -> set[str]:
    return {option for option, risks in flagged(comparison).items() if risk in risks}


# --- the shape of a comparison -----------------------------------------------------------

def test_every_option_is_a_row_with_microneedling_first() -> None:
    comparison = compare_alternatives(request())
    assert next(row.option for row in comparison.rows) == "microneedling"
    assert sorted(row.option for row in comparison.rows) == sorted(OPTIONS)
    for row in comparison.rows:
        assert row.suits
        assert row.downtime.sources
        assert row.sessions.sources
        assert row.what_it_is.patient
    assert comparison.alternatives == "alternatives-2026.1"


def test_a_healthy_fair_skinned_patient_sees_only_the_general_risks() -> None:
    comparison = compare_alternatives(request(
        fitzpatrick=2, zones=["forehead"],
        facts=[], unanswered=[]))
    assert all(not row.patient_risks for row in comparison.rows)
    assert all(row.highest_level is None for row in comparison.rows)
    general = {row.option: [f.risk for f in row.general_risks] for row in comparison.rows}
    assert general["dermal_filler"] == ["filler_vascular"]
    assert general["rf_microneedling"] == ["rf_microneedling_injuries"]
    assert general["prp_adjunct"] == ["prp_blood_handling"]


def test_what_each_option_suits_follows_the_indication() -> None:
    acne = rows(compare_alternatives(request()))
    assert all(acne[o].fits for o in ("microneedling", "rf_microneedling", "subcision",
                                      "nonablative_fractional_laser", "prp_adjunct"))
    melasma = rows(compare_alternatives(request(indications=["dyschromia_melasma"])))
    assert melasma["microneedling"].fits
    assert melasma["light_peel"].fits
    assert not melasma["subcision"].fits
    assert not melasma["dermal_filler"].fits
    assert melasma["light_peel"].fits_indications == ["dyschromia_melasma"]


@pytest.mark.parametrize(("scar_types", "fits", "does_not_fit"), [
    (["icepick"], {"tca_cross_punch"}, {"microneedling", "subcision", "dermal_filler"}),
    (["rolling"], {"microneedling", "subcision", "dermal_filler"}, {"tca_cross_punch"}),
    (["boxcar"], {"microneedling", "ablative_fractional_laser"}, {"subcision"}),
])
def test_scar_morphology_picks_the_options(scar_types: list[str], fits: set[str],
                                           does_not_fit: set[str]) -> None:
    """Reference §6: ice-pick → CROSS or punch; rolling → subcision ± MN or filler;
    boxcar → MN, laser or peel."""
    by_option = rows(compare_alternatives(request(scar_types=scar_types)))
    assert {o for o in fits if by_option[o].fits} == fits
    assert not {o for o in does_not_fit if by_option[o].fits}
    assert by_option[next(iter(fits))].fits_scar_types == scar_types


def test_options_the_clinic_does_not_offer_are_marked_refer() -> None:
    comparison = compare_alternatives(request(fitzpatrick=3),
                                      not_offered={"ablative_fractional_laser", "medium_peel"})
    by_option = rows(comparison)
    assert by_option["ablative_fractional_laser"].availability == "refer"
    assert not by_option["medium_peel"].offered
    assert by_option["microneedling"].availability == "offered"
    with pytest.raises(ValueError, match="unknown option"):
        compare_alternatives(request(), not_offered={"laser"})


def test_the_screening_verdict_shows_on_the_microneedling_row_only() -> None:
    comparison = compare_alternatives(request(screening_verdict="not_suitable"))
    by_option = rows(comparison)
    assert by_option["microneedling"].screening_verdict is Verdict.NOT_SUITABLE
    assert all(r.screening_verdict is None for o, r in by_option.items() if o != "microneedling")


def test_a_request_refuses_unknown_facts() -> None:
    with pytest.raises(ValueError, match="unknown fact"):
        request(facts=["condition:keloids"])
    with pytest.raises(ValueError, match="both present and unanswered"):
        request(facts=["condition:keloid_history"], unanswered=["condition:keloid_history"])


# --- the rules the issue names -----------------------------------------------------------

def test_fitzpatrick_v_with_acne_scars_shows_the_pigmentation_risk_of_ablative_laser_and_peels(
        ) -> None:
    comparison = compare_alternatives(request(fitzpatrick=5, zones=["cheeks"]))
    risks = flagged(comparison)
    assert risks["ablative_fractional_laser"] == {"darker_skin_ablative_laser": "caution"}
    assert risks["medium_peel"] == {"darker_skin_medium_peel": "caution"}
    assert risks["nonablative_fractional_laser"] == {"darker_skin_nonablative_laser": "caution"}
    assert risks["microneedling"] == {"darker_skin_microneedling": "caution"}
    assert risks["light_peel"] == {"darker_skin_light_peel": "note"}
    flag = rows(comparison)["ablative_fractional_laser"].patient_risks[0]
    assert flag.because == ["fitzpatrick:5"]
    assert "manuskiatti2010" in [s.key for s in flag.sources]
    assert "hyperpigmentation" in flag.clinician


def test_fitzpatrick_iii_does_not_raise_the_darker_skin_risks() -> None:
    comparison = compare_alternatives(request(fitzpatrick=3, zones=["cheeks"]))
    assert not any(risk.startswith("darker_skin") for risks in flagged(comparison).values()
                   for risk in risks)


def test_an_unrecorded_skin_type_shows_the_darker_skin_risks_as_possible() -> None:
    by_option = rows(compare_alternatives(request(zones=["cheeks"])))
    flag = by_option["medium_peel"].patient_risks[0]
    assert (flag.risk, flag.status, flag.unknown) == (
        "darker_skin_medium_peel", "possible", ["fitzpatrick"])


ISOTRETINOIN_FLAGGED = {"microneedling", "rf_microneedling", "nonablative_fractional_laser",
                        "ablative_fractional_laser", "light_peel", "medium_peel", "subcision",
                        "tca_cross_punch"}


def screened(**intake_fields: Any) -> AlternativesRequest:
    intake = make_intake(**intake_fields)
    return request_from_screening(intake, screen(intake))


@pytest.mark.parametrize("answer", [
    True,
    {"current": False, "last_dose": days_before_planned(90)},
    {"current": False, "last_dose": days_before_planned(150)},
])
def test_isotretinoin_in_the_last_six_months_flags_the_resurfacing_options(answer: Any) -> None:
    comparison = compare_alternatives(screened(medications={"isotretinoin": answer}))
    isotretinoin = {option for option, risks in flagged(comparison).items()
                    if any(r.startswith("isotretinoin") for r in risks)}
    assert isotretinoin == ISOTRETINOIN_FLAGGED
    microneedling = rows(comparison)["microneedling"].patient_risks
    assert [f.risk for f in microneedling] == ["isotretinoin_microneedling"]
    assert {s.key for s in microneedling[0].sources} == {"spring2017", "isotretinoin_label"}
    rf = next(f for f in rows(comparison)["rf_microneedling"].patient_risks
              if f.risk == "isotretinoin_rf_microneedling")
    assert rf.basis == "limited_evidence"


def test_isotretinoin_stopped_more_than_six_months_ago_flags_nothing() -> None:
    comparison = compare_alternatives(screened(
        medications={"isotretinoin": {"current": False, "last_dose": days_before_planned(240)}}))
    assert not any(r.startswith("isotretinoin") for risks in flagged(comparison).values()
                   for r in risks)


def test_a_keloid_history_rules_out_microneedling_and_cautions_against_dermal_wounding() -> None:
    comparison = compare_alternatives(screened(conditions={"keloid_history": True}))
    risks = flagged(comparison)
    assert risks["microneedling"]["keloid_microneedling"] == "avoid"
    assert risks["rf_microneedling"]["keloid_microneedling"] == "avoid"
    for option in ("nonablative_fractional_laser", "ablative_fractional_laser", "medium_peel",
                   "subcision", "tca_cross_punch"):
        assert risks[option]["keloid_dermal_wounding"] == "caution"
    assert risks["light_peel"]["keloid_light_peel"] == "note"
    assert "dermal_filler" not in risks_named(comparison, "keloid_dermal_wounding")
    policy = next(f for f in rows(comparison)["subcision"].patient_risks
                  if f.risk == "keloid_dermal_wounding")
    assert policy.basis == "clinic_policy"
    assert rows(comparison)["microneedling"].highest_level == "avoid"
    assert rows(comparison)["microneedling"].screening_verdict is Verdict.NOT_SUITABLE


def test_an_unasked_keloid_question_keeps_the_keloid_risks_possible() -> None:
    comparison = compare_alternatives(screened(conditions={"keloid_history": None}))
    flag = next(f for f in rows(comparison)["microneedling"].patient_risks
                if f.risk == "keloid_microneedling")
    assert (flag.status, flag.unknown) == ("possible", ["condition:keloid_history"])


def test_cold_sores_matter_when_treating_around_the_mouth() -> None:
    perioral = compare_alternatives(screened(conditions={"cold_sore_history": True},
                                             zones=["perioral", "cheeks"]))
    assert risks_named(perioral, "cold_sores") == set(OPTIONS)
    flag = rows(perioral)["medium_peel"].patient_risks[-1]
    assert flag.because == ["condition:cold_sore_history", "zone:perioral", "zone:cheeks"]
    forehead = compare_alternatives(screened(conditions={"cold_sore_history": True},
                                             zones=["forehead"]))
    assert not risks_named(forehead, "cold_sores")
    undecided = compare_alternatives(request(facts=["condition:cold_sore_history"]))
    flag = next(f for f in rows(undecided)["light_peel"].patient_risks if f.risk == "cold_sores")
    assert (flag.status, flag.unknown) == ("possible", ["zones"])


def test_blood_thinners_mean_more_bruising_with_needles_and_fillers() -> None:
    comparison = compare_alternatives(screened(medications={"anticoagulant": True}))
    assert risks_named(comparison, "bleeding_bruising") == {"subcision", "dermal_filler"}


# --- one test per risk rule --------------------------------------------------------------

def triggering(rule: RiskRule) -> AlternativesRequest:
    return request(facts=rule.facts_any[:1], fitzpatrick=rule.fitzpatrick_min or 1,
                   zones=rule.zones_any[:1] or ["body"])


def not_triggering(rule: RiskRule) -> AlternativesRequest:
    """The same patient without the risk factor (no fact, fair skin, another zone)."""
    if rule.zones_any:
        return request(facts=rule.facts_any[:1], fitzpatrick=1, zones=["body"])
    return request(facts=[], fitzpatrick=1 if rule.fitzpatrick_min else 6, zones=["body"])


@pytest.mark.parametrize("key", sorted(DATA.risks))
def test_each_risk_rule_flags_exactly_its_options(key: str) -> None:
    rule = DATA.risks[key]
    comparison = compare_alternatives(triggering(rule))
    where = "general_risks" if rule.always else "patient_risks"
    shown = {row.option for row in comparison.rows
             if any(f.risk == key and f.status == "applies" for f in getattr(row, where))}
    assert shown == set(rule.options)
    flag = next(f for row in comparison.rows for f in getattr(row, where) if f.risk == key)
    assert (flag.level, flag.clinician, flag.patient) == (rule.level, rule.clinician,
                                                          rule.patient)
    assert [s.key for s in flag.sources] == rule.sources
    if not rule.always:
        assert not risks_named(compare_alternatives(not_triggering(rule)), key)


# --- properties --------------------------------------------------------------------------

FACTS = sorted({f for rule in DATA.risks.values() for f in rule.facts_any}
               | {"condition:pih_history", "allergy:nickel"})


@st.composite
def requests(draw: st.DrawFn) -> AlternativesRequest:
    facts = draw(st.lists(st.sampled_from(FACTS), unique=True))
    unanswered = [f for f in FACTS if f not in facts and draw(st.booleans())]
    return request(
        indications=draw(st.lists(st.sampled_from(sorted(vocab.INDICATIONS)), min_size=1,
                                  max_size=3, unique=True)),
        zones=draw(st.lists(st.sampled_from(sorted(vocab.ZONES)), max_size=3, unique=True)),
        fitzpatrick=draw(st.none() | st.integers(1, 6)),
        facts=facts, unanswered=unanswered,
        scar_types=draw(st.lists(st.sampled_from(["icepick", "boxcar", "rolling"]),
                                 unique=True)))


def flag_set(req: AlternativesRequest) -> set[tuple[str, str]]:
    return {(row.option, f.risk) for row in compare_alternatives(req).rows
            for f in row.patient_risks}


@given(requests(), st.sampled_from(FACTS))
def test_adding_a_risk_factor_never_removes_a_flagged_risk(req: AlternativesRequest,
                                                           fact: str) -> None:
    more = req.model_copy(update={
        "facts": sorted({*req.facts, fact}),
        "unanswered": [f for f in req.unanswered if f != fact]})
    assert flag_set(req) <= flag_set(more)


@given(requests(), st.sampled_from(["fact", "fitzpatrick", "zones"]))
def test_forgetting_an_answer_never_removes_a_flagged_risk(req: AlternativesRequest,
                                                           what: str) -> None:
    if what == "fact":
        forgotten = req.model_copy(update={"facts": req.facts[1:],
                                           "unanswered": [*req.unanswered, *req.facts[:1]]})
    elif what == "fitzpatrick":
        forgotten = req.model_copy(update={"fitzpatrick": None})
    else:
        forgotten = req.model_copy(update={"zones": []})
    assert flag_set(req) <= flag_set(forgotten)


@given(requests(), st.lists(st.sampled_from(OPTIONS), unique=True))
def test_not_offering_an_option_changes_only_its_availability(req: AlternativesRequest,
                                                              not_offered: list[str]) -> None:
    full = compare_alternatives(req)
    partial = compare_alternatives(req, not_offered=not_offered)
    for a, b in zip(full.rows, partial.rows, strict=True):
        assert a.model_dump(exclude={"offered", "availability"}) == b.model_dump(
            exclude={"offered", "availability"})
        assert b.availability == ("refer" if a.option in not_offered else "offered")


@given(requests())
def test_a_possible_risk_always_says_what_is_unknown(req: AlternativesRequest) -> None:
    for row in compare_alternatives(req).rows:
        for flag in row.patient_risks:
            assert (flag.status == "possible") == bool(flag.unknown)
        levels = [f.level for f in row.patient_risks]
        assert row.highest_level == (max(levels, key=["note", "caution", "avoid"].index)
                                     if levels else None)
