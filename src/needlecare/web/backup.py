"""``needlecare backup`` and ``needlecare restore``: the database and every stored file in one
archive, with a manifest of SHA-256 hashes; safe to take while serving.

An archive is an uncompressed tar file, ``needlecare-YYYYMMDDTHHMMSSZ.tar``, mode 0600:

- ``manifest.json``: the format, when and by which version it was made, the database engine,
  the row count of every table, and each member's size and SHA-256;
- ``database/needlecare.sqlite3`` (SQLite's online backup API: one consistent snapshot, WAL
  contents included, checked with ``PRAGMA integrity_check``) or ``database/needlecare.dump``
  (``pg_dump``'s custom format; the password goes through the environment, not the command
  line, so it does not show in ``ps``);
- ``files/<name>``: every file in the storage (documents today, photos later), read through
  Django's storage API, so files on object storage are included.

The database is copied first and the storage listed after: stored files are named by their
content and never changed, and a file is written before the row that names it commits, so
every file the copied rows name is in the listing (a newer file is merely extra).

``restore`` refuses a target that holds anything (a database with tables, a storage with
files), checks every hash in the archive, writes the database and the files, reads every file
back and compares its hash, and counts the rows of every table against the manifest.
``verify`` checks an archive without restoring it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import connections, transaction

FORMAT = "needlecare-backup/1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/needlecare.sqlite3"
POSTGRES_MEMBER = "database/needlecare.dump"
FILES = "files/"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """Something the operator can fix (a missing pg_dump, an unwritable directory, a target
    that is not empty, an archive that does not match its manifest)."""


def _stamp(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")


def _private_dir(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def _private_file(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))


def _engine(database: dict[str, Any]) -> str:
    engine = str(database["ENGINE"])
    if engine == "django.db.backends.sqlite3":
        return "sqlite"
    if engine == "django.db.backends.postgresql":
        return "postgresql"
    raise BackupError(f"no backup method for the database engine {engine}")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- the database ------------------------------------------------------------------------------

def backup_sqlite(source: Path, directory: Path, now: dt.datetime | None = None) -> Path:
    """A standalone, checked copy of the SQLite database ``source`` in ``directory``."""
    if not source.exists():
        raise BackupError(f"no database at {source}; run `needlecare migrate` first")
    target = _private_dir(directory) / f"needlecare-{_stamp(now)}.sqlite3"
    partial = target.with_suffix(".sqlite3.partial")
    # Opened read-only so that a typo in the path never creates an empty database.
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        _private_file(partial)
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


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _pg_env(database: dict[str, Any]) -> dict[str, str]:
    env = {**os.environ}
    for key, setting in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"),
                         ("PGPASSWORD", "PASSWORD"), ("PGDATABASE", "NAME")):
        if database.get(setting):
            env[key] = str(database[setting])
    return env


def backup_postgresql(database: dict[str, Any], directory: Path,
                      now: dt.datetime | None = None, *, snapshot: str | None = None) -> Path:
    """``pg_dump``'s custom-format archive of the database in ``directory`` (of an exported
    ``snapshot``, when given, so that it shows what another transaction sees)."""
    pg_dump = _pg_tool("pg_dump")
    target = _private_dir(directory) / f"needlecare-{_stamp(now)}.dump"
    partial = target.with_suffix(".dump.partial")
    _private_file(partial)
    argv = [pg_dump, "--format=custom", "--no-owner", f"--file={partial}"]
    if snapshot:
        argv.append(f"--snapshot={snapshot}")
    done = subprocess.run(argv, env=_pg_env(database), stderr=subprocess.PIPE, text=True,
                          check=False)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    partial.replace(target)
    return target


def _row_counts(alias: str) -> dict[str, int]:
    connection = connections[alias]
    with connection.cursor() as cursor:
        tables = sorted(connection.introspection.table_names(cursor))
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = int(cursor.fetchone()[0])
    return counts


def _postgresql_snapshot(database: dict[str, Any], alias: str, directory: Path,
                         now: dt.datetime | None) -> tuple[Path, dict[str, int]]:
    """The dump and the row counts of one and the same moment: a repeatable-read transaction
    counts the rows and exports its snapshot, which pg_dump then reads."""
    connection = connections[alias]
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        rows = _row_counts(alias)
        dump = backup_postgresql(database, directory, now, snapshot=snapshot)
    return dump, rows


def _sqlite_counts(path: Path) -> dict[str, int]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
                for t in sorted(tables)}
    finally:
        db.close()


# --- the storage -------------------------------------------------------------------------------

#: /readyz writes and deletes a probe file here: never part of a backup.
PROBE_DIRECTORY = "readyz"


def stored_files(storage: Storage, directory: str = "") -> Iterator[str]:
    """Every file name in the storage, depth first, in a stable order (the readiness probe's
    directory left out)."""
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:  # a file system storage nothing was ever stored in
        return
    for name in sorted(files):
        yield f"{directory}/{name}" if directory else name
    for sub in sorted(directories):
        if not directory and sub == PROBE_DIRECTORY:
            continue
        yield from stored_files(storage, f"{directory}/{sub}" if directory else sub)


class _Hashing(io.RawIOBase):
    """Reads through to ``raw`` and hashes what passes."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def _member_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"unsafe file name in the storage: {name!r}")
    return FILES + str(path)


