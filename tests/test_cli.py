"""The ``needlecare`` command: JSON in, JSON out, exit 2 with a plain message on bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from needlecare.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(capsys: pytest.CaptureFixture[str], *argv: str,
        stdin: str | None = None) -> tuple[int, str, str]:
    code = main(list(argv), stdin=io.StringIO(stdin) if stdin is not None else None)
    out, err = capsys.readouterr()
    return code, out, err


def intake(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((EXAMPLES / "screening-intake.json").read_text())
    doc.update(changes)
    return doc


def checkin(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((EXAMPLES / "checkin-day2-normal.json").read_text())
    doc.update(changes)
    return doc


@pytest.mark.parametrize(("command", "example", "schema"), [
    ("screen", "screening-intake.json", "needlecare.screening/1"),
    ("plan", "plan-request.json", "needlecare.plan/1"),
    ("aftercare", "session.json", "needlecare.aftercare/1"),
    ("triage", "checkin-day2-normal.json", "needlecare.triage/1"),
    ("triage", "checkin-day3-pus-fever.json", "needlecare.triage/1"),
])
def test_each_engine_reads_its_example(capsys: pytest.CaptureFixture[str], command: str,
                                       example: str, schema: str) -> None:
    code, out, err = run(capsys, command, str(EXAMPLES / example))
    assert (code, err) == (0, "")
    assert json.loads(out)["schema"] == schema
    assert out.endswith("}\n")


def test_output_is_indented_utf8_with_iso_dates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "screen", str(EXAMPLES / "screening-intake.json"))
    assert code == 0
    assert '\n  "verdict": "defer",\n' in out
    assert '"defer_until": "2026-03-15"' in out
    assert "IV–VI" in out  # ensure_ascii=False: clinician text keeps its dash


def test_stdin(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "triage", "-",
                         stdin=(EXAMPLES / "checkin-day3-pus-fever.json").read_text())
    assert (code, err) == (0, "")
    assert json.loads(out)["level"] == "urgent"


# --- invalid input: exit 2, one plain line per problem naming the field -------------------

BAD_INPUTS = [
    pytest.param("screen", intake(conditions={"keloid": True}),
                 ["conditions.keloid: unknown condition 'keloid'; expected one of: ",
                  "keloid_history"], id="unknown-code"),
    pytest.param("screen", intake(colour="blue"), ["colour: unknown field"], id="unknown-field"),
    pytest.param("screen", intake(fitzpatrick=True), ["fitzpatrick: ", "(got true)"],
                 id="bool-is-not-an-int"),
    pytest.param("screen", {"assessed_on": "2026-03-02"},
                 ["planned_date: required field is missing"], id="missing-field"),
    pytest.param("screen", intake(medications={"isotretinoin": "yes"}),
                 ['medications.isotretinoin: expected true or false, or an object (got "yes")'],
                 id="union-folded"),
    pytest.param("screen", intake(medications={"isotretinoin": {"current": "no"}}),
                 ['medications.isotretinoin.current: input should be true or false (got "no")'],
                 id="union-member-field"),
    pytest.param("screen", intake(planned_date="2026-01-01"),
                 ["planned_date is before assessed_on"], id="document-level"),
    pytest.param("screen", intake(assessed_on="2026-02-30"), ["assessed_on: "], id="bad-date"),
    pytest.param("triage", checkin(session={**checkin()["session"], "zones": ["lips"]}),
                 ["session.zones.0: unknown zone 'lips'"], id="nested"),
    pytest.param("triage", checkin(symptoms={"redness": {"severity": 11}}),
                 ["symptoms.redness.severity: ", "(got 11)"], id="out-of-range"),
    pytest.param("screen", checkin(), ["schema: ", "needlecare.checkin/1",
                                       "`needlecare triage`"], id="wrong-schema"),
    pytest.param("screen", [intake()], ["expected a JSON object", "got an array"], id="array"),
]


@pytest.mark.parametrize(("command", "doc", "expected"), BAD_INPUTS)
def test_invalid_input_exits_2_naming_the_field(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, doc: Any,
        expected: list[str]) -> None:
    case = tmp_path / "case.json"
    case.write_text(json.dumps(doc))
    code, out, err = run(capsys, command, str(case))
    assert code == 2
    assert out == ""
    assert f"needlecare: invalid input in {case}: " in err
    for text in expected:
        assert text in err
    assert "Traceback" not in err
    assert "[key]" not in err  # no pydantic internals
    assert "MedicationAnswer" not in err


def test_each_problem_is_on_its_own_line(capsys: pytest.CaptureFixture[str]) -> None:
    doc = intake(colour="blue", zones=["cheeks", "lips"], conditions={"keloid": True})
    code, _, err = run(capsys, "screen", "-", stdin=json.dumps(doc))
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("needlecare: invalid input in <stdin>: ") for line in lines)


def test_invalid_json_gives_line_and_column(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "screen", "-", stdin='{\n  "assessed_on": "2026-03-02",\n}')
    assert code == 2
    assert "needlecare: <stdin> is not valid JSON: line 3 column 1" in err


@pytest.mark.parametrize("name", ["missing.json", "."])
def test_unreadable_file(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                         name: str) -> None:
    path = tmp_path / name
    code, _, err = run(capsys, "screen", str(path))
    assert code == 2
    assert err.startswith(f"needlecare: cannot read {path}: ")
    assert "Traceback" not in err


def test_engine_refusal_is_invalid_input(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    """A plan asked to start before the date the screening checked is refused, not crashed."""
    code, out, _ = run(capsys, "screen", str(EXAMPLES / "screening-intake.json"))
    request = {"schema": "needlecare.plan-request/1", "indications": ["acne_scars"],
               "zones": ["cheeks"], "fitzpatrick": 4, "start_date": "2026-03-03",
               "screening": json.loads(out)}
    code, _, err = run(capsys, "plan", "-", stdin=json.dumps(request))
    assert code == 2
    assert err.startswith("needlecare: cannot evaluate <stdin>: start_date 2026-03-03")


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "screen")
    assert code == 2
    assert "usage: needlecare screen" in err


# --- protocol and clinic overrides ---------------------------------------------------------

def test_override_file_is_applied(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    overrides = tmp_path / "clinic.toml"
    overrides.write_text("[screening.rules.chemical_peel_light]\nwait_days = 28\n")
    example = str(EXAMPLES / "screening-intake.json")
    for argv in (["--overrides", str(overrides), "screen", example],
                 ["screen", example, "--overrides", str(overrides)]):
        code, out, err = run(capsys, *argv)
        assert (code, err) == (0, "")
        assert json.loads(out)["defer_until"] == "2026-03-29"  # light peel on 03-01 + 28 days


@pytest.mark.parametrize(("text", "expected"), [
    ('[screening.rules.keloid_history]\nverdict = "suitable"\n',
     "screening.rules.keloid_history.verdict: is backed by cited evidence [C]"),
    ("[screening.rules.keloid_history\n", "not valid TOML"),
    ("[screening.rules.no_such_rule]\nenabled = false\n", "no such entry in the protocol"),
])
def test_bad_override_file_exits_2_naming_it(capsys: pytest.CaptureFixture[str],
                                             tmp_path: Path, text: str, expected: str) -> None:
    overrides = tmp_path / "clinic.toml"
    overrides.write_text(text)
    code, out, err = run(capsys, "screen", str(EXAMPLES / "screening-intake.json"),
                         "--overrides", str(overrides))
    assert code == 2
    assert out == ""
    assert err.startswith("needlecare: invalid protocol:\n")
    assert str(overrides) in err
    assert expected in err
    assert "Traceback" not in err


def test_missing_protocol_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "--protocol", str(tmp_path / "none.toml"), "rules-doc")
    assert code == 2
    assert f"{tmp_path / 'none.toml'}: cannot read" in err


# --- schema, rules-doc, version -------------------------------------------------------------

def _enums(node: Any) -> list[list[Any]]:
    if isinstance(node, dict):
        found = [node["enum"]] if isinstance(node.get("enum"), list) else []
        return found + [e for value in node.values() for e in _enums(value)]
    if isinstance(node, list):
        return [e for value in node for e in _enums(value)]
    return []


def test_schema_intake_lists_the_condition_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema", "intake")
    assert code == 0
    schema = json.loads(out)
    assert schema["properties"]["schema"]["const"] == "needlecare.intake/1"
    assert any("keloid_history" in enum for enum in _enums(schema))


@pytest.mark.parametrize("name", ["intake", "plan-request", "session", "checkin", "screening",
                                  "plan", "aftercare", "triage"])
def test_every_schema_name(capsys: pytest.CaptureFixture[str], name: str) -> None:
    code, out, _ = run(capsys, "schema", name)
    assert code == 0
    assert "schema" in json.loads(out)["properties"]


def test_unknown_schema_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "schema", "patient")
    assert code == 2
    assert "invalid choice: 'patient'" in err


def test_rules_doc(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "rules-doc")
    assert code == 0
    assert out.startswith("# Clinical rules: microneedling ")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.startswith("needlecare ")


# --- the installed entry points ---------------------------------------------------------------

def test_console_script_in_a_real_process() -> None:
    script = Path(sys.executable).with_name("needlecare")
    assert script.exists(), "the package is not installed: run `make test`"
    ok = subprocess.run([str(script), "screen", "-"], input=json.dumps(intake()),
                        capture_output=True, text=True, timeout=60, check=False)
    assert (ok.returncode, ok.stderr) == (0, "")
    assert json.loads(ok.stdout)["schema"] == "needlecare.screening/1"
    bad = subprocess.run([sys.executable, "-m", "needlecare", "screen", "-"],
                         input=json.dumps(intake(conditions={"keloid": True})),
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode == 2
    assert "conditions.keloid: unknown condition 'keloid'" in bad.stderr
    assert "Traceback" not in bad.stderr
