"""requirements.lock, from which `make` and CI install, pins every dependency pyproject.toml
names (with the dev extra and the build tools) at a version inside pyproject's range, each
with at least one SHA-256. Run `make lock` after changing pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", re.MULTILINE)


def _locked() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def _wanted() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lines = [*project["project"]["dependencies"],
             *project["project"]["optional-dependencies"]["dev"],
             *project["build-system"]["requires"]]
    return [Requirement(line) for line in lines]


def test_every_dependency_is_pinned_inside_its_range() -> None:
    locked = _locked()
    for requirement in _wanted():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{name}=={locked[name]} is outside {requirement.specifier}: run `make lock`")


def test_every_pin_carries_a_hash() -> None:
    blocks = re.split(r"\n(?=[A-Za-z0-9._-]+==)", (ROOT / "requirements.lock").read_text())
    pinned = [b for b in blocks if PIN.match(b)]
    assert len(pinned) == len(_locked()) > 50
    for block in pinned:
        assert "--hash=sha256:" in block, block.splitlines()[0]
