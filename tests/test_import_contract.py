"""The clinical and imaging cores never import the web framework (nor, for imaging, the
object-storage clients: files reach it as bytes).

import-linter (``make lint``) enforces this with indirect imports too; this test is the cheap
belt-and-braces that also runs under a bare ``pytest``, with or without Django installed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "needlecare"
CLINICAL = PACKAGE / "clinical"
IMAGING = PACKAGE / "imaging"
FORBIDDEN = ("django", "ninja")
IMAGING_FORBIDDEN = (*FORBIDDEN, "storages", "boto3")
MODULES = sorted(CLINICAL.rglob("*.py"))
IMAGING_MODULES = sorted(IMAGING.rglob("*.py"))


def imported_modules(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
              and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return found


def is_forbidden(module: str, forbidden: tuple[str, ...] = FORBIDDEN) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in forbidden)


def test_the_walk_sees_every_import_form() -> None:
    source = ("import django\nfrom django.db import models\nimport os, ninja.router\n"
              "def f():\n    import django.conf\n"
              "importlib.import_module('ninja')\n")
    assert [m for _, m in imported_modules(source) if is_forbidden(m)] == [
        "django", "django.db", "ninja.router", "django.conf", "ninja"]
    assert not is_forbidden("djangorestish")


def test_there_are_modules_to_check() -> None:
    assert len(MODULES) > 5
    assert len(IMAGING_MODULES) > 5


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(CLINICAL)))
def test_no_clinical_module_imports_django_or_ninja(path: Path) -> None:
    bad = [f"line {line}: {module}"
           for line, module in imported_modules(path.read_text(encoding="utf-8"))
           if is_forbidden(module)]
    assert not bad, f"{path} imports the web framework: {bad}"


@pytest.mark.parametrize("path", IMAGING_MODULES, ids=lambda p: str(p.relative_to(IMAGING)))
def test_no_imaging_module_imports_django_or_storage(path: Path) -> None:
    bad = [f"line {line}: {module}"
           for line, module in imported_modules(path.read_text(encoding="utf-8"))
           if is_forbidden(module, IMAGING_FORBIDDEN)]
    assert not bad, f"{path} imports the web framework or a storage client: {bad}"
