"""The outcome-measures loader and clinic questionnaires: what they refuse, and how they say
where (``FILE:LINE: dotted.place: message``), one mutation of the shipped text at a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from needlecare.clinical.outcomes import RecordedOutcome, assessment_schedule, validate_outcome
from needlecare.clinical.protocol.datafile import DataFileError
from needlecare.clinical.protocol.outcomes_loader import (
    DEFAULT_OUTCOMES,
    default_outcomes,
    load_outcomes,
    load_questionnaire,
)

from .test_protocol_loader import add_key, assert_problem, drop_key, line_of, set_key, write

SHIPPED = DEFAULT_OUTCOMES.read_text(encoding="utf-8")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "clinic-questionnaire.toml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")

Mutation = Callable[[str], str]


def problems_of(path: Path) -> list[str]:
    with pytest.raises(DataFileError) as caught:
        load_outcomes(path)
    return caught.value.problems


def questionnaire_problems(path: Path) -> list[str]:
    with pytest.raises(DataFileError) as caught:
        load_questionnaire(path)
    return caught.value.problems


def test_the_shipped_file_loads_once() -> None:
    assert load_outcomes().data == default_outcomes().data
    assert default_outcomes() is default_outcomes()
    assert default_outcomes().label == "outcomes-2026.1"


def test_the_helpers_round_trip(tmp_path: Path) -> None:
    text = set_key(SHIPPED, "measures.glogau", "better", '"lower"')
    assert load_outcomes(write(tmp_path, text)).data == default_outcomes().data


REFUSALS: list[tuple[str, Mutation, str, tuple[str, str | None], str]] = [
    ("unknown key in a measure",
     lambda t: add_key(t, "measures.glogau", "colour", '"red"'),
     "measures.glogau.colour", ("measures.glogau", "colour"), "unknown key"),
    ("unknown key in an item",
     lambda t: add_key(t, "measures.vancouver_scar_scale.items.height", "maxx", "3"),
     "measures.vancouver_scar_scale.items.height.maxx",
     ("measures.vancouver_scar_scale.items.height", "maxx"), "unknown key"),
    ("a measure without sources",
     lambda t: drop_key(t, "measures.goodman_baron_grade", "sources"),
     "measures.goodman_baron_grade.sources", ("measures.goodman_baron_grade", None),
     "required key is missing"),
    ("a measure with empty sources",
     lambda t: set_key(t, "measures.posas_observer", "sources", "[]"),
     "measures.posas_observer.sources", ("measures.posas_observer", "sources"),
     "at least 1 item"),
    ("a source not in the bibliography",
     lambda t: set_key(t, "measures.posas_observer", "sources",
                       '["draaijers2004", "posas2099"]'),
     "measures.posas_observer.sources.1", ("measures.posas_observer", "sources"),
     "source 'posas2099' is not in the bibliography"),
    ("[C] on a practice-only source",
     lambda t: set_key(t, "measures.satisfaction", "evidence", '"C"'),
     "measures.satisfaction.evidence", ("measures.satisfaction", "evidence"),
     "[C] needs a peer-reviewed or regulatory source"),
    ("an inverted item range",
     lambda t: set_key(t, "measures.glogau.items.type", "min", "5"),
     "measures.glogau.items.type.min", ("measures.glogau.items.type", "min"),
     "inverted range 5–4"),
    ("a declared total the items do not give",
     lambda t: set_key(t, "measures.vancouver_scar_scale", "total_max", "14"),
     "measures.vancouver_scar_scale.total_max", ("measures.vancouver_scar_scale", "total_max"),
     "declared 14, but the items' ranges give 13"),
    ("an item range that breaks the declared total",
     lambda t: set_key(t, "measures.vancouver_scar_scale.items.pliability", "max", "4"),
     "measures.vancouver_scar_scale.total_max", ("measures.vancouver_scar_scale", "total_max"),
     "declared 13, but the items' ranges give 12"),
    ("a level outside the item's range",
     lambda t: set_key(t, "measures.satisfaction.items.satisfaction", "levels",
                       '{ 0 = "Not at all", 11 = "Beyond" }'),
     "measures.satisfaction.items.satisfaction.levels",
     ("measures.satisfaction.items.satisfaction", "levels"), "level(s) 11 outside the range"),
    ("a value with no label on a fully labelled scale",
     lambda t: set_key(t, "measures.glogau.items.type", "max", "5"),
     "measures.glogau.items.type.levels", ("measures.glogau.items.type.levels", None),
     "no label for value(s) 5"),
    ("an unknown indication",
     lambda t: set_key(t, "measures.glogau", "indications", '["wrinkles"]'),
     "measures.glogau.indications.0", ("measures.glogau", "indications"),
     "unknown indication code 'wrinkles'"),
    ("a patient measure without the patient's question",
     lambda t: drop_key(t, "measures.gais_patient", "patient"),
     "measures.gais_patient.patient", ("measures.gais_patient", None),
     "needs the text the patient reads"),
    ("a rating of change without its neutral value",
     lambda t: drop_key(t, "measures.gais_clinician", "rated_neutral"),
     "measures.gais_clinician.rated_neutral", ("measures.gais_clinician", None),
     "needs its 'no change' value"),
    ("a score item that is optional",
     lambda t: add_key(t, "measures.glogau.items.type", "required", "false"),
     "measures.glogau.items.type.required", ("measures.glogau.items.type", "required"),
     "must be required"),
    ("a schedule point naming an unknown measure",
     lambda t: set_key(t, "schedule.four_weeks_after", "measures",
                       '["gais_patient", "face_q"]'),
     "schedule.four_weeks_after.measures.1", ("schedule.four_weeks_after", "measures"),
     "unknown measure 'face_q'"),
    ("a rating of change asked at baseline",
     lambda t: set_key(t, "schedule.baseline", "measures", '["glogau", "gais_patient"]'),
     "schedule.baseline.measures", ("schedule.baseline", "measures"),
     "cannot be asked before the first session"),
    ("an unknown anchor",
     lambda t: set_key(t, "schedule.six_months_after", "anchor", '"second_session"'),
     "schedule.six_months_after.anchor", ("schedule.six_months_after", "anchor"),
     "Input should be"),
    ("a reminder after the window closes",
     lambda t: set_key(t, "invitations", "reminder_after_days", "20"),
     "invitations.reminder_after_days", ("invitations", "reminder_after_days"),
     "before the answer window closes"),
    ("[P] patient text claiming evidence",
     lambda t: set_key(t, "measures.satisfaction", "patient",
                       '"Research shows that rating your satisfaction helps."'),
     "measures.satisfaction.patient", ("measures.satisfaction", "patient"),
     "must not present itself as evidence"),
    ("severity grades with a gap",
     lambda t: t.replace("[adverse_events.severity.grades.4]",
                         "[adverse_events.severity.grades.7]"),
     "adverse_events.severity.grades", ("adverse_events.severity.grades.1", None),
     "grades must be numbered 1, 2, 3"),
    ("a score of true (bool trap)",
     lambda t: set_key(t, "measures.glogau.items.type", "max", "true"),
     "measures.glogau.items.type.max", ("measures.glogau.items.type", "max"), "valid integer"),
]


@pytest.mark.parametrize(("mutation", "place", "where", "fragment"),
                         [pytest.param(m, p, w, f, id=name) for name, m, p, w, f in REFUSALS])
def test_a_doubtful_outcome_file_is_refused_naming_file_line_and_place(
        tmp_path: Path, mutation: Mutation, place: str, where: tuple[str, str | None],
        fragment: str) -> None:
    text = mutation(SHIPPED)
    assert text != SHIPPED
    path = write(tmp_path, text, "outcomes.toml")
    assert_problem(problems_of(path), path, line_of(text, *where), place, fragment)


def test_a_measure_no_point_asks_for_is_refused(tmp_path: Path) -> None:
    text = SHIPPED
    for point in ("baseline", "each_session", "three_months_after", "six_months_after"):
        lines = text.splitlines()
        index = line_of(text, f"schedule.{point}", "measures") - 1
        lines[index] = lines[index].replace('"glogau", ', "").replace(', "glogau"', "")
        text = "\n".join(lines) + "\n"
    path = write(tmp_path, text, "outcomes.toml")
    assert_problem(problems_of(path), path, line_of(text, "measures.glogau"), "measures.glogau",
                   "is never scheduled")


# --- clinic-loaded questionnaires ---------------------------------------------------------

def test_the_example_questionnaire_loads_and_joins_the_schedule() -> None:
    questionnaire = load_questionnaire(EXAMPLE)
    outcomes = default_outcomes().with_questionnaires(questionnaire)
    assert "example_skin_appearance" in outcomes.measures
    assert "example_skin_appearance" not in default_outcomes().measures
    scored = validate_outcome(RecordedOutcome.model_validate({
        "measure": "example_skin_appearance", "assessed_on": "2026-12-01",
        "values": {"smoothness": 3, "evenness": 4}}), outcomes)
    assert (scored.raw_score, scored.score, scored.score_max) == (7, 83, 100)
    assert [s.key for s in scored.sources] == ["example_source"]
    schedule = assessment_schedule([default_date()], ["acne_scars"], outcomes)
    baseline = next(a for a in schedule if a.point == "baseline")
    assert baseline.patient_measures == ["example_skin_appearance"]
    assert baseline.invite_patient


def default_date() -> dt.date:
    return dt.date(2026, 12, 1)


def test_a_questionnaire_cannot_take_a_shipped_measures_key(tmp_path: Path) -> None:
    text = set_key(EXAMPLE_TEXT, "questionnaire", "key", '"satisfaction"')
    questionnaire = load_questionnaire(write(tmp_path, text, "q.toml"))
    with pytest.raises(DataFileError, match="a measure with this key already exists"):
        default_outcomes().with_questionnaires(questionnaire)


QUESTIONNAIRE_REFUSALS: list[tuple[str, Mutation, str, tuple[str, str | None], str]] = [
    ("no licence statement",
     lambda t: drop_key(t, "questionnaire", "licence"),
     "questionnaire.licence", ("questionnaire", None), "required key is missing"),
    ("unknown key",
     lambda t: add_key(t, "questionnaire", "scoring", '"rasch"'),
     "questionnaire.scoring", ("questionnaire", "scoring"), "unknown key"),
    ("a source not in its bibliography",
     lambda t: set_key(t, "questionnaire", "sources", '["klassen2016"]'),
     "questionnaire.sources.0", ("questionnaire", "sources"),
     "source 'klassen2016' is not in the bibliography"),
    ("an unknown schedule point",
     lambda t: set_key(t, "questionnaire", "points", '["baseline", "one_year_after"]'),
     "questionnaire.points.1", ("questionnaire", "points"),
     "unknown schedule point 'one_year_after'"),
    ("a conversion table with a gap",
     lambda t: t.replace("5 = 50\n", ""),
     "questionnaire.conversion", ("questionnaire.conversion", None),
     "no reported score for raw total(s) 5"),
    ("a bad item range",
     lambda t: set_key(t, "questionnaire.items.evenness", "min", "9"),
     "questionnaire.items.evenness.min", ("questionnaire.items.evenness", "min"),
     "inverted range 9–4"),
]


@pytest.mark.parametrize(("mutation", "place", "where", "fragment"),
                         [pytest.param(m, p, w, f, id=name)
                          for name, m, p, w, f in QUESTIONNAIRE_REFUSALS])
def test_a_doubtful_questionnaire_is_refused_naming_file_line_and_place(
        tmp_path: Path, mutation: Mutation, place: str, where: tuple[str, str | None],
        fragment: str) -> None:
    text = mutation(EXAMPLE_TEXT)
    assert text != EXAMPLE_TEXT
    path = write(tmp_path, text, "questionnaire.toml")
    assert_problem(questionnaire_problems(path), path, line_of(text, *where), place, fragment)
