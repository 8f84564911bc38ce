"""Articles: drafts, clinical review ("reviewed by … on …"), publication, versions, images
through the safe intake, the starter set."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from needlecare.access import Actor, Permission
from needlecare.accounts.models import Role
from needlecare.education import articles, starter
from needlecare.education.models import Article, ArticleVersion, Campaign, VersionStatus
from needlecare.errors import Conflict, Forbidden, ServiceError
from tests.factories import make_user
from tests.web.education.support import World, draft, make_world, published_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


def test_an_editor_writes_a_clinician_reviews_and_publishes(world: World) -> None:
    editor = Actor(user=world.owner)
    article = articles.create_article(editor, draft())
    with pytest.raises(Conflict, match="review"):
        articles.publish(editor, article.pk)  # clinical: not without a review
    articles.submit_for_review(editor, article.pk)
    version = articles.review(Actor(user=world.clinician), article.pk, approve=True,
                              publish_now=True)
    assert version.status == VersionStatus.PUBLISHED
    page = world.client(world.front_desk).get(
        reverse("public-article", args=[world.clinic.slug, article.slug])).content.decode()
    day = version.reviewed_at.strftime("%-d %B %Y")
    assert f"Reviewed by {world.clinician}" in page
    assert f"on {day}" in page
    assert "Registered nurse" in page


def test_a_reviewer_does_not_review_their_own_version(world: World) -> None:
    article = articles.create_article(Actor(user=world.owner), draft())
    articles.submit_for_review(Actor(user=world.owner), article.pk)
    with pytest.raises(Forbidden):
        articles.review(Actor(user=world.owner), article.pk, approve=True)


def test_sending_back_needs_a_note_and_returns_a_draft(world: World) -> None:
    article = articles.create_article(Actor(user=world.owner), draft())
    articles.submit_for_review(Actor(user=world.owner), article.pk)
    with pytest.raises(ServiceError, match="change"):
        articles.review(Actor(user=world.clinician), article.pk, approve=False)
    version = articles.review(Actor(user=world.clinician), article.pk, approve=False,
                              note="Say when to call the clinic.")
    assert version.status == VersionStatus.DRAFT
    assert version.review_note == "Say when to call the clinic."


def test_non_clinical_content_is_published_without_review(world: World) -> None:
    article = articles.create_article(Actor(user=world.owner), draft(
        title="Our new opening hours", clinical=False, sources="", stage=""))
    assert articles.publish(Actor(user=world.owner), article.pk).status == \
        VersionStatus.PUBLISHED


def test_clinical_content_needs_sources(world: World) -> None:
    with pytest.raises(ServiceError) as refused:
        articles.create_article(Actor(user=world.owner), draft(sources=""))
    assert refused.value.field == "sources"


def test_editing_a_published_article_makes_a_new_version_and_the_old_stays(
        world: World) -> None:
    article = published_article(world)
    editor = Actor(user=world.owner)
    new = articles.save_draft(editor, article.pk, draft(title="What is normal on day 2 (new)"))
    assert new.number == 2
    assert new.status == VersionStatus.DRAFT
    public = reverse("public-article", args=[world.clinic.slug, article.slug])
    assert "(new)" not in world.client(world.owner).get(public).content.decode()
    articles.submit_for_review(editor, article.pk)
    articles.review(Actor(user=world.clinician), article.pk, approve=True)
    # Reviewed, not yet published: still the old one.
    assert "(new)" not in world.client(world.owner).get(public).content.decode()
    articles.publish(editor, article.pk)
    assert "(new)" in world.client(world.owner).get(public).content.decode()
    first = ArticleVersion.objects.get(article=article, number=1)
    assert first.status == VersionStatus.SUPERSEDED
    assert first.title == "What is normal on day 2"  # history is not rewritten


def test_changing_a_reviewed_version_clears_the_review(world: World) -> None:
    article = articles.create_article(Actor(user=world.owner), draft())
    articles.submit_for_review(Actor(user=world.owner), article.pk)
    articles.review(Actor(user=world.clinician), article.pk, approve=True)
    version = articles.save_draft(Actor(user=world.owner), article.pk,
                                  draft(body="Changed after review."))
    assert version.status == VersionStatus.DRAFT
    assert version.reviewed_by is None
    with pytest.raises(Conflict):
        articles.publish(Actor(user=world.owner), article.pk)


def test_only_editors_write_and_owners_can_grant_it(world: World) -> None:
    with pytest.raises(Forbidden):
        articles.create_article(Actor(user=world.clinician), draft())
    editor = make_user(world.clinic, Role.FRONT_DESK, is_editor=True)
    assert Actor(user=editor).can(Permission.EDIT_ARTICLES)
    assert not Actor(user=editor).can(Permission.REVIEW_ARTICLES)
    assert articles.create_article(Actor(user=editor), draft()).pk


def _photo(format_: str = "JPEG") -> bytes:
    image = Image.new("RGB", (400, 300), (200, 120, 100))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "SecretEditor 1.0"  # Software
    out = io.BytesIO()
    image.save(out, format_, exif=exif)
    return out.getvalue()


def test_an_image_goes_through_the_safe_intake_and_is_served(world: World) -> None:
    article = published_article(world, image=_photo(), image_alt="A clean treatment room")
    version = article.published
    assert version is not None
    assert version.image.endswith(".jpg")
    with default_storage.open(version.image, "rb") as stored:
        kept = stored.read()
    assert b"SecretCam" not in kept  # metadata stripped
    url = reverse("public-article-image", args=[world.clinic.slug, article.slug, 1])
    response = world.client(world.owner).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content if response.streaming else [response.content]) \
        == kept


def test_a_file_that_is_not_a_photo_is_refused(world: World) -> None:
    with pytest.raises(ServiceError) as refused:
        articles.create_article(Actor(user=world.owner), draft(
            image=b"<svg onload=alert(1)></svg>", image_alt="x"))
    assert refused.value.field == "image"
    assert not Article.objects.exists()


def test_the_starter_set_waits_for_review_and_cites_the_reference(world: World) -> None:
    made = starter.import_starter_set(Actor(user=world.owner))
    assert len(made) == len(starter.starter_articles())
    versions = ArticleVersion.objects.filter(article__in=made)
    assert {v.status for v in versions} == {VersionStatus.IN_REVIEW}
    assert all(v.sources and all(s["key"] for s in v.sources) for v in versions)
    assert starter.import_starter_set(Actor(user=world.owner)) == []  # not twice
    # The owner imported them but did not write them: they may review them.
    first = made[0]
    articles.review(Actor(user=world.owner), first.pk, approve=True, publish_now=True)


def _every_key(entry: dict[str, Any]) -> list[str]:
    return list(entry["sources"])


def test_starter_articles_keep_the_evidence_rules() -> None:
    known = articles.bibliography()
    for key, entry in starter.starter_articles().items():
        assert entry["sources"], key
        assert all(source in known for source in entry["sources"]), key
        body = entry["body"]
        # [V]: the unverified "400 %" collagen figure is never written.
        assert "400" not in body, key
        # [P]: practice is said to be practice, never dressed as a finding.
        if "practice_handouts" in entry["sources"]:
            assert "(clinic practice)" in body, key
        # Each cited key is named in the text it supports (by author or body).
        stages = {"", "booked", "healing", "remodelling", "after_course", "maintenance"}
        assert entry["stage"] in stages, key


@pytest.mark.parametrize(("name", "model", "field"), [
    ("article-new", ArticleVersion, "body"), ("campaign-new", Campaign, "body")])
def test_the_text_boxes_show_and_enforce_their_limits(world: World, name: str,
                                                      model: Any, field: str) -> None:
    limit = model._meta.get_field(field).max_length
    assert limit == 50_000
    client = world.client(world.owner)
    page = client.get(reverse(name)).content.decode()
    assert f'maxlength="{limit}"' in page
    assert f"Up to {limit} characters." in page
    response = client.post(reverse(name), {"title": "Long", "subject": "Long",
                                           "summary": "Too long.", "audience": "everyone",
                                           "body": "x" * (limit + 1)})
    assert response.status_code == 200
    assert f"at most {limit} characters" in response.content.decode()
    assert not model.objects.exists()
