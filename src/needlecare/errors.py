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

from django.db import OperationalError


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


#: What SQLite and PostgreSQL say when a lock could not be had in time (SQLite's
#: "database is locked" / "database table is locked"; PostgreSQL's lock_not_available,
#: SQLSTATE 55P03, raised on a lock timeout).
_BUSY_MESSAGES = ("database is locked", "database table is locked", "lock timeout",
                  "could not obtain lock")
_BUSY_SQLSTATES = frozenset({"55P03"})


def database_busy(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is the database being busy: another writer held
    the lock longer than the busy timeout. The request may well succeed a moment later, so
    pages and the API answer 503 with Retry-After rather than 500."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OperationalError):
            state = getattr(exc.__cause__, "sqlstate", None) or getattr(
                getattr(exc.__cause__, "diag", None), "sqlstate", None)
            if state in _BUSY_SQLSTATES or any(
                    text in str(exc).lower() for text in _BUSY_MESSAGES):
                return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
