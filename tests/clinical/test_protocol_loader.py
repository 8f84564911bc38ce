"""The strict protocol loader: what it accepts, what it refuses, and how it says where.

Each refusal starts from the shipped TOML text, changes one thing, writes the result to
``tmp_path`` and checks that the error names the file, the line and the dotted place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from needlecare.clinical.common import CLINIC_POLICY_NOTE
from needlecare.clinical.protocol import loader
from needlecare.clinical.protocol.loader import (
    DEFAULT_LABEL,
    DEFAULT_PROTOCOL,
    PROTOCOL_DIR,
    Protocol,
    ProtocolError,
    available_versions,
    default_protocol,
    load_protocol,
    protocol_by_version,
)
from needlecare.clinical.screening import screen
from needlecare.clinical.vocabulary import EDITION, Evidence, Verdict

from .conftest import days_before_planned, make_intake

SHIPPED = DEFAULT_PROTOCOL.read_text(encoding="utf-8")


# --- editing the shipped TOML text -------------------------------------------------------

def _header_index(lines: list[str], table: str) -> int:
    header = f"[{table}]"
    found = [i for i, line in enumerate(lines) if line.strip() == header]
    assert len(found) == 1, f"expected one {header} in the protocol text"
    return found[0]


def _key_index(lines: list[str], table: str, key: str) -> int:
    start = _header_index(lines, table) + 1
    for i in range(start, len(lines)):
        if lines[i].startswith("["):
            break
        if lines[i].split("=", 1)[0].strip() == key:
            return i
    raise AssertionError(f"no {key} = in [{table}]")


def line_of(text: str, table: str, key: str | None = None) -> int:
    """1-based line of ``[table]`` or of ``key = …`` inside it."""
    lines = text.splitlines()
    index = _header_index(lines, table) if key is None else _key_index(lines, table, key)
    return index + 1


def set_key(text: str, table: str, key: str, value: str) -> str:
    lines = text.splitlines()
    lines[_key_index(lines, table, key)] = f"{key} = {value}"
    return "\n".join(lines) + "\n"


def add_key(text: str, table: str, key: str, value: str) -> str:
    lines = text.splitlines()
    lines.insert(_header_index(lines, table) + 1, f"{key} = {value}")
    return "\n".join(lines) + "\n"


def drop_key(text: str, table: str, key: str) -> str:
    lines = text.splitlines()
    del lines[_key_index(lines, table, key)]
    return "\n".join(lines) + "\n"


def drop_table(text: str, table: str) -> str:
    lines = text.splitlines()
    start = _header_index(lines, table)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    del lines[start:end]
    return "\n".join(lines) + "\n"


def add_table(text: str, before: str, body: str) -> str:
    lines = text.splitlines()
    at = _header_index(lines, before)
    lines[at:at] = [*body.strip().splitlines(), ""]
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str, name: str = "protocol.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path | None, overrides: Path | None = None) -> list[str]:
    with pytest.raises(ProtocolError) as caught:
        load_protocol(path, overrides)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def assert_problem(problems: list[str], file: Path, line: int, place: str, fragment: str) -> None:
    """One problem reads ``FILE:LINE: PLACE: …FRAGMENT…``."""
    prefix = f"{file}:{line}: {place}: "
    at_place = [p for p in problems if p.startswith(prefix)]
    assert at_place, f"no problem starting {prefix!r} in:\n" + "\n".join(problems)
    assert any(fragment in p for p in at_place), f"{fragment!r} not in {at_place}"


# --- the shipped file --------------------------------------------------------------------

def test_the_shipped_protocol_loads() -> None:
    protocol = load_protocol()
    assert isinstance(protocol, Protocol)
    assert protocol.label == "microneedling-2026.2"
    assert protocol.path == DEFAULT_PROTOCOL
    assert protocol.overrides_path is None
    assert protocol.data.protocol.effective == dt.date(2026, 12, 1)
    assert protocol.vocabulary == EDITION
    assert len(protocol.data.screening.rules) >= 30
    assert len(protocol.data.triage.rules) >= 20
    assert protocol.data.photo_redness is not None
    assert protocol.data.course is not None
    assert protocol.data.expectations is not None


# --- every shipped version, by its label ---------------------------------------------------

# The first shipped version, byte for byte: results stored under it are explained by it, so it
# must never be edited (a change goes into a new version).
FIRST_VERSION_SHA256 = "3f90e3ac3667da943663a701a84c16a7bc9185b21c466360481286296abe783e"


def test_every_shipped_version_is_listed_oldest_first() -> None:
    versions = available_versions()
    assert versions[:2] == ["microneedling-2026.1", "microneedling-2026.2"]
    assert versions[-1] == DEFAULT_LABEL


@pytest.mark.parametrize("label", available_versions())
def test_every_shipped_version_loads_by_its_label_once(label: str) -> None:
    protocol = protocol_by_version(label)
    assert protocol.label == label
    assert protocol.path == PROTOCOL_DIR / f"{label}.toml"
    assert protocol_by_version(label) is protocol


def test_the_default_protocol_is_the_default_version() -> None:
    assert default_protocol() is protocol_by_version(DEFAULT_LABEL)


def test_the_first_version_is_unchanged() -> None:
    import hashlib

    text = (PROTOCOL_DIR / "microneedling-2026.1.toml").read_bytes()
    assert hashlib.sha256(text).hexdigest() == FIRST_VERSION_SHA256


def test_the_first_version_keeps_its_own_rules() -> None:
    first = protocol_by_version("microneedling-2026.1")
    assert first.vocabulary == 1
    assert first.data.triage.rules["pain_worsening_early"].level == "contact_clinic"
    assert default_protocol().data.triage.rules["pain_worsening_early"].level == "urgent"
    assert first.data.photo_redness is None
    assert first.data.course is None
    assert "faint_or_dizzy" not in {f for r in first.data.triage.rules.values()
                                    for f in r.red_flags}


@pytest.mark.parametrize("label", ["microneedling-1999.1", "../protocol/microneedling-2026.1",
                                   "microneedling-2026.1.toml", ""])
def test_an_unknown_version_is_refused_naming_the_shipped_ones(label: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        protocol_by_version(label)
    (problem,) = caught.value.problems
    assert "no shipped protocol" in problem
    assert "microneedling-2026.1, microneedling-2026.2" in problem


def test_a_file_that_names_another_version_is_refused(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, SHIPPED, name="microneedling-2099.1.toml")
    monkeypatch.setattr(loader, "PROTOCOL_DIR", tmp_path)
    with pytest.raises(ProtocolError, match=r"names itself 'microneedling-2026\.2'"):
        protocol_by_version.__wrapped__("microneedling-2099.1")


def test_the_shipped_protocol_loads_from_an_explicit_path(tmp_path: Path) -> None:
    protocol = load_protocol(write(tmp_path, SHIPPED))
    assert protocol.data == load_protocol().data


def test_default_protocol_is_loaded_once() -> None:
    assert default_protocol() is default_protocol()


def test_the_text_helpers_round_trip(tmp_path: Path) -> None:
    """Guard for the helpers below: a no-op edit still loads."""
    text = set_key(SHIPPED, "screening.rules.keloid_history", "verdict", '"not_suitable"')
    assert load_protocol(write(tmp_path, text)).data == load_protocol().data


# --- refusals: one mutation each ---------------------------------------------------------

Mutation = Callable[[str], str]

NECK_AGAIN = """
[planning.depth.neck_again]
zone = "neck"
indications = ["fine_lines"]
min_mm = 0.75
max_mm = 1.0
evidence = "P"
sources = ["practice_handouts"]
"""

REFUSALS: list[tuple[str, Mutation, str, tuple[str, str | None], str]] = [
    # (id, mutation, dotted place, (table, key) whose line is named, message fragment)
    ("unknown key in a rule",
     lambda t: add_key(t, "screening.rules.keloid_history", "colour", '"red"'),
     "screening.rules.keloid_history.colour", ("screening.rules.keloid_history", "colour"),
     "unknown key"),
    ("unknown key in a triage rule",
     lambda t: add_key(t, "triage.rules.fever", "levle", '"urgent"'),
     "triage.rules.fever.levle", ("triage.rules.fever", "levle"), "unknown key"),
    ("unknown top-level table",
     lambda t: t + '\n[screenning]\nrules = "x"\n',
     "screenning", ("screenning", None), "unknown key"),
    ("unknown fact code",
     lambda t: set_key(t, "screening.rules.keloid_history", "facts", '["condition:keloids"]'),
     "screening.rules.keloid_history.facts.0", ("screening.rules.keloid_history", "facts"),
     "unknown fact 'condition:keloids'"),
    ("unknown fact category",
     lambda t: set_key(t, "screening.rules.keloid_history", "facts",
                       '["condition:keloid_history", "history:keloid"]'),
     "screening.rules.keloid_history.facts.1", ("screening.rules.keloid_history", "facts"),
     "unknown fact 'history:keloid'"),
    ("unknown skin type fact",
     lambda t: set_key(t, "screening.rules.darker_skin", "facts", '["fitzpatrick:7"]'),
     "screening.rules.darker_skin.facts.0", ("screening.rules.darker_skin", "facts"),
     "unknown fact 'fitzpatrick:7'"),
    ("unknown preparation fact",
     lambda t: set_key(t, "planning.preparation.stop_topical_actives", "when_facts",
                       '["medication:retinol"]'),
     "planning.preparation.stop_topical_actives.when_facts.0",
     ("planning.preparation.stop_topical_actives", "when_facts"), "unknown fact"),
    ("unknown zone in a screening rule",
     lambda t: set_key(t, "screening.rules.cold_sore_history", "zones_any",
                       '["perioral", "chin", "lips"]'),
     "screening.rules.cold_sore_history.zones_any.2",
     ("screening.rules.cold_sore_history", "zones_any"), "unknown zone code 'lips'"),
    ("unknown zone in a depth range",
     lambda t: set_key(t, "planning.depth.neck", "zone", '"throat"'),
     "planning.depth.neck.zone", ("planning.depth.neck", "zone"), "unknown zone code 'throat'"),
    ("unknown zone in an aftercare item",
     lambda t: set_key(t, "aftercare.items.scalp_weekly", "zones_any", '["head"]'),
     "aftercare.items.scalp_weekly.zones_any.0", ("aftercare.items.scalp_weekly", "zones_any"),
     "unknown zone code 'head'"),
    ("unknown zone in an authorised use (inline table: the key's line)",
     lambda t: t.replace('zones = ["body"] }', 'zones = ["tummy"] }', 1),
     "screening.information.authorised_uses.1.zones.0",
     ("screening.information", "authorised_uses"), "unknown zone code 'tummy'"),
    ("unknown device",
     lambda t: set_key(t, "screening.rules.rf_over_metal", "devices_any", '["laser"]'),
     "screening.rules.rf_over_metal.devices_any.0",
     ("screening.rules.rf_over_metal", "devices_any"), "unknown device code 'laser'"),
    ("unknown indication",
     lambda t: set_key(t, "planning.depth.scalp", "indications", '["hair_loss", "baldness"]'),
     "planning.depth.scalp.indications.1", ("planning.depth.scalp", "indications"),
     "unknown indication code 'baldness'"),
    ("unknown red flag",
     lambda t: set_key(t, "triage.rules.fever", "red_flags", '["fever_or_chills", "fainting"]'),
     "triage.rules.fever.red_flags.1", ("triage.rules.fever", "red_flags"),
     "unknown red flag code 'fainting'"),
    ("unknown evidence tag",
     lambda t: set_key(t, "screening.rules.keloid_history", "evidence", '"V"'),
     "screening.rules.keloid_history.evidence", ("screening.rules.keloid_history", "evidence"),
     "Input should be"),
    ("a rule with no sources key",
     lambda t: drop_key(t, "screening.rules.keloid_history", "sources"),
     "screening.rules.keloid_history.sources", ("screening.rules.keloid_history", None),
     "required key is missing"),
    ("a source key not in the bibliography",
     lambda t: set_key(t, "screening.rules.keloid_history", "sources",
                       '["minutilli2024", "smith1999"]'),
     "screening.rules.keloid_history.sources.1", ("screening.rules.keloid_history", "sources"),
     "source 'smith1999' is not in the bibliography"),
    ("inverted depth range",
     lambda t: set_key(t, "planning.depth.neck", "min_mm", "1.2"),
     "planning.depth.neck.min_mm", ("planning.depth.neck", "min_mm"), "inverted range"),
    ("depth above the 3 mm ceiling",
     lambda t: set_key(t, "planning.depth.body", "max_mm", "3.5"),
     "planning.depth.body.max_mm", ("planning.depth.body", "max_mm"), "less than or equal to 3"),
    ("two depth entries for one zone and indication (edited)",
     lambda t: set_key(t, "planning.depth.nose_scars", "indications",
                       '["acne_scars", "surgical_scars", "fine_lines"]'),
     "planning.depth.nose_scars", ("planning.depth.nose_scars", None),
     "overlaps planning.depth.nose_rejuvenation for nose/fine_lines"),
    ("two depth entries for one zone and indication (added)",
     lambda t: add_table(t, "planning.depth.decolletage", NECK_AGAIN),
     "planning.depth.neck_again", ("planning.depth.neck_again", None),
     "overlaps planning.depth.neck for neck/fine_lines"),
    ("inverted session range",
     lambda t: set_key(t, "planning.sessions.acne_scars", "sessions_min", "8"),
     "planning.sessions.acne_scars.sessions_min", ("planning.sessions.acne_scars", "sessions_min"),
     "inverted range"),
    ("inverted anaesthetic minutes",
     lambda t: set_key(t, "planning.anaesthetic.under_occlusion", "minutes_min", "90"),
     "planning.anaesthetic.under_occlusion.minutes_min",
     ("planning.anaesthetic.under_occlusion", "minutes_min"), "inverted range"),
    ("overlapping recovery depth bands",
     lambda t: set_key(t, "recovery.depth_bands.medium", "above_mm", "0.4"),
     "recovery.depth_bands.medium.above_mm", ("recovery.depth_bands.medium", "above_mm"),
     "overlaps the band below it"),
    ("a gap between recovery depth bands",
     lambda t: set_key(t, "recovery.depth_bands.medium", "above_mm", "0.75"),
     "recovery.depth_bands.medium.above_mm", ("recovery.depth_bands.medium", "above_mm"),
     "leaves a gap above 0.5 mm"),
    ("an inverted recovery depth band",
     lambda t: set_key(t, "recovery.depth_bands.deep", "above_mm", "3.0"),
     "recovery.depth_bands.deep.above_mm", ("recovery.depth_bands.deep", "above_mm"),
     "inverted range"),
    ("an expected course that ends before it starts",
     lambda t: set_key(t, "recovery.symptoms.breakouts", "normal_until",
                       "{ shallow = 1, medium = 7, deep = 7 }"),
     "recovery.symptoms.breakouts.normal_until.shallow",
     ("recovery.symptoms.breakouts", "normal_until"), "ends before onset"),
    ("aftercare items of one slot overlapping in days",
     lambda t: set_key(t, "aftercare.items.bland_moisturiser", "from_day", "9"),
     "aftercare.items.bland_moisturiser", ("aftercare.items.bland_moisturiser", None),
     "overlaps aftercare.items.hyaluronic_gel in slot 'moisturiser'"),
    ("aftercare items of one slot overlapping in skin type",
     lambda t: set_key(t, "aftercare.items.sun_avoid", "fitzpatrick_max", "4"),
     "aftercare.items.sun_avoid_darker_skin", ("aftercare.items.sun_avoid_darker_skin", None),
     "overlaps aftercare.items.sun_avoid in slot 'sun_exposure'"),
    ("an aftercare item that ends before it starts",
     lambda t: set_key(t, "aftercare.items.cleanse_gentle", "to_day", "0"),
     "aftercare.items.cleanse_gentle", ("aftercare.items.cleanse_gentle", None),
     "to_day 0 is before from_day 1"),
    ("a [C-low] screening rule with verdict defer",
     lambda t: set_key(t, "screening.rules.active_acne", "evidence", '"C-low"'),
     "screening.rules.active_acne.verdict", ("screening.rules.active_acne", "verdict"),
     "[C-low] evidence may drive a precaution at most"),
    ("a [C-low] triage rule above contact_clinic",
     lambda t: set_key(t, "triage.rules.cold_sores", "evidence", '"C-low"'),
     "triage.rules.cold_sores.level", ("triage.rules.cold_sores", "level"),
     "[C-low] evidence may drive 'contact_clinic' at most"),
    ("a [C-low] depth range",
     lambda t: set_key(t, "planning.depth.neck", "evidence", '"C-low"'),
     "planning.depth.neck.evidence", ("planning.depth.neck", "evidence"),
     "[C-low] cannot set a depth range"),
    ("[P] patient text claiming studies",
     lambda t: set_key(t, "screening.rules.pregnancy", "patient",
                       '"Studies show it is safer to wait until after your baby is born."'),
     "screening.rules.pregnancy.patient", ("screening.rules.pregnancy", "patient"),
     "clinic-policy [P] text must not present itself as evidence"),
    ("[P] aftercare text claiming research",
     lambda t: set_key(t, "aftercare.items.no_exercise", "patient",
                       '"Research says: no workouts for two days."'),
     "aftercare.items.no_exercise.patient", ("aftercare.items.no_exercise", "patient"),
     "must not present itself as evidence"),
    ("[P] expected-course text claiming proof",
     lambda t: set_key(t, "recovery.symptoms.bruising", "patient_normal",
                       '"Bruises are proven to fade within a week."'),
     "recovery.symptoms.bruising.patient_normal",
     ("recovery.symptoms.bruising", "patient_normal"), "must not present itself as evidence"),
    ("a red flag with no triage rule",
     lambda t: drop_table(t, "triage.rules.firm_bumps"),
     "triage.rules", ("triage.rules.anaphylaxis", None),
     "red flag 'firm_bumps' has no rule"),
    ("a rule whose verdict is suitable",
     lambda t: set_key(t, "screening.rules.breastfeeding", "verdict", '"suitable"'),
     "screening.rules.breastfeeding.verdict", ("screening.rules.breastfeeding", "verdict"),
     "'suitable' never fires"),
    ("a defer that never ends",
     lambda t: drop_key(t, "screening.rules.pregnancy", "resolve_when"),
     "screening.rules.pregnancy.resolve_when", ("screening.rules.pregnancy", None),
     "must say when it ends"),
    ("a waiting period on an undated fact",
     lambda t: add_key(t, "screening.rules.sunburn", "wait_days", "14"),
     "screening.rules.sunburn.wait_days", ("screening.rules.sunburn", "wait_days"),
     "needs dated facts"),
    ("a new red flag with no triage rule",
     lambda t: drop_table(t, "triage.rules.rash_widespread"),
     "triage.rules", ("triage.rules.anaphylaxis", None),
     "red flag 'rash_widespread' has no rule"),
    ("a new symptom with no expected course",
     lambda t: drop_table(t, "recovery.symptoms.weeping"),
     "recovery.symptoms", ("recovery.symptoms.redness", None),
     "no expected course for symptom 'weeping'"),
    ("an unknown companion red flag",
     lambda t: set_key(t, "triage.rules.faint_with_skin_or_breathing_sign", "with_red_flags",
                       '["hives_or_rash", "swooning"]'),
     "triage.rules.faint_with_skin_or_breathing_sign.with_red_flags.1",
     ("triage.rules.faint_with_skin_or_breathing_sign", "with_red_flags"),
     "unknown red flag code 'swooning'"),
    ("a red_flags_together rule without companions",
     lambda t: drop_key(t, "triage.rules.faint_with_skin_or_breathing_sign", "with_red_flags"),
     "triage.rules.faint_with_skin_or_breathing_sign.with_red_flags",
     ("triage.rules.faint_with_skin_or_breathing_sign", None),
     "a red_flags_together rule needs with_red_flags"),
    ("companions on a rule of another kind",
     lambda t: add_key(t, "triage.rules.fever", "with_red_flags", '["hives_or_rash"]'),
     "triage.rules.fever.with_red_flags", ("triage.rules.fever", "with_red_flags"),
     "only a red_flags_together rule takes with_red_flags"),
    ("a code newer than the protocol's vocabulary edition",
     lambda t: t.replace("vocabulary = 2\n", "vocabulary = 1\n", 1),
     "screening.rules.rf_implanted_device.facts.0",
     ("screening.rules.rf_implanted_device", "facts"),
     "unknown fact 'condition:implanted_device'"),
    ("a vocabulary edition that does not exist",
     lambda t: set_key(t, "protocol", "vocabulary", "99"),
     "protocol.vocabulary", ("protocol", "vocabulary"), "does not exist yet"),
    ("a photo curve missing for a depth band",
     lambda t: drop_table(t, "photo_redness.curves.deep"),
     "photo_redness.curves", ("photo_redness.curves.shallow", None),
     "needs exactly one curve per recovery depth band"),
    ("a photo flag margin below the noise floor",
     lambda t: set_key(t, "photo_redness", "flag_margin_a", "2.0"),
     "photo_redness.flag_margin_a", ("photo_redness", "flag_margin_a"),
     "below the noise floor"),
    ("photos flagged inside the redness fading window",
     lambda t: set_key(t, "photo_redness", "from_day", "5"),
     "photo_redness.from_day", ("photo_redness", "from_day"),
     "must be after the redness fading window (day 7)"),
    ("a single photo is enough to flag",
     lambda t: set_key(t, "photo_redness", "consecutive_photos", "1"),
     "photo_redness.consecutive_photos", ("photo_redness", "consecutive_photos"),
     "greater than or equal to 2"),
    ("a photo model no triage rule uses",
     lambda t: drop_table(t, "triage.rules.persistent_photo_redness"),
     "photo_redness", ("photo_redness", None), "no triage rule of kind photo_redness"),
    ("a course rule without its entry",
     lambda t: drop_table(t, "course.rules.open_escalation"),
     "course.rules", ("course.rules.min_interval", None),
     "no entry for the course rule 'open_escalation'"),
    ("an expectation for an unknown stage",
     lambda t: set_key(t, "expectations.items.maintenance_sessions", "stages", '["forever"]'),
     "expectations.items.maintenance_sessions.stages.0",
     ("expectations.items.maintenance_sessions", "stages"), "Input should be"),
    ("a stage with nothing to expect",
     lambda t: set_key(set_key(t, "expectations.items.maintenance_sessions", "stages",
                               '["after_course"]'),
                       "expectations.items.changes_last", "stages", '["booked"]'),
     "expectations.items", ("expectations.items.redness_after_each_session", None),
     "no expectation for the stage 'maintenance'"),
    ("inverted stage days",
     lambda t: set_key(t, "expectations", "remodelling_until_day", "7"),
     "expectations.remodelling_until_day", ("expectations", "remodelling_until_day"),
     "inverted range"),
    ("[P] expectation claiming evidence",
     lambda t: set_key(t, "expectations.items.changes_last", "patient",
                       '"Studies show the changes last for ever."'),
     "expectations.items.changes_last.patient", ("expectations.items.changes_last", "patient"),
     "must not present itself as evidence"),
    ("fitzpatrick true in the protocol (bool trap)",
     lambda t: set_key(t, "planning.dark_skin", "from_fitzpatrick", "true"),
     "planning.dark_skin.from_fitzpatrick", ("planning.dark_skin", "from_fitzpatrick"),
     "valid integer"),
]


@pytest.mark.parametrize(
    ("mutation", "place", "where", "fragment"),
    [pytest.param(m, p, w, f, id=name) for name, m, p, w, f in REFUSALS],
)
def test_a_doubtful_protocol_is_refused_naming_file_line_and_place(
        tmp_path: Path, mutation: Mutation, place: str, where: tuple[str, str | None],
        fragment: str) -> None:
    text = mutation(SHIPPED)
    assert text != SHIPPED
    path = write(tmp_path, text)
    assert_problem(problems_of(path), path, line_of(text, *where), place, fragment)


# Every kind of rule-like entry must cite; one of each kind, with its sources emptied or broken.
CITED_TABLES = [
    "screening.information",
    "screening.rules.keloid_history",
    "planning.dark_skin",
    "planning.depth.cheeks_scars",
    "planning.sessions.acne_scars",
    "planning.preparation.no_waxing",
    "planning.anaesthetic.topical_lidocaine",
    "planning.results_timeline.cumulative",
    "aftercare.items.spf_daily",
    "recovery",
    "recovery.depth_bands.deep",
    "recovery.symptoms.redness",
    "recovery.skin_notes.darker_skin",
    "triage.rules.anaphylaxis",
    "photo_redness",
    "photo_redness.curves.medium",
    "course",
    "course.rules.min_interval",
    "expectations.items.changes_last",
]


@pytest.mark.parametrize("table", CITED_TABLES)
def test_an_entry_with_empty_sources_is_refused(tmp_path: Path, table: str) -> None:
    text = set_key(SHIPPED, table, "sources", "[]")
    path = write(tmp_path, text)
    assert_problem(problems_of(path), path, line_of(text, table, "sources"), f"{table}.sources",
                   "at least 1 item")


@pytest.mark.parametrize("table", CITED_TABLES)
def test_an_entry_citing_an_unknown_source_is_refused(tmp_path: Path, table: str) -> None:
    text = set_key(SHIPPED, table, "sources", '["nobody2099"]')
    path = write(tmp_path, text)
    assert_problem(problems_of(path), path, line_of(text, table, "sources"),
                   f"{table}.sources.0", "source 'nobody2099' is not in the bibliography")


@pytest.mark.parametrize("table", CITED_TABLES)
def test_an_entry_without_evidence_is_refused(tmp_path: Path, table: str) -> None:
    text = drop_key(SHIPPED, table, "evidence")
    path = write(tmp_path, text)
    assert_problem(problems_of(path), path, line_of(text, table), f"{table}.evidence",
                   "required key is missing")


def test_cited_evidence_may_use_evidence_words(tmp_path: Path) -> None:
    """Only clinic policy [P] is barred from claiming evidence; a [C] entry may say so."""
    text = set_key(SHIPPED, "screening.rules.keloid_history", "patient",
                   '"Studies show that microneedling can make raised scars worse."')
    protocol = load_protocol(write(tmp_path, text))
    assert protocol.data.screening.rules["keloid_history"].patient.startswith("Studies show")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = set_key(SHIPPED, "planning.depth.neck", "min_mm", "1.2")
    text = set_key(text, "screening.rules.keloid_history", "sources", '["smith1999"]')
    text = drop_table(text, "triage.rules.track_marks")
    path = write(tmp_path, text)
    problems = problems_of(path)
    assert len(problems) == 3
    assert all(p.startswith(f"{path}:") for p in problems)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, SHIPPED.replace('[protocol]\n', '[protocol\n', 1))
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: not valid TOML")
    assert "line" in problem


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}: cannot read")


def test_protocol_error_is_a_value_error() -> None:
    assert issubclass(ProtocolError, ValueError)
    assert ProtocolError(["a", "b"]).problems == ["a", "b"]


# --- clinic overrides --------------------------------------------------------------------

def override(tmp_path: Path, text: str) -> Path:
    return write(tmp_path, text.lstrip(), name="clinic.toml")


def test_a_clinic_may_change_a_policy_waiting_period(tmp_path: Path) -> None:
    path = override(tmp_path, """
