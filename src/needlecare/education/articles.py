"""Articles: editors write drafts, a clinician reviews anything clinical, editors publish.

Every change is one transaction with its audit row. A version moves draft → in review →
reviewed → published (a non-clinical version may be published from draft); editing a version
under review or reviewed sends it back to draft and clears the review, so what is published is
always exactly what was reviewed. Editing a published article starts a new version; the
published one stays on the public page until the new one is published, which supersedes it.
A reviewer may not review a version they wrote (a second pair of eyes is the point).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.text import slugify
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.access import Actor, Permission, audit, record_id, refuse, require
from needlecare.accounts.models import Clinic
from needlecare.clinical.protocol.alternatives_loader import default_alternatives
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.clinical.protocol.schema import Citation
from needlecare.clinical.vocabulary import INDICATIONS
from needlecare.education import markdown
from needlecare.education.models import (
    OPEN_STATUSES,
    Article,
    ArticleVersion,
    Stage,
    VersionStatus,
)
from needlecare.errors import Conflict, Forbidden, NotFound, ServiceError
from needlecare.imaging.intake import IntakeLimits, IntakeRefused, accept_image

MAX_BODY = 50_000
MAX_TOPICS = 8
#: An article image is a picture on a page, not a clinical photo: smaller limits.
IMAGE_LIMITS = IntakeLimits(max_bytes=10 * 1024 * 1024, max_pixels=30_000_000, min_side=200)
_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class ArticleDraft:
    title: str
    summary: str
    body: str
    topics: tuple[str, ...] = ()
    #: One source per line: a key of the protocol's bibliography, or a citation (with a URL).
    sources: str = ""
    clinical: bool = True
    stage: str = ""
    indication: str = ""
    skin_types: tuple[int, ...] = ()
    image: bytes | None = None
    image_alt: str = ""
    remove_image: bool = False
    slug: str = ""
    #: Set by the starter set's importer: who wrote it when no staff member did.
    author_name: str = ""
    source_refs: tuple[dict[str, str], ...] = field(default=())


# --- reading what editors and reviewers see ---------------------------------------------------

def _require_staff(actor: Actor) -> None:
    if not (actor.can(Permission.EDIT_ARTICLES) or actor.can(Permission.REVIEW_ARTICLES)):
        require(actor, Permission.EDIT_ARTICLES)


def clinic_articles(actor: Actor) -> list[Article]:
    """The clinic's articles, newest first, with their versions (editors and reviewers)."""
    _require_staff(actor)
    return list(Article.objects.filter(clinic_id=actor.clinic_id)
                .select_related("published").prefetch_related("versions"))


def review_queue(actor: Actor) -> list[ArticleVersion]:
    require(actor, Permission.REVIEW_ARTICLES)
    return list(ArticleVersion.objects.filter(article__clinic_id=actor.clinic_id,
                                              status=VersionStatus.IN_REVIEW)
                .select_related("article", "author").order_by("submitted_at", "id"))


def article_for_staff(actor: Actor, article_id: int | str) -> Article:
    _require_staff(actor)
    article = (Article.objects.select_related("published")
               .filter(pk=record_id(article_id), clinic_id=actor.clinic_id).first())
    if article is None:
        raise refuse(actor, NotFound(_("No such article.")), wanted=Article,
                     wanted_id=article_id)
    return article


def open_version(article: Article) -> ArticleVersion | None:
    """The version being worked on (draft, in review or reviewed), if any."""
    return article.versions.filter(status__in=OPEN_STATUSES).first()


def versions(article: Article) -> list[ArticleVersion]:
    return list(article.versions.select_related("author", "reviewed_by", "published_by"))


def version_for_staff(actor: Actor, article_id: int | str, number: int | str) -> ArticleVersion:
    article = article_for_staff(actor, article_id)
    version = article.versions.filter(number=record_id(number) or 0).select_related(
        "article", "author", "reviewed_by", "published_by").first()
    if version is None:
        raise refuse(actor, NotFound(_("No such version.")), wanted=ArticleVersion,
                     wanted_id=f"{article.pk} v{number}")
    return version


