"""The clinic's articles as an Atom feed (Django's syndication framework, ``Atom1Feed``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from needlecare.accounts.models import Clinic
from needlecare.education.articles import published_articles
from needlecare.education.models import ArticleVersion
from needlecare.errors import NotFound

FEED_SIZE = 50


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


class ArticlesFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, slug: str) -> Clinic:
        clinic = Clinic.objects.filter(slug=slug).first()
        if clinic is None:
            raise NotFound(_("No such clinic."))
        return clinic

    def title(self, clinic: Clinic) -> str:
        return _("%(clinic)s: articles") % {"clinic": clinic.name}

    def subtitle(self, clinic: Clinic) -> str:
        return _("Reading about microneedling from %(clinic)s.") % {"clinic": clinic.name}

    def link(self, clinic: Clinic) -> str:
        return _absolute(reverse("public-articles", args=[clinic.slug]))

    def feed_url(self, clinic: Clinic) -> str:
        return _absolute(reverse("public-feed", args=[clinic.slug]))

    def feed_guid(self, clinic: Clinic) -> str:
        return self.feed_url(clinic)

    def author_name(self, clinic: Clinic) -> str:
        return clinic.name

    def items(self, clinic: Clinic) -> Any:
        return published_articles(clinic)[:FEED_SIZE]

    def item_title(self, item: ArticleVersion) -> str:
        return item.title

    def item_description(self, item: ArticleVersion) -> str:
        return item.summary

    def item_link(self, item: ArticleVersion) -> str:
        return _absolute(reverse("public-article", args=[item.article.clinic.slug,
                                                         item.article.slug]))

    def item_guid(self, item: ArticleVersion) -> str:
        # One entry per article, whatever its version: a new version updates the entry.
        return _absolute(reverse("public-article", args=[item.article.clinic.slug,
                                                         item.article.slug]))

    item_guid_is_permalink = True

    def item_pubdate(self, item: ArticleVersion) -> Any:
        first = item.article.versions.exclude(published_at=None).order_by(
            "published_at").values_list("published_at", flat=True).first()
        return first or item.published_at

    def item_updateddate(self, item: ArticleVersion) -> Any:
        return item.published_at

    def item_author_name(self, item: ArticleVersion) -> str:
        return item.byline or item.article.clinic.name

    def item_categories(self, item: ArticleVersion) -> list[str]:
        return list(item.topics)
