"""Production settings refuse to start with a placeholder secret key or DEBUG on."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

GOOD_KEY = "k3Jq9vX2pL7mW4tR8nB1cY6zH5sD0fG-aE_uQ2iO9wV3xM7jN4bT1rK8lP6yC5hZ"


def _import_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("NEEDLECARE_", "DJANGO_", "DATABASE_URL"))}
    clean.update({"NEEDLECARE_ENV": "production", "NEEDLECARE_VAR_DIR": str(tmp_path)}, **env)
    return subprocess.run([sys.executable, "-c", "import needlecare.settings"], cwd=tmp_path,
                          env=clean, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("env", [
    {},  # no key at all: the development placeholder
    {"NEEDLECARE_SECRET_KEY": "development-only-secret-key-never-use-in-production"},
    {"NEEDLECARE_SECRET_KEY": "change-me-change-me-change-me-change-me-change-me"},
    {"NEEDLECARE_SECRET_KEY": "too-short"},
    {"NEEDLECARE_SECRET_KEY": GOOD_KEY, "NEEDLECARE_DEBUG": "1"},
    {"NEEDLECARE_SECRET_KEY": GOOD_KEY, "NEEDLECARE_DEBUG": "true"},
], ids=["no-key", "placeholder", "change-me", "short", "debug-1", "debug-true"])
def test_production_refuses_unsafe_settings(tmp_path: Path, env: dict[str, str]) -> None:
    result = _import_settings(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr


def test_production_accepts_a_real_key_with_debug_off(tmp_path: Path) -> None:
    result = _import_settings(tmp_path, NEEDLECARE_SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr
    result = _import_settings(tmp_path, NEEDLECARE_SECRET_KEY=GOOD_KEY, NEEDLECARE_DEBUG="0")
    assert result.returncode == 0, result.stderr


def _static_backend(tmp_path: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("NEEDLECARE_", "DJANGO_", "DATABASE_URL"))}
    clean.update({"NEEDLECARE_VAR_DIR": str(tmp_path)}, **env)
    result = subprocess.run(
        [sys.executable, "-c", "import needlecare.settings as s; "
         "print(s.STORAGES['staticfiles']['BACKEND'])"],
        cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(("env", "hashed"), [
    ({"NEEDLECARE_ENV": "production", "NEEDLECARE_SECRET_KEY": GOOD_KEY}, True),
    ({"NEEDLECARE_DEBUG": "0"}, True),
    ({}, False),
], ids=["production", "debug-off", "development"])
def test_static_files_have_hashed_names_whenever_debug_is_off(tmp_path: Path,
                                                              env: dict[str, str],
                                                              hashed: bool) -> None:
    # Hashed names need collectstatic's manifest, which `needlecare serve` writes when DEBUG
    # is off; with DEBUG on (make demo, the tests) the source folders are served as they are.
    backend = _static_backend(tmp_path, **env)
    assert (backend == "whitenoise.storage.CompressedManifestStaticFilesStorage") is hashed
def _development_key(var_dir: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("NEEDLECARE_", "DJANGO_", "DATABASE_URL"))}
    clean["NEEDLECARE_VAR_DIR"] = str(var_dir)
    var_dir.parent.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-c", "from needlecare import settings; print(settings.SECRET_KEY)"],
        cwd=var_dir.parent, env=clean, capture_output=True, text=True, timeout=60, check=False)


def test_development_generates_its_own_secret_key_per_installation(tmp_path: Path) -> None:
    first = _development_key(tmp_path / "one" / "var")
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    stored = tmp_path / "one" / "var" / "secret-key"
    assert stored.read_text().strip() == key
    assert len(key) >= 50
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert _development_key(tmp_path / "one" / "var").stdout.strip() == key
    other = _development_key(tmp_path / "two" / "var").stdout.strip()
    assert other
    assert other != key


def test_the_old_published_key_is_refused_in_development_too(tmp_path: Path) -> None:
    result = _import_settings(
        tmp_path, NEEDLECARE_ENV="development",
        NEEDLECARE_SECRET_KEY="development-only-secret-key-never-use-in-production")
    assert result.returncode != 0
    assert "published placeholder" in result.stderr


def test_the_api_docs_are_for_staff_in_production_unless_opened(tmp_path: Path) -> None:
    def docs_public(**env: str) -> str:
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("NEEDLECARE_", "DJANGO_", "DATABASE_URL"))}
        clean.update({"NEEDLECARE_ENV": "production", "NEEDLECARE_VAR_DIR": str(tmp_path),
                      "NEEDLECARE_SECRET_KEY": GOOD_KEY}, **env)
        done = subprocess.run(
            [sys.executable, "-c",
             "from needlecare import settings; print(settings.API_DOCS_PUBLIC)"],
            cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=60, check=True)
        return done.stdout.strip()

    assert docs_public() == "False"
    assert docs_public(NEEDLECARE_API_DOCS_PUBLIC="1") == "True"
