"""Secrets never reach a log: personal-link tokens and API tokens are cut out of every record.

A personal link's token is in its address (``/p/<token>/…``), so Django's request warnings
("Not Found: /p/…"), error tracebacks and gunicorn's access log would otherwise write it out;
with it and the patient's date of birth anyone reading the log could open their record. API
tokens travel in the ``Authorization`` header, which an error report may print.

``RedactSecrets`` is a logging filter attached to the console handler (settings.LOGGING), so
it sees every record the handler writes, whichever logger it came from: the message is
formatted with its arguments and redacted, and so is the traceback. ``GunicornLogger`` does
the same for gunicorn's own access and error logs (``needlecare serve`` passes it).
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

REDACTED = "[redacted]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Any path segment after /p/ (a personal link), wherever the path appears.
    (re.compile(r"/p/[^/\s?#'\"<>]+"), f"/p/{REDACTED}"),
    # Authorization: Bearer …, Basic … (a header, a dict repr, a curl line).
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{6,}"), rf"\1\2{REDACTED}"),
    (re.compile(r"(?i)(['\"]?(?:http_)?authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\n,}]+"),
     rf"\1{REDACTED}"),
    # Staff API tokens by their prefix, wherever they appear.
    (re.compile(r"ncapi_[A-Za-z0-9_-]+"), f"ncapi_{REDACTED}"),
    # token=…, access_token=…, api_key=…, key=…, password=…, secret=… in a query or a body.
    (re.compile(r"(?i)\b((?:access_|api_|auth_|refresh_)?(?:token|key|password|secret))"
                r"(=|%3D)[^&\s'\"#]+"), rf"\1\2{REDACTED}"),
)


_LINK_TOKEN = re.compile(r"/p/([^/\s?#'\"<>]+)")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every known kind of secret replaced, and each of ``secrets`` too."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def request_secrets(request: Any) -> tuple[str, ...]:
    """The secrets a request carries (its link token, its Authorization credentials), so
    that they are cut out wherever they appear, even bare in an exception's message."""
    found: list[str] = []
    path = getattr(request, "path", "")
    if isinstance(path, str):
        found += _LINK_TOKEN.findall(path)
    meta = getattr(request, "META", None)
    if isinstance(meta, dict):
        credentials = str(meta.get("HTTP_AUTHORIZATION", "")).split(None, 1)[-1:]
        found += credentials
    # Short strings would blank out ordinary words; real tokens are long.
    return tuple(s for s in found if len(s) >= 16)


class RedactSecrets(logging.Filter):
    """Rewrites each record in place (it never drops one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django's request log records carry the request: its own secrets go too.
        secrets = request_secrets(getattr(record, "request", None))
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: keep it readable
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message, secrets)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            # A formatter prints exc_text when it is set instead of formatting exc_info again,
            # so the traceback written is this redacted one (exception messages and source
            # lines may hold a path or a header).
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info))
                                     .rstrip("\n"), secrets)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets)
        return True


class GunicornLogger(Logger):
    """gunicorn's logger with the request line, path, query and headers redacted in the
    access log, and every error-log message redacted."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value
                for key, value in atoms.items()}

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        redacting = RedactSecrets()
        for handler in (*self.error_log.handlers, *self.access_log.handlers):
            handler.addFilter(redacting)
