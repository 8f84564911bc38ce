"""Pages leave the server gzipped, with Django's BREACH padding; binary downloads do not."""

from __future__ import annotations

import gzip
import re

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from needlecare.web.compression import CompressText
from tests.web.recovery.conftest import signed_days_ago

pytestmark = pytest.mark.django_db

PHONE_ACCEPT = "gzip, deflate, br"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _padding(body: bytes) -> int:
    """The length of the random file name Django writes into the gzip header (RFC 1952: the
    FNAME flag, then a NUL-terminated name after the 10-byte header)."""
    assert body[:2] == b"\x1f\x8b"
    assert body[3] & 0x08, "no FNAME field: the response carries no BREACH padding"
    return body.index(b"\x00", 10) - 10


@pytest.mark.parametrize("page", ["patient date-of-birth page", "staff sign-in page"])
def test_a_page_with_a_csrf_token_is_gzipped_and_padded_at_random(page: str) -> None:
    path = "/login/" if page == "staff sign-in page" else signed_days_ago(2).path(
        "patient-verify")
    client = Client()
    paddings, tokens = set(), set()
    for _ in range(8):
        response = client.get(path, HTTP_ACCEPT_ENCODING=PHONE_ACCEPT)
        assert response.status_code == 200
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        html = gzip.decompress(response.content).decode()
        found = CSRF_FIELD.search(html)
        assert found is not None
        tokens.add(found.group(1))
        paddings.add(_padding(response.content))
        assert len(response.content) < len(html)
    # Django's BREACH mitigations: a random amount of padding in every gzipped response, and
    # the CSRF token masked differently each time.
    assert len(paddings) > 1
    assert len(tokens) == 8


def test_a_browser_that_does_not_accept_gzip_gets_the_page_as_it_is() -> None:
    response = Client().get("/login/")
    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")
    assert "Accept-Encoding" in response["Vary"]
    assert b"csrfmiddlewaretoken" in response.content


@pytest.mark.parametrize(("content_type", "gzipped"), [
    ("text/html; charset=utf-8", True),
    ("text/calendar", True),
    ("application/json", False),
    ("application/pdf", False),
    ("image/jpeg", False),
])
def test_only_text_is_gzipped(content_type: str, gzipped: bool) -> None:
    body = b"%PDF-1.7 stream " * 200

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(body, content_type=content_type)

    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=PHONE_ACCEPT)
    response = CompressText(view)(request)
    assert response.has_header("Content-Encoding") is gzipped
    if gzipped:
        assert gzip.decompress(response.content) == body
        assert int(response["Content-Length"]) == len(response.content)
    else:
        assert response.content == body
