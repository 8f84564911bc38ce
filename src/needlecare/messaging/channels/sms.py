"""Text messages through a small backend interface.

``MESSAGING_SMS_BACKEND`` picks one: ``file`` (JSON files under var/sent-sms, the development
default: sent messages can be read), ``console`` (standard output), ``webhook`` (an HTTP POST
to an SMS provider, configured from settings), ``memory`` (tests), or the dotted path of a
``SmsBackend`` subclass.

The webhook backend sends the body template (``SMS_WEBHOOK_BODY``) with ``$to``, ``$body``,
``$sender`` and ``$reference`` (the dedupe key) substituted, each encoded for the content type
(JSON strings, or form-encoded values), the auth header (``SMS_WEBHOOK_AUTH_HEADER``, e.g.
``Authorization: Bearer …``), and the dedupe key in an idempotency header
(``SMS_WEBHOOK_IDEMPOTENCY_HEADER``, ``Idempotency-Key`` by default), so a provider that honours
it delivers a resend once. Any answer other than 2xx, or no answer within the timeout, is a
failure the worker retries.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from string import Template
from typing import Any, ClassVar, TextIO

from django.conf import settings
from django.utils.module_loading import import_string

from needlecare.messaging.channels import ChannelError, Outgoing


@dataclass(frozen=True)
class Sms:
    to: str
    body: str
    dedupe_key: str


class SmsBackend:
    def send(self, sms: Sms) -> None:
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, sms: Sms) -> None:
        self.stream.write(json.dumps({"sms": asdict(sms)}, ensure_ascii=False) + "\n")
        self.stream.flush()


class FileSmsBackend(SmsBackend):
    """One JSON file per attempt in ``MESSAGING_SMS_FILE_PATH``."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory or settings.MESSAGING_SMS_FILE_PATH)

    def send(self, sms: Sms) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:12]}.json"
        document = {**asdict(sms), "sent_at": time.time()}
        temporary = self.directory / f".{name}.tmp"
        temporary.write_text(json.dumps(document, ensure_ascii=False, indent=1))
        temporary.rename(self.directory / name)  # readers never see half a file


class MemorySmsBackend(SmsBackend):
    """Keeps sent messages in ``MemorySmsBackend.outbox`` (tests)."""

    outbox: ClassVar[list[Sms]] = []
    _lock = threading.Lock()

    def send(self, sms: Sms) -> None:
        with self._lock:
            self.outbox.append(sms)


_ENCODERS: dict[str, Callable[[str], str]] = {
    "application/json": lambda value: json.dumps(value, ensure_ascii=False),
    "application/x-www-form-urlencoded": urllib.parse.quote_plus,
}


def render_body(template: str, sms: Sms, content_type: str, sender: str) -> str:
    encode: Callable[[str], str] = _ENCODERS.get(content_type.split(";")[0].strip().lower(),
                                                 str)
    values = {"to": sms.to, "body": sms.body, "reference": sms.dedupe_key, "sender": sender}
    try:
        return Template(template).substitute({k: encode(v) for k, v in values.items()})
    except (KeyError, ValueError) as exc:
        raise ChannelError(f"SMS_WEBHOOK_BODY is not a valid template: {exc}") from None


class WebhookSmsBackend(SmsBackend):
    def __init__(self, *, url: str | None = None, auth_header: str | None = None,
                 body_template: str | None = None, content_type: str | None = None,
                 idempotency_header: str | None = None, timeout: float | None = None,
                 sender: str | None = None) -> None:
        self.url = url if url is not None else settings.SMS_WEBHOOK_URL
        self.auth_header = (auth_header if auth_header is not None
                            else settings.SMS_WEBHOOK_AUTH_HEADER)
        self.body_template = body_template or settings.SMS_WEBHOOK_BODY
        self.content_type = content_type or settings.SMS_WEBHOOK_CONTENT_TYPE
        self.idempotency_header = (idempotency_header
                                   or settings.SMS_WEBHOOK_IDEMPOTENCY_HEADER)
        self.timeout = timeout or settings.SMS_WEBHOOK_TIMEOUT
        self.sender = sender if sender is not None else settings.SMS_SENDER

    def headers(self, sms: Sms) -> dict[str, str]:
        headers = {"Content-Type": self.content_type, self.idempotency_header: sms.dedupe_key,
                   "User-Agent": "Needlecare outbox"}
        if self.auth_header:
            name, separator, value = self.auth_header.partition(":")
            if not separator or not name.strip():
                raise ChannelError("SMS_WEBHOOK_AUTH_HEADER must look like "
                                   "'Header-Name: value'.")
            headers[name.strip()] = value.strip()
        return headers

    def send(self, sms: Sms) -> None:
        if not self.url:
            raise ChannelError("No SMS provider is configured: set NEEDLECARE_SMS_WEBHOOK_URL "
                               "(or NEEDLECARE_SMS_BACKEND=file to keep messages on disk).")
        data = render_body(self.body_template, sms, self.content_type, self.sender).encode()
        request = urllib.request.Request(self.url, data=data, method="POST",
                                         headers=self.headers(sms))
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode(errors="replace").strip()
            raise ChannelError(f"The SMS provider answered {exc.code} {exc.reason}"
                               + (f": {detail}" if detail else "")) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ChannelError(f"The SMS provider could not be reached: {reason}") from None
        if not 200 <= status < 300:
            raise ChannelError(f"The SMS provider answered {status}.")


_BACKENDS: dict[str, type[SmsBackend]] = {
    "console": ConsoleSmsBackend, "file": FileSmsBackend, "webhook": WebhookSmsBackend,
    "memory": MemorySmsBackend,
}


def get_backend(name: str | None = None) -> SmsBackend:
    name = name or settings.MESSAGING_SMS_BACKEND
    backend: Any = _BACKENDS.get(name) or import_string(name)
    return backend()


def send_sms(outgoing: Outgoing) -> None:
    get_backend().send(Sms(to=outgoing.to, body=outgoing.body,
                           dedupe_key=outgoing.dedupe_key))