[screening.rules.botulinum_toxin]
wait_days = 90
""")
    clinic = load_protocol(overrides=path)
    assert clinic.overrides_path == path
    assert clinic.path == DEFAULT_PROTOCOL
    assert clinic.data.screening.rules["botulinum_toxin"].wait_days == 90

    toxin = days_before_planned(30)
    intake = make_intake(procedures={"botulinum_toxin": toxin})
    assert screen(intake).verdict is Verdict.SUITABLE  # shipped: 14 days have passed
    result = screen(intake, clinic)
    assert result.verdict is Verdict.DEFER
    assert result.defer_until == toxin + dt.timedelta(days=90)
    (reason,) = result.reasons
    assert reason.rule == "botulinum_toxin"
    assert reason.basis == "clinic_policy"
    assert reason.patient.endswith(CLINIC_POLICY_NOTE)


def test_a_clinic_may_use_dotted_keys_and_change_several_policies(tmp_path: Path) -> None:
    path = override(tmp_path, """
[screening.rules]
botulinum_toxin.wait_days = 90
dermal_filler.wait_days = 28

[aftercare.items.no_exercise]
to_day = 2
""")
    clinic = load_protocol(overrides=path).data
    assert clinic.screening.rules["botulinum_toxin"].wait_days == 90
    assert clinic.screening.rules["dermal_filler"].wait_days == 28
    assert clinic.aftercare.items["no_exercise"].to_day == 2


def test_a_clinic_may_disable_a_policy_rule(tmp_path: Path) -> None:
    path = override(tmp_path, """
