"""Screening vignettes: an intake, and the verdict, reasons and dates a clinician would expect.

``make_intake`` answers every question "no"; each vignette states only what differs. The
assessment is on 2026-12-01 and the first session planned for 2026-12-03.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.common import CLINIC_POLICY_NOTE, LIMITED_EVIDENCE_NOTE
from needlecare.clinical.protocol.loader import DEFAULT_PROTOCOL, load_protocol
from needlecare.clinical.screening import (
    INTAKE_SCHEMA,
    RESULT_SCHEMA,
    Information,
    Intake,
    Reason,
    ScreeningResult,
    screen,
)
from needlecare.clinical.vocabulary import Evidence, Verdict

from .conftest import ASSESSED_ON, PLANNED_DATE, UNANSWERED, days_before_planned, make_intake

D = dt.date
OK = Verdict.SUITABLE
PRECAUTION = Verdict.SUITABLE_WITH_PRECAUTIONS
DEFER = Verdict.DEFER
NOT_SUITABLE = Verdict.NOT_SUITABLE


def rule_ids(result: ScreeningResult) -> set[str]:
    return {r.rule for r in result.reasons}


def reason(result: ScreeningResult, rule_id: str) -> Any:
    (found,) = [r for r in result.reasons if r.rule == rule_id]
    return found


def unanswered(result: ScreeningResult) -> set[str]:
    return {u.field for u in result.unanswered}


# (name, intake overrides, verdict, rule ids that fire, defer_until)
VIGNETTES: list[tuple[str, dict[str, Any], Verdict, set[str], dt.date | None]] = [
    ("healthy adult, every question answered no", {}, OK, set(), None),
    ("keloid history", {"conditions": {"keloid_history": True}},
     NOT_SUITABLE, {"keloid_history"}, None),
    ("immunosuppression", {"conditions": {"immunosuppression": True}},
     NOT_SUITABLE, {"immunosuppression"}, None),
    ("bleeding disorder", {"conditions": {"bleeding_disorder": True}},
     NOT_SUITABLE, {"bleeding_disorder"}, None),
    ("active acne", {"conditions": {"active_acne": True}}, DEFER, {"active_acne"}, None),
    ("active cold sore", {"conditions": {"active_cold_sore": True}},
     DEFER, {"active_cold_sore"}, None),
    ("pregnancy", {"conditions": {"pregnancy": True}}, DEFER, {"pregnancy"}, None),
    ("breastfeeding", {"conditions": {"breastfeeding": True}},
     PRECAUTION, {"breastfeeding"}, None),
    ("psoriasis flaring", {"conditions": {"psoriasis_flare": True}},
     DEFER, {"inflammatory_flare"}, None),
    ("filler 5 days before the planned date", {"procedures": {"dermal_filler": D(2026, 11, 28)}},
     DEFER, {"dermal_filler"}, D(2026, 11, 28) + dt.timedelta(days=14)),
    ("filler 30 days before the planned date",
     {"procedures": {"dermal_filler": days_before_planned(30)}}, OK, set(), None),
    ("filler exactly 14 days before: the wait ends on the planned day",
     {"procedures": {"dermal_filler": days_before_planned(14)}}, OK, set(), None),
    ("filler 13 days before: deferred by one day",
     {"procedures": {"dermal_filler": days_before_planned(13)}},
     DEFER, {"dermal_filler"}, PLANNED_DATE + dt.timedelta(days=1)),
    ("previous microneedling 20 days before ([C] 4 weeks)",
     {"procedures": {"microneedling": days_before_planned(20)}},
     DEFER, {"previous_microneedling"}, days_before_planned(20) + dt.timedelta(days=28)),
    ("radiotherapy 60 days before (clinic policy 90 days)",
     {"procedures": {"radiotherapy_area": days_before_planned(60)}},
     DEFER, {"radiotherapy"}, days_before_planned(60) + dt.timedelta(days=90)),
    ("two dated deferrals: the later date wins",
     {"procedures": {"dermal_filler": D(2026, 11, 28),
                     "microneedling": days_before_planned(20)}},
     DEFER, {"dermal_filler", "previous_microneedling"}, D(2026, 12, 12)),
    ("botulinum toxin, date unknown: counted from the assessment",
     {"procedures": {"botulinum_toxin": True}},
     DEFER, {"botulinum_toxin"}, ASSESSED_ON + dt.timedelta(days=14)),
    ("isotretinoin, last dose two months ago",
     {"medications": {"isotretinoin": {"current": False, "last_dose": D(2026, 10, 1)}}},
     PRECAUTION, {"isotretinoin"}, None),
    ("isotretinoin now", {"medications": {"isotretinoin": True}},
     PRECAUTION, {"isotretinoin"}, None),
    ("isotretinoin, last dose seven months ago",
     {"medications": {"isotretinoin": {"current": False, "last_dose": D(2026, 5, 1)}}},
     OK, set(), None),
    ("anticoagulant now", {"medications": {"anticoagulant": True}},
     PRECAUTION, {"anticoagulant_or_antiplatelet"}, None),
    ("chemotherapy now", {"medications": {"chemotherapy": True}}, DEFER, {"chemotherapy"}, None),
    ("Fitzpatrick V", {"fitzpatrick": 5}, PRECAUTION, {"darker_skin"}, None),
    ("Fitzpatrick III", {"fitzpatrick": 3}, OK, set(), None),
    ("nickel allergy", {"allergies": {"nickel": True}}, PRECAUTION, {"metal_allergy"}, None),
    ("cold-sore history, perioral zone",
     {"conditions": {"cold_sore_history": True}, "zones": ["perioral"]},
     PRECAUTION, {"cold_sore_history"}, None),
    ("cold-sore history, forehead only",
     {"conditions": {"cold_sore_history": True}, "zones": ["forehead"]}, OK, set(), None),
    ("metal implants with RF microneedling",
     {"conditions": {"metal_implants_area": True}, "device": "rf"},
     NOT_SUITABLE, {"rf_over_metal"}, None),
    ("metal implants with a pen",
     {"conditions": {"metal_implants_area": True}, "device": "pen"}, OK, set(), None),
    ("under 22: information, not a contraindication",
     {"date_of_birth": D(2005, 1, 1)}, OK, set(), None),
    ("off-label zone (neck for fine lines): information",
     {"indications": ["fine_lines"], "zones": ["neck"]}, OK, set(), None),
    ("several reasons: the most restrictive wins",
     {"conditions": {"keloid_history": True, "active_acne": True}, "fitzpatrick": 5,
      "allergies": {"nickel": True}},
     NOT_SUITABLE, {"keloid_history", "active_acne", "darker_skin", "metal_allergy"}, None),
    ("an undated and a dated deferral",
     {"conditions": {"active_acne": True}, "procedures": {"dermal_filler": D(2026, 11, 28)}},
     DEFER, {"active_acne", "dermal_filler"}, D(2026, 12, 12)),
    # --- added in 2026.2 (issue 9, item 5) ---
    ("pacemaker with RF microneedling",
     {"conditions": {"implanted_device": True}, "device": "rf"},
     NOT_SUITABLE, {"rf_implanted_device"}, None),
    ("pacemaker with a pen", {"conditions": {"implanted_device": True}}, OK, set(), None),
    ("feeling unwell on the day", {"conditions": {"unwell_today": True}},
     DEFER, {"unwell_today"}, None),
    ("steroid cream on the area now", {"medications": {"topical_steroid": True}},
     DEFER, {"topical_steroid"}, None),
    ("steroid cream stopped 10 days before the planned date",
     {"medications": {"topical_steroid": {"current": False,
                                          "last_dose": days_before_planned(10)}}},
     DEFER, {"topical_steroid"}, days_before_planned(10) + dt.timedelta(days=14)),
    ("steroid cream stopped a month before", {"medications": {"topical_steroid": {
        "current": False, "last_dose": days_before_planned(30)}}}, OK, set(), None),
    ("acitretin two months ago",
     {"medications": {"oral_retinoid_other": {"current": False, "last_dose": D(2026, 10, 1)}}},
     PRECAUTION, {"oral_retinoid_other"}, None),
    ("fish oil", {"medications": {"bleeding_supplement": True}},
     PRECAUTION, {"bleeding_supplement"}, None),
    ("granuloma after earlier microneedling", {"conditions": {"granuloma_history": True}},
     DEFER, {"granuloma_history"}, None),
    ("allergy to chlorhexidine", {"allergies": {"antiseptic": True}},
     PRECAUTION, {"antiseptic_allergy"}, None),
    ("permanent make-up in the area", {"conditions": {"tattoo_area": True}},
     PRECAUTION, {"tattoo_area"}, None),
    ("stable vitiligo", {"conditions": {"vitiligo_stable": True}},
     PRECAUTION, {"vitiligo_stable"}, None),
    ("spreading vitiligo still defers", {"conditions": {"vitiligo_active": True}},
     DEFER, {"inflammatory_flare"}, None),
]


@pytest.mark.parametrize(
    ("overrides", "verdict", "rules", "defer_until"),
    [pytest.param(o, v, r, d, id=name) for name, o, v, r, d in VIGNETTES],
)
def test_vignette(overrides: dict[str, Any], verdict: Verdict, rules: set[str],
                  defer_until: dt.date | None) -> None:
    result = screen(make_intake(**overrides))
    assert result.verdict is verdict
    assert rule_ids(result) == rules
    assert result.defer_until == defer_until
    if verdict is not OK:
        assert result.reasons or result.unanswered


def test_a_healthy_fully_answered_intake_is_suitable_with_nothing_to_say() -> None:
    result = screen(make_intake())
    assert result.verdict is OK
    assert result.reasons == []
    assert result.unanswered == []
    assert result.precautions == []
    assert result.resolve_when == []
    assert result.information == []
    assert result.defer_until is None
    assert (result.assessed_on, result.planned_date) == (ASSESSED_ON, PLANNED_DATE)
    assert (result.protocol.name, result.protocol.version) == ("microneedling", "2026.2")


def test_keloid_is_not_suitable_on_cited_evidence() -> None:
    result = screen(make_intake(conditions={"keloid_history": True}))
    keloid = reason(result, "keloid_history")
    assert keloid.evidence is Evidence.CITED
    assert keloid.basis == "evidence"
    assert [s.key for s in keloid.sources] == ["minutilli2024"]
    assert keloid.facts == ["condition:keloid_history"]
    assert not keloid.patient.endswith(CLINIC_POLICY_NOTE)


def test_active_acne_defers_until_it_is_controlled() -> None:
    result = screen(make_intake(conditions={"active_acne": True}))
    assert result.defer_until is None
    assert result.resolve_when == ["the active acne is controlled"]
    assert reason(result, "active_acne").resolve_when == "the active acne is controlled"


def test_filler_reason_carries_its_own_date() -> None:
    filler = D(2026, 11, 28)
    result = screen(make_intake(procedures={"dermal_filler": filler}))
    found = reason(result, "dermal_filler")
    assert found.defer_until == D(2026, 12, 12)
    assert found.resolve_when == ""
    assert found.facts == ["procedure:dermal_filler"]
    assert found.patient.endswith(CLINIC_POLICY_NOTE)
    assert result.resolve_when == []


def test_isotretinoin_shows_both_sources_as_cited_evidence() -> None:
    """The rule is tagged [C] as a whole (consensus [C] + drug label [C-low]), so the output
    carries basis "evidence" and no limited-evidence caveat; the clinician text names both
    sources, and the label is visible as a secondary source."""
    result = screen(make_intake(
        medications={"isotretinoin": {"current": False, "last_dose": D(2026, 10, 1)}}))
    iso = reason(result, "isotretinoin")
    assert [s.key for s in iso.sources] == ["spring2017", "isotretinoin_label"]
    assert {s.key: s.kind for s in iso.sources}["isotretinoin_label"] == "secondary"
    assert iso.evidence is Evidence.CITED
    assert iso.basis == "evidence"
    assert LIMITED_EVIDENCE_NOTE not in iso.clinician
    assert "spring2017" in iso.clinician
    assert "isotretinoin_label" in iso.clinician
    assert "6-month deferral" in iso.precaution
    assert iso.precaution in result.precautions
    assert iso.defer_until is None


def test_pregnancy_defers_until_after_delivery_as_clinic_policy() -> None:
    result = screen(make_intake(conditions={"pregnancy": True}))
    preg = reason(result, "pregnancy")
    assert preg.resolve_when == "after delivery"
    assert result.resolve_when == ["after delivery"]
    assert preg.basis == "clinic_policy"
    assert preg.patient.endswith(CLINIC_POLICY_NOTE)
    assert preg.patient.count(CLINIC_POLICY_NOTE) == 1


def test_darker_skin_cites_chu_and_dogra() -> None:
    result = screen(make_intake(fitzpatrick=5))
    darker = reason(result, "darker_skin")
    assert [s.key for s in darker.sources] == ["chu2021", "dogra2014"]
    assert darker.facts == ["fitzpatrick:5"]
    assert "photoprotection" in darker.precaution


def test_cold_sore_history_asks_for_an_antiviral_decision() -> None:
    result = screen(make_intake(conditions={"cold_sore_history": True}, zones=["perioral"]))
    assert "antiviral" in result.precautions[0]


def test_rf_over_metal_is_not_suitable_whatever_the_zone() -> None:
    result = screen(make_intake(conditions={"metal_implants_area": True}, device="rf",
                                zones=["scalp"]))
    assert rule_ids(result) == {"rf_over_metal"}


def test_a_procedure_without_a_date_is_unanswered_and_counted_from_assessment() -> None:
    result = screen(make_intake(procedures={"botulinum_toxin": True}))
    assert "procedures.botulinum_toxin.date" in unanswered(result)
    assert result.defer_until == ASSESSED_ON + dt.timedelta(days=14)
    assert result.defer_until > result.planned_date


def test_an_old_procedure_without_a_date_still_keeps_a_precaution() -> None:
    """Planned long after the assessment, the wait is over even from the assessment day, but
    the missing date still keeps the verdict from "suitable"."""
    result = screen(make_intake(planned_date=D(2027, 3, 1), procedures={"botulinum_toxin": True}))
    assert result.reasons == []
    assert unanswered(result) == {"procedures.botulinum_toxin.date"}
    assert result.verdict is PRECAUTION


def test_a_stopped_medication_without_a_date_is_counted_from_assessment() -> None:
    result = screen(make_intake(medications={"isotretinoin": {"current": False}}))
    assert "medications.isotretinoin.last_dose" in unanswered(result)
    assert rule_ids(result) == {"isotretinoin"}
    assert result.verdict is PRECAUTION


def test_nothing_answered_is_never_suitable() -> None:
    result = screen(Intake(assessed_on=ASSESSED_ON, planned_date=PLANNED_DATE))
    assert result.verdict is PRECAUTION
    assert result.reasons == []
    fields = unanswered(result)
    assert len(fields) >= 40
    assert {"conditions.keloid_history", "medications.isotretinoin", "allergies.nickel",
            "procedures.dermal_filler", "fitzpatrick"} <= fields
    assert len(fields) == len(result.unanswered), "each field is listed once"
    rules = set(default_rules())
    assert {u.rule for u in result.unanswered} <= rules


def default_rules() -> dict[str, Any]:
    return dict(load_protocol().data.screening.rules)


@pytest.mark.parametrize("question", [
    ("conditions", "keloid_history"),
    ("conditions", "pregnancy"),
    ("medications", "anticoagulant"),
    ("procedures", "dermal_filler"),
    ("allergies", "nickel"),
])
def test_one_missing_answer_keeps_a_precaution(question: tuple[str, str]) -> None:
    section, code = question
    result = screen(make_intake(**{section: {code: UNANSWERED}}))
    assert result.verdict is PRECAUTION
    assert result.reasons == []
    assert unanswered(result) == {f"{section}.{code}"}


def test_missing_skin_type_keeps_a_precaution() -> None:
    result = screen(make_intake(fitzpatrick=None))
    assert result.verdict is PRECAUTION
    assert unanswered(result) == {"fitzpatrick"}


def test_a_missing_answer_does_not_lower_a_stricter_verdict() -> None:
    result = screen(make_intake(conditions={"keloid_history": True, "pregnancy": UNANSWERED}))
    assert result.verdict is NOT_SUITABLE
    assert unanswered(result) == {"conditions.pregnancy"}


def test_a_zone_rule_with_zones_undecided_fires_and_asks_for_zones() -> None:
    result = screen(make_intake(conditions={"cold_sore_history": True}, zones=[]))
    assert rule_ids(result) == {"cold_sore_history"}
    assert unanswered(result) == {"zones"}
    assert result.verdict is PRECAUTION


def test_a_device_rule_with_the_device_undecided_fires_and_asks_for_the_device() -> None:
    result = screen(make_intake(conditions={"metal_implants_area": True}, device=None))
    assert rule_ids(result) == {"rf_over_metal"}
    assert unanswered(result) == {"device"}
    assert result.verdict is NOT_SUITABLE


def test_questions_of_a_rule_that_cannot_apply_are_not_unanswered() -> None:
    """Cold-sore history only matters around the mouth, and metal implants only for RF: with
    a forehead-only pen treatment, a blank there must not screen worse than a "yes"."""
    blank = make_intake(zones=["forehead"], device="pen",
                        conditions={"cold_sore_history": UNANSWERED,
                                    "metal_implants_area": UNANSWERED})
    yes = make_intake(zones=["forehead"], device="pen",
                      conditions={"cold_sore_history": True, "metal_implants_area": True})
    assert screen(blank).verdict is OK
    assert screen(blank).unanswered == []
    assert screen(yes).verdict is OK


def test_under_22_is_information_only() -> None:
    result = screen(make_intake(date_of_birth=D(2005, 1, 1)))
    assert [i.code for i in result.information] == ["under_authorised_age"]
    assert "not a contraindication" in result.information[0].text
    assert [s.key for s in result.information[0].sources] == ["fda_mn"]


def test_age_is_counted_on_the_planned_date() -> None:
    turns_22 = PLANNED_DATE.replace(year=PLANNED_DATE.year - 22)
    assert screen(make_intake(date_of_birth=turns_22)).information == []
    day_later = turns_22 + dt.timedelta(days=1)
    assert [i.code for i in screen(make_intake(date_of_birth=day_later)).information] == [
        "under_authorised_age"]


def test_off_label_use_is_information_only() -> None:
    result = screen(make_intake(indications=["fine_lines"], zones=["neck"]))
    assert [i.code for i in result.information] == ["off_label"]
    assert "not a contraindication" in result.information[0].text


@pytest.mark.parametrize(("indications", "zones"), [
    (["acne_scars"], ["cheeks", "forehead"]),
    (["fine_lines"], ["periorbital"]),
    (["surgical_scars"], ["body"]),
])
def test_authorised_uses_carry_no_information(indications: list[str], zones: list[str]) -> None:
    assert screen(make_intake(indications=indications, zones=zones)).information == []


@pytest.mark.parametrize(("indications", "zones"), [
    (["stretch_marks"], ["body"]),
    (["hair_loss"], ["scalp"]),
    (["dyschromia_melasma"], ["cheeks"]),
    (["acne_scars"], ["cheeks", "decolletage"]),
])
def test_off_label_uses_are_flagged_once(indications: list[str], zones: list[str]) -> None:
    info = screen(make_intake(indications=indications, zones=zones)).information
    assert [i.code for i in info] == ["off_label"]


def test_reasons_are_sorted_most_restrictive_first() -> None:
    result = screen(make_intake(
        conditions={"keloid_history": True, "active_acne": True, "pregnancy": True},
        fitzpatrick=6, allergies={"nickel": True}, medications={"anticoagulant": True},
        procedures={"dermal_filler": D(2026, 11, 28)}))
    ranks = [r.verdict.rank for r in result.reasons]
    assert ranks == sorted(ranks, reverse=True)
    assert result.reasons[0].rule == "keloid_history"
    assert result.verdict is NOT_SUITABLE
    assert result.verdict is max((r.verdict for r in result.reasons), key=lambda v: v.rank)


def test_not_suitable_has_no_defer_date_but_the_deferral_reason_keeps_its_own() -> None:
    result = screen(make_intake(conditions={"keloid_history": True},
                                procedures={"dermal_filler": D(2026, 11, 28)}))
    assert result.verdict is NOT_SUITABLE
    assert result.defer_until is None
    assert reason(result, "dermal_filler").defer_until == D(2026, 12, 12)


def test_precautions_are_collected_in_reason_order() -> None:
    result = screen(make_intake(fitzpatrick=4, allergies={"nickel": True},
                                medications={"anticoagulant": True}))
    assert result.precautions == [r.precaution for r in result.reasons]
    assert any("Never advise" in p for p in result.precautions)


def test_every_precaution_names_what_it_is_about() -> None:
    result = screen(make_intake(medications={"isotretinoin": True, "bleeding_supplement": True},
                                conditions={"tattoo_area": True}))
    assert [p.split(":")[0] for p in result.precautions] == [
        "Isotretinoin now or within 6 months", "Supplements that affect bleeding (fish oil, "
        "ginkgo, garlic, vitamin E)", "Tattoo or permanent make-up in the area"]


def test_bleeding_supplements_are_not_to_be_stopped_as_a_rule() -> None:
    found = reason(screen(make_intake(medications={"bleeding_supplement": True})),
                   "bleeding_supplement")
    assert "not encoded as advice" in found.precaution
    assert "stop" not in found.patient.lower()


def test_a_new_policy_rule_says_it_is_clinic_policy() -> None:
    found = reason(screen(make_intake(conditions={"unwell_today": True})), "unwell_today")
    assert found.basis == "clinic_policy"
    assert found.patient.endswith(CLINIC_POLICY_NOTE)
    assert found.resolve_when == "the patient is well and free of fever"


def test_an_unanswered_new_question_keeps_a_precaution() -> None:
    result = screen(make_intake(conditions={"unwell_today": UNANSWERED}))
    assert result.verdict is PRECAUTION
    assert unanswered(result) == {"conditions.unwell_today"}


class TestAnEarlierProtocolVersion:
    """Intakes can still be screened under 2026.1, which knows only its own questions."""

    @staticmethod
    def old_intake(**overrides: Any) -> Intake:
        intake = make_intake(**overrides)
        return intake.model_copy(update={
            section: {code: answer for code, answer in getattr(intake, section).items()
                      if vocab.FACT_CATEGORIES[category][code].since == 1}
            for section, category in (("conditions", "condition"),
                                      ("medications", "medication"),
                                      ("procedures", "procedure"), ("allergies", "allergy"))})

    def test_an_intake_of_its_own_questions_is_screened(self) -> None:
        from needlecare.clinical.protocol.loader import protocol_by_version

        first = protocol_by_version("microneedling-2026.1")
        result = screen(self.old_intake(medications={"isotretinoin": True}), first)
        assert result.protocol.version == "2026.1"
        assert result.verdict is PRECAUTION
        assert result.unanswered == []
        # 2026.1's precaution text, as it was shown then.
        assert result.precautions == [first.data.screening.rules["isotretinoin"].precaution]

    def test_a_question_it_did_not_ask_is_refused_not_ignored(self) -> None:
        from needlecare.clinical.protocol.loader import protocol_by_version

        first = protocol_by_version("microneedling-2026.1")
        with pytest.raises(ValueError, match=r"condition 'implanted_device' is not part of "
                                             r"protocol microneedling-2026\.1"):
            screen(make_intake(), first)


def test_anticoagulants_are_never_to_be_stopped() -> None:
    result = screen(make_intake(medications={"antiplatelet": True}))
    found = reason(result, "anticoagulant_or_antiplatelet")
    assert found.facts == ["medication:antiplatelet"]
    assert "Keep taking it exactly as prescribed" in found.patient


def test_policy_reasons_say_so_and_cited_ones_do_not() -> None:
    result = screen(make_intake(
        conditions={"pregnancy": True, "keloid_history": True, "breastfeeding": True},
        fitzpatrick=5))
    for r in result.reasons:
        assert r.patient.endswith(CLINIC_POLICY_NOTE) == (r.evidence is Evidence.PRACTICE)
        assert (r.basis == "clinic_policy") == (r.evidence is Evidence.PRACTICE)


def test_limited_evidence_is_shown_with_its_caveat(tmp_path: Path) -> None:
    """No shipped screening rule is [C-low]; a protocol with one shows the caveat."""
    text = DEFAULT_PROTOCOL.read_text(encoding="utf-8")
    block = text[text.index("[screening.rules.metal_allergy]"):]
    block = block[:block.index("\n[")]
    changed = text.replace(block, block.replace('evidence = "C"', 'evidence = "C-low"'))
    path = tmp_path / "protocol.toml"
    path.write_text(changed, encoding="utf-8")
    result = screen(make_intake(allergies={"nickel": True}), load_protocol(path))
    metal = reason(result, "metal_allergy")
    assert metal.basis == "limited_evidence"
    assert metal.clinician.endswith(f"({LIMITED_EVIDENCE_NOTE})")
    assert result.verdict is PRECAUTION


def test_a_current_medication_with_a_clinic_deferral_waits_until_it_is_stopped(
        tmp_path: Path) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text('[screening.rules.isotretinoin]\nverdict = "defer"\n', encoding="utf-8")
    result = screen(make_intake(medications={"isotretinoin": True}),
                    load_protocol(overrides=path))
    assert result.verdict is DEFER
    assert result.defer_until is None
    assert result.resolve_when == ["182 days after it is stopped"]


def test_a_stopped_medication_without_a_date_defers_under_a_clinic_deferral(
        tmp_path: Path) -> None:
    path = tmp_path / "clinic.toml"
    path.write_text('[screening.rules.isotretinoin]\nverdict = "defer"\n', encoding="utf-8")
    result = screen(make_intake(medications={"isotretinoin": {"current": False}}),
                    load_protocol(overrides=path))
    assert result.verdict is DEFER
    assert result.defer_until == ASSESSED_ON + dt.timedelta(days=182)
    assert "medications.isotretinoin.last_dose" in unanswered(result)


def test_every_reason_cites_sources_from_the_bibliography() -> None:
    everything = make_intake(
        conditions=dict.fromkeys(vocab.CONDITIONS, True),
        medications=dict.fromkeys(vocab.MEDICATIONS, True),
        procedures=dict.fromkeys(vocab.PROCEDURES, True),
        allergies=dict.fromkeys(vocab.ALLERGIES, True),
        fitzpatrick=6, device="rf", zones=["perioral"], date_of_birth=D(2010, 1, 1),
        indications=["hair_loss"])
    result = screen(everything)
    bib = load_protocol().data.bibliography
    assert len(result.reasons) >= 30
    items: list[Reason | Information] = [*result.reasons, *result.information]
    for r in items:
        assert r.sources
        for s in r.sources:
            assert s.key in bib
            assert (s.citation, s.link, s.kind) == (bib[s.key].citation, bib[s.key].link,
                                                     bib[s.key].kind)


# --- the intake document -------------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], list[str]]] = [
    ("unknown condition code", {"conditions": {"keloids": True}},
     ["conditions", "unknown condition 'keloids'"]),
    ("unknown medication code", {"medications": {"roaccutane": True}},
     ["medications", "unknown medication 'roaccutane'"]),
    ("unknown zone", {"zones": ["lips"]}, ["zones", "unknown zone 'lips'"]),
    ("planned before assessed", {"planned_date": D(2026, 11, 30)},
     ["planned_date is before assessed_on"]),
    ("last dose in the future",
     {"medications": {"isotretinoin": {"current": False, "last_dose": D(2026, 12, 2)}}},
     ["medications.isotretinoin.last_dose is in the future"]),
    ("procedure after the assessment", {"procedures": {"dermal_filler": D(2026, 12, 2)}},
     ["procedures.dermal_filler is dated after assessed_on"]),
    ("born after the assessment", {"date_of_birth": D(2026, 12, 2)},
     ["date_of_birth is after assessed_on"]),
    ("Fitzpatrick 7", {"fitzpatrick": 7}, ["fitzpatrick", "less than or equal to 6"]),
    ("Fitzpatrick 0", {"fitzpatrick": 0}, ["fitzpatrick", "greater than or equal to 1"]),
    ("Fitzpatrick true (the bool trap)", {"fitzpatrick": True},
     ["fitzpatrick", "valid integer"]),
    ("Fitzpatrick as text", {"fitzpatrick": "5"}, ["fitzpatrick", "valid integer"]),
    ("a condition answered 1 instead of true", {"conditions": {"pregnancy": 1}},
     ["conditions.pregnancy", "valid boolean"]),
    ("a condition answered 'yes'", {"conditions": {"pregnancy": "yes"}},
     ["conditions.pregnancy", "valid boolean"]),
    ("a medication answer without 'current'",
     {"medications": {"isotretinoin": {"last_dose": D(2026, 10, 1)}}},
     ["medications.isotretinoin", "current"]),
    ("an unknown field", {"alergies": {"nickel": True}}, ["alergies", "Extra inputs"]),
    ("a wrong schema", {"schema": "needlecare.intake/2"}, ["schema"]),
]


@pytest.mark.parametrize(("overrides", "fragments"),
                         [pytest.param(o, f, id=name) for name, o, f in INVALID])
def test_an_invalid_intake_is_refused_naming_the_field(overrides: dict[str, Any],
                                                       fragments: list[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        make_intake(**overrides)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message


def test_an_intake_round_trips_through_json() -> None:
    intake = make_intake(procedures={"dermal_filler": D(2026, 11, 28)},
                         medications={"isotretinoin": {"current": False,
                                                       "last_dose": D(2026, 10, 1)}})
    document = intake.model_dump_json(by_alias=True)
    assert f'"schema":"{INTAKE_SCHEMA}"' in document
    again = Intake.model_validate_json(document)
    assert again == intake
    assert screen(again) == screen(intake)


def test_the_result_is_a_versioned_json_document() -> None:
    result = screen(make_intake(conditions={"pregnancy": True}))
    document = result.model_dump(mode="json", by_alias=True)
    assert document["schema"] == RESULT_SCHEMA
    assert document["verdict"] == "defer"
    assert document["reasons"][0]["basis"] == "clinic_policy"
    assert ScreeningResult.model_validate(document) == result


def test_screening_uses_the_shipped_protocol_by_default() -> None:
    intake = make_intake(conditions={"active_acne": True})
    assert screen(intake) == screen(intake, load_protocol())
