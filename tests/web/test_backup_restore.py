"""A backup of the demo clinic with stored documents and a photo, restored into an empty
target: on SQLite into an empty directory, on PostgreSQL into an empty database. Every row and
every file hash matches, and the patient's PDF downloads and the photo opens afterwards. Each
step runs the real ``needlecare`` command in its own process, as an operator would."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

NEEDLECARE = str(Path(sys.executable).with_name("needlecare"))
POSTGRES_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = POSTGRES_URL.startswith(("postgres://", "postgresql://"))

# Stores the aftercare plan and the consent of two demo patients through the services, as
# staff downloading them would, and prints what was stored.
STORE_DOCUMENTS = """
import json
from needlecare.access import Actor
from needlecare.accounts.models import User
from needlecare.care.models import TreatmentSession
from needlecare.documents import services
clinician = User.objects.get(username="demo.clinician")
actor = Actor(user=clinician)
stored = []
for session in TreatmentSession.objects.filter(clinic=clinician.clinic, status="signed"
                                               ).order_by("id")[:2]:
    stored.append(services.store_aftercare_pdf(actor, session.pk))
    stored.append(services.store_consent_pdf(actor, session.consent_id))
print(json.dumps([{"id": d.pk, "sha256": d.sha256, "file": d.file.name} for d in stored]))
"""

# Adds a photo of a demo patient with a photo consent, as staff do on the photo page (the file
# goes to the same storage as the documents), and prints its id and its stored files' names.
STORE_PHOTO = """
import io, json
from PIL import Image
from needlecare.access import Actor
from needlecare.accounts.models import User
from needlecare.care.models import Consent
from needlecare.photos.services import Upload, upload_photos
consent = Consent.objects.filter(kind="photos").order_by("id").first()
image = Image.linear_gradient("L").resize((400, 400)).convert("RGB")
jpeg = io.BytesIO()
image.save(jpeg, "JPEG", quality=90)
actor = Actor(user=User.objects.get(username="demo.clinician"))
[photo] = upload_photos(actor, consent.patient_id, [Upload(jpeg.getvalue(), "front")])
print(json.dumps({"id": photo.pk, "files": photo.file_names}))
"""

# Opens a photo's stored original as the clinician would, and prints its hash.
DOWNLOAD_PHOTO = """
import hashlib, json, os
from django.test import Client
from needlecare.accounts.models import User
client = Client()
client.force_login(User.objects.get(username="demo.clinician"))
response = client.get(f"/photos/{os.environ['SCRIPT_ARGUMENT']}/file/original/")
print(json.dumps([response.status_code, hashlib.sha256(response.content).hexdigest()]))
"""

# Downloads each document as the clinician would, through the page, and prints the hashes.
DOWNLOAD = """
import hashlib, json, os
from django.test import Client
from needlecare.accounts.models import User
client = Client()
client.force_login(User.objects.get(username="demo.clinician"))
got = {}
for pk in json.loads(os.environ["SCRIPT_ARGUMENT"]):
    response = client.get(f"/documents/{pk}/")
    got[pk] = [response.status_code, response["Content-Type"],
               hashlib.sha256(response.content).hexdigest()]
print(json.dumps(got))
"""


def _env(var_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NEEDLECARE_", "DJANGO_", "DATABASE_URL"))}
    env["NEEDLECARE_VAR_DIR"] = str(var_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _run(env: dict[str, str], *argv: str, check: bool = True
         ) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([NEEDLECARE, *argv], env=env,
                          cwd=Path(env["NEEDLECARE_VAR_DIR"]).parent,
                          capture_output=True, text=True, timeout=300, check=False)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _script(env: dict[str, str], code: str, argument: str = "") -> Any:
    """Run ``code`` in Django's shell through the ``needlecare`` command (so under its umask),
    with ``argument`` in the environment; its last line of output is JSON."""
    done = _run({**env, "SCRIPT_ARGUMENT": argument}, "manage", "shell", "-c", code)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _file_hashes(media: Path) -> dict[str, str]:
    return {str(p.relative_to(media)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(media.rglob("*")) if p.is_file()}


def _build_source(env: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The demo clinic with four stored documents and a photo (its id and three files)."""
    _run(env, "migrate", "--verbosity", "0")
    _run(env, "demo")
    documents = _script(env, STORE_DOCUMENTS)
    assert len(documents) == 4
    photo = _script(env, STORE_PHOTO)
    media = Path(env["NEEDLECARE_VAR_DIR"]) / "media"
    assert all((media / name).is_file() for name in photo["files"])
    return documents, photo


def _backup_and_check(env: dict[str, str], directory: Path) -> Path:
    archive = Path(_run(env, "backup", "--directory", str(directory)).stdout.strip())
    assert archive.suffix == ".tar"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    verified = _run(env, "backup", "--verify", str(archive))
    assert "every SHA-256 matches" in verified.stdout
    return archive


def _assert_downloads(env: dict[str, str], documents: list[dict[str, Any]],
                      photo: dict[str, Any], source_media: Path) -> None:
    """The restored documents and photo open through the pages, with their source hashes."""
    got = _script(env, DOWNLOAD, json.dumps([d["id"] for d in documents]))
    for document in documents:
        status, content_type, sha256 = got[str(document["id"])]
        assert (status, content_type) == (200, "application/pdf")
        assert sha256 == document["sha256"]
    original = source_media / photo["files"][0]
    assert _script(env, DOWNLOAD_PHOTO, str(photo["id"])) == [
        200, hashlib.sha256(original.read_bytes()).hexdigest()]