[screening.rules.pregnancy]
enabled = false
""")
    intake = make_intake(conditions={"pregnancy": True})
    assert screen(intake).verdict is Verdict.DEFER
    result = screen(intake, load_protocol(overrides=path))
    assert result.verdict is Verdict.SUITABLE
    assert result.reasons == []


def test_a_clinic_may_make_a_cited_rule_stricter(tmp_path: Path) -> None:
    path = override(tmp_path, """
[screening.rules.isotretinoin]
verdict = "defer"
wait_days = 182
""")
    last_dose = dt.date(2026, 10, 1)  # two months before assessment
    intake = make_intake(medications={"isotretinoin": {"current": False, "last_dose": last_dose}})
    assert screen(intake).verdict is Verdict.SUITABLE_WITH_PRECAUTIONS
    result = screen(intake, load_protocol(overrides=path))
    assert result.verdict is Verdict.DEFER
    assert result.defer_until == last_dose + dt.timedelta(days=182)
    assert [r.rule for r in result.reasons] == ["isotretinoin"]


def test_a_clinic_may_lengthen_a_cited_waiting_period(tmp_path: Path) -> None:
    path = override(tmp_path, """
[screening.rules.previous_microneedling]
wait_days = 42
""")
    assert load_protocol(overrides=path).data.screening.rules[
        "previous_microneedling"].wait_days == 42


def test_a_clinic_may_raise_a_cited_triage_level(tmp_path: Path) -> None:
    path = override(tmp_path, """
