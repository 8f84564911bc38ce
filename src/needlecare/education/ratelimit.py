"""Limits on the public subscription (page and API), counted in the database.

The limits are ``RateLimit`` rows (operators change them in the admin; a migration creates
the defaults), so every server process and worker counts against the same numbers. A counter
is one row per limit, key and fixed window; it is raised with an SQL-side compare-and-set
(``count < max``), so concurrent requests can never together pass the limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.education.models import RateCounter, RateLimit
from needlecare.errors import ErrorKind, ServiceError

#: name -> (max requests, window in seconds, what it is for); the migration creates these.
DEFAULTS = {
    "subscribe-per-ip": (10, 3600, "newsletter sign-ups from one IP address per hour"),
    "subscribe-per-address": (3, 86400, "newsletter sign-ups for one email address per day"),
    "subscribe-per-clinic": (300, 3600, "newsletter sign-ups for one clinic per hour"),
}


class RateLimited(ServiceError):
    """Too many requests; ``retry_after`` is in seconds."""

    kind = ErrorKind.CONFLICT

    def __init__(self, retry_after: int) -> None:
        super().__init__("rate_limited", _("Too many requests. Please try again later."))
        self.retry_after = retry_after


def _window(now: dt.datetime, seconds: int) -> dt.datetime:
    start = int(now.timestamp()) // seconds * seconds
    return dt.datetime.fromtimestamp(start, tz=dt.UTC)


def hit(name: str, key: str, now: dt.datetime | None = None) -> None:
    """Count one request against limit ``name`` for ``key``, or raise ``RateLimited``."""
    limit = RateLimit.objects.filter(name=name).first()
    if limit is None:
        maximum, seconds, description = DEFAULTS[name]
        limit, _created = RateLimit.objects.get_or_create(
            name=name, defaults={"max_requests": maximum, "window_seconds": seconds,
                                 "description": description})
    now = now or clock.now()
    start = _window(now, max(1, limit.window_seconds))
    digest = hashlib.sha256(key.encode()).hexdigest()
    with transaction.atomic():
        counters = RateCounter.objects.filter(limit=limit, key=digest, window_start=start)
        if counters.filter(count__lt=limit.max_requests).update(count=F("count") + 1):
            return
        if not counters.exists():
            if limit.max_requests < 1:
                raise RateLimited(limit.window_seconds)
            try:
                with transaction.atomic():
                    RateCounter.objects.create(limit=limit, key=digest, window_start=start,
                                               count=1)
                return
            except IntegrityError:  # another request made it first: count against it
                if counters.filter(count__lt=limit.max_requests).update(
                        count=F("count") + 1):
                    return
    left = start + dt.timedelta(seconds=limit.window_seconds) - now
    raise RateLimited(max(1, int(left.total_seconds())))


def forget_old(now: dt.datetime | None = None) -> int:
    """Delete counters of windows that ended more than a day ago."""
    now = now or clock.now()
    return RateCounter.objects.filter(window_start__lt=now - dt.timedelta(days=2)).delete()[0]
