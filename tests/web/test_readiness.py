"""/healthz answers while the process lives; /readyz checks the database with a real query,
the file storage with a write and a read, and the worker's heartbeat."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client

from needlecare.messaging import heartbeat

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}
    settings.READYZ_WORKER_SECONDS = 60
    return tmp_path / "media"


def _checks(response: Any) -> dict[str, Any]:
    checks: dict[str, Any] = response.json()["checks"]
    return checks


def test_ready_when_the_database_storage_and_a_worker_answer(media: Path) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        heartbeat.beat("worker-1")
        clock.move_to(NOW + dt.timedelta(seconds=30))
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    checks = _checks(response)
    assert {name: check["ok"] for name, check in checks.items()} == {
        "database": True, "storage": True, "worker": True}
    assert checks["worker"]["last_heartbeat_seconds_ago"] == 30
    assert not [p for p in media.rglob("*") if p.is_file()]  # the probe is removed
    assert response["Cache-Control"].startswith("max-age=0")


def test_not_ready_without_a_recent_worker_heartbeat(media: Path) -> None:
    with time_machine.travel(NOW, tick=False) as clock:
        response = Client().get("/readyz")
        assert response.status_code == 503
        assert "no worker has ever beaten" in _checks(response)["worker"]["error"]

        heartbeat.beat("worker-1")
        clock.move_to(NOW + dt.timedelta(seconds=61))
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert "61 s old" in _checks(response)["worker"]["error"]
    assert _checks(response)["database"]["ok"] is True


def test_not_ready_when_the_storage_cannot_be_written(media: Path) -> None:
    media.parent.mkdir(exist_ok=True)
    media.write_text("a file where the storage's directory should be")
    heartbeat.beat("worker-1")
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert _checks(response)["storage"]["ok"] is False
    assert _checks(response)["worker"]["ok"] is True


def test_not_ready_when_the_database_fails_a_query(media: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    heartbeat.beat("worker-1")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise connection.Database.DatabaseError("database disk image is malformed")

    monkeypatch.setattr("django.db.models.query.QuerySet.count", broken)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert "malformed" in _checks(response)["database"]["error"]


def test_healthz_stays_a_liveness_check_that_reads_no_database(
        django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
