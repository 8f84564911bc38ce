"""The Content-Security-Policy on every page, the API's documentation page served from our own
static files (staff only unless opened), and the favicon."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db


def _policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in header.split("; ")}


@pytest.mark.parametrize("path", ["/login/", "/healthz", "/api/openapi.json",
                                  "/p/not-a-real-token/"])
def test_every_response_carries_a_strict_policy(path: str) -> None:
    policy = _policy(Client().get(path))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    everything = " ".join(" ".join(v) for v in policy.values())
    assert "unsafe" not in everything
    assert "http" not in everything  # no other origin


def test_pages_switch_off_htmx_indicator_styles_and_name_the_icon() -> None:
    page = Client().get("/login/").content.decode()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>' in page
    assert 'rel="icon" href="/static/needlecare/favicon.svg"' in page
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/needlecare/favicon.svg"


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(settings: Any) -> None:
    settings.API_DOCS_PUBLIC = True
    page = Client().get("/api/docs").content.decode()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
    styles = re.findall(r'<link[^>]*href="([^"]+)"', page)
    assert "/static/ninja/swagger-ui-bundle.js" in scripts
    assert "/static/ninja/swagger-ui.css" in styles
    assert all(url.startswith("/static/") for url in scripts + styles), scripts + styles
    # The settings are data, not a script the browser runs.
    assert '<script type="application/json" id="swagger-settings">' in page


def test_the_docs_page_asks_for_a_staff_sign_in_unless_opened(settings: Any,
                                                              journey: dict) -> None:
    settings.API_DOCS_PUBLIC = False
    response = Client().get("/api/docs")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/api/docs"
    assert client_for(journey["front_desk"]).get("/api/docs").status_code == 200
    # Programs still read the OpenAPI document.
    assert Client().get("/api/openapi.json").status_code == 200