# --- public reading ---------------------------------------------------------------------------

def published_articles(clinic: Clinic) -> QuerySet[ArticleVersion]:
    """The clinic's published versions, newest first (anyone may read them)."""
    return (ArticleVersion.objects.filter(article__clinic=clinic,
                                          status=VersionStatus.PUBLISHED,
                                          article__published_id__isnull=False)
            .select_related("article", "reviewed_by", "author")
            .order_by("-published_at", "-id"))


def published_article(clinic: Clinic, slug: str) -> ArticleVersion:
    version = published_articles(clinic).filter(article__slug=slug).first()
    if version is None:
        raise NotFound(_("No such article."))
    return version


# --- checking a draft -------------------------------------------------------------------------

def bibliography() -> dict[str, Citation]:
    """The source keys an article may cite: the protocol's bibliography and the alternatives
    file's (the protocol's entry wins where both have a key)."""
    return {**default_alternatives().data.bibliography, **default_protocol().data.bibliography}


def parse_sources(text: str) -> list[dict[str, str]]:
    """One source per line; a line that is a key of the protocol's (or the alternatives
    file's) bibliography becomes its citation and link."""
    known = bibliography()
    sources = []
    for raw in text.splitlines():
        line = raw.strip().lstrip("-*• ").strip()
        if not line:
            continue
        cited = known.get(line)
        if cited is not None:
            sources.append({"key": line, "citation": cited.citation, "link": cited.link})
            continue
        found = _URL.search(line)
        sources.append({"key": "", "citation": line, "link": found.group(0) if found else ""})
    return sources


def sources_text(sources: list[dict[str, str]]) -> str:
    """The editor's form text for stored sources (keys where there is one)."""
    return "\n".join(s.get("key") or s.get("citation", "") for s in sources)


def _check(draft: ArticleDraft) -> dict[str, Any]:
    title = " ".join(draft.title.split())
    summary = " ".join(draft.summary.split())
    if not title:
        raise ServiceError("title_required", _("Give the article a title."), field="title")
    if len(title) > 200:
        raise ServiceError("title_too_long", _("Keep the title under 200 characters."),
                           field="title")
    if not summary:
        raise ServiceError("summary_required", _("Write a one- or two-sentence summary."),
                           field="summary")
    if len(summary) > 300:
        raise ServiceError("summary_too_long", _("Keep the summary under 300 characters."),
                           field="summary")
    if not draft.body.strip():
        raise ServiceError("body_required", _("Write the article."), field="body")
    if len(draft.body) > MAX_BODY:
        raise ServiceError("body_too_long", _("The article is too long (at most 50,000 "
                                              "characters)."), field="body")
    topics = [t for t in dict.fromkeys(" ".join(t.split()).lower() for t in draft.topics) if t]
    if len(topics) > MAX_TOPICS or any(len(t) > 40 for t in topics):
        raise ServiceError("topics_invalid", _("Give at most 8 topics of up to 40 characters."),
                           field="topics")
    sources = list(draft.source_refs) or parse_sources(draft.sources)
    if draft.clinical and not sources:
        raise ServiceError("sources_required", _("Clinical content needs its sources: one "
                                                 "per line (a reference key or a citation)."),
                           field="sources")
    if draft.stage and draft.stage not in Stage.values:
        raise ServiceError("stage_invalid", _("Choose a stage from the list."), field="stage")
    if draft.indication and draft.indication not in INDICATIONS:
        raise ServiceError("indication_invalid", _("Choose an indication from the list."),
                           field="indication")
    if any(t not in range(1, 7) for t in draft.skin_types):
        raise ServiceError("skin_types_invalid", _("Skin types are I to VI."),
                           field="skin_types")
    if draft.image is not None and not draft.image_alt.strip():
        raise ServiceError("image_alt_required", _("Describe the image for people who cannot "
                                                   "see it."), field="image_alt")
    return {"title": title, "summary": summary, "body": draft.body,
            "body_html": markdown.render(draft.body), "topics": topics, "sources": sources,
            "clinical": draft.clinical, "image_alt": " ".join(draft.image_alt.split())}


