"""The worker's heartbeat: a row each running worker refreshes every
``MESSAGING_HEARTBEAT_SECONDS`` from a thread of its own, so a long send (an SMTP server
taking its time) never makes a live worker look dead. When the process dies (killed, out of
memory, the machine gone) the beats stop, and after ``MESSAGING_HEARTBEAT_STALE_SECONDS`` the
outbox hands the rows it had claimed to another worker (``outbox.claim``)."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet

from needlecare import clock
from needlecare.messaging.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

#: Heartbeat rows of workers silent this long are removed when a worker starts.
FORGET_AFTER = dt.timedelta(days=1)


def interval() -> float:
    return float(getattr(settings, "MESSAGING_HEARTBEAT_SECONDS", 2.0))


def stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=float(getattr(settings, "MESSAGING_HEARTBEAT_STALE_SECONDS",
                                              10.0)))


def beat(name: str, now: dt.datetime | None = None) -> None:
    """Record that ``name`` is alive now."""
    now = now or clock.now()
    with transaction.atomic():
        if WorkerHeartbeat.objects.filter(name=name).update(beat_at=now):
            return
        try:
            with transaction.atomic():
                WorkerHeartbeat.objects.create(name=name, started_at=now, beat_at=now)
        except IntegrityError:  # written by this worker's other thread just now
            WorkerHeartbeat.objects.filter(name=name).update(beat_at=now)


def stopped(name: str) -> None:
    """A worker that stops cleanly holds no claims: forget it."""
    WorkerHeartbeat.objects.filter(name=name).delete()


def dead_workers(now: dt.datetime | None = None) -> QuerySet[WorkerHeartbeat, str]:
    """The names of workers whose heartbeat has stopped (a subquery, not yet run)."""
    cutoff = (now or clock.now()) - stale_after()
    return WorkerHeartbeat.objects.filter(beat_at__lt=cutoff).values_list("name", flat=True)


def newest_beat() -> dt.datetime | None:
    newest: dt.datetime | None = (WorkerHeartbeat.objects.order_by("-beat_at")
                                  .values_list("beat_at", flat=True).first())
    return newest


def forget_silent(now: dt.datetime | None = None) -> None:
    WorkerHeartbeat.objects.filter(beat_at__lt=(now or clock.now()) - FORGET_AFTER).delete()


class Heartbeat(threading.Thread):
    """Beats for ``name`` until ``stop`` is set; a failed beat is logged and tried again."""

    def __init__(self, name: str, stop: threading.Event) -> None:
        super().__init__(name=f"heartbeat {name}", daemon=True)
        self.worker = name
        self.stop = stop

    def run(self) -> None:
        try:
            while not self.stop.wait(interval()):
                try:
                    beat(self.worker)
                except Exception:  # the database went away: the next beat tries again
                    logger.exception("worker %s: heartbeat failed", self.worker)
                    connection.close()
        finally:
            connection.close()  # this thread's own connection
