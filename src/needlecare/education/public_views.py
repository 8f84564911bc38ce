"""Pages anyone may open: a clinic's published articles, its Atom feed, the newsletter's
sign-up, confirmation and unsubscribe pages, the click counter and the email provider's
webhook; and the patient's own newsletter and reading choices on their phone pages.

Public pages carry a title, a description and a canonical link, and work without JavaScript.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError

from needlecare.access import Actor, client_ip
from needlecare.accounts.models import Clinic
from needlecare.education import articles, consent, newsletter, ratelimit, webhooks
from needlecare.education.forms import SubscribeForm
from needlecare.education.models import ArticleVersion
from needlecare.education.views import _image_response
from needlecare.errors import NotFound, ServiceError
from needlecare.page_actions import refusal
from needlecare.recovery.models import PatientLink
from needlecare.recovery.views import patient_page


def _clinic(slug: str) -> Clinic:
    clinic = Clinic.objects.filter(slug=slug).first()
    if clinic is None:
        raise NotFound(_("No such clinic."))
    return clinic


def _canonical(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def _public(request: HttpRequest, template: str, clinic: Clinic, context: dict[str, object],
            *, status: int = 200) -> HttpResponse:
    return render(request, template, {
        "clinic": clinic, "canonical": _canonical(request.path),
        "feed_url": reverse("public-feed", args=[clinic.slug]), **context}, status=status)


@require_GET
def public_articles(request: HttpRequest, slug: str) -> HttpResponse:
    clinic = _clinic(slug)
    return _public(request, "education/public_articles.html", clinic, {
        "versions": list(articles.published_articles(clinic)), "form": SubscribeForm()})


@require_GET
def public_article(request: HttpRequest, slug: str, article: str) -> HttpResponse:
    clinic = _clinic(slug)
    version = articles.published_article(clinic, article)
    return _public(request, "education/public_article.html", clinic, {"version": version})


@require_GET
def public_image(request: HttpRequest, slug: str, article: str, number: int) -> HttpResponse:
    clinic = _clinic(slug)
    version = ArticleVersion.objects.filter(
        article__clinic=clinic, article__slug=article, number=number,
        status="published").select_related("article").first()
    if version is None:
        raise NotFound(_("No such image."))
    return _image_response(version, public=True)


def _subscribe(request: HttpRequest, clinic: Clinic, email: str, adult: bool,
               source: str) -> None:
    """Count the request against the limits, then ask for confirmation."""
    ip = client_ip(request) or "unknown"
    ratelimit.hit("subscribe-per-ip", f"{ip}")
    ratelimit.hit("subscribe-per-address", consent.normalise_email(email))
    ratelimit.hit("subscribe-per-clinic", f"clinic:{clinic.pk}")
    consent.subscribe_public(clinic, email, adult=adult, source=source,
                             ip=client_ip(request))


@require_http_methods(["GET", "POST"])
def public_subscribe(request: HttpRequest, slug: str) -> HttpResponse:
    clinic = _clinic(slug)
    form = SubscribeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _subscribe(request, clinic, form.cleaned_data["email"],
                       form.cleaned_data["adult"], "public_page")
        except ratelimit.RateLimited as limited:
            response = _public(request, "education/public_subscribe.html", clinic, {
                "form": form, "error": limited.message}, status=429)
            response["Retry-After"] = str(limited.retry_after)
            return response
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None,
                           refusal(exc).message)
        else:
            return _public(request, "education/public_subscribe_sent.html", clinic, {
                "hours": consent.confirm_hours()})
    return _public(request, "education/public_subscribe.html", clinic, {"form": form})


@require_http_methods(["GET", "POST"])
def newsletter_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The confirmation link: a page with a button (a link scanner's GET confirms nothing);
    pressing it confirms."""
    try:
        pending = consent.pending_for_token(token)
    except ServiceError as exc:
        refusal(exc)
        return render(request, "education/newsletter_message.html", {
            "heading": _("This link does not work"), "text": exc.message},
            status=410 if exc.code == "link_expired" else 409)
    if request.method == "POST":
        confirmed = consent.confirm(token, client_ip(request))
        return render(request, "education/newsletter_message.html", {
            "heading": _("You are subscribed"),
            "text": _("Thank you. You will receive %(clinic)s's newsletter. Every newsletter "
                      "has a link to unsubscribe with one click.")
            % {"clinic": confirmed.clinic.name}})
    return render(request, "education/newsletter_confirm.html", {
        "consent": pending, "clinic": pending.clinic})


@csrf_exempt  # RFC 8058: a mail client POSTs without cookies or a CSRF token; the signed
@require_http_methods(["GET", "POST"])  # token in the address is what authorises it
def newsletter_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with one button (scanners that follow links unsubscribe nobody).
    POST: unsubscribe, from that button or from a mail client's one-click request."""
    if request.method == "POST":
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        found = consent.unsubscribe(token, source="one_click" if one_click
                                    else "unsubscribe_page", ip=client_ip(request))
        if one_click:
            return HttpResponse(status=200 if not found.test else 202)
        return render(request, "education/newsletter_message.html", {
            "heading": _("You are unsubscribed") if not found.test
            else _("This was a test send"),
            "text": _("You will receive no more newsletters. Messages about your care are "
                      "not affected.") if not found.test
            else _("Unsubscribe links in test copies change nothing.")})
    found = consent.read_unsubscribe_token(token)
    return render(request, "education/newsletter_unsubscribe.html", {
        "found": found, "token": token,
        "clinic": found.consent.clinic if found.consent else None})


@require_GET
def newsletter_click(request: HttpRequest, token: str) -> HttpResponse:
    return HttpResponseRedirect(newsletter.follow_click(token))


@csrf_exempt  # a server-to-server call, authenticated by its HMAC signature instead
@require_POST
def email_events(request: HttpRequest) -> HttpResponse:
    key = webhooks.secret()
    if not key:
        return JsonResponse({"error": "not configured"}, status=503)
    body = request.body
    try:
        webhooks.verify(body, request.headers.get(webhooks.TIMESTAMP_HEADER, ""),
                        request.headers.get(webhooks.SIGNATURE_HEADER, ""), key)
    except webhooks.BadSignature as bad:
        return JsonResponse({"error": str(bad)}, status=401)
    try:
        events = webhooks.ProviderEvents.model_validate(json.loads(body))
    except (ValueError, ValidationError):
        return JsonResponse({"error": "body is not the documented JSON shape"}, status=400)
    return JsonResponse({"suppressed": webhooks.apply(events, client_ip(request))})


# --- the patient's own choices (their phone pages) ---------------------------------------

@require_POST
@patient_page
def patient_reading(request: HttpRequest, link: PatientLink, token: str) -> HttpResponse:
    give = request.POST.get("reading") == "yes"
    consent.set_reading_consent(Actor.for_link(link, request), give)
    return redirect(reverse("patient-home", args=[token]) + "#reading")


@require_POST
@patient_page
def patient_newsletter(request: HttpRequest, link: PatientLink, token: str) -> HttpResponse:
    actor = Actor.for_link(link, request)
    error = ""
    try:
        if request.POST.get("newsletter") == "subscribe":
            consent.request_newsletter_for_patient(actor)
        else:
            consent.withdraw_newsletter_for_patient(actor)
    except ServiceError as exc:
        error = refusal(exc).message
    if error:
        return render(request, "education/newsletter_message.html", {
            "heading": _("Not done"), "text": error,
            "back": reverse("patient-home", args=[token])}, status=409)
    return redirect(reverse("patient-home", args=[token]) + "#newsletter")
