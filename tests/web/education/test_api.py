"""/api/v1/clinics/{clinic}/articles (public, read) and /subscriptions (public, write,
rate-limited with limits in the database)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from needlecare.accounts.models import Role
from needlecare.audit.models import AuditEvent
from needlecare.education.models import CommunicationConsent, ConsentState, RateLimit
from tests.factories import make_user
from tests.web.education.support import World, make_world, published_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


def test_published_articles_are_public(world: World) -> None:
    article = published_article(world, title="Aftercare on day 2")
    listing = Client().get(f"/api/v1/clinics/{world.clinic.slug}/articles")
    assert listing.status_code == 200
    [item] = listing.json()["results"]
    assert item["title"] == "Aftercare on day 2"
    assert item["stage"] == "healing"
    assert item["reviewed_by"] == str(world.clinician)
    one = Client().get(f"/api/v1/clinics/{world.clinic.slug}/articles/{article.slug}").json()
    assert "<h2>Day 2</h2>" in one["body_html"]
    assert one["sources"][0]["key"] == "minutilli2024"


def test_unknown_clinics_and_articles_are_not_found(world: World) -> None:
    assert Client().get("/api/v1/clinics/nowhere/articles").status_code == 404
    assert Client().get(f"/api/v1/clinics/{world.clinic.slug}/articles/nope"
                        ).status_code == 404


def _subscribe(world: World, email: str, adult: object = True) -> object:
    return Client().post(f"/api/v1/clinics/{world.clinic.slug}/subscriptions",
                         json.dumps({"email": email, "adult": adult}),
                         content_type="application/json")


def test_subscribing_asks_for_confirmation(world: World) -> None:
    response = _subscribe(world, "reader@example.test")
    assert response.status_code == 202
    assert response.json()["status"] == "confirmation_sent"
    row = CommunicationConsent.objects.get()
    assert row.state == ConsentState.PENDING
    assert row.source == "api"
    # Asked by no one signed in, and still in the clinic's own audit trail.
    request = AuditEvent.objects.get(action="consent.newsletter_request")
    assert request.clinic_id == world.clinic.pk


def test_subscribing_is_rate_limited_by_database_limits(world: World) -> None:
    RateLimit.objects.filter(name="subscribe-per-address").update(max_requests=1)
    assert _subscribe(world, "same@example.test").status_code == 202
    refused = _subscribe(world, "same@example.test")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused["Retry-After"]) > 0


def test_subscribing_needs_an_adult_and_a_real_address(world: World) -> None:
    assert _subscribe(world, "kid@example.test", adult=False).status_code == 422
    assert _subscribe(world, "kid@example.test", adult="yes").status_code == 422
    assert _subscribe(world, "a@b").status_code == 422
    # An address with a control character (U+0085 is whitespace to Python but not to the JSON
    # Schema the API publishes) is refused by the published rule, in plain words.
    refused = _subscribe(world, "\u00e1oH\u0085\u0005;@\u00ac")
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"]["email"] == "Enter a valid email address."


def test_an_operator_changes_a_limit_in_the_admin_and_it_holds_at_once(world: World) -> None:
    operator = make_user(None, Role.OWNER, is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(operator)
    limit = RateLimit.objects.get(name="subscribe-per-address")
    assert admin.get("/operator/education/ratelimit/").status_code == 200
    response = admin.post(f"/operator/education/ratelimit/{limit.pk}/change/", {
        "max_requests": "1", "window_seconds": str(limit.window_seconds),
        "description": limit.description})
    assert response.status_code == 302
    assert _subscribe(world, "once@example.test").status_code == 202
    assert _subscribe(world, "once@example.test").status_code == 429