[triage.rules.rash]
level = "urgent"
""")
    assert load_protocol(overrides=path).data.triage.rules["rash"].level == "urgent"


def test_a_clinic_may_change_policy_inside_a_cited_table(tmp_path: Path) -> None:
    """[recovery] is [C] as a whole, but the bruising course under it is [P]."""
    path = override(tmp_path, """
[recovery.symptoms.bruising]
tolerable_until = 10

[recovery.depth_bands.shallow]
up_to_mm = 0.75

[recovery.depth_bands.medium]
above_mm = 0.75
""")
    clinic = load_protocol(overrides=path).data
    assert clinic.recovery.symptoms["bruising"].tolerable_until == 10
    assert clinic.recovery.depth_bands["shallow"].up_to_mm == 0.75
    assert clinic.recovery.rf_band == "shallow"


def test_a_clinic_may_tune_the_photo_redness_policy(tmp_path: Path) -> None:
    path = override(tmp_path, """
[photo_redness]
flag_margin_a = 4.0
consecutive_photos = 3

[photo_redness.curves.deep]
tau_days = 4.0

[course]
late_after_extra_days = 7
""")
    clinic = load_protocol(overrides=path).data
    assert clinic.photo_redness is not None
    assert clinic.course is not None
    assert clinic.photo_redness.flag_margin_a == 4.0
    assert clinic.photo_redness.consecutive_photos == 3
    assert clinic.photo_redness.curves["deep"].tau_days == 4.0
    assert clinic.course.late_after_extra_days == 7


REFUSED_OVERRIDES: list[tuple[str, str, str, int, str]] = [
    # (id, override text, dotted place, line in the override file, message fragment)
    ("disable a cited rule",
     '[screening.rules.keloid_history]\nenabled = false\n',
     "screening.rules.keloid_history.enabled", 2, "never relax or remove it"),
    ("disable a cited rule with a dotted key",
     '[screening.rules]\nkeloid_history.enabled = false\n',
     "screening.rules.keloid_history.enabled", 2, "never relax or remove it"),
    ("relax a cited verdict",
     '[screening.rules.keloid_history]\nverdict = "suitable_with_precautions"\n',
     "screening.rules.keloid_history.verdict", 2, "backed by cited evidence [C]"),
    ("relax a cited triage level",
     '[triage.rules.rf_injury]\nlevel = "contact_clinic"\n',
     "triage.rules.rf_injury.level", 2, "never relax"),
    ("shorten a cited waiting period",
     '[screening.rules.previous_microneedling]\nverdict = "defer"\nwait_days = 7\n',
     "screening.rules.previous_microneedling.wait_days", 3, "never relax"),
    ("shorten a cited precaution window while making it a defer",
     '[screening.rules.isotretinoin]\nverdict = "defer"\nwait_days = 30\n',
     "screening.rules.isotretinoin.wait_days", 3, "never relax"),
    ("change which facts fire a cited rule",
     '[screening.rules.active_acne]\nfacts = ["condition:melasma"]\n',
     "screening.rules.active_acne.facts", 2, "never relax"),
    ("change a cited expected course",
     '[recovery.symptoms.redness]\ntolerable_until = 14\n',
     "recovery.symptoms.redness.tolerable_until", 2, "never relax"),
    ("change the sources of a cited rule",
     '[screening.rules.keloid_history]\nsources = ["practice_handouts"]\n',
     "screening.rules.keloid_history.sources", 2, "cannot change evidence or sources"),
    ("change the sources of a policy rule",
     '[screening.rules.pregnancy]\nsources = ["minutilli2024"]\n',
     "screening.rules.pregnancy.sources", 2, "cannot change evidence or sources"),
    ("change the evidence of a cited rule",
     '[screening.rules.keloid_history]\nevidence = "P"\n',
     "screening.rules.keloid_history.evidence", 2, "cannot change evidence or sources"),
    ("promote a policy rule to cited",
     '[screening.rules.pregnancy]\nevidence = "C"\n',
     "screening.rules.pregnancy.evidence", 2, "cannot change evidence or sources"),
    ("name a rule that does not exist",
     '[screening.rules.no_such_rule]\nwait_days = 10\n',
     "screening.rules.no_such_rule", 1, "no such entry in the protocol"),
    ("name a table that does not exist",
     '[screenings.rules.pregnancy]\nenabled = false\n',
     "screenings", 1, "no such entry in the protocol"),
    ("name a field that does not exist",
     '[screening.rules.pregnancy]\ncolour = "red"\n',
     "screening.rules.pregnancy.colour", 2, "no such field on this entry"),
    ("relax the cited minimum interval between sessions",
     '[course.rules.min_interval]\nclinician = "Any time."\n',
     "course.rules.min_interval.clinician", 2, "never relax"),
    ("change a value that is not clinic policy",
     '[protocol]\nversion = "2026.1-clinic"\n',
     "protocol.version", 2, "is not clinic-configurable"),
    ("change a citation",
     '[bibliography.chu2021]\nlink = "https://example.org"\n',
     "bibliography.chu2021.link", 2, "is not clinic-configurable"),
]


@pytest.mark.parametrize(
    ("text", "place", "line", "fragment"),
    [pytest.param(t, p, n, f, id=name) for name, t, p, n, f in REFUSED_OVERRIDES],
)
def test_a_clinic_override_that_relaxes_or_misnames_is_refused(
        tmp_path: Path, text: str, place: str, line: int, fragment: str) -> None:
    path = override(tmp_path, text)
    assert_problem(problems_of(None, path), path, line, place, fragment)


def test_an_override_that_breaks_a_cross_check_names_the_override_file(tmp_path: Path) -> None:
    path = override(tmp_path, """
