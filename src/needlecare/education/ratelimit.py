"""Limits on the public subscription (page and API), counted in the database.

The limits are ``RateLimit`` rows (operators change them; a migration creates the defaults),
so every server process and worker counts against the same numbers. The counting itself is
the product's shared counter (``needlecare.ratelimits.counting``): a compare-and-set per hit,
so concurrent requests can never together pass the limit, and keys stored as a keyed hash.
"""

from __future__ import annotations

import datetime as dt

from needlecare.education.models import RateLimit
from needlecare.ratelimits import counting
from needlecare.ratelimits.counting import RateLimited

__all__ = ["DEFAULTS", "RateLimited", "hit"]

#: name -> (max requests, window in seconds, what it is for); the migration creates these.
DEFAULTS = {
    "subscribe-per-ip": (10, 3600, "newsletter sign-ups from one IP address per hour"),
    "subscribe-per-address": (3, 86400, "newsletter sign-ups for one email address per day"),
    "subscribe-per-clinic": (300, 3600, "newsletter sign-ups for one clinic per hour"),
}


def hit(name: str, key: str, now: dt.datetime | None = None) -> None:
    """Count one request against limit ``name`` for ``key``, or raise ``RateLimited``."""
    limit = RateLimit.objects.filter(name=name).first()
    if limit is None:
        maximum, seconds, description = DEFAULTS[name]
        limit, _created = RateLimit.objects.get_or_create(
            name=name, defaults={"max_requests": maximum, "window_seconds": seconds,
                                 "description": description})
    counting.hit(name, key, limit=limit.max_requests,
                 window=dt.timedelta(seconds=max(1, limit.window_seconds)), now=now)