def _store_image(clinic_id: int, data: bytes) -> tuple[str, str]:
    """The image through the imaging core's safe intake (identified by content, metadata
    stripped), stored by content; returns its storage name and content type."""
    try:
        accepted = accept_image(data, IMAGE_LIMITS)
    except IntakeRefused as refused:
        raise ServiceError(f"image_{refused.code}", refused.message, field="image") from None
    name = f"articles/{clinic_id}/{accepted.sha256[:32]}.{accepted.extension}"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(accepted.data))
    return name, accepted.content_type


def _unique_slug(clinic_id: int, wanted: str, title: str) -> str:
    base = slugify(wanted or title)[:70] or "article"
    slug, n = base, 1
    while Article.objects.filter(clinic_id=clinic_id, slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _targeting(draft: ArticleDraft) -> dict[str, Any]:
    return {"stage": draft.stage, "indication": draft.indication,
            "skin_types": sorted(set(draft.skin_types))}


# --- writing ----------------------------------------------------------------------------------

def create_article(actor: Actor, draft: ArticleDraft) -> Article:
    require(actor, Permission.EDIT_ARTICLES)
    values = _check(draft)
    image = _store_image(actor.clinic_id or 0, draft.image) if draft.image else ("", "")
    with transaction.atomic():
        article = Article.objects.create(
            clinic_id=actor.clinic_id, slug=_unique_slug(actor.clinic_id or 0, draft.slug,
                                                         values["title"]),
            created_by=actor.user, **_targeting(draft))
        version = ArticleVersion.objects.create(
            article=article, number=1, author=actor.user, author_name=draft.author_name,
            image=image[0], image_type=image[1], **values)
        audit(actor, "article.create", obj=version,
              detail={"article": article.pk, "title": version.title})
    return article


def save_draft(actor: Actor, article_id: int | str, draft: ArticleDraft) -> ArticleVersion:
    """Save the editor's changes: to the version in the works (back to draft, review
    cleared), or to a new version when the article has only a published one."""
    require(actor, Permission.EDIT_ARTICLES)
    values = _check(draft)
    article = article_for_staff(actor, article_id)
    image = _store_image(article.clinic_id, draft.image) if draft.image else None
    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=article.pk)
        for name, value in _targeting(draft).items():
            setattr(article, name, value)
        article.save(update_fields=["stage", "indication", "skin_types"])
        version = open_version(article)
        now = clock.now()
        if version is None:
            latest = article.versions.order_by("-number").first()
            assert latest is not None
            version = ArticleVersion(article=article, number=latest.number + 1,
                                     image=latest.image, image_type=latest.image_type)
            action = "article.new_version"
        else:
            action = "article.edit"
        for name, value in values.items():
            setattr(version, name, value)
        if image is not None:
            version.image, version.image_type = image
        elif draft.remove_image:
            version.image = version.image_type = version.image_alt = ""
        version.status = VersionStatus.DRAFT
        version.author = actor.user
        version.author_name = ""
        version.updated_at = now
        version.submitted_at = version.reviewed_at = version.reviewed_by = None
        version.review_note = ""
        try:
            with transaction.atomic():
                version.save()
        except IntegrityError:
            raise Conflict("version_in_progress", _("Someone started a new version of this "
                                                    "article meanwhile; open it again.")) \
                from None
        audit(actor, action, obj=version, detail={"article": article.pk,
                                                  "version": version.number})
    return version


def _locked_open_version(actor: Actor, article_id: int | str) -> tuple[Article, ArticleVersion]:
    article = article_for_staff(actor, article_id)
    article = Article.objects.select_for_update().get(pk=article.pk)
    version = open_version(article)
    if version is None:
        raise Conflict("nothing_to_do", _("This article has no version in the works."))
    return article, version


