"""``needlecare backup``: a consistent copy of the database, safe to take while serving.

SQLite is copied with its online backup API (readers and writers carry on; the copy is one
consistent snapshot, WAL contents included), never with ``cp``. PostgreSQL is dumped with
``pg_dump`` in its custom format (restore with ``pg_restore``); the password goes through the
environment, not the command line, so it does not show in ``ps``.

Backups hold patient data: the directory is created private (0700) and each file 0600.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings


class BackupError(Exception):
    """Something the operator can fix (a missing pg_dump, an unwritable directory)."""


def _stamp(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")


def _private_dir(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def backup_sqlite(source: Path, directory: Path, now: dt.datetime | None = None) -> Path:
    if not source.exists():
        raise BackupError(f"no database at {source}; run `needlecare migrate` first")
    target = _private_dir(directory) / f"needlecare-{_stamp(now)}.sqlite3"
    partial = target.with_suffix(".sqlite3.partial")
    # Opened read-only so that a typo in the path never creates an empty database.
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        dst = sqlite3.connect(partial)
        try:
            with dst:
                src.backup(dst, pages=4096)
            # The copy is a standalone file: no -wal/-shm files beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check: {check}")
    partial.replace(target)
    return target


def backup_postgresql(database: dict[str, Any], directory: Path,
                      now: dt.datetime | None = None) -> Path:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    target = _private_dir(directory) / f"needlecare-{_stamp(now)}.dump"
    partial = target.with_suffix(".dump.partial")
    env = {**os.environ}
    for key, setting in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"),
                         ("PGPASSWORD", "PASSWORD"), ("PGDATABASE", "NAME")):
        if database.get(setting):
            env[key] = str(database[setting])
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    done = subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--file={partial}"],
                          env=env, stderr=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    partial.replace(target)
    return target


def backup(directory: Path | None = None) -> Path:
    """Back up the configured database into ``directory`` (default: var/backups)."""
    database = settings.DATABASES["default"]
    directory = directory or Path(settings.VAR_DIR) / "backups"
    engine = database["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        return backup_sqlite(Path(database["NAME"]), directory)
    if engine == "django.db.backends.postgresql":
        return backup_postgresql(database, directory)
    raise BackupError(f"no backup method for the database engine {engine}")