def _sqlite_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        # Sorted here rather than by rowid: the patient search's FTS5 tables include one
        # WITHOUT ROWID (patients_patient_search_config).
        return {t: sorted(db.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr)
                for t in tables}
    finally:
        db.close()


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite pass runs this; the PostgreSQL pass "
                                        "runs the PostgreSQL variant")
def test_the_demo_clinic_restores_into_an_empty_directory_on_sqlite(tmp_path: Path) -> None:
    source = _env(tmp_path / "source" / "var", None)
    (tmp_path / "source").mkdir()
    documents, photo = _build_source(source)
    media = tmp_path / "source" / "var" / "media"
    for document in documents:
        # Live data files are created under the umask 027: nothing for other users.
        assert stat.S_IMODE((media / document["file"]).stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "source/var/needlecare.sqlite3").stat().st_mode) == 0o640
    archive = _backup_and_check(source, tmp_path / "backups")

    (tmp_path / "target").mkdir()
    target = _env(tmp_path / "target" / "var", None)
    restored = _run(target, "restore", str(archive))
    assert "every SHA-256 and row count matches" in restored.stdout

    assert _sqlite_rows(tmp_path / "target/var/needlecare.sqlite3") == _sqlite_rows(
        tmp_path / "source/var/needlecare.sqlite3")
    restored_files = _file_hashes(tmp_path / "target/var/media")
    assert restored_files == _file_hashes(media)
    assert {d["file"]: d["sha256"] for d in documents}.items() <= restored_files.items()
    _assert_downloads(target, documents, photo, tmp_path / "source/var/media")

    again = _run(target, "restore", str(archive), check=False)
    assert again.returncode == 2
    assert "not empty" in again.stderr


def test_a_damaged_archive_is_reported_and_not_restored(tmp_path: Path) -> None:
    env = _env(tmp_path / "var", None)
    (tmp_path / "var" / "media" / "documents").mkdir(parents=True)
    (tmp_path / "var" / "media" / "documents" / "a.pdf").write_bytes(b"%PDF-1.7 first")
    _run(env, "migrate", "--verbosity", "0")
    archive = _backup_and_check(env, tmp_path / "backups")

    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as original, tarfile.open(damaged, "w") as copy:
        for member in original.getmembers():
            content = original.extractfile(member)
            assert content is not None
            data = content.read()
            if member.name == "files/documents/a.pdf":
                data = b"%PDF-1.7 other"
            member.size = len(data)
            copy.addfile(member, io.BytesIO(data))
    checked = _run(env, "backup", "--verify", str(damaged), check=False)
    assert checked.returncode == 2
    assert "files/documents/a.pdf: SHA-256 or size differs" in checked.stderr

    (tmp_path / "empty").mkdir()
    refused = _run(_env(tmp_path / "empty" / "var", None), "restore", str(damaged),
                   check=False)
    assert refused.returncode == 2
    assert "does not match its manifest" in refused.stderr
    assert not (tmp_path / "empty" / "var" / "media").exists()


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """Two new, empty databases on the PostgreSQL server DATABASE_URL names."""
    import psycopg  # only the PostgreSQL pass needs it

    names = [f"nc_backup_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("source", "target")]
    base = POSTGRES_URL.split("?", 1)[0].rsplit("/", 1)[0]
    # The server's maintenance database: the one DATABASE_URL names may not exist (the tests
    # run in pytest-django's test_… database).
    admin = psycopg.connect(f"{base}/postgres", autocommit=True)
    try:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _postgres_rows(url: str) -> dict[str, str]:
    """Each table's rows, as one digest of every row's text in a stable order."""
    import psycopg  # only the PostgreSQL pass needs it

    with psycopg.connect(url) as db:
        tables = [r[0] for r in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        return {t: db.execute(
            f'SELECT count(*) || \':\' || coalesce(md5(string_agg(x::text, \'|\' '
            f'ORDER BY x::text)), \'\') FROM "{t}" x').fetchone()[0] for t in tables}


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (make pytest-postgres)")
def test_the_demo_clinic_restores_into_an_empty_postgresql_database(
        tmp_path: Path, databases: tuple[str, str]) -> None:
    source_url, target_url = databases
    (tmp_path / "source").mkdir()
    source = _env(tmp_path / "source" / "var", source_url)
    documents, photo = _build_source(source)
    archive = _backup_and_check(source, tmp_path / "backups")

    (tmp_path / "target").mkdir()
    target = _env(tmp_path / "target" / "var", target_url)
    restored = _run(target, "restore", str(archive))
    assert "every SHA-256 and row count matches" in restored.stdout

    source_rows = _postgres_rows(source_url)
    assert source_rows["patients_patient"].split(":")[0] != "0"
    assert _postgres_rows(target_url) == source_rows
    assert _file_hashes(tmp_path / "target/var/media") == _file_hashes(
        tmp_path / "source/var/media")
    _assert_downloads(target, documents, photo, tmp_path / "source/var/media")

    again = _run(target, "restore", str(archive), check=False)
    assert again.returncode == 2
    assert "has tables" in again.stderr
