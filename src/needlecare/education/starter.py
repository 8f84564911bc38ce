"""Needlecare's starter articles (``starter/articles.toml``), written for this project from the
clinical reference, each citing the protocol's (or the alternatives file's) bibliography keys.

Importing them into a clinic creates each as an article whose first version waits for the
clinic's own clinician to review it: shipped text is never published to a clinic's patients
unread. Importing again skips the articles the clinic has already imported.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any

from django.db import transaction

from needlecare import clock
from needlecare.access import Actor, Permission, audit, require
from needlecare.education.articles import ArticleDraft, bibliography, create_article
from needlecare.education.models import Article, ArticleVersion, VersionStatus

STARTER_FILE = Path(__file__).resolve().parent / "starter" / "articles.toml"
AUTHOR = "Needlecare starter set"


@functools.cache
def starter_articles() -> dict[str, dict[str, Any]]:
    with STARTER_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    articles: dict[str, dict[str, Any]] = data["articles"]
    return articles


def _refs(keys: list[str]) -> tuple[dict[str, str], ...]:
    known = bibliography()
    refs = []
    for key in keys:
        cited = known.get(key)
        if cited is None:
            raise ValueError(f"starter article cites {key!r}, which no bibliography holds")
        refs.append({"key": key, "citation": cited.citation, "link": cited.link})
    return tuple(refs)


def import_starter_set(actor: Actor) -> list[Article]:
    """Copy the starter articles the clinic does not have yet; each waits for review."""
    require(actor, Permission.EDIT_ARTICLES)
    made = []
    with transaction.atomic():
        have = set(Article.objects.filter(clinic_id=actor.clinic_id).exclude(starter_key="")
                   .values_list("starter_key", flat=True))
        for key, entry in starter_articles().items():
            if key in have:
                continue
            article = create_article(actor, ArticleDraft(
                title=entry["title"], summary=entry["summary"], body=entry["body"].strip(),
                topics=tuple(entry.get("topics", ())), clinical=True,
                stage=entry.get("stage", ""), slug=key, author_name=AUTHOR,
                source_refs=_refs(entry["sources"])))
            Article.objects.filter(pk=article.pk).update(starter_key=key)
            ArticleVersion.objects.filter(article=article).update(
                author=None, status=VersionStatus.IN_REVIEW, submitted_at=clock.now())
            made.append(article)
        audit(actor, "article.import_starter", detail={
            "imported": [a.slug for a in made], "skipped": sorted(have)})
    return made
