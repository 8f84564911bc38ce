"""The public resources page, its articles and its Atom feed: metadata for sharing and
search, no JavaScript, and a feed that parses without error with Atom's required elements."""

from __future__ import annotations

import re

import feedparser
import pytest
from django.test import Client
from django.urls import reverse

from needlecare.access import Actor
from needlecare.education import articles
from tests.web.education.support import World, draft, make_world, published_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


def test_the_public_page_lists_published_articles_with_metadata(world: World) -> None:
    published_article(world, title="Aftercare on day 2")
    page = Client().get(reverse("public-articles", args=[world.clinic.slug]))
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r"<title>Articles and tips · Test Clinic \d+</title>", html)
    assert '<meta name="description" content="Reading about microneedling' in html
    assert f'<link rel="canonical" href="http://127.0.0.1:8000/resources/{world.clinic.slug}/"' \
        in html
    assert 'type="application/atom+xml"' in html
    assert "Aftercare on day 2" in html
    assert "<script" not in html  # works without JavaScript


def test_an_article_page_describes_itself(world: World) -> None:
    article = published_article(world, title="Aftercare on day 2",
                                summary="What is normal on the second day.")
    html = Client().get(reverse("public-article", args=[world.clinic.slug, article.slug])
                        ).content.decode()
    assert '<meta name="description" content="What is normal on the second day.">' in html
    assert f"/resources/{world.clinic.slug}/{article.slug}/\"" in html  # canonical
    assert "Sources" in html
    assert "Minutilli" in html


def test_drafts_and_other_clinics_are_not_public(world: World) -> None:
    article = articles.create_article(Actor(user=world.owner), draft(title="Secret draft"))
    assert Client().get(reverse("public-article", args=[world.clinic.slug, article.slug])
                        ).status_code == 404
    other = make_world()
    assert Client().get(reverse("public-article", args=[other.clinic.slug, article.slug])
                        ).status_code == 404
    assert "Secret draft" not in Client().get(
        reverse("public-articles", args=[world.clinic.slug])).content.decode()


def test_the_feed_validates(world: World) -> None:
    first = published_article(world, title="Aftercare on day 2")
    published_article(world, title="Sun protection", stage="remodelling")
    response = Client().get(reverse("public-feed", args=[world.clinic.slug]))
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id
    assert feed.feed.title
    assert feed.feed.updated
    assert len(feed.entries) == 2
    for entry in feed.entries:
        assert entry.id
        assert entry.title
        assert entry.updated
        assert entry.link
    assert {e.title for e in feed.entries} == {"Aftercare on day 2", "Sun protection"}
    assert any(e.link.endswith(f"/resources/{world.clinic.slug}/{first.slug}/")
               for e in feed.entries)


def test_an_unknown_clinic_has_no_page_or_feed() -> None:
    assert Client().get(reverse("public-articles", args=["nowhere"])).status_code == 404
    assert Client().get(reverse("public-feed", args=["nowhere"])).status_code == 404


@pytest.mark.parametrize("name", ["public-articles", "public-feed", "public-subscribe"])
def test_the_public_page_and_feed_carry_the_strict_policy(world: World, name: str) -> None:
    published_article(world)
    response = Client().get(reverse(name, args=[world.clinic.slug]))
    assert response.status_code == 200
    policy = {d.split()[0]: d.split()[1:]
              for d in response["Content-Security-Policy"].split("; ")}
    assert (policy["default-src"], policy["script-src"], policy["style-src"]) == (
        ["'self'"], ["'self'"], ["'self'"])
    assert "unsafe" not in response["Content-Security-Policy"]
    # Nothing inline that the policy would block.
    body = response.content.decode()
    assert "<script" not in body
    assert "<style" not in body
    assert " style=" not in body
