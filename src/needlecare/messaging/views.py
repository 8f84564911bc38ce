"""The clinic's outbox page, and the buttons that send a message again or cancel it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from needlecare.access import Actor
from needlecare.messaging import services
from needlecare.messaging.forms import OutboxFilterForm
from needlecare.messaging.models import MessageStatus
from needlecare.page_actions import submit


@login_required
@require_GET
def outbox(request: HttpRequest) -> HttpResponse:
    form = OutboxFilterForm(request.GET)
    status = (form.cleaned_data["status"] or None) if form.is_valid() else None
    page = services.outbox(Actor.from_request(request), status,
                           after=request.GET.get("after"), before=request.GET.get("before"))
    return render(request, "messaging/outbox.html", {
        "form": form, "outbox": page, "page": page.page,
        "status_label": MessageStatus(status).label if status else "",
        "query": f"status={status}&" if status else "",
        "here": request.get_full_path()})


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("outbox")


@login_required
@require_POST
def message_retry(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: services.retry_message(Actor.from_request(request), pk),
                  done=_back(request),
                  done_message=_("The message will be sent again in a moment."))


@login_required
@require_POST
def message_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: services.cancel_message(Actor.from_request(request), pk),
                  done=_back(request), done_message=_("The message is cancelled."))
