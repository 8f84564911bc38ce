"""The shipped outcome measures: one test per scale (its range, its required items, its source
present and resolving), and the scales as the clinical reference describes them (§5)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from needlecare.clinical.outcomes import InvalidOutcome, RecordedOutcome, validate_outcome
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.clinical.protocol.outcomes_loader import default_outcomes, total_range
from needlecare.clinical.protocol.outcomes_schema import Measure
from needlecare.clinical.vocabulary import Evidence

OUTCOMES = default_outcomes()
MEASURES = dict(OUTCOMES.data.measures)
REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "clinical" / "reference.md"
DAY = dt.date(2026, 12, 1)


def record(measure: str, **values: int) -> RecordedOutcome:
    return RecordedOutcome.model_validate(
        {"measure": measure, "assessed_on": DAY, "values": values})


def at(measure: Measure, end: str) -> dict[str, int]:
    return {key: getattr(item, end) for key, item in measure.items.items()}


# --- one test per scale: range, required items, sources ---------------------------------

@pytest.mark.parametrize("key", sorted(MEASURES))
def test_the_lowest_and_highest_answers_score_the_ends_of_the_range(key: str) -> None:
    measure = MEASURES[key]
    low, high = total_range(measure)
    assert validate_outcome(record(key, **at(measure, "min"))).score == low
    assert validate_outcome(record(key, **at(measure, "max"))).score == high
    if measure.total_min is not None:
        assert (measure.total_min, measure.total_max) == (low, high)


@pytest.mark.parametrize("key", sorted(MEASURES))
def test_a_value_outside_an_items_range_is_refused(key: str) -> None:
    measure = MEASURES[key]
    for item_key, item in measure.items.items():
        for wrong, words in ((item.min - 1, "below the minimum"), (item.max + 1,
                                                                   "above the maximum")):
            values = {**at(measure, "min"), item_key: wrong}
            with pytest.raises(InvalidOutcome) as caught:
                validate_outcome(record(key, **values))
            assert caught.value.problems == [f"values.{item_key}: {wrong} is {words} "
                                             f"{item.min if wrong < item.min else item.max}"]


@pytest.mark.parametrize("key", sorted(MEASURES))
def test_every_required_item_must_be_answered(key: str) -> None:
    measure = MEASURES[key]
    required = [k for k, item in measure.items.items() if item.required]
    assert required
    with pytest.raises(InvalidOutcome) as caught:
        validate_outcome(record(key))
    assert caught.value.problems == [f"values.{k}: required" for k in required]


@pytest.mark.parametrize("key", sorted(MEASURES))
def test_every_scale_cites_sources_that_resolve(key: str) -> None:
    measure = MEASURES[key]
    assert measure.sources
    for source in measure.sources:
        assert source in OUTCOMES.bibliography
    kinds = {OUTCOMES.bibliography[s].kind for s in measure.sources}
    if measure.evidence is Evidence.CITED:
        assert kinds & {"peer_reviewed", "regulatory"}
    scored = validate_outcome(record(key, **at(measure, "min")))
    assert [s.key for s in scored.sources] == measure.sources
    assert all(s.citation for s in scored.sources)


@pytest.mark.parametrize("key", sorted(MEASURES))
def test_every_scale_is_scheduled_after_the_course(key: str) -> None:
    after = OUTCOMES.point_measures["three_months_after"]
    if MEASURES[key].change != "none":
        assert key in after
    assert key in OUTCOMES.point_measures["six_months_after"]


def test_an_item_the_measure_does_not_have_is_refused() -> None:
    with pytest.raises(InvalidOutcome) as caught:
        validate_outcome(record("glogau", type=2, ages=40))
    assert caught.value.problems == ["values.ages: not an item of glogau; its items are type"]


def test_booleans_are_not_scores() -> None:
    with pytest.raises(ValueError, match="valid integer"):
        record("goodman_baron_grade", grade=True)  # type: ignore[arg-type]


def test_an_unknown_measure_is_refused() -> None:
    with pytest.raises(InvalidOutcome, match="measure: unknown measure 'face_q'"):
        validate_outcome(record("face_q", q1=1))


# --- the scales as the reference describes them ------------------------------------------

def levels(key: str, item: str) -> dict[int, str]:
    return MEASURES[key].items[item].levels


def test_goodman_baron_qualitative_grades_one_to_four() -> None:
    m = MEASURES["goodman_baron_grade"]
    assert m.sources == ["goodman2006q"]
    assert m.evidence is Evidence.CITED
    assert m.indications == ["acne_scars"]
    assert m.respondent == "clinician"
    assert [t.split(":")[0] for t in levels("goodman_baron_grade", "grade").values()] == [
        "Macular", "Mild", "Moderate", "Severe"]
    assert "do not flatten" in levels("goodman_baron_grade", "grade")[4]


def test_scar_type_counts_are_icepick_boxcar_rolling() -> None:
    m = MEASURES["acne_scar_counts"]
    assert list(m.items) == ["icepick", "boxcar", "rolling"]
    assert all(item.min == 0 for item in m.items.values())
    assert m.indications == ["acne_scars"]
    scored = validate_outcome(record("acne_scar_counts", icepick=3, boxcar=10, rolling=0))
    assert scored.score == 13


def test_vancouver_scar_scale_items_and_total() -> None:
    m = MEASURES["vancouver_scar_scale"]
    assert {k: (i.min, i.max) for k, i in m.items.items()} == {
        "vascularity": (0, 3), "pigmentation": (0, 2), "pliability": (0, 5), "height": (0, 3)}
    assert total_range(m) == (0, 13)
    assert list(levels("vancouver_scar_scale", "pliability").values()) == [
        "Normal", "Supple", "Yielding", "Firm", "Banding", "Contracture"]
    # The reference tags the height cut-offs [V]: no millimetres are encoded.
    assert not re.search(r"\bmm\b", " ".join(levels("vancouver_scar_scale", "height").values()))
    assert m.items["height"].anchors_only


def test_posas_observer_six_items_and_a_separate_overall_opinion() -> None:
    m = MEASURES["posas_observer"]
    scored_items = [k for k, i in m.items.items() if i.in_total]
    assert scored_items == ["vascularity", "pigmentation", "thickness", "relief", "pliability",
                            "surface_area"]
    assert all((i.min, i.max) == (1, 10) for i in m.items.values())
    assert total_range(m) == (6, 60)
    values = dict.fromkeys(scored_items, 1) | {"overall_opinion": 10}
    assert validate_outcome(record("posas_observer", **values)).score == 6


def test_glogau_types_one_to_four_without_ages() -> None:
    m = MEASURES["glogau"]
    assert (m.items["type"].min, m.items["type"].max) == (1, 4)
    text = " ".join(levels("glogau", "type").values())
    assert "wrinkles in motion" in text
    assert "wrinkles at rest" in text
    assert not re.search(r"\d0s", text), "ages are [V] in the reference"


def test_global_aesthetic_improvement_has_clinician_and_patient_versions() -> None:
    clinician, patient = MEASURES["gais_clinician"], MEASURES["gais_patient"]
    assert (clinician.respondent, patient.respondent) == ("clinician", "patient")
    for m in (clinician, patient):
        assert m.change == "rated"
        assert m.better == "higher"
        assert list(m.items["rating"].levels.values()) == [
            "Worse", "No change", "Improved", "Much improved", "Very much improved"]
        assert m.items["rating"].levels[m.rated_neutral or 0] == "No change"
    assert patient.patient.endswith("?")


def test_satisfaction_zero_to_ten_is_clinic_policy() -> None:
    m = MEASURES["satisfaction"]
    assert (m.items["satisfaction"].min, m.items["satisfaction"].max) == (0, 10)
    assert m.evidence is Evidence.PRACTICE
    assert {OUTCOMES.bibliography[s].kind for s in m.sources} == {"practice"}
    assert "no peer-reviewed source" in m.what


def test_adverse_event_severity_is_ctcae_mild_to_death() -> None:
    sev = OUTCOMES.data.adverse_events.severity
    assert [g.label for _, g in sorted(sev.grades.items())] == [
        "Mild", "Moderate", "Severe", "Life-threatening", "Death"]
    assert sev.sources == ["ctcae5"]
    assert sev.serious_from == 3


def test_adverse_event_types_cover_the_references_table() -> None:
    """Reference §4.1: PIH, tram tracks, granuloma, contact dermatitis, hypersensitivity, HSV,
    bacterial and mycobacterial infection, acneiform flare, RF injuries."""
    types = OUTCOMES.data.adverse_events.types
    for code in ("pih", "tram_track", "granuloma", "contact_dermatitis",
                 "systemic_hypersensitivity", "hsv_reactivation", "bacterial_infection",
                 "mycobacterial_infection", "acneiform_eruption", "rf_injury", "other"):
        assert code in types
    assert types["other"].evidence is Evidence.PRACTICE


def test_no_licensed_questionnaire_is_shipped() -> None:
    shipped = OUTCOMES.path.read_text(encoding="utf-8").lower()
    names = " ".join(m.name.lower() for m in MEASURES.values())
    for licensed in ("face-q", "dlqi", "fasqol", "scars questionnaire"):
        assert licensed not in names
    assert "[questionnaire" not in shipped
    assert not OUTCOMES.questionnaire_files


# --- the bibliography --------------------------------------------------------------------

def test_keys_shared_with_the_protocol_have_the_same_citation() -> None:
    protocol = default_protocol().data.bibliography
    for key, citation in OUTCOMES.data.bibliography.items():
        if key in protocol:
            assert citation == protocol[key], key


def test_every_bibliography_key_is_cited() -> None:
    data = OUTCOMES.data
    used = {s for m in data.measures.values() for s in m.sources}
    used |= {s for p in data.schedule.values() for s in p.sources}
    used |= {s for t in data.adverse_events.types.values() for s in t.sources}
    used |= set(data.adverse_events.severity.sources) | set(data.invitations.sources)
    assert used == set(data.bibliography)


# Sources found for this file that the clinical reference does not list yet (each checked
# against its PubMed or publisher record; see the commit that added them).
NEW_SOURCES = {"vandekar2005", "narins2003", "alqam2022", "ctcae5", "clinic_practice"}


def test_every_other_key_is_in_the_clinical_reference() -> None:
    if not REFERENCE.is_file():
        pytest.skip("clinical reference not found beside the repository")
    text = REFERENCE.read_text(encoding="utf-8")
    section = text[text.index("## 9."):]
    keys = set(re.findall(r"^\| `([A-Za-z0-9_]+)` \|", section, re.MULTILINE))
    assert set(OUTCOMES.data.bibliography) - NEW_SOURCES <= keys
    assert not NEW_SOURCES & keys, "now in the reference: drop it from NEW_SOURCES"
