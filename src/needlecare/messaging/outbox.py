"""The outbox's state changes, each one a compare-and-set update with a row-count check.

A worker claims due rows (``pending``, ``failed`` whose back-off has passed, or ``sending``
whose claim has timed out) by moving them to ``sending`` under its own name with an update
that re-checks the claimable condition, so two workers never both win a row: on PostgreSQL the
second update waits for the first and then re-reads the row (READ COMMITTED re-evaluates the
WHERE clause), on SQLite writers take turns. A claimed row's ``next_attempt_at`` is the end of
the claim: if the worker is killed mid-send, the row becomes claimable again after
``MESSAGING_CLAIM_TIMEOUT`` seconds, so a crash causes at most one resend, with the same dedupe
key. A running worker also keeps a heartbeat (``messaging.heartbeat``); once it has stopped
for ``MESSAGING_HEARTBEAT_STALE_SECONDS`` (seconds, not minutes), the rows it claimed are
claimable at once. The worker records the outcome only while it still holds the claim.

The claim reads the (status, next_attempt_at) index, so a pass costs time in proportion to the
rows that are due, not to all the rows scheduled for later.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.access import Actor, audit
from needlecare.messaging import heartbeat
from needlecare.messaging.models import CLAIMABLE, Message, MessageStatus

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 50


def claim_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "MESSAGING_CLAIM_TIMEOUT", 300))


def max_attempts() -> int:
    return int(getattr(settings, "MESSAGING_MAX_ATTEMPTS", 10))


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: doubling from
    ``MESSAGING_RETRY_SECONDS``, at most ``MESSAGING_RETRY_MAX_SECONDS``."""
    base = getattr(settings, "MESSAGING_RETRY_SECONDS", 60)
    cap = getattr(settings, "MESSAGING_RETRY_MAX_SECONDS", 6 * 60 * 60)
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def enqueue(messages: Iterable[Message]) -> None:
    """Write new rows (``pending`` until their ``due_at``). A row whose dedupe key is already
    written is the same message scheduled again (a retried service, a link issued twice): the
    first one stays."""
    rows = []
    for message in messages:
        if message.next_attempt_at is None:
            message.next_attempt_at = message.due_at
        rows.append(message)
    Message.objects.bulk_create(rows, ignore_conflicts=True)


@dataclass(frozen=True)
class Claim:
    """A row a worker holds: the pair (``worker``, ``at``) identifies this very claim."""

    message_id: int
    worker: str
    at: dt.datetime


def claim(worker: str, *, batch: int = DEFAULT_BATCH, now: dt.datetime | None = None
          ) -> list[Claim]:
    """Claim up to ``batch`` due rows for ``worker``, oldest due first."""
    now = now or clock.now()
    # Due rows, and rows claimed by a worker whose heartbeat has stopped (it will never
    # finish them), in one query.
    claimable = (Q(status__in=CLAIMABLE, next_attempt_at__lte=now)
                 | Q(status=MessageStatus.SENDING, claimed_by__in=heartbeat.dead_workers(now)))
    with transaction.atomic():
        due = Message.objects.filter(claimable).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: other workers skip the rows this one is claiming instead of queueing
            # behind them. Only an optimisation; the compare-and-set below is the guarantee.
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:batch])
        if not ids:
            return []
        won = Message.objects.filter(claimable, pk__in=ids).update(
            status=MessageStatus.SENDING, claimed_by=worker, claimed_at=now,
            next_attempt_at=now + claim_timeout(), attempts=F("attempts") + 1)
        if won == len(ids):
            mine = ids
        else:  # another worker took some of them between our read and our update
            mine = list(Message.objects.filter(pk__in=ids, status=MessageStatus.SENDING,
                                               claimed_by=worker, claimed_at=now)
                        .values_list("pk", flat=True))
    return [Claim(pk, worker, now) for pk in sorted(mine)]


def _held(held: Claim) -> Any:
    return Message.objects.filter(pk=held.message_id, status=MessageStatus.SENDING,
                                  claimed_by=held.worker, claimed_at=held.at)


def _finish(held: Claim, action: str, detail: dict[str, Any], **fields: Any) -> bool:
    """Record an outcome if ``held`` is still this worker's claim, with its audit row."""
    with transaction.atomic():
        if _held(held).update(**fields) != 1:
            logger.warning("message %s: claim by %s lost before %s", held.message_id,
                           held.worker, action)
            return False
        message = Message.objects.select_related("patient").get(pk=held.message_id)
        audit(Actor(), action, patient=message.patient, obj=message,
              detail={"kind": message.kind, "channel": message.channel,
                      "attempt": message.attempts, "worker": held.worker, **detail})
    return True


def mark_sent(held: Claim, *, channel: str, to: str, subject: str, body: str,
              link_id: int | None) -> bool:
    now = clock.now()
    return _finish(held, "message.sent", {}, status=MessageStatus.SENT, sent_at=now,
                   channel=channel, to_address=to, subject=subject[:300], body=body,
                   link_id=link_id, last_error="")


def mark_skipped(held: Claim, reason: str) -> bool:
    return _finish(held, "message.skipped", {"reason": reason}, status=MessageStatus.SKIPPED,
                   reason=reason[:300], next_attempt_at=held.at)


def mark_failed(held: Claim, error: str, *, channel: str = "", to: str = "",
                retry_at: dt.datetime | None = None) -> Any:
    """Failed: retried after the back-off, or ``dead`` after the last attempt. Returns the
    status recorded ("" when the claim was lost)."""
    attempts = Message.objects.filter(pk=held.message_id).values_list(
        "attempts", flat=True).first() or 0
    fields: dict[str, Any] = {"last_error": error[:2000]}
    if channel:
        fields.update(channel=channel, to_address=to)
    if attempts >= max_attempts():
        status = MessageStatus.DEAD
        fields.update(status=status, next_attempt_at=held.at,
                      reason=(_("Gave up after %(n)d attempts.") % {"n": attempts})[:300])
    else:
        status = MessageStatus.FAILED
        fields.update(status=status,
                      next_attempt_at=retry_at or clock.now() + backoff(attempts))
    action = "message.dead" if status == MessageStatus.DEAD else "message.failed"
    done = _finish(held, action, {"error": error[:500]}, **fields)
    return status if done else ""


def defer(held: Claim, until: dt.datetime) -> bool:
    """Back to pending until ``until`` (quiet hours), without counting an attempt."""
    return _held(held).update(status=MessageStatus.PENDING, next_attempt_at=until,
                              attempts=F("attempts") - 1, claimed_by="",
                              claimed_at=None) == 1
