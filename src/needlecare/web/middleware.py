"""The site's own middleware: the absolute session limit, the pages for access refusals,
503 for a busy database, and the request body limit (413).

A staff session ends a fixed time after sign-in, however busy it has been. The idle limit
(SESSION_COOKIE_AGE, renewed on every request) ends a forgotten session; this ends one that is
kept alive all day on a shared reception computer. The sign-in time is stored in the session
when the user signs in, or on the first request that finds none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext_lazy as _

from needlecare import clock
from needlecare.errors import ErrorKind, ServiceError, database_busy
from needlecare.web.errors import busy_response, too_large_page

logger = logging.getLogger("needlecare.errors")

SESSION_KEY = "needlecare_signed_in_at"


@receiver(user_logged_in, dispatch_uid="needlecare.absolute_session_timeout")
def remember_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = clock.now().timestamp()


class AbsoluteSessionTimeout:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = clock.now().timestamp()
            signed_in_at = request.session.get(SESSION_KEY)
            if not isinstance(signed_in_at, int | float):
                request.session[SESSION_KEY] = now
            elif now - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
                return self._sign_out(request)
        return self.get_response(request)

    @staticmethod
    def _sign_out(request: HttpRequest) -> HttpResponse:
        logout(request)
        messages.info(request, _(
            "For safety, you are signed out %(hours)s hours after signing in. "
            "Please sign in again.") % {"hours": settings.SESSION_ABSOLUTE_SECONDS // 3600})
        # After a form post, come back to the start rather than to the form's target.
        response = redirect_to_login(request.get_full_path() if request.method == "GET"
                                     else "/")
        if request.headers.get("HX-Request") == "true":
            # htmx would swap the login page into the current one; make it navigate instead.
            htmx_response = HttpResponse(status=204)
            htmx_response["HX-Redirect"] = response.url
            return htmx_response
        return response


class AccessRefusals:
    """The access layer refuses with the project's own errors (``errors.NotFound``,
    ``errors.Forbidden``); pages answer them as Django's 404 and 403 pages. Every other
    refusal is shown by the view that called the service, next to what caused it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # Raised here, Django's own handler renders the 404 or 403 page.
        if isinstance(exception, ServiceError):
            if exception.kind is ErrorKind.NOT_FOUND:
                raise Http404(exception.message) from exception
            if exception.kind is ErrorKind.FORBIDDEN:
                raise PermissionDenied(exception.message) from exception


class DatabaseBusy:
    """A view that meets a busy database (a locked SQLite) answers 503 with Retry-After, not
    500: the request is likely to work a moment later. Failures outside the views (in another
    middleware) reach the 500 handler, which answers the same (``web.errors.server_error``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception
                          ) -> HttpResponse | None:
        if database_busy(exception):
            logger.warning("database busy on %s %s: %s", request.method, request.path,
                           exception)
            return busy_response(request)
        return None


# --- Request body limits (issue 14, item 8) ---------------------------------------------------

def too_large_response(request: HttpRequest, limit: int) -> HttpResponse:
    """413: a JSON error for the API, a page for people."""
    megabytes = f"{limit / (1024 * 1024):.1f}".rstrip("0").rstrip(".")
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {
            "code": "too_large",
            "message": str(_("The request body is larger than %(mb)s MB.") % {"mb": megabytes}),
            "limit_bytes": limit}}, status=413)
    return too_large_page(request, megabytes)


class BodySizeLimit:
    """Refuse a body over the limit before anything reads it, by its Content-Length.

    Django's own check (DATA_UPLOAD_MAX_MEMORY_SIZE) raises while the body is read: pages then
    answer a bare 400 and the API a 500. A file upload (multipart) may be larger, up to
    MAX_UPLOAD_BYTES (more on the routes that take photos: UPLOAD_LIMITS_BY_ROUTE), but its
    other fields are held to the same limit: it is parsed here, so a field over the limit
    answers 413 too rather than failing later in the CSRF check. A body
    without a Content-Length is read as empty by Django's WSGI handler, so the header is the
    whole story for the rest."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        multipart = request.content_type == "multipart/form-data"
        limit = int(self.upload_limit(request) if multipart
                    else settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return too_large_response(request, limit)
        if multipart and request.method == "POST":
            try:
                request.POST  # noqa: B018 - parsed now, so a field too large is a 413
            except RequestDataTooBig:
                return too_large_response(request, int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
        return self.get_response(request)

    @staticmethod
    def upload_limit(request: HttpRequest) -> int:
        """MAX_UPLOAD_BYTES, or the route's own limit (UPLOAD_LIMITS_BY_ROUTE: the routes that
        take photos). The address is resolved here because this runs before the URL is."""
        by_route: dict[str, int] = getattr(settings, "UPLOAD_LIMITS_BY_ROUTE", {})
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return int(settings.MAX_UPLOAD_BYTES)
        return int(by_route.get(match.view_name, settings.MAX_UPLOAD_BYTES))

    def process_exception(self, request: HttpRequest, exception: Exception
                          ) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):
            return too_large_response(request, int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
        return None
