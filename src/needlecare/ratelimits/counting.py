"""Hits per key per fixed window, counted in the database so that every process counts the same.

A window is a fixed slice of time aligned on the Unix epoch (an hour window runs 10:00–11:00).
One row per scope, key and window holds its hits. A hit is one compare-and-set UPDATE
(``hits = hits + 1 WHERE hits < limit``), so concurrent requests can never together pass the
limit, and a refused hit is not counted; the window's first hit creates the row, and when two
first hits race, the unique constraint refuses the second insert (inside a savepoint, so the
caller's transaction goes on) and that hit counts against the row the other made.

A hit runs inside the caller's transaction when there is one: when the caller's work is then
refused or fails, its hits are rolled back with it.

Keys are stored as a keyed hash (HMAC-SHA-256 with the installation's secret), never as the
address or email counted: a plain hash of an IPv4 address is undone by hashing all 2³² of
them. Changing the secret only starts the counters again.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.errors import ErrorKind, ServiceError
from needlecare.ratelimits.models import RateCounter

#: Expired counters the worker deletes per transaction, and transactions per pass.
PURGE_BATCH = 1000
PURGE_BATCHES_PER_PASS = 20


class RateLimited(ServiceError):
    """Too many hits in the window; ``retry_after`` is the seconds until it ends. Pages and
    the API answer 429 with ``Retry-After``."""

    kind = ErrorKind.CONFLICT

    def __init__(self, code: str, message: str, retry_after: int) -> None:
        super().__init__(code, message)
        self.retry_after = retry_after


def window_of(now: dt.datetime, window: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
    """The start and end of the fixed window that holds ``now``."""
    seconds = max(1, int(window.total_seconds()))
    start = int(now.timestamp()) // seconds * seconds
    begins = dt.datetime.fromtimestamp(start, tz=dt.UTC)
    return begins, begins + dt.timedelta(seconds=seconds)


def digest(key: str) -> str:
    """What is stored for ``key``: 64 hexadecimal characters."""
    return salted_hmac("needlecare.ratelimits", key, algorithm="sha256").hexdigest()


def hit(scope: str, key: str, *, limit: int, window: dt.timedelta,
        now: dt.datetime | None = None, code: str = "rate_limited",
        message: str | None = None) -> None:
    """Count one hit on ``key`` in ``scope``, at most ``limit`` per ``window``; past it, raise
    ``RateLimited(code, message, retry_after)`` without counting."""
    now = now or clock.now()
    start, end = window_of(now, window)
    hashed = digest(key)
    counters = RateCounter.objects.filter(scope=scope, key=hashed, window_start=start)
    with transaction.atomic():
        # window_end is written again: an operator who lengthens a window keeps its counter
        # until the new end.
        if counters.filter(hits__lt=limit).update(hits=F("hits") + 1, window_end=end):
            return
        if limit > 0 and not counters.exists():
            try:
                with transaction.atomic():
                    RateCounter.objects.create(scope=scope, key=hashed, window_start=start,
                                               window_end=end, hits=1)
                return
            except IntegrityError:  # another first hit made the row: count against it
                if counters.filter(hits__lt=limit).update(hits=F("hits") + 1,
                                                          window_end=end):
                    return
    raise RateLimited(code, message or _("Too many requests. Please try again later."),
                      retry_after=max(1, int((end - now).total_seconds())))


def forget_expired(*, now: dt.datetime | None = None, batch: int = PURGE_BATCH,
                   max_batches: int | None = PURGE_BATCHES_PER_PASS) -> int:
    """Delete counters whose window has ended, at most ``max_batches`` transactions of
    ``batch`` rows (None: all); returns the number deleted. The worker calls it."""
    now = now or clock.now()
    deleted = batches = 0
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            ids = list(RateCounter.objects.filter(window_end__lte=now)
                       .values_list("pk", flat=True)[:batch])
            if ids:
                RateCounter.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        batches += 1
        if len(ids) < batch:
            break
    return deleted
