"""Without DEBUG, static files have content-hashed names and browsers keep them for good."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import brotli
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory
from whitenoise.middleware import WhiteNoiseMiddleware

STYLESHEET = Path(django_settings.BASE_DIR) / "static" / "needlecare" / "needlecare.css"
ONE_YEAR = 365 * 24 * 60 * 60


@pytest.fixture
def collected(settings: Any, tmp_path: Path) -> Path:
    """The production storage (settings.py: DEBUG off), collected as `needlecare serve` does;
    the admin's and htmx's files are left out to keep the test quick."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    call_command("collectstatic", "--noinput", "--ignore", "admin", "--ignore", "django_htmx",
                 verbosity=0)
    return tmp_path


def _fetch(path: str, accept: str) -> Any:
    serve = WhiteNoiseMiddleware(lambda request: HttpResponse(status=404))
    return serve(RequestFactory().get(path, HTTP_ACCEPT_ENCODING=accept))


@pytest.mark.django_db
def test_pages_name_the_stylesheet_by_its_content(collected: Path) -> None:
    page = Client().get("/login/").content.decode()
    found = re.search(r'href="(/static/needlecare/needlecare\.([0-9a-f]{12})\.css)"', page)
    assert found is not None, "the page does not link a hashed stylesheet"
    href = found.group(1)
    assert (collected / href.removeprefix("/static/")).read_bytes() == STYLESHEET.read_bytes()

    for accept, encoding, decode in [("br, gzip", "br", brotli.decompress),
                                     ("gzip", "gzip", gzip.decompress),
                                     ("", None, lambda b: b)]:
        response = _fetch(href, accept)
        assert response.status_code == 200
        cache = response["Cache-Control"]
        assert "immutable" in cache
        assert "public" in cache
        max_age = re.search(r"max-age=(\d+)", cache)
        assert max_age is not None
        assert int(max_age.group(1)) >= ONE_YEAR
        assert response.get("Content-Encoding") == encoding
        body = b"".join(response.streaming_content)
        assert decode(body) == STYLESHEET.read_bytes()


@pytest.mark.django_db
def test_the_unhashed_name_is_not_kept_for_long(collected: Path) -> None:
    # An old page may still name it; a short cache lets the new stylesheet through quickly.
    response = _fetch("/static/needlecare/needlecare.css", "gzip")
    assert response.status_code == 200
    found = re.search(r"max-age=(\d+)", response["Cache-Control"])
    assert found is not None
    max_age = int(found.group(1))
    assert max_age <= 3600
    assert "immutable" not in response["Cache-Control"]
