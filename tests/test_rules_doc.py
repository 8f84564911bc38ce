"""docs/clinical-rules.md is what clinicians review, so it must be the protocol the code runs."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.protocol.alternatives_loader import default_alternatives
from needlecare.clinical.protocol.loader import (
    Protocol,
    default_protocol,
    load_protocol,
    protocol_by_version,
)
from needlecare.clinical.protocol.outcomes_loader import default_outcomes
from needlecare.clinical.rules_doc import REGENERATE, render

DOC = Path(__file__).resolve().parent.parent / "docs" / "clinical-rules.md"


@pytest.fixture(scope="module")
def text() -> str:
    return render(default_protocol())


def test_committed_document_is_current(text: str) -> None:
    committed = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if committed != text:
        diff = "".join(list(difflib.unified_diff(
            committed.splitlines(keepends=True), text.splitlines(keepends=True),
            "docs/clinical-rules.md (committed)", "render(default_protocol())"))[:40])
        pytest.fail(f"docs/clinical-rules.md is stale: regenerate it with `{REGENERATE}` "
                    f"and commit it.\n{diff}")


def test_title_names_protocol_version_and_date(text: str) -> None:
    info = default_protocol().data.protocol
    first = text.splitlines()[0]
    assert first == f"# Clinical rules: {info.name} {info.version}"
    assert f"Effective {info.effective.isoformat()}" in text


def test_every_rule_and_source_appears(text: str) -> None:
    data = default_protocol().data
    assert data.photo_redness
    assert data.course
    assert data.expectations
    keys = [*data.screening.rules, *data.planning.depth, *data.planning.preparation,
            *data.aftercare.items, *data.triage.rules, *data.recovery.symptoms,
            *data.bibliography, *data.photo_redness.curves, *data.course.rules,
            *data.expectations.items]
    missing = [key for key in keys if f"`{key}`" not in text]
    assert not missing


def test_every_outcome_measure_point_and_source_appears(text: str) -> None:
    data = default_outcomes().data
    keys = [*data.measures, *data.schedule, *data.adverse_events.types, *data.bibliography]
    assert [key for key in keys if f"`{key}`" not in text] == []
    section = text[text.index("## Outcome measures"):text.index("## Choosing a treatment")]
    assert "| `vancouver_scar_scale` | Vancouver Scar Scale | clinician | `surgical_scars` |" in (
        section)
    assert "| 3 | Severe |" in section
    assert "not shipped" in section


def test_the_alternatives_table_has_every_option_risk_and_source(text: str) -> None:
    data = default_alternatives().data
    section = text[text.index("## Choosing a treatment"):text.index("## Controlled vocabulary")]
    for key, option in data.options.items():
        row = next(line for line in section.splitlines()
                   if line.startswith(f"| {option.name} (`{key}`)"))
        for part in (option.downtime, option.sessions, *option.suits.values()):
            assert f"[{part.evidence.value}: {', '.join(part.sources)}]" in row, key
    for key, rule in data.risks.items():
        assert f"| `{key}` | {', '.join(f'`{o}`' for o in rule.options)} |" in section
    for key in data.bibliography:
        assert f"| `{key}` |" in section


def test_every_vocabulary_term_appears(text: str) -> None:
    for category, table in vocab.VOCABULARIES.items():
        for term in table.values():
            assert f"| `{term.code}` | {term.display.replace('|', chr(92) + '|')} |" in text, (
                category, term.code)


def test_every_section(text: str) -> None:
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## How to read this document", "## Screening rules", "## Information flags",
        "## Planning", "## Aftercare items", "## Expected recovery course", "## Triage rules",
        "## Redness on photos", "## Course and booking", "## Expectations by stage",
        "## Outcome measures", "## Choosing a treatment: microneedling and its alternatives",
        "## Controlled vocabulary", "## Bibliography",
    ]
    for tag in ("| C |", "| C-low |", "| P |", "[V]"):
        assert tag in text


def test_table_rows_have_as_many_cells_as_their_header(text: str) -> None:
    columns = None
    for line in text.splitlines():
        if not line.startswith("|"):
            columns = None
            continue
        cells = len(line.replace("\\|", "").split("|")) - 2
        if columns is None:
            columns = cells
        assert cells == columns, line


def test_pipes_in_cells_are_escaped(tmp_path: Path) -> None:
    overrides = tmp_path / "clinic.toml"
    overrides.write_text('[aftercare.items.no_makeup]\npatient = "No make-up | none today."\n')
    text = render(load_protocol(overrides=overrides))
    assert "| No make-up \\| none today. |" in text
    assert "Includes the clinic overrides in `clinic.toml`." in text


def test_output_does_not_depend_on_where_the_protocol_lives(tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere.toml"
    shipped: Protocol = default_protocol()
    copy.write_text(shipped.path.read_text(encoding="utf-8"), encoding="utf-8")
    assert render(load_protocol(copy)) == render(shipped)


def test_the_photo_thresholds_are_shown(text: str) -> None:
    section = text[text.index("## Redness on photos"):text.index("## Course and booking")]
    assert "a change under 3 a* is not a change" in section
    assert "on 2 consecutive photo check-ins from day 8 on" in section
    assert "each at least 3 a* above the band" in section
    assert "| `deep` | 10 | 3.6 | 0 | P |" in section
    assert "| `medium` | 8.0 / 11.0 |" in section


def test_an_earlier_version_renders_its_own_rules_and_codes() -> None:
    first = render(protocol_by_version("microneedling-2026.1"))
    assert first.splitlines()[0] == "# Clinical rules: microneedling 2026.1"
    assert "## Redness on photos" not in first
    assert "## Course and booking" not in first
    assert "vocabulary edition 1" in first
    assert "`faint_or_dizzy`" not in first
    assert "| `hives_or_rash` |" in first