def submit_for_review(actor: Actor, article_id: int | str) -> ArticleVersion:
    require(actor, Permission.EDIT_ARTICLES)
    with transaction.atomic():
        _article, version = _locked_open_version(actor, article_id)
        if version.status != VersionStatus.DRAFT:
            raise Conflict("not_a_draft", _("This version has been sent for review already."))
        version.status = VersionStatus.IN_REVIEW
        version.submitted_at = clock.now()
        version.save(update_fields=["status", "submitted_at"])
        audit(actor, "article.submit", obj=version, detail={"version": version.number})
    return version


def review(actor: Actor, article_id: int | str, *, approve: bool, note: str = "",
           publish_now: bool = False) -> ArticleVersion:
    """A clinician's review: approve (and, if asked, publish at once) or send back with a
    note saying what to change."""
    require(actor, Permission.REVIEW_ARTICLES)
    note = note.strip()
    with transaction.atomic():
        article, version = _locked_open_version(actor, article_id)
        if version.status != VersionStatus.IN_REVIEW:
            raise Conflict("not_in_review", _("This version is not waiting for review."))
        if actor.user is not None and version.author_id == getattr(actor.user, "pk", None):
            raise Forbidden(_("You wrote this version; another clinician reviews it."))
        if not approve and not note:
            raise ServiceError("note_required", _("Say what should change."), field="note")
        now = clock.now()
        version.review_note = note
        if approve:
            version.status = VersionStatus.APPROVED
            version.reviewed_by = actor.user
            version.reviewed_at = now
        else:
            version.status = VersionStatus.DRAFT
            version.submitted_at = None
        version.save()
        audit(actor, "article.review", obj=version,
              detail={"version": version.number, "approved": approve, "note": note})
        if approve and publish_now:
            _publish(actor, article, version, now)
    return version


def publish(actor: Actor, article_id: int | str) -> ArticleVersion:
    """Publish the version in the works: a reviewed one, or a non-clinical draft."""
    require(actor, Permission.EDIT_ARTICLES)
    with transaction.atomic():
        article, version = _locked_open_version(actor, article_id)
        if version.clinical and version.status != VersionStatus.APPROVED:
            raise Conflict("review_required", _("A clinician reviews clinical content before "
                                                "it is published; send it for review."))
        if version.status == VersionStatus.IN_REVIEW:
            raise Conflict("in_review", _("This version is waiting for review."))
        _publish(actor, article, version, clock.now())
    return version


def _publish(actor: Actor, article: Article, version: ArticleVersion, now: Any) -> None:
    previous = article.published
    if previous is not None:
        ArticleVersion.objects.filter(pk=previous.pk).update(status=VersionStatus.SUPERSEDED)
    version.status = VersionStatus.PUBLISHED
    version.published_at = now
    version.published_by = actor.user
    version.save(update_fields=["status", "published_at", "published_by"])
    article.published = version
    article.save(update_fields=["published"])
    audit(actor, "article.publish", obj=version,
          detail={"version": version.number,
                  "replaces": previous.number if previous is not None else None})


def unpublish(actor: Actor, article_id: int | str) -> Article:
    """Take the article off the public page and patients' pages (its versions stay)."""
    require(actor, Permission.EDIT_ARTICLES)
    with transaction.atomic():
        article = article_for_staff(actor, article_id)
        article = Article.objects.select_for_update().get(pk=article.pk)
        if article.published_id is None:
            raise Conflict("not_published", _("This article is not published."))
        version = article.published
        assert version is not None
        ArticleVersion.objects.filter(pk=version.pk).update(status=VersionStatus.SUPERSEDED)
        article.published = None
        article.save(update_fields=["published"])
        audit(actor, "article.unpublish", obj=version, detail={"version": version.number})
    return article


def image_of(version: ArticleVersion) -> tuple[bytes, str]:
    with default_storage.open(version.image, "rb") as stored:
        return stored.read(), version.image_type
