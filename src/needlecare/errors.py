"""Refusals a service gives for business reasons (not programming errors), each with its kind.

The kind says what went wrong in terms every interface understands, so none of them keeps its
own list of codes: the API answers a status from the kind (``ERROR_STATUS``), and a web view
shows ``message`` on the form it re-renders, while the access kinds (not found, forbidden)
become Django's 404 and 403 pages. ``code`` names the precise refusal for clients that act on
it. Nothing has been written when one is raised: services raise before they write, or inside
the transaction that is then rolled back.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    #: The request itself is wrong: a missing or bad value. Sending it again will not help.
    INVALID = "invalid"
    #: The record is not in a state that allows this (already closed, signed, changed
    #: meanwhile…): the same request could succeed later, or did already.
    CONFLICT = "conflict"
    #: No such record, or not one the actor may know exists (another clinic's).
    NOT_FOUND = "not_found"
    #: The actor is known but their role does not allow this.
    FORBIDDEN = "forbidden"
    #: It existed and no longer works (a revoked or expired personal link).
    GONE = "gone"


#: The HTTP status the API answers for each kind.
ERROR_STATUS: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 422,
    ErrorKind.CONFLICT: 409,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.GONE: 410,
}

#: Kinds about who may see what, rather than about the request: pages answer them with the
#: 404 and 403 pages, never as a message on a form.
ACCESS_KINDS = frozenset({ErrorKind.NOT_FOUND, ErrorKind.FORBIDDEN})


class ServiceError(Exception):
    """A refusal; ``kind`` defaults to the class's, which defaults to ``invalid``."""

    kind: ErrorKind = ErrorKind.INVALID

    def __init__(self, code: str, message: str, *, field: str | None = None,
                 kind: ErrorKind | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.field = field
        if kind is not None:
            self.kind = kind


class Conflict(ServiceError):
    kind = ErrorKind.CONFLICT


class NotFound(ServiceError):
    kind = ErrorKind.NOT_FOUND

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__("not_found", message)


class Forbidden(ServiceError):
    kind = ErrorKind.FORBIDDEN

    def __init__(self, message: str = "Not allowed.") -> None:
        super().__init__("forbidden", message)


class Gone(ServiceError):
    kind = ErrorKind.GONE