[screening.rules.breastfeeding]
verdict = "suitable"
""")
    assert_problem(problems_of(None, path), path, 2, "screening.rules.breastfeeding.verdict",
                   "'suitable' never fires")


def test_an_override_that_breaks_the_schema_names_the_override_file(tmp_path: Path) -> None:
    path = override(tmp_path, """
[screening.rules.botulinum_toxin]
wait_days = "three months"
""")
    assert_problem(problems_of(None, path), path, 2, "screening.rules.botulinum_toxin.wait_days",
                   "valid integer")


def test_an_override_that_opens_a_gap_in_depth_bands_is_refused(tmp_path: Path) -> None:
    path = override(tmp_path, """
[recovery.depth_bands.shallow]
up_to_mm = 0.4
""")
    problems = problems_of(None, path)
    assert any("recovery.depth_bands.medium.above_mm" in p and "gap" in p for p in problems)
    assert all(p.startswith(f"{path}") for p in problems)


def test_an_override_applies_to_a_given_protocol_file(tmp_path: Path) -> None:
    base = write(tmp_path, SHIPPED)
    path = override(tmp_path, '[screening.rules.dermal_filler]\nwait_days = 28\n')
    clinic = load_protocol(base, path)
    assert clinic.path == base
    assert clinic.data.screening.rules["dermal_filler"].wait_days == 28


def test_overrides_do_not_leak_into_the_shipped_protocol(tmp_path: Path) -> None:
    path = override(tmp_path, '[screening.rules.botulinum_toxin]\nwait_days = 90\n')
    load_protocol(overrides=path)
    assert default_protocol().data.screening.rules["botulinum_toxin"].wait_days == 14
    assert load_protocol().data.screening.rules["botulinum_toxin"].wait_days == 14


def test_an_empty_override_changes_nothing(tmp_path: Path) -> None:
    path = override(tmp_path, "# nothing to change\n")
    assert load_protocol(overrides=path).data == load_protocol().data


def test_every_rule_kept_by_an_override_keeps_its_evidence(tmp_path: Path) -> None:
    path = override(tmp_path, """
[screening.rules.pregnancy]
enabled = false
[screening.rules.isotretinoin]
verdict = "defer"
""")
    clinic = load_protocol(overrides=path).data
    shipped = load_protocol().data
    for key, rule in shipped.screening.rules.items():
        assert clinic.screening.rules[key].evidence == rule.evidence
        assert clinic.screening.rules[key].sources == rule.sources
        if rule.evidence is not Evidence.PRACTICE:
            assert clinic.screening.rules[key].enabled
            assert clinic.screening.rules[key].verdict.rank >= rule.verdict.rank
