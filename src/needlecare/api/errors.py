"""Every error the API answers, in one shape: ``{"error": {"code", "message", "fields"?}}``.

The handlers turn what the layers below raise into that shape: ninja's validation errors (422,
naming each field), an unreadable body (400), and the services' refusals (``ServiceError``: its
kind gives the status, its code the ``code``), the access layer's "not found" (404, also for
another clinic's records) and "forbidden" (403) among them. Anything else is a bug: it is
logged and answered with a JSON 500 that reveals nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from needlecare.api.schemas import PATTERN_MESSAGES
from needlecare.errors import ERROR_STATUS, ErrorKind, ServiceError
from needlecare.patients.services import PossibleDuplicate

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger("needlecare.api")


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, str] | None = None
    matches: list[int] | None = None
    limit_bytes: int | None = None


class Error(Schema):
    error: ErrorDetail


#: The error statuses every operation documents (and can answer): a service refusal of any
#: kind among them, so no refusal can answer a status the document does not show.
#: 413 answers a body over the size limit, whatever the operation.
COMMON_ERRORS = (400, 401, *sorted({*ERROR_STATUS.values(), 413}))


def responses(ok: Mapping[int, Any], *extra_errors: int) -> dict[int, Any]:
    """An operation's ``response=`` map: its success schemas and every error it can answer,
    so the OpenAPI document (and the clients and fuzzers that read it) know them all."""
    return {**ok, **dict.fromkeys((*COMMON_ERRORS, *extra_errors), Error)}


class ApiError(Exception):
    """A refusal raised by the API layer itself (authentication of a patient's link)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def service_status(error: ServiceError) -> int:
    """The status for a service's refusal, from its kind (``errors.ERROR_STATUS``)."""
    return ERROR_STATUS[error.kind]


def error_body(code: str, message: str, *, fields: Mapping[str, str] | None = None,
               matches: Iterable[int] | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": code, "message": str(message)}
    if fields:
        detail["fields"] = dict(fields)
    if matches is not None:
        detail["matches"] = list(matches)
    return {"error": detail}


def field_name(loc: Iterable[Any]) -> str:
    """``("body", "payload", "symptoms", "redness", "severity")`` → ``symptoms.redness.severity``.

    The first item is where the value came from (body, query, path); a body is read into one
    parameter named ``payload``, which the client never sees."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        source, parts = parts[0], parts[1:]
        if source == "body" and parts and parts[0] == "payload":
            parts = parts[1:]
        if not parts:
            return source
    return ".".join(parts) or "body"


def _validation_fields(errors: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in errors:
        name = field_name(error.get("loc", ()))
        message = str(error.get("msg", _("This value is not valid.")))
        # Our own validators' messages are sentences already.
        message = message.removeprefix("Value error, ")
        if error.get("type") == "string_pattern_mismatch":
            message = str(PATTERN_MESSAGES.get(error.get("ctx", {}).get("pattern"), message))
        # Keep the first problem of each field: one clear message beats a list.
        fields.setdefault(name, message)
    return fields


def install(api: NinjaAPI) -> None:
    """Register the handlers on the API (ninja looks them up along the exception's MRO).

    The handlers take ``Any``: ninja's annotations also allow an exception class there."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        response: HttpResponse = api.create_response(request, body, status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="needlecare"'
        return response

    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 422, error_body(
            "invalid", _("Some values are missing or not valid; see fields."),
            fields=_validation_fields(exc.errors)))

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        if isinstance(exc, AuthenticationError):
            return respond(request, 401, error_body(
                "not_authenticated",
                _("Sign in, or send an API token as “Authorization: Bearer <token>”.")))
        if exc.status_code == 400:
            # ninja raises this one when the body cannot be parsed.
            return respond(request, 400, error_body(
                "malformed_json", _("The request body is not valid JSON.")))
        return respond(request, exc.status_code, error_body("http_error", str(exc)))

    def on_api_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, exc.status, error_body(exc.code, exc.message))

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 404, error_body("not_found", _("Not found.")))

    def on_denied(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, 403, error_body(
            "forbidden", _("Your role does not allow this.")))

    def on_service_error(request: HttpRequest, exc: Any) -> HttpResponse:
        # The access layer's refusals say the same to everyone, whatever the record.
        if exc.kind is ErrorKind.NOT_FOUND:
            return on_not_found(request, exc)
        if exc.kind is ErrorKind.FORBIDDEN:
            return on_denied(request, exc)
        fields = {exc.field: exc.message} if exc.field else None
        message, matches = exc.message, None
        if isinstance(exc, PossibleDuplicate):
            # The service's message speaks of the form's tick box.
            message = str(_("A patient with this name and date of birth is already "
                            "registered (see matches). If this is a different person, send the "
                            "request again with confirm_duplicate: true."))
            matches = [p.pk for p in exc.matches]
        return respond(request, service_status(exc), error_body(
            exc.code, message, fields=fields, matches=matches))

    def on_too_large(request: HttpRequest, exc: Any) -> HttpResponse:
        # The body-size middleware refuses by Content-Length first; this catches a body that
        # grows past the limit while it is read.
        limit = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        body = error_body("too_large", _("The request body is larger than %(mb)s MB.")
                          % {"mb": f"{limit / (1024 * 1024):.1f}".rstrip("0").rstrip(".")})
        body["error"]["limit_bytes"] = limit
        return respond(request, 413, body)

    def on_bug(request: HttpRequest, exc: Any) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
        return respond(request, 500, error_body(
            "server_error", _("Something went wrong on our side. Please try again later.")))

    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(ApiError, on_api_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(PermissionDenied, on_denied)
    api.add_exception_handler(ServiceError, on_service_error)
    api.add_exception_handler(RequestDataTooBig, on_too_large)
    api.add_exception_handler(Exception, on_bug)
