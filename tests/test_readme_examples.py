"""The README's examples are the CLI's real output, so they cannot drift unnoticed.

An example sits between ``<!-- readme-example -->`` and ``<!-- /readme-example -->``: a
``console`` block with one ``$ needlecare …`` command (optionally fed by ``echo '…' |``), then
a ``json`` block with what it prints on stdout or a ``text`` block with what it prints on
stderr. ``<!-- readme-example shortened -->`` marks a JSON output with keys left out: every key
shown must have the real value, and every list shown must have all its items. The clinic
override example (``<!-- readme-overrides -->``) must load.
"""

from __future__ import annotations

import io
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from needlecare.cli import main
from needlecare.clinical.protocol.loader import load_protocol

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

_EXAMPLE = re.compile(
    r"<!-- readme-example(?P<shortened> shortened)? -->\s*"
    r"```console\n\$ (?P<command>[^\n]+)\n```\s*"
    r"```(?P<kind>json|text)\n(?P<shown>.*?)```\s*"
    r"<!-- /readme-example -->", re.DOTALL)
_OVERRIDES = re.compile(r"<!-- readme-overrides -->\s*```toml\n(?P<toml>.*?)```", re.DOTALL)


@dataclass(frozen=True)
class Example:
    command: str
    kind: str
    shown: str
    shortened: bool


def examples() -> list[Example]:
    text = README.read_text(encoding="utf-8")
    return [Example(m["command"], m["kind"], m["shown"], bool(m["shortened"]))
            for m in _EXAMPLE.finditer(text)]


def run(command: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    stdin = None
    if " | " in command:
        feed, command = command.split(" | ", 1)
        words = shlex.split(feed)
        assert words[:1] == ["echo"], f"only `echo '…' |` can feed an example: {feed}"
        stdin = io.StringIO(" ".join(words[1:]) + "\n")
    argv = shlex.split(command)
    assert argv[0] == "needlecare", command
    code = main(argv[1:], stdin=stdin)
    out, err = capsys.readouterr()
    return code, out, err


def shown_part(real: Any, shown: Any) -> Any:
    """``real`` cut down to the keys ``shown`` has, so that it can be compared and pasted."""
    if isinstance(shown, dict) and isinstance(real, dict):
        return {k: shown_part(real[k], shown[k]) if k in real else "<missing>" for k in shown}
    if isinstance(shown, list) and isinstance(real, list) and len(shown) == len(real):
        return [shown_part(r, s) for r, s in zip(real, shown, strict=True)]
    return real


def test_readme_has_examples() -> None:
    found = examples()
    commands = [e.command for e in found]
    assert any(c.startswith("needlecare screen ") for c in commands)
    assert any(c.startswith("needlecare triage ") for c in commands)
    assert any(e.kind == "text" for e in found)


@pytest.mark.parametrize("example", examples(), ids=lambda e: e.command[:60])
def test_shown_output_is_real(example: Example, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # commands name files relative to the repository
    code, out, err = run(example.command, capsys)
    if example.kind == "text":
        assert code == 2
        assert err == example.shown, f"README shows a different message; the real one is:\n{err}"
        return
    assert (code, err) == (0, "")
    real, shown = json.loads(out), json.loads(example.shown)
    expected = shown_part(real, shown) if example.shortened else real
    if shown != expected:
        pytest.fail(f"README output for `{example.command}` is stale. Paste this instead:\n"
                    + json.dumps(expected, indent=2, ensure_ascii=False))


def test_override_example_loads(tmp_path: Path) -> None:
    match = _OVERRIDES.search(README.read_text(encoding="utf-8"))
    assert match, "README has no <!-- readme-overrides --> toml block"
    overrides = tmp_path / "clinic.toml"
    overrides.write_text(match["toml"], encoding="utf-8")
    load_protocol(overrides=overrides)
