"""The staff's pages: articles (editors write, clinicians review) and the newsletter."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from needlecare.access import Actor, Permission, require
from needlecare.accounts.models import Clinic
from needlecare.education import articles, newsletter
from needlecare.education.forms import (
    ArticleForm,
    CampaignForm,
    ReviewForm,
    ScheduleForm,
    SettingsForm,
)
from needlecare.education.models import ArticleVersion, CampaignStatus, VersionStatus
from needlecare.education.rules import Segment
from needlecare.errors import NotFound
from needlecare.page_actions import submit

# --- articles -----------------------------------------------------------------------------


@login_required
@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    found = articles.clinic_articles(actor)
    rows = []
    for article in found:
        every = sorted(article.versions.all(), key=lambda v: -v.number)
        rows.append({"article": article, "latest": every[0] if every else None,
                     "published": article.published})
    return render(request, "education/article_list.html", {
        "rows": rows, "can_edit": actor.can(Permission.EDIT_ARTICLES),
        "queue": articles.review_queue(actor) if actor.can(Permission.REVIEW_ARTICLES)
        else [], "clinic_slug": request.user.clinic.slug})


def _form_page(request: HttpRequest, form: ArticleForm, version: ArticleVersion | None
               ) -> HttpResponse:
    return render(request, "education/article_form.html", {
        "form": form, "version": version,
        "title": _("Edit “%(title)s”") % {"title": version.title} if version
        else _("New article")})


@login_required
@require_http_methods(["GET", "POST"])
def article_new(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.EDIT_ARTICLES)
    form = ArticleForm(request.POST or None, request.FILES or None)
    if request.method == "GET":
        return _form_page(request, form, None)
    return submit(request, lambda: articles.create_article(actor, form.draft()), form=form,
                  show_again=lambda: _form_page(request, form, None),
                  done=lambda article: redirect("article-detail", pk=article.pk),
                  done_message=_("Draft saved."))


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.EDIT_ARTICLES)
    article = articles.article_for_staff(actor, pk)
    current = articles.open_version(article) or article.published
    if current is None:
        current = article.versions.order_by("-number").first()
    if request.method == "GET":
        form = ArticleForm(initial=ArticleForm.initial_for(current) if current else None)
        return _form_page(request, form, current)
    form = ArticleForm(request.POST, request.FILES)
    return submit(request, lambda: articles.save_draft(actor, pk, form.draft()), form=form,
                  show_again=lambda: _form_page(request, form, current),
                  done=reverse("article-detail", args=[pk]),
                  done_message=_("Draft saved. The published version stays as it is until "
                                 "this one is published."))


@login_required
@require_GET
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    article = articles.article_for_staff(actor, pk)
    working = articles.open_version(article)
    shown = working or article.published
    return render(request, "education/article_detail.html", {
        "article": article, "working": working, "shown": shown,
        "versions": articles.versions(article),
        "can_edit": actor.can(Permission.EDIT_ARTICLES),
        "can_review": actor.can(Permission.REVIEW_ARTICLES)
        and working is not None and working.status == VersionStatus.IN_REVIEW
        and working.author_id != request.user.pk,
        "review_form": ReviewForm(), "clinic_slug": request.user.clinic.slug})


@login_required
@require_GET
def article_version(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    version = articles.version_for_staff(Actor.from_request(request), pk, number)
    return render(request, "education/article_version.html", {
        "version": version, "article": version.article})


@login_required
@require_POST
def article_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: articles.submit_for_review(Actor.from_request(request), pk),
                  done=reverse("article-detail", args=[pk]),
                  done_message=_("Sent for clinical review."))


@login_required
@require_POST
def article_review(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    decision = request.POST.get("decision", "")
    note = request.POST.get("note", "")[:2000]
    messages_for = {"approve": _("Approved."), "publish": _("Approved and published."),
                    "return": _("Sent back to the editor with your note.")}
    return submit(request, lambda: articles.review(
        actor, pk, approve=decision in ("approve", "publish"), note=note,
        publish_now=decision == "publish"),
        done=reverse("article-detail", args=[pk]),
        done_message=messages_for.get(decision, _("Saved.")))


@login_required
@require_POST
def article_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: articles.publish(Actor.from_request(request), pk),
                  done=reverse("article-detail", args=[pk]),
                  done_message=_("Published: patients and the public page show this version "
                                 "now."))


@login_required
@require_POST
def article_unpublish(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: articles.unpublish(Actor.from_request(request), pk),
                  done=reverse("article-detail", args=[pk]),
                  done_message=_("The article is no longer published."))


@login_required
@require_POST
def article_import_starter(request: HttpRequest) -> HttpResponse:
    # Imported here: the starter set's loader reads its data file only when asked.
    from needlecare.education import starter

    actor = Actor.from_request(request)
    return submit(request, lambda: starter.import_starter_set(actor),
                  done=reverse("article-list"),
                  done_message=_("The starter articles are drafts now: a clinician reviews "
                                 "each before it is published."))


@login_required
@require_GET
def article_staff_image(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    version = articles.version_for_staff(Actor.from_request(request), pk, number)
    return _image_response(version, public=False)


def _image_response(version: ArticleVersion, *, public: bool) -> HttpResponse:
    if not version.image:
        raise NotFound(_("No image."))
    content, kind = articles.image_of(version)
    response = HttpResponse(content, content_type=kind)
    response["Cache-Control"] = "public, max-age=86400" if public else "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response


# --- the newsletter -----------------------------------------------------------------------

@login_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    return render(request, "education/campaign_list.html", {
        "campaigns": newsletter.campaigns(actor),
        "can_settings": actor.can(Permission.MANAGE_CLINIC)})


def _campaign_form_page(request: HttpRequest, form: CampaignForm, campaign: object | None
                        ) -> HttpResponse:
    return render(request, "education/campaign_form.html", {"form": form,
                                                            "campaign": campaign})


@login_required
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.EDIT_ARTICLES)
    form = CampaignForm(request.POST or None, initial={"audience": "everyone"})
    if request.method == "GET":
        return _campaign_form_page(request, form, None)
    return submit(request, lambda: newsletter.create_campaign(actor, form.draft()), form=form,
                  show_again=lambda: _campaign_form_page(request, form, None),
                  done=lambda c: redirect("campaign-detail", pk=c.pk),
                  done_message=_("Newsletter saved as a draft."))


@login_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    campaign = newsletter.campaign_for(actor, pk)
    if request.method == "GET":
        form = CampaignForm(initial=CampaignForm.initial_for(campaign.subject, campaign.body,
                                                             campaign.segment))
        return _campaign_form_page(request, form, campaign)
    form = CampaignForm(request.POST)
    return submit(request, lambda: newsletter.update_campaign(actor, pk, form.draft()),
                  form=form, show_again=lambda: _campaign_form_page(request, form, campaign),
                  done=reverse("campaign-detail", args=[pk]), done_message=_("Saved."))


@login_required
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    campaign = newsletter.campaign_for(actor, pk)
    clinic = Clinic.objects.get(pk=campaign.clinic_id)
    reach = newsletter.audience(clinic, Segment.from_dict(campaign.segment)) \
        if campaign.status == CampaignStatus.DRAFT else None
    settings = newsletter.settings_for(clinic.pk)
    return render(request, "education/campaign_detail.html", {
        "campaign": campaign, "reach": reach, "counts": newsletter.counts(campaign),
        "schedule_form": ScheduleForm(), "settings": settings,
        "held_back": [(newsletter.holdbacks.label(code), n)
                      for code, n in sorted(campaign.held_back.items()) if n],
        "preview_text": newsletter.text_of(campaign, counting=False),
        "minutes": (len(reach.recipients) // max(1, settings.send_rate_per_minute) + 1)
        if reach else 0})


@login_required
@require_POST
def campaign_test(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: newsletter.send_test(Actor.from_request(request), pk),
                  done=reverse("campaign-detail", args=[pk]),
                  done_message=_("A test copy is on its way to your email address."))


@login_required
@require_POST
def campaign_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the date and time as shown, or leave it empty."))
        return redirect("campaign-detail", pk=pk)
    when = form.when(request.user.clinic.time_zone)
    return submit(request, lambda: newsletter.schedule(actor, pk, when),
                  done=reverse("campaign-detail", args=[pk]),
                  done_message=_("Scheduled: the outbox sends it at the clinic's rate."))


@login_required
@require_POST
def campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: newsletter.cancel(Actor.from_request(request), pk),
                  done=reverse("campaign-detail", args=[pk]),
                  done_message=_("Cancelled: nothing more of it will be sent."))


@login_required
@require_http_methods(["GET", "POST"])
def newsletter_settings(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.MANAGE_CLINIC)
    current = newsletter.settings_for(actor.clinic_id or 0)
    form = SettingsForm(request.POST or None, initial={
        "count_link_clicks": current.count_link_clicks,
        "send_rate_per_minute": current.send_rate_per_minute})
    if request.method == "GET":
        return render(request, "education/settings.html", {"form": form})
    return submit(request, lambda: newsletter.update_settings(
        actor, count_link_clicks=form.cleaned_data["count_link_clicks"],
        send_rate_per_minute=form.cleaned_data["send_rate_per_minute"]), form=form,
        show_again=lambda: render(request, "education/settings.html", {"form": form}),
        done=reverse("newsletter-settings"), done_message=_("Saved."))
