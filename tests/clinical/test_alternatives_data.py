"""The shipped alternatives file: every claim cited, tags honoured, the options the issue names
present, and the loader refusing doubtful edits with file, line and place."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from needlecare.clinical.protocol.alternatives_loader import (
    DEFAULT_ALTERNATIVES,
    default_alternatives,
    load_alternatives,
)
from needlecare.clinical.protocol.datafile import DataFileError
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.clinical.vocabulary import Evidence

from .test_protocol_loader import add_key, assert_problem, drop_key, line_of, set_key, write

DATA = default_alternatives().data
SHIPPED = DEFAULT_ALTERNATIVES.read_text(encoding="utf-8")
REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "clinical" / "reference.md"

# Stricter than the loader's own list on purpose (as in test_protocol_data).
EVIDENCE_WORDS = re.compile(
    r"\b(stud(y|ies)|research\w*|evidence|proven|prove[sd]?|clinically|trials?|scientific\w*|"
    r"data|shown to|doctors agree|experts? say)\b", re.IGNORECASE)


def cited() -> Iterator[tuple[str, Any]]:
    for key, option in DATA.options.items():
        yield f"options.{key}", option
        for suit_key, suits in option.suits.items():
            yield f"options.{key}.suits.{suit_key}", suits
        yield f"options.{key}.downtime", option.downtime
        yield f"options.{key}.sessions", option.sessions
    for key, rule in DATA.risks.items():
        yield f"risks.{key}", rule


ENTRIES = dict(cited())


def test_the_issue_names_these_options() -> None:
    assert set(DATA.options) >= {
        "microneedling", "light_peel", "medium_peel", "nonablative_fractional_laser",
        "ablative_fractional_laser", "rf_microneedling", "subcision", "dermal_filler",
        "prp_adjunct"}
    assert DATA.options["prp_adjunct"].kind == "adjunct"


@pytest.mark.parametrize("place", sorted(ENTRIES))
def test_every_claim_is_cited_and_never_claims_more_than_its_sources(place: str) -> None:
    entry = ENTRIES[place]
    assert entry.sources
    kinds = {DATA.bibliography[k].kind for k in entry.sources}
    if entry.evidence is Evidence.CITED:
        assert kinds & {"peer_reviewed", "regulatory"}, place
    if kinds == {"practice"}:
        assert entry.evidence is Evidence.PRACTICE, place
    if entry.evidence is Evidence.PRACTICE:
        assert not EVIDENCE_WORDS.search(entry.patient), place


@pytest.mark.parametrize("place", sorted(p for p, e in ENTRIES.items()
                                         if e.evidence is Evidence.PRACTICE))
def test_clinic_policy_says_so_to_the_clinician(place: str) -> None:
    """Where no peer-reviewed source was found, the entry says so (or cites the practice key,
    whose citation does)."""
    entry = ENTRIES[place]
    assert "clinic_practice" in entry.sources
    if place.startswith("risks."):
        assert "No peer-reviewed source was found" in entry.clinician


def test_c_low_never_weighs_a_risk_as_avoid() -> None:
    for key, rule in DATA.risks.items():
        if rule.evidence is Evidence.CITED_LOW:
            assert rule.level != "avoid", key


def test_keys_shared_with_the_protocol_have_the_same_citation() -> None:
    protocol = default_protocol().data.bibliography
    for key, citation in DATA.bibliography.items():
        if key in protocol:
            assert citation == protocol[key], key


def test_every_bibliography_key_is_cited() -> None:
    used = {s for entry in ENTRIES.values() for s in entry.sources}
    assert used == set(DATA.bibliography)


NEW_SOURCES = {"waldman2017", "chan2007", "manuskiatti2010", "arsiwala2019", "xu2018",
               "ishfaq2022", "orentreich1995", "dadkhahfar2020", "chatrath2019", "narins2003",
               "clinic_practice"}


def test_every_other_key_is_in_the_clinical_reference() -> None:
    if not REFERENCE.is_file():
        pytest.skip("clinical reference not found beside the repository")
    text = REFERENCE.read_text(encoding="utf-8")
    section = text[text.index("## 9."):]
    rows = {m.group(1): m.group(0)
            for m in re.finditer(r"^\| `([A-Za-z0-9_]+)` \|.*$", section, re.MULTILINE)}
    assert set(DATA.bibliography) - NEW_SOURCES <= set(rows)
    assert not NEW_SOURCES & set(rows), "now in the reference: drop it from NEW_SOURCES"
    weak = section[section.index("Weak or secondary"):]
    for key, citation in DATA.bibliography.items():
        if key in rows and citation.link:
            assert citation.link in rows[key], key
        if key in rows:
            assert (citation.kind == "secondary") == (f"| `{key}` |" in weak), key


def test_isotretinoin_rules_cite_the_consensus_or_the_label() -> None:
    for key, rule in DATA.risks.items():
        if "medication:isotretinoin" in rule.facts_any:
            assert {"spring2017", "waldman2017", "isotretinoin_label"} & set(rule.sources), key


# --- loader refusals ---------------------------------------------------------------------

Mutation = Callable[[str], str]

REFUSALS: list[tuple[str, Mutation, str, tuple[str, str | None], str]] = [
    ("unknown key in an option",
     lambda t: add_key(t, "options.subcision", "price", "200"),
     "options.subcision.price", ("options.subcision", "price"), "unknown key"),
    ("unknown key in a risk",
     lambda t: add_key(t, "risks.cold_sores", "zone", '"lips"'),
     "risks.cold_sores.zone", ("risks.cold_sores", "zone"), "unknown key"),
    ("a risk without sources",
     lambda t: drop_key(t, "risks.keloid_microneedling", "sources"),
     "risks.keloid_microneedling.sources", ("risks.keloid_microneedling", None),
     "required key is missing"),
    ("downtime without sources",
     lambda t: set_key(t, "options.medium_peel.downtime", "sources", "[]"),
     "options.medium_peel.downtime.sources", ("options.medium_peel.downtime", "sources"),
     "at least 1 item"),
    ("a source not in the bibliography",
     lambda t: set_key(t, "options.dermal_filler.suits.folds", "sources", '["narins2099"]'),
     "options.dermal_filler.suits.folds.sources.0",
     ("options.dermal_filler.suits.folds", "sources"),
     "source 'narins2099' is not in the bibliography"),
    ("[C] on a practice-only source",
     lambda t: set_key(t, "options.subcision.sessions", "evidence", '"C"'),
     "options.subcision.sessions.evidence", ("options.subcision.sessions", "evidence"),
     "[C] needs a peer-reviewed or regulatory source"),
    ("an inverted downtime",
     lambda t: set_key(t, "options.ablative_fractional_laser.downtime", "days_min", "21"),
     "options.ablative_fractional_laser.downtime.days_min",
     ("options.ablative_fractional_laser.downtime", "days_min"), "inverted range 21–14"),
    ("an inverted number of sessions",
     lambda t: set_key(t, "options.microneedling.sessions", "min", "8"),
     "options.microneedling.sessions.min", ("options.microneedling.sessions", "min"),
     "inverted range 8–6"),
    ("a negative downtime",
     lambda t: set_key(t, "options.microneedling.downtime", "days_min", "-1"),
     "options.microneedling.downtime.days_min", ("options.microneedling.downtime", "days_min"),
     "greater than or equal to 0"),
    ("an unknown option in a risk",
     lambda t: set_key(t, "risks.bleeding_bruising", "options", '["subcision", "botox"]'),
     "risks.bleeding_bruising.options.1", ("risks.bleeding_bruising", "options"),
     "unknown option 'botox'"),
    ("an unknown fact",
     lambda t: set_key(t, "risks.keloid_light_peel", "facts_any", '["condition:keloid"]'),
     "risks.keloid_light_peel.facts_any.0", ("risks.keloid_light_peel", "facts_any"),
     "unknown fact 'condition:keloid'"),
    ("an unknown zone",
     lambda t: set_key(t, "risks.cold_sores", "zones_any", '["lips"]'),
     "risks.cold_sores.zones_any.0", ("risks.cold_sores", "zones_any"),
     "unknown zone code 'lips'"),
    ("an unknown indication",
     lambda t: set_key(t, "options.light_peel.suits.skin", "indications", '["melasma"]'),
     "options.light_peel.suits.skin.indications.0",
     ("options.light_peel.suits.skin", "indications"), "unknown indication code 'melasma'"),
    ("an unknown scar type",
     lambda t: set_key(t, "options.subcision.suits.scars", "scar_types", '["pitted"]'),
     "options.subcision.suits.scars.scar_types.0",
     ("options.subcision.suits.scars", "scar_types"), "Input should be"),
    ("scar types without acne scars",
     lambda t: set_key(t, "options.subcision.suits.scars", "indications", '["surgical_scars"]'),
     "options.subcision.suits.scars.scar_types", ("options.subcision.suits.scars", "scar_types"),
     "add 'acne_scars'"),
    ("a risk with no trigger",
     lambda t: drop_key(t, "risks.darker_skin_light_peel", "fitzpatrick_min"),
     "risks.darker_skin_light_peel.facts_any", ("risks.darker_skin_light_peel", None),
     "a risk needs a trigger"),
    ("a risk for everyone that names a trigger",
     lambda t: add_key(t, "risks.darker_skin_light_peel", "always", "true"),
     "risks.darker_skin_light_peel.always", ("risks.darker_skin_light_peel", "always"),
     "names no trigger"),
    ("[C-low] weighing a risk as avoid",
     lambda t: set_key(t, "risks.isotretinoin_rf_microneedling", "level", '"avoid"'),
     "risks.isotretinoin_rf_microneedling.level",
     ("risks.isotretinoin_rf_microneedling", "level"), "'caution' at most"),
    ("an unknown level",
     lambda t: set_key(t, "risks.cold_sores", "level", '"warning"'),
     "risks.cold_sores.level", ("risks.cold_sores", "level"), "Input should be"),
    ("[P] patient text claiming evidence",
     lambda t: set_key(t, "risks.bleeding_bruising", "patient",
                       '"Studies show you may bruise more."'),
     "risks.bleeding_bruising.patient", ("risks.bleeding_bruising", "patient"),
     "must not present itself as evidence"),
    ("a Fitzpatrick type of 7",
     lambda t: set_key(t, "risks.darker_skin_medium_peel", "fitzpatrick_min", "7"),
     "risks.darker_skin_medium_peel.fitzpatrick_min",
     ("risks.darker_skin_medium_peel", "fitzpatrick_min"), "less than or equal to 6"),
]


@pytest.mark.parametrize(("mutation", "place", "where", "fragment"),
                         [pytest.param(m, p, w, f, id=name) for name, m, p, w, f in REFUSALS])
def test_a_doubtful_alternatives_file_is_refused_naming_file_line_and_place(
        tmp_path: Path, mutation: Mutation, place: str, where: tuple[str, str | None],
        fragment: str) -> None:
    text = mutation(SHIPPED)
    assert text != SHIPPED
    path = write(tmp_path, text, "alternatives.toml")
    with pytest.raises(DataFileError) as caught:
        load_alternatives(path)
    assert_problem(caught.value.problems, path, line_of(text, *where), place, fragment)


def test_the_microneedling_option_is_required(tmp_path: Path) -> None:
    text = SHIPPED.replace("options.microneedling", "options.needling")
    text = text.replace('"microneedling",', '"needling",').replace(
        '["microneedling"]', '["needling"]')
    path = write(tmp_path, text, "alternatives.toml")
    with pytest.raises(DataFileError) as caught:
        load_alternatives(path)
    assert any(p.endswith("options: the 'microneedling' option is missing")
               for p in caught.value.problems)


def test_the_shipped_file_loads_once() -> None:
    assert load_alternatives().data == DATA
    assert default_alternatives() is default_alternatives()
