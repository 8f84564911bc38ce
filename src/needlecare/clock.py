"""The one clock the services read.

Everything that stamps or compares a time (services, deadlines, audit rows, the outbox) asks
``now()`` here instead of Django's ``timezone.now()`` directly, so that one place can move it:
the demo loader builds weeks of history by running the real services ``at(moment)``, and every
row they write (audit rows included) carries that moment. Outside ``at`` it is Django's clock,
which the tests stop and move with time-machine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.utils import timezone

_fixed: ContextVar[dt.datetime | None] = ContextVar("needlecare_clock", default=None)


def now() -> dt.datetime:
    """The current moment, aware, in UTC (or the moment ``at`` holds)."""
    fixed = _fixed.get()
    return fixed if fixed is not None else timezone.now()


def localdate() -> dt.date:
    """Today in the current time zone (the request's, else settings.TIME_ZONE)."""
    return timezone.localdate(now())


@contextmanager
def at(moment: dt.datetime) -> Iterator[dt.datetime]:
    """Hold the clock at ``moment`` (aware) for the code inside the block."""
    if timezone.is_naive(moment):
        raise ValueError("the clock holds aware datetimes only")
    token = _fixed.set(moment)
    try:
        yield moment
    finally:
        _fixed.reset(token)
