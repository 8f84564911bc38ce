"""Production settings refuse to start with a placeholder secret key or DEBUG on."""

from __future__ import annotations

import os
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
