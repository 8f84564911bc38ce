"""The worker's housekeeping between passes: old outbox rows purged, SQLite's statistics kept.

Purging (issue 15): a message that was sent, cancelled or not sent (skipped) is of no more use
to the outbox once the clinic's retention has passed (``MessagingSettings.outbox_retention_days``,
or ``MESSAGING_OUTBOX_RETENTION_DAYS`` for a clinic without settings), counted from when it
was due (and, for a sent one, from when it went out). Its audit rows stay (``message.sent``
and the others name the message, its kind and channel; they are sealed into the hash chain and
never deleted), and each batch purged leaves one ``outbox.purge`` row naming the messages.
Waiting, failed and given-up messages are never purged: they need someone's attention.

Rows go in small batches, one short transaction each, read through the
(clinic, status, due_at) index, so a purge never holds the database for long and a clinic's
first purge of years of messages spreads over several passes (``PURGE_BATCHES_PER_PASS``).

Statistics: SQLite's planner picks indexes better with ``ANALYZE`` statistics
(``sqlite_stat1``); without them it chose a poor index for the date-of-birth search. The
worker runs ``ANALYZE`` once when there are none, then ``PRAGMA optimize`` (which re-analyses
the tables that changed enough), both bounded by ``analysis_limit`` so they stay quick on large
tables.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from needlecare import clock
from needlecare.access import Actor, audit
from needlecare.accounts.models import Clinic
from needlecare.messaging.models import Message, MessageStatus, MessagingSettings

logger = logging.getLogger(__name__)

#: What may be purged once old: the outbox has finished with these.
PURGEABLE = (MessageStatus.SENT, MessageStatus.CANCELLED, MessageStatus.SKIPPED)
PURGE_BATCH = 500
PURGE_BATCHES_PER_PASS = 20
#: Rows ANALYZE samples per index (SQLite's analysis_limit): statistics good enough for the
#: planner, at a bounded cost however large the table.
ANALYSIS_LIMIT = 1000


def default_retention_days() -> int:
    return int(getattr(settings, "MESSAGING_OUTBOX_RETENTION_DAYS", 365))


def _cutoffs(now: dt.datetime) -> dict[int, dt.datetime]:
    days = dict(MessagingSettings.objects.values_list("clinic_id", "outbox_retention_days"))
    default = default_retention_days()
    return {clinic_id: now - dt.timedelta(days=days.get(clinic_id, default))
            for clinic_id in Clinic.objects.values_list("pk", flat=True)}


def _purge_batch(clinic_id: int, status: Any, cutoff: dt.datetime, size: int) -> int:
    with transaction.atomic():
        old = Message.objects.filter(clinic_id=clinic_id, status=status, due_at__lt=cutoff)
        if status == MessageStatus.SENT:
            old = old.exclude(sent_at__gte=cutoff)
        ids = list(old.order_by("due_at", "id").values_list("pk", flat=True)[:size])
        if not ids:
            return 0
        Message.objects.filter(pk__in=ids, status=status).delete()
        audit(Actor(), "outbox.purge", detail={
            "clinic": clinic_id, "status": status, "due_before": cutoff.isoformat(),
            "messages": ids}, clinic_id=clinic_id)
    return len(ids)


def purge_old_messages(*, now: dt.datetime | None = None, batch: int = PURGE_BATCH,
                       max_batches: int | None = PURGE_BATCHES_PER_PASS) -> int:
    """Delete old finished messages, at most ``max_batches`` batches of ``batch`` (None: all
    of them); returns the number deleted."""
    now = now or clock.now()
    purged = batches = 0
    for clinic_id, cutoff in _cutoffs(now).items():
        for status in PURGEABLE:
            while max_batches is None or batches < max_batches:
                deleted = _purge_batch(clinic_id, status, cutoff, batch)
                if not deleted:
                    break
                purged += deleted
                batches += 1
                if deleted < batch:
                    break
    if purged:
        logger.info("purged %s old outbox messages", purged)
    return purged


def refresh_statistics() -> None:
    """Give SQLite's planner statistics (nothing to do on PostgreSQL: autovacuum analyses)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            cursor.execute("ANALYZE")
        else:
            # 0x10002: consider every table, not only those this connection has used.
            cursor.execute("PRAGMA optimize = 0x10002")
