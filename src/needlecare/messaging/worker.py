"""The outbox worker: claim due rows, decide, send, record; again and again. Each pass also
analyses the photos waiting to be checked (``needlecare.photos.jobs``: the photos table is its
own queue, claimed the same compare-and-set way).

Run it as ``needlecare worker`` (beside ``needlecare serve``); as many as you like against
PostgreSQL, one is plenty for SQLite. ``--once`` works through everything due and exits.

Between passes it also seals the audit trail's new rows into their hash chains
(``audit.chain``), at most every AUDIT_SEAL_SECONDS, so that requests never do it themselves,
and, at most every MESSAGING_UPKEEP_SECONDS, purges old outbox rows and the rate-limit counters
of ended windows, and refreshes SQLite's planner statistics (``messaging.upkeep``,
``ratelimits.counting``; not with ``--once``).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import translation

from needlecare import clock
from needlecare.audit import chain
from needlecare.messaging import outbox, upkeep
from needlecare.messaging.channels import deliver
from needlecare.messaging.compose import Defer, Skip, prepare
from needlecare.messaging.models import Message, MessageStatus
from needlecare.photos import jobs as photo_jobs
from needlecare.ratelimits import counting

logger = logging.getLogger(__name__)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def process(held: outbox.Claim) -> Any:
    """Send one claimed message and record the outcome; returns the status recorded."""
    message = (Message.objects.select_related("clinic", "patient", "staff", "link",
                                              "escalation", "session")
               .filter(pk=held.message_id, status=MessageStatus.SENDING,
                       claimed_by=held.worker, claimed_at=held.at).first())
    if message is None:
        return ""
    if message.attempts > outbox.max_attempts():
        # Claimed again after a worker died on the last attempt: give up, do not resend.
        return outbox.mark_failed(held, message.last_error or "The worker stopped while "
                                  "sending the last attempt.")
    try:
        with translation.override(settings.LANGUAGE_CODE):
            sent, stored = prepare(message, clock.now())
    except Skip as skip:
        return MessageStatus.SKIPPED if outbox.mark_skipped(held, str(skip)) else ""
    except Defer as defer:
        return MessageStatus.PENDING if outbox.defer(held, defer.until) else ""
    except Exception as exc:  # a bug or a missing record: visible to staff, retried
        logger.exception("message %s could not be composed", message.pk)
        return outbox.mark_failed(held, _describe(exc))
    try:
        deliver(sent)
    except Exception as exc:
        logger.warning("message %s: %s failed: %s", message.pk, sent.channel, exc)
        return outbox.mark_failed(held, _describe(exc), channel=sent.channel, to=sent.to)
    done = outbox.mark_sent(held, channel=sent.channel, to=sent.to, subject=stored.subject,
                            body=stored.body, link_id=message.link_id)
    return MessageStatus.SENT if done else ""


def _tidy_connections() -> None:
    # Between passes, as Django does between requests (a server restart or a dropped
    # connection heals); never inside a caller's transaction (tests run the worker in one).
    if not any(c.in_atomic_block for c in connections.all(initialized_only=True)):
        close_old_connections()


def seal_audit_trail() -> int:
    """Seal the audit rows waiting now; a failure is logged, never fatal to the sending."""
    try:
        return sum(s.rows for s in chain.seal_pending())
    except Exception:
        logger.exception("sealing the audit trail failed; trying again on the next pass")
        return 0


def do_upkeep() -> int:
    """Purge old outbox rows and ended rate-limit windows, and refresh SQLite's statistics; a
    failure is logged, never fatal to the sending. Returns the number of outbox rows purged."""
    try:
        purged = upkeep.purge_old_messages()
        counting.forget_expired()
        upkeep.refresh_statistics()
    except Exception:
        logger.exception("outbox upkeep failed; trying again later")
        return 0
    return purged


def run_once(worker: str, *, batch: int = outbox.DEFAULT_BATCH) -> int:
    """One claim pass: the due messages and their sends, then the photos waiting to be
    checked (photos.jobs); returns the number of rows claimed."""
    claimed = outbox.claim(worker, batch=batch)
    for held in claimed:
        process(held)
    return len(claimed) + photo_jobs.run_due(worker)


def run_worker(*, once: bool = False, batch: int = outbox.DEFAULT_BATCH,
               interval: float | None = None, worker: str | None = None,
               stop: threading.Event | None = None,
               on_pass: Callable[[int], None] | None = None) -> int:
    """Claim and send until stopped (or, with ``once``, until nothing is due).

    Returns the number of rows handled. ``stop`` ends the loop after the current message."""
    worker = worker or default_worker_id()
    interval = interval if interval is not None else getattr(
        settings, "MESSAGING_POLL_SECONDS", 5.0)
    stop = stop or threading.Event()
    seal_every = float(getattr(settings, "AUDIT_SEAL_SECONDS", 5.0))
    upkeep_every = float(getattr(settings, "MESSAGING_UPKEEP_SECONDS", 60.0))
    sealed_at = float("-inf")
    # The first upkeep comes one period after the start, not at it: a worker started for a
    # moment (a test, a one-off) does not take SQLite's write lock for ANALYZE.
    upkept_at = time.monotonic()
    handled = 0
    while not stop.is_set():
        _tidy_connections()
        if time.monotonic() - sealed_at >= seal_every:
            seal_audit_trail()
            sealed_at = time.monotonic()
        if not once and time.monotonic() - upkept_at >= upkeep_every:
            do_upkeep()
            upkept_at = time.monotonic()
        try:
            count = run_once(worker, batch=batch)
        except Exception:  # the database went away: wait, reconnect, carry on
            if once:
                raise
            logger.exception("outbox pass failed; retrying in %s s", interval)
            count = 0
        handled += count
        if on_pass is not None:
            on_pass(count)
        if count == 0:
            if once:
                break
            stop.wait(min(interval, seal_every))
    if once:
        seal_audit_trail()
    _tidy_connections()
    return handled
