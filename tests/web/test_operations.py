"""The operator's commands: `needlecare backup`, `createadmin`, `serve`, and the passthrough
to Django's management commands."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from needlecare import cli
from needlecare.accounts.models import Clinic, Role, User
from needlecare.audit.models import AuditEvent
from needlecare.web.backup import BackupError, backup, backup_sqlite

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


@pytest.fixture(autouse=True)
def _keep_the_umask() -> Iterator[None]:
    # The web commands set the process's umask (cli.LIVE_DATA_UMASK); these tests run them
    # in the test process.
    umask = os.umask(0o022)
    os.umask(umask)
    yield
    os.umask(umask)


def test_a_sqlite_backup_is_a_private_consistent_standalone_copy(tmp_path: Path) -> None:
    source = tmp_path / "live.sqlite3"
    live = sqlite3.connect(source)
    live.execute("PRAGMA journal_mode=WAL")
    live.execute("CREATE TABLE t (n INTEGER)")
    live.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(1000)])
    live.commit()  # still in the WAL file: the copy must include it

    copy = backup_sqlite(source, tmp_path / "backups")

    assert copy.parent == tmp_path / "backups"
    assert copy.name.startswith("needlecare-")
    assert copy.suffix == ".sqlite3"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert stat.S_IMODE(copy.parent.stat().st_mode) == 0o700
    with sqlite3.connect(copy) as restored:
        assert restored.execute("SELECT count(*), sum(n) FROM t").fetchone() == (1000, 499500)
        assert restored.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not list(copy.parent.glob("*.partial"))
    live.close()


def test_a_backup_of_a_missing_database_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="needlecare migrate"):
        backup_sqlite(tmp_path / "nothing.sqlite3", tmp_path / "backups")
    assert not (tmp_path / "nothing.sqlite3").exists()  # never creates an empty database


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_POSTGRES or shutil.which("pg_dump") is None,
                    reason="needs PostgreSQL and pg_dump")
def test_a_postgresql_backup_holds_a_pg_dump_archive(tmp_path: Path) -> None:
    archive = backup(tmp_path)
    assert archive.suffix == ".tar"
    with tarfile.open(archive) as members:
        members.extract("database/needlecare.dump", tmp_path, filter="data")
    listing = subprocess.run(["pg_restore", "--list", str(tmp_path / "database/needlecare.dump")],
                             capture_output=True, text=True, check=True).stdout
    assert "patients_patient" in listing
    assert connection.vendor == "postgresql"


def test_the_backup_command_reports_problems_as_invalid_input(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    def refuse(directory: Path | None = None) -> Path:
        raise BackupError("pg_dump is not installed")

    monkeypatch.setattr("needlecare.web.backup.backup", refuse)
    assert cli.main(["backup", "--directory", str(tmp_path)]) == cli.EXIT_INVALID
    assert "backup: pg_dump is not installed" in capsys.readouterr().err


def createadmin(monkeypatch: pytest.MonkeyPatch, *args: str, password: str) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    out = io.StringIO()
    call_command("createadmin", *args, "--password-stdin", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_createadmin_makes_a_clinic_and_its_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    output = createadmin(monkeypatch, "--username", "ana", "--clinic", "Harbour Skin",
                         "--phone", "020 7946 0999", "--first-name", "Ana",
                         password="a-long-enough-secret-2026")
    owner = User.objects.get(username="ana")
    assert (owner.role, owner.clinic.name, owner.clinic.phone) == (
        Role.OWNER, "Harbour Skin", "020 7946 0999")
    assert owner.check_password("a-long-enough-secret-2026")
    assert "Created owner ana of Harbour Skin" in output
    assert set(AuditEvent.objects.filter(clinic=owner.clinic).values_list(
        "action", flat=True)) == {"clinic.create", "staff.create"}

    # A second owner joins the existing clinic; no phone needed.
    createadmin(monkeypatch, "--username", "ben", "--clinic", "harbour skin",
                password="another-long-secret-2026")
    assert Clinic.objects.count() == 1
    assert User.objects.get(username="ben").clinic == owner.clinic


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "password", "message"), [
    (("--username", "ana", "--clinic", "New Clinic"), "a-long-enough-secret-2026",
     "phone number patients call"),
    (("--username", "ana", "--clinic", "New Clinic", "--phone", "020 7946 0999"), "short",
     "too short"),
    (("--clinic", "New Clinic", "--phone", "020 7946 0999", "--noinput"),
     "a-long-enough-secret-2026", "--username is required"),
])
def test_createadmin_refuses_before_writing(monkeypatch: pytest.MonkeyPatch, args: Any,
                                            password: str, message: str) -> None:
    with pytest.raises(CommandError, match=message):
        createadmin(monkeypatch, *args, password=password)
    assert not User.objects.exists()
    assert not Clinic.objects.exists()


@pytest.mark.django_db
def test_createadmin_refuses_a_taken_username(monkeypatch: pytest.MonkeyPatch) -> None:
    createadmin(monkeypatch, "--username", "ana", "--clinic", "Harbour Skin", "--phone",
                "020 7946 0999", password="a-long-enough-secret-2026")
    with pytest.raises(CommandError, match="taken"):
        createadmin(monkeypatch, "--username", "ANA", "--clinic", "Other", "--phone", "1",
                    password="a-long-enough-secret-2026")
    assert Clinic.objects.count() == 1


def test_createadmin_without_a_terminal_needs_the_password_on_stdin(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="--password-stdin"):
        call_command("createadmin", "--username", "ana", "--clinic", "X", "--phone", "1")


@pytest.mark.django_db
def test_manage_passes_everything_through_to_django(capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    assert cli.main(["manage", "check", "--deploy", "--fail-level", "CRITICAL"]) == 0
    assert cli.main(["manage", "no-such-command"]) == 1
    assert "Unknown command" in capsys.readouterr().err


def test_serve_runs_gunicorn_on_loopback_by_default(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append(argv))
    monkeypatch.delenv("NEEDLECARE_ENV", raising=False)
    cli.main(["serve"])
    argv = calls[0]
    assert argv[1:4] == ["-m", "gunicorn", "needlecare.wsgi:application"]
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8000"
    assert argv[argv.index("--workers") + 1] == "2"
    assert "http://127.0.0.1:8000/" in capsys.readouterr().out


@pytest.mark.parametrize(("env", "collects"), [
    ({"NEEDLECARE_ENV": "production"}, True),
    ({"NEEDLECARE_ENV": "development", "NEEDLECARE_DEBUG": "0"}, True),
    ({"NEEDLECARE_ENV": "development"}, False),
    ({"NEEDLECARE_ENV": "development", "NEEDLECARE_DEBUG": "1"}, False),
], ids=["production", "debug-off", "development", "debug-on"])
def test_serve_collects_static_files_first_whenever_debug_is_off(
        monkeypatch: pytest.MonkeyPatch, env: dict[str, str], collects: bool) -> None:
    # Without DEBUG the pages name static files by hash, from collectstatic's manifest.
    steps: list[Any] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: steps.append("gunicorn"))
    monkeypatch.setattr(cli, "_django", lambda argv: steps.append(argv) or 0)
    monkeypatch.delenv("NEEDLECARE_DEBUG", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cli.main(["serve", "--bind", "unix:/run/needlecare.sock", "--workers", "4"])
    collect = [["collectstatic", "--noinput", "--verbosity", "0"]] if collects else []
    assert steps == [*collect, "gunicorn"]


@pytest.mark.parametrize("bind", ["0.0.0.0:8000", "[::]:8000", "192.0.2.10:8000",
                                  "clinic.example.org:8000"])
def test_serve_refuses_a_network_address_outside_production(
        bind: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append(argv))
    monkeypatch.delenv("NEEDLECARE_ENV", raising=False)
    assert cli.main(["serve", "--bind", bind]) == cli.EXIT_INVALID
    assert calls == []
    assert "refusing to listen" in capsys.readouterr().err


@pytest.mark.parametrize("bind", ["127.0.0.1:8000", "127.0.0.2:9000", "[::1]:8000",
                                  "localhost:8000", "unix:/tmp/needlecare.sock"])
def test_serve_listens_on_loopback_outside_production(
        bind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append(argv))
    monkeypatch.delenv("NEEDLECARE_ENV", raising=False)
    cli.main(["serve", "--bind", bind])
    assert calls[0][calls[0].index("--bind") + 1] == bind
    assert calls[0][calls[0].index("--logger-class") + 1] == \
        "needlecare.web.redaction.GunicornLogger"


def test_serve_listens_on_the_network_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(os, "execv", lambda path, argv: calls.append(argv))
    monkeypatch.setattr(cli, "_django", lambda argv: 0)
    monkeypatch.setenv("NEEDLECARE_ENV", "production")
    cli.main(["serve", "--bind", "0.0.0.0:8000"])
    assert calls[0][calls[0].index("--bind") + 1] == "0.0.0.0:8000"


def test_the_web_commands_run_under_a_private_umask(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "execv", lambda path, argv: None)
    monkeypatch.delenv("NEEDLECARE_ENV", raising=False)
    os.umask(0o022)
    cli.main(["serve"])
    assert os.umask(0o022) == cli.LIVE_DATA_UMASK == 0o027
