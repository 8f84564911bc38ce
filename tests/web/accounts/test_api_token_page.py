"""Staff issue and revoke their own API tokens on a page; the secret is shown once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from needlecare.accounts.models import ApiToken
from tests.factories import journey_to_signed_session

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def issue(client: Client, name: str) -> str:
    page = client.post(reverse("api-tokens"), {"name": name}).content.decode()
    match = re.search(r'id="issued-token" type="text" readonly value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def test_a_clinician_issues_a_token_that_works_and_is_shown_only_once(journey: dict) -> None:
    client = signed_in(journey["clinician"])
    secret = issue(client, "booking system")
    api = Client().get("/api/v1/patients", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200
    again = client.get(reverse("api-tokens")).content.decode()
    assert "booking system" in again
    assert secret not in again
    assert not ApiToken.objects.filter(token_hash=secret).exists()  # only the hash is kept


def test_a_revoked_token_stops_working(journey: dict) -> None:
    client = signed_in(journey["clinician"])
    secret = issue(client, "old script")
    token = ApiToken.objects.get(name="old script")
    response = client.post(reverse("api-token-revoke", args=[token.pk]))
    assert response.status_code == 302
    api = Client().get("/api/v1/patients", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401


def test_a_token_needs_a_name_and_none_is_made_without_one(journey: dict) -> None:
    page = signed_in(journey["front_desk"]).post(reverse("api-tokens"), {"name": "  "})
    assert page.status_code == 200
    assert "This field is required" in page.content.decode()
    assert not ApiToken.objects.exists()


def test_another_clinics_staff_cannot_revoke_a_token(journey: dict) -> None:
    issue(signed_in(journey["clinician"]), "mine")
    token = ApiToken.objects.get()
    stranger = journey_to_signed_session()["owner"]
    response = signed_in(stranger).post(reverse("api-token-revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_signing_in_is_required() -> None:
    response = Client().get(reverse("api-tokens"))
    assert response.status_code == 302
