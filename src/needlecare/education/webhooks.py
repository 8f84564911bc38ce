"""Bounces and complaints from the email provider, in a JSON shape of our own.

A provider's own webhook format is turned into this shape by a small adapter (a few lines in
the provider's serverless function or in a proxy), so Needlecare checks one shape and one
signature. docs/newsletter.md documents it::

    POST /newsletter/email-events/
    Content-Type: application/json
    X-Needlecare-Timestamp: 1767225600            (Unix seconds, within 5 minutes)
    X-Needlecare-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">

    {"events": [
      {"type": "bounce", "email": "someone@example.org", "permanent": true,
       "occurred_at": "2026-03-02T10:00:00Z", "detail": "550 5.1.1 user unknown"},
      {"type": "complaint", "email": "other@example.org"}
    ]}

The key is ``NEEDLECARE_EMAIL_WEBHOOK_SECRET``; without it the endpoint answers 503. A
permanent bounce or a complaint suppresses the address for newsletters and reading emails
(clinical messages still go: an aftercare plan must not depend on a marketing list); a
complaint also withdraws the address's newsletter consent. A temporary bounce changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Annotated, Literal

from django.conf import settings
from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field

from needlecare import clock
from needlecare.access import Actor, audit
from needlecare.education.consent import normalise_email, withdraw_address
from needlecare.education.models import SuppressedAddress

TOLERANCE = dt.timedelta(minutes=5)
TIMESTAMP_HEADER = "X-Needlecare-Timestamp"
SIGNATURE_HEADER = "X-Needlecare-Signature"


class ProviderEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["bounce", "complaint"]
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
    permanent: bool = True
    occurred_at: dt.datetime | None = None
    detail: Annotated[str, Field(max_length=300)] = ""


class ProviderEvents(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[ProviderEvent], Field(max_length=1000)]


class BadSignature(Exception):
    pass


def secret() -> str:
    return str(getattr(settings, "EDUCATION_EMAIL_WEBHOOK_SECRET", "") or "")


def sign(body: bytes, timestamp: int, key: str) -> str:
    """The signature header's value for ``body`` (what an adapter computes)."""
    mac = hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify(body: bytes, timestamp: str, signature: str, key: str,
           now: dt.datetime | None = None) -> None:
    try:
        moment = int(timestamp)
    except ValueError:
        raise BadSignature("timestamp missing or not a number") from None
    now = now or clock.now()
    if abs(now.timestamp() - moment) > TOLERANCE.total_seconds():
        raise BadSignature("timestamp too far from now (replayed or clock wrong)")
    expected = sign(body, moment, key)
    if not any(hmac.compare_digest(expected, part.strip())
               for part in signature.split(",")):
        raise BadSignature("signature does not match")


def apply(events: ProviderEvents, ip: str | None) -> int:
    """Suppress what the events call for; returns the number of addresses suppressed now."""
    suppressed = 0
    with transaction.atomic():
        for event in events.events:
            if event.type == "bounce" and not event.permanent:
                continue
            address = normalise_email(event.email)
            _row, created = SuppressedAddress.objects.get_or_create(
                email=address, defaults={"reason": event.type, "detail": event.detail[:300]})
            suppressed += created
            withdrawn = withdraw_address(address, "complaint") if event.type == "complaint" \
                else 0
            audit(Actor(ip_address=ip), f"email.{event.type}", obj=_row,
                  detail={"new": created, "withdrawn": withdrawn})
    return suppressed
