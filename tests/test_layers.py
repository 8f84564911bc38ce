"""The apps import only downward, and imports hide inside functions only for a stated reason.

``make lint`` runs import-linter's layers contract on the project (pyproject.toml). These tests
show that the tool catches what the contract is for: an upward import, even one hidden inside
a function, in a small package made for the purpose; and they keep the house rule that an
import inside a function says why it is there.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "needlecare"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

CONFIG = """\
[importlinter]
root_package = layered

[importlinter:contract:layers]
name = Layers of the fixture
type = layers
containers =
    layered
layers =
    top
    bottom
"""


def _fixture(tmp_path: Path, bottom_source: str) -> Path:
    package = tmp_path / "layered"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "top.py").write_text("from layered import bottom\n")
    (package / "bottom.py").write_text(bottom_source)
    config = tmp_path / ".importlinter"
    config.write_text(CONFIG)
    return config


def _lint(tmp_path: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"], cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)}, capture_output=True, text=True,
        timeout=120, check=False)


def test_a_package_that_imports_downward_only_passes(tmp_path: Path) -> None:
    done = _lint(tmp_path, _fixture(tmp_path, "VALUE = 1\n"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_upward_import_inside_a_function_fails(tmp_path: Path) -> None:
    config = _fixture(tmp_path, "def later():\n    from layered import top\n    return top\n")
    done = _lint(tmp_path, config)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "layered.bottom is not allowed to import layered.top" in done.stdout


def test_the_project_contract_places_every_top_level_module() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")
    placed = {name.strip() for layer in layers["layers"] for name in layer.split("|")}
    placed |= set(layers.get("exhaustive_ignores", []))
    modules = {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    modules |= {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}
    assert modules == placed
    assert layers["exhaustive"] is True


def _nested_imports(path: Path) -> list[tuple[int, bool]]:
    """(line, explained) of each import inside a function: explained when a comment stands on
    its line (other than a type-checker directive) or on the line right above it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for function in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import | ast.ImportFrom):
                line = lines[node.lineno - 1]
                trailing = line.split("#", 1)[1].strip() if "#" in line else ""
                explained = bool(trailing) and not trailing.startswith(("type:", "noqa"))
                above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
                explained = explained or above.startswith("#")
                found.append((node.lineno, explained))
    return found


def test_the_nested_import_check_sees_comments() -> None:
    source = ("def a():\n    import os\n"
              "def b():\n    # needed late: it is heavy\n    import json\n"
              "def c():\n    import re  # type: ignore[misc]\n"
              "def d():\n    import csv  # lazy: slow to load\n")
    probe = ROOT / "test-artifacts" / "nested_probe.py"
    probe.parent.mkdir(exist_ok=True)
    probe.write_text(source)
    try:
        assert _nested_imports(probe) == [(2, False), (5, True), (7, False), (9, True)]
    finally:
        probe.unlink()


MODULES = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_an_import_inside_a_function_says_why(path: Path) -> None:
    unexplained = [line for line, explained in _nested_imports(path) if not explained]
    assert not unexplained, (f"{path.relative_to(ROOT)} imports inside a function at lines "
                             f"{unexplained} without a comment saying why")
