"""/api/v1/clinics/{clinic}/articles (public, read) and /subscriptions (public, write,
rate-limited): the clinic's published articles and the newsletter's double opt-in."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Path, Router, Schema, Status
from pydantic import ConfigDict, Field, StrictBool

from needlecare.access import client_ip
from needlecare.accounts.models import Clinic
from needlecare.api.errors import error_body, responses
from needlecare.api.schemas import EMAIL_ADDRESS_PATTERN
from needlecare.education import articles, consent, ratelimit
from needlecare.education.models import ArticleVersion
from needlecare.errors import NotFound, ServiceError

router = Router(tags=["articles and newsletter"], auth=None)

Slug = Annotated[str, Path(..., pattern=r"^[-a-zA-Z0-9_]{1,80}$")]


class SourceOut(Schema):
    key: str = Field(description="bibliography key, or empty for a free citation")
    citation: str
    link: str


class ArticleSummaryOut(Schema):
    slug: str
    title: str
    summary: str
    topics: list[str]
    stage: str | None = Field(description="stage of care it is timed to, if any")
    version: int
    published_at: dt.datetime
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    url: str = Field(description="the article's public page")


class ArticleOut(ArticleSummaryOut):
    body_markdown: str
    body_html: str = Field(description="rendered and sanitised")
    sources: list[SourceOut]
    image_url: str | None


class ArticlePage(Schema):
    clinic: str
    count: int
    results: list[ArticleSummaryOut]


class SubscriptionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    # The schema states the whole rule (JSON Schema's \s is not Python's, so no \s here).
    email: Annotated[str, Field(max_length=254, pattern=EMAIL_ADDRESS_PATTERN)]
    adult: StrictBool = Field(description="the person says they are 18 or older (required)")


class SubscriptionOut(Schema):
    status: Literal["confirmation_sent"]
    message: str


def _clinic(slug: str) -> Clinic:
    clinic = Clinic.objects.filter(slug=slug).first()
    if clinic is None:
        raise NotFound(_("No such clinic."))
    return clinic


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def _summary(version: ArticleVersion, clinic: Clinic) -> ArticleSummaryOut:
    assert version.published_at is not None
    return ArticleSummaryOut(
        slug=version.article.slug, title=version.title, summary=version.summary,
        topics=list(version.topics), stage=version.article.stage or None,
        version=version.number, published_at=version.published_at,
        reviewed_by=str(version.reviewed_by) if version.reviewed_by else None,
        reviewed_at=version.reviewed_at,
        url=_absolute(reverse("public-article", args=[clinic.slug, version.article.slug])))


@router.get("/clinics/{clinic}/articles", response=responses({200: ArticlePage}),
            summary="A clinic's published articles, newest first")
def list_articles(request: HttpRequest, clinic: Slug) -> ArticlePage:
    found = _clinic(clinic)
    shown = list(articles.published_articles(found)[:200])
    return ArticlePage(clinic=found.name, count=len(shown),
                       results=[_summary(v, found) for v in shown])


@router.get("/clinics/{clinic}/articles/{article}", response=responses({200: ArticleOut}),
            summary="One published article")
def get_article(request: HttpRequest, clinic: Slug, article: Slug) -> ArticleOut:
    found = _clinic(clinic)
    version = articles.published_article(found, article)
    image = _absolute(reverse("public-article-image", args=[
        found.slug, version.article.slug, version.number])) if version.image else None
    return ArticleOut(**_summary(version, found).model_dump(), body_markdown=version.body,
                      body_html=version.body_html,
                      sources=[SourceOut(key=s.get("key", ""), citation=s.get("citation", ""),
                                         link=s.get("link", "")) for s in version.sources],
                      image_url=image)


@router.post("/clinics/{clinic}/subscriptions",
             response=responses({202: SubscriptionOut}, 429),
             summary="Ask for the newsletter: a confirmation link is emailed (double opt-in)",
             description="Answers the same whether or not the address is known. Limited per "
                         "address, per client address and per clinic (429 with Retry-After).")
def subscribe(request: HttpRequest, payload: SubscriptionIn, clinic: Slug
              ) -> Status[SubscriptionOut] | HttpResponse:
    found = _clinic(clinic)
    try:
        validate_email(payload.email)
    except DjangoValidationError:
        raise ServiceError("email_invalid", _("Enter a valid email address."),
                           field="email") from None
    ip = client_ip(request) or "unknown"
    try:
        ratelimit.hit("subscribe-per-ip", ip)
        ratelimit.hit("subscribe-per-address", consent.normalise_email(payload.email))
        ratelimit.hit("subscribe-per-clinic", f"clinic:{found.pk}")
    except ratelimit.RateLimited as limited:
        response = JsonResponse(error_body(limited.code, limited.message), status=429)
        response["Retry-After"] = str(limited.retry_after)
        return response
    consent.subscribe_public(found, payload.email, adult=payload.adult, source="api",
                             ip=client_ip(request))
    return Status(202, SubscriptionOut(status="confirmation_sent", message=_(
        "If the address can receive the newsletter, a confirmation link is on its way.")))

