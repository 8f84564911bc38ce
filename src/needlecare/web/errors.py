"""The error pages: 404, 403, 500 and 503, in the product's style.

A patient who meets an error on their link (``/p/…``) is told whom to call: the clinic's name
and phone and the emergency number come from the signed cookie the link's pages leave on the
phone (``recovery.tokens.remembered_clinic``), so the page renders without a database query,
which matters most when the database is what failed. The 500 and 503 pages never use the
request's context processors for the same reason (they read the signed-in user).

A busy database (a locked SQLite, a lock timeout) answers 503 with ``Retry-After``: the same
request is likely to work a moment later, and saying so is more use than "Server Error". The
API's own handlers answer it in the API's error shape (``api.errors``); requests under
``/api/`` that fail before reaching the API get the same shape here.

The templates carry no inline script or style (the site's Content-Security-Policy allows
neither).
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext as _

from needlecare.clinical.protocol.loader import default_protocol
from needlecare.errors import database_busy
from needlecare.recovery.next_steps import emergency_signs
from needlecare.recovery.tokens import remembered_clinic

logger = logging.getLogger("needlecare.errors")

PATIENT_PREFIX = "/p/"
API_PREFIX = "/api/"


def _is_patient(request: HttpRequest) -> bool:
    return request.path.startswith(PATIENT_PREFIX)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _signs() -> str:
    try:
        return emergency_signs(default_protocol())
    except Exception:  # the page must render whatever else is broken
        logger.exception("no emergency signs for the error page")
        return ""


def _patient_context(request: HttpRequest) -> dict[str, Any]:
    clinic = remembered_clinic(request)
    return {"clinic": clinic, "emergency_signs": _signs()}


def _render(request: HttpRequest, status: int, *, with_request: bool,
            **context: Any) -> HttpResponse:
    patient = _is_patient(request)
    if patient:
        context.update(_patient_context(request))
    context.update(status=status, patient=patient)
    template = loader.get_template("errors/patient.html" if patient else "errors/staff.html")
    body = None
    if with_request and not patient:
        try:
            body = template.render(context, request)
        except Exception:  # the header's user and clinic need the database
            logger.exception("error page rendered without the signed-in header")
    if body is None:
        # Without the request, no context processor runs (they read the session and the
        # user, which need the database).
        body = template.render(context)
    response = HttpResponse(body, status=status)
    if patient:
        response["Cache-Control"] = "no-store, private"
    return response


def _api_error(status: int, code: str, message: str) -> HttpResponse:
    return HttpResponse(json.dumps({"error": {"code": code, "message": message}}),
                        status=status, content_type="application/json")


def busy_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the database is busy; try again in a moment."""
    retry = str(getattr(settings, "DATABASE_BUSY_RETRY_AFTER", 5))
    if _is_api(request):
        response = _api_error(503, "unavailable", _(
            "The service is busy. Please try again in a few seconds."))
    else:
        response = _render(request, 503, with_request=False)
    response["Retry-After"] = retry
    return response


def too_large_page(request: HttpRequest, limit_mb: str) -> HttpResponse:
    """413 for people: on a patient's link in the patient's layout, with whom to call."""
    if _is_patient(request):
        return _render(request, 413, with_request=False, limit_mb=limit_mb)
    return HttpResponse(loader.render_to_string("413.html", {"limit_mb": limit_mb}, request),
                        status=413)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error(404, "not_found", _("Not found."))
    return _render(request, 404, with_request=True)


def permission_denied(request: HttpRequest, exception: Exception | None = None
                      ) -> HttpResponse:
    if _is_api(request):
        return _api_error(403, "forbidden", _("Your role does not allow this."))
    return _render(request, 403, with_request=True)


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when what failed is a busy database (Django calls this handler from
    inside its exception handling, so the exception is the one being handled)."""
    if database_busy(sys.exc_info()[1]):
        return busy_response(request)
    if _is_api(request):
        return _api_error(500, "server_error", _(
            "Something went wrong on our side. Please try again later."))
    return _render(request, 500, with_request=False)
