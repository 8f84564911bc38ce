"""Logs never hold a personal link's token or an API token: Django's request warnings (404)
and errors (500) on a patient's route are read from the console handler's real output."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from needlecare.access import Actor
from needlecare.recovery.links import replace_link
from needlecare.web.redaction import RedactSecrets, redact

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the configured console handler writes (settings.LOGGING), captured."""
    handlers = [h for h in logging.getLogger().handlers
                if any(isinstance(f, RedactSecrets) for f in h.filters)]
    assert handlers, "the console handler has lost its redacting filter"
    out = io.StringIO()
    previous = [h.setStream(out) for h in handlers]  # type: ignore[attr-defined]
    yield out
    for handler, stream in zip(handlers, previous, strict=True):
        handler.setStream(stream)  # type: ignore[attr-defined]


def _token(journey: dict[str, Any]) -> str:
    issued = replace_link(Actor(user=journey["clinician"]), journey["patient"].pk)
    return issued.url.rstrip("/").rsplit("/", 1)[-1]


def test_a_404_on_a_patient_route_logs_no_token(journey: dict, console: io.StringIO) -> None:
    token = _token(journey)
    response = Client().get(f"/p/{token}/no-such-page/")
    assert response.status_code == 404
    unknown = "x" * 43
    assert Client().get(f"/p/{unknown}/").status_code == 404

    log = console.getvalue()
    assert "Not Found: /p/[redacted]/no-such-page/" in log
    assert "Not Found: /p/[redacted]/" in log
    assert token not in log
    assert unknown not in log


def test_a_500_on_a_patient_route_logs_the_error_without_the_token(
        journey: dict, console: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token(journey)

    def broken(seen: str) -> None:
        raise RuntimeError(f"lookup failed for {seen} (Authorization: Bearer ncapi_abc123def)")

    monkeypatch.setattr("needlecare.recovery.views.find_link", broken)
    response = Client(raise_request_exception=False).get(f"/p/{token}/")
    assert response.status_code == 500

    log = console.getvalue()
    assert "Internal Server Error: /p/[redacted]/" in log
    assert "Traceback" in log
    assert "RuntimeError: lookup failed for [redacted]" in log
    assert token not in log
    assert "ncapi_abc123def" not in log


def test_an_api_token_in_a_request_is_not_logged(journey: dict, console: io.StringIO) -> None:
    secret = "ncapi_" + "s" * 40
    response = Client().get("/api/v1/nothing", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code in (401, 404)
    logging.getLogger("needlecare.test").warning("headers were %s",
                                                 {"HTTP_AUTHORIZATION": f"Bearer {secret}"})
    log = console.getvalue()
    assert "headers were" in log
    assert secret not in log


@pytest.mark.parametrize(("line", "kept"), [
    ("GET /p/abcDEF123_-xyz/checkin/?x=1 HTTP/1.1", "GET /p/[redacted]/checkin/?x=1 HTTP/1.1"),
    ("Authorization: Bearer abcdefghijk", "Authorization: [redacted]"),
    ("curl -H 'Authorization: Basic dXNlcjpwYXNz'", "curl -H 'Authorization: [redacted]'"),
    ("/api/v1/x?token=abc&page=2", "/api/v1/x?token=[redacted]&page=2"),
    ("password=hunter2&next=/", "password=[redacted]&next=/"),
    ("message 12 dedupe_key=aftercare:3", "message 12 dedupe_key=aftercare:3"),
])
def test_redact(line: str, kept: str) -> None:
    assert redact(line) == kept
