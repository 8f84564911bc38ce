"""Refusals in the audit trail, kept when the refused request's transaction rolls back.

The access layer refuses (404, 403) from inside a service's transaction, which then rolls
back, and with it any row written there. So a refusal is noted here instead of written: during
a request, ``RefusalTrail`` (a middleware) holds the noted rows and writes them when the
response is ready, after the view's transactions have ended. Other callers can do the same
with ``kept_until_done()``; anywhere else (a command calling a service) the row is written at
once, in the caller's transaction.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def kept_until_done(extra: Callable[[AuditEvent], None] | None = None) -> Iterator[None]:
    """Hold the refusals noted inside the block and write them when it ends, after the
    transactions opened inside it have ended (committed or rolled back)."""
    pending: list[AuditEvent] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
        if pending:
            for event in pending:
                if extra is not None:
                    extra(event)
            _write(pending)


def _write(pending: list[AuditEvent]) -> None:
    try:
        with transaction.atomic():
            AuditEvent.objects.bulk_create(pending)
    except Exception:  # the refusal stands; losing its row must not turn it into a 500
        logger.exception("could not write %d refusal row(s)", len(pending))


def _route(request: HttpRequest) -> str:
    # The route's name, never the path: a patient's path holds their link's token.
    match = getattr(request, "resolver_match", None)
    return (match.view_name if match is not None else "") or ""


class RefusalTrail:
    """Writes the refusals noted during a request once the view is done."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        def where(event: AuditEvent) -> None:
            detail: dict[str, Any] = dict(event.detail)
            route = _route(request)
            if route:
                detail.setdefault("route", route)
            detail.setdefault("method", request.method)
            event.detail = detail

        with kept_until_done(where):
            return self.get_response(request)
