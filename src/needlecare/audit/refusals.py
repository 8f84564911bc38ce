"""Refusals in the audit trail, kept when the refused request's transaction rolls back.

The access layer refuses (404, 403) from inside a service's transaction, which then rolls
back, and with it any row written there. So a refusal is noted here instead of written: during
a request, ``RefusalTrail`` (a middleware) holds the noted rows and writes them when the
response is ready, after the view's transactions have ended; outside a request (a command, a
test calling a service) the row is written at once.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse

from needlecare.audit.models import AuditEvent

logger = logging.getLogger("needlecare.audit")

_pending: contextvars.ContextVar[list[AuditEvent] | None] = contextvars.ContextVar(
    "needlecare_refusals", default=None)

ACTION = "access.refused"


def note(event: AuditEvent) -> None:
    """Keep an (unsaved) refusal row until the request ends, or write it now outside one."""
    pending = _pending.get()
    if pending is not None:
        pending.append(event)
    else:
        event.save()


def _route(request: HttpRequest) -> str:
    # The route's name, never the path: a patient's path holds their link's token.
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match is not None else "") or ""


class RefusalTrail:
    """Writes the refusals noted during a request once the view is done."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        pending: list[AuditEvent] = []
        token = _pending.set(pending)
        try:
            return self.get_response(request)
        finally:
            _pending.reset(token)
            if pending:
                self._write(request, pending)

    @staticmethod
    def _write(request: HttpRequest, pending: list[AuditEvent]) -> None:
        route = _route(request)
        for event in pending:
            detail: dict[str, Any] = dict(event.detail)
            if route:
                detail.setdefault("route", route)
            detail.setdefault("method", request.method)
            event.detail = detail
        try:
            with transaction.atomic():
                AuditEvent.objects.bulk_create(pending)
        except Exception:  # the refusal stands; losing its row must not turn it into a 500
            logger.exception("could not write %d refusal row(s)", len(pending))