# --- writing an archive ------------------------------------------------------------------------

def _version() -> str:
    try:
        return version("needlecare")
    except PackageNotFoundError:
        return "unknown"


def backup(directory: Path | None = None, *, alias: str = "default",
           storage: Storage | None = None, now: dt.datetime | None = None) -> Path:
    """Write one archive of the database and every stored file into ``directory`` (default:
    var/backups) and return its path."""
    database = settings.DATABASES[alias]
    storage = storage or default_storage
    engine = _engine(database)
    directory = _private_dir(directory or Path(settings.VAR_DIR) / "backups")
    stamp = _stamp(now)
    target = directory / f"needlecare-{stamp}.tar"
    partial = directory / f"needlecare-{stamp}.tar.partial"
    with tempfile.TemporaryDirectory(dir=directory, prefix=".work-") as work:
        if engine == "sqlite":
            dump = backup_sqlite(Path(database["NAME"]), Path(work), now)
            rows, member = _sqlite_counts(dump), SQLITE_MEMBER
        else:
            dump, rows = _postgresql_snapshot(database, alias, Path(work), now)
            member = POSTGRES_MEMBER
        manifest: dict[str, Any] = {
            "format": FORMAT, "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "needlecare_version": _version(), "engine": engine, "rows": rows,
            "database": {"member": member, "size": dump.stat().st_size,
                         "sha256": _sha256_file(dump)},
            "files": [],
        }
        _private_file(partial)
        try:
            with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
                archive.add(dump, arcname=member, recursive=False)
                for name in stored_files(storage):
                    manifest["files"].append(_add_stored(archive, storage, name))
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    partial.replace(target)
    return target


def _add_stored(archive: tarfile.TarFile, storage: Storage, name: str) -> dict[str, Any]:
    info = tarfile.TarInfo(_member_name(name))
    info.size = storage.size(name)
    info.mode = 0o600
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    with storage.open(name, "rb") as stored:
        reading = _Hashing(stored)
        archive.addfile(info, reading)
    if reading.size != info.size:
        raise BackupError(f"{name} changed size while it was copied")
    return {"name": name, "size": info.size, "sha256": reading.digest.hexdigest()}


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mode = 0o600
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    archive.addfile(info, io.BytesIO(content))


# --- reading an archive ------------------------------------------------------------------------

@dataclass
class Verified:
    """What an archive holds, every hash checked."""

    path: Path
    manifest: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def files(self) -> list[dict[str, Any]]:
        files: list[dict[str, Any]] = self.manifest.get("files", [])
        return files


def _read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.extractfile(MANIFEST)
    except KeyError:
        raise BackupError("not a Needlecare backup: it has no manifest.json") from None
    if member is None:
        raise BackupError("not a Needlecare backup: manifest.json is not a file")
    manifest: dict[str, Any] = json.loads(member.read())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}; "
                          f"this version reads {FORMAT}")
    return manifest


def _hash_member(archive: tarfile.TarFile, name: str) -> tuple[str, int] | None:
    try:
        member = archive.extractfile(name)
    except KeyError:
        return None
    if member is None:
        return None
    digest, size = hashlib.sha256(), 0
    while chunk := member.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def verify(path: Path) -> Verified:
    """Check every member of the archive against the manifest's hashes and sizes; also that
    the archive holds nothing the manifest does not name."""
    try:
        with tarfile.open(path, "r:") as archive:
            return _verify(path, archive)
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {path}: {exc}") from None


def _verify(path: Path, archive: tarfile.TarFile) -> Verified:
    manifest = _read_manifest(archive)
    result = Verified(path, manifest)
    expected = {manifest["database"]["member"]: manifest["database"]}
    for entry in manifest["files"]:
        expected[_member_name(entry["name"])] = entry
    for name, entry in expected.items():
        found = _hash_member(archive, name)
        if found is None:
            result.problems.append(f"{name}: missing from the archive")
        elif found != (entry["sha256"], entry["size"]):
            result.problems.append(f"{name}: SHA-256 or size differs from the manifest")
    extra = {m.name for m in archive.getmembers()} - set(expected) - {MANIFEST}
    result.problems += [f"{name}: not in the manifest" for name in sorted(extra)]
    return result


# --- restoring ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Restored:
    engine: str
    tables: int
    rows: int
    files: int


def _sqlite_is_empty(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return True
    return not _sqlite_counts(path)


def _postgres_is_empty(alias: str) -> bool:
    connection = connections[alias]
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def restore(path: Path, *, alias: str = "default", storage: Storage | None = None
            ) -> Restored:
    """Restore an archive into the empty database ``alias`` and the empty ``storage``."""
    storage = storage or default_storage
    database = settings.DATABASES[alias]
    engine = _engine(database)
    checked = verify(path)
    if not checked.ok:
        raise BackupError("the archive does not match its manifest: "
                          + "; ".join(checked.problems))
    manifest = checked.manifest
    if manifest["engine"] != engine:
        raise BackupError(f"the archive holds a {manifest['engine']} database; the target "
                          f"is {engine} (move between them with dumpdata/loaddata)")
    if engine == "sqlite":
        if not _sqlite_is_empty(Path(database["NAME"])):
            raise BackupError(f"the database {database['NAME']} is not empty; restore into "
                              "an empty target")
    elif not _postgres_is_empty(alias):
        raise BackupError(f"the database {database.get('NAME')} has tables; restore into an "
                          "empty database")
    if next(stored_files(storage), None) is not None:
        raise BackupError("the file storage is not empty; restore into an empty one")

    with tarfile.open(path, "r:") as archive:
        _restore_database(archive, manifest, database, alias)
        for entry in manifest["files"]:
            _restore_file(archive, storage, entry)

    rows = _row_counts(alias)
    differing = [t for t, n in manifest["rows"].items() if rows.get(t) != n]
    if differing:
        raise BackupError("restored row counts differ from the manifest in: "
                          + ", ".join(differing))
    return Restored(engine=engine, tables=len(rows), rows=sum(rows.values()),
                    files=len(manifest["files"]))


def _restore_database(archive: tarfile.TarFile, manifest: dict[str, Any],
                      database: dict[str, Any], alias: str) -> None:
    member = archive.extractfile(manifest["database"]["member"])
    assert member is not None  # verified above
    connections[alias].close()
    if manifest["engine"] == "sqlite":
        target = Path(database["NAME"])
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (target, target.with_name(target.name + "-wal"),
                         target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)  # empty, checked above
        partial = target.with_name(target.name + ".partial")
        with partial.open("wb") as out:
            shutil.copyfileobj(member, out, _CHUNK)
        if _sha256_file(partial) != manifest["database"]["sha256"]:
            partial.unlink()
            raise BackupError("the database copy changed while it was written")
        partial.replace(target)
        return
    pg_restore = _pg_tool("pg_restore")
    with tempfile.NamedTemporaryFile(prefix="needlecare-restore-", suffix=".dump") as dump:
        shutil.copyfileobj(member, dump, _CHUNK)
        dump.flush()
        done = subprocess.run(
            [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error",
             "--single-transaction", f"--dbname={database['NAME']}", dump.name],
            env=_pg_env(database), stderr=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def _restore_file(archive: tarfile.TarFile, storage: Storage, entry: dict[str, Any]) -> None:
    member = archive.extractfile(_member_name(entry["name"]))
    assert member is not None  # verified above
    saved = storage.save(entry["name"], File(member, name=entry["name"]))
    if saved != entry["name"]:
        raise BackupError(f"the storage saved {entry['name']} as {saved}")
    digest = hashlib.sha256()
    with storage.open(saved, "rb") as stored:
        while chunk := stored.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != entry["sha256"]:
        raise BackupError(f"{entry['name']}: read back with another SHA-256 than the archive's")
