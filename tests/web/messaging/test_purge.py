"""Old outbox rows: sent, cancelled and skipped messages older than the clinic's retention are
purged by the worker in small batches; waiting and failed ones stay; audit rows stay."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from needlecare import clock as needlecare_clock
from needlecare.audit.models import AuditEvent
from needlecare.messaging import upkeep
from needlecare.messaging.models import (
    Message,
    MessageChannel,
    MessageKind,
    MessageStatus,
    MessagingSettings,
    Recipient,
)
from needlecare.messaging.worker import run_worker
from tests.factories import make_clinic
from tests.web.messaging.support import World, make_world

pytestmark = pytest.mark.django_db

_keys = itertools.count()


def _message(world: World, status: str, days_ago: int, **fields: Any) -> Message:
    due = needlecare_clock.now() - dt.timedelta(days=days_ago)
    return Message.objects.create(
        clinic=world.clinic, recipient=Recipient.PATIENT, patient=world.patient,
        kind=MessageKind.CHECKIN_INVITATION, channel=MessageChannel.EMAIL, due_at=due,
        next_attempt_at=due, status=status, dedupe_key=f"purge-test-{next(_keys)}",
        sent_at=due if status == MessageStatus.SENT else None, **fields)


def _left(world: World) -> set[tuple[str, int]]:
    now = needlecare_clock.now()
    return {(m.status, (now - m.due_at).days)
            for m in Message.objects.filter(clinic=world.clinic,
                                            dedupe_key__startswith="purge-test-")}


def test_finished_messages_older_than_the_retention_go_and_the_rest_stay(
        world: World, settings: Any) -> None:
    settings.MESSAGING_OUTBOX_RETENTION_DAYS = 30
    for status in MessageStatus.values:
        _message(world, status, 31)
        _message(world, status, 29)
    audit_rows = AuditEvent.objects.exclude(action="outbox.purge").count()

    assert upkeep.purge_old_messages() == 3

    assert _left(world) == {
        *((status, 29) for status in MessageStatus.values),
        *((status, 31) for status in (MessageStatus.PENDING, MessageStatus.SENDING,
                                      MessageStatus.FAILED, MessageStatus.DEAD))}
    assert AuditEvent.objects.exclude(action="outbox.purge").count() == audit_rows
    purges = AuditEvent.objects.filter(action="outbox.purge")
    assert {e.detail["status"] for e in purges} == {"sent", "cancelled", "skipped"}
    assert all(e.detail["clinic"] == world.clinic.pk for e in purges)
    # The clinic's own trail (the owners' audit page filters on the column) shows them.
    assert all(e.clinic_id == world.clinic.pk for e in purges)


def test_a_message_sent_late_is_kept_for_the_retention_after_it_went_out(
        world: World, settings: Any) -> None:
    settings.MESSAGING_OUTBOX_RETENTION_DAYS = 30
    late = _message(world, MessageStatus.SENT, 40)
    Message.objects.filter(pk=late.pk).update(
        sent_at=needlecare_clock.now() - dt.timedelta(days=2))
    assert upkeep.purge_old_messages() == 0
    assert Message.objects.filter(pk=late.pk).exists()


def test_each_clinic_keeps_messages_for_its_own_retention(world: World, settings: Any) -> None:
    settings.MESSAGING_OUTBOX_RETENTION_DAYS = 365
    other = make_world(clinic=make_clinic(time_zone="Europe/London"))
    MessagingSettings.objects.create(clinic=other.clinic, outbox_retention_days=10)
    _message(world, MessageStatus.SENT, 20)
    _message(other, MessageStatus.SENT, 20)
    assert upkeep.purge_old_messages() == 1
    assert _left(world) == {(MessageStatus.SENT, 20)}
    assert _left(other) == set()


def test_the_purge_goes_in_small_batches_and_a_pass_stops_after_a_few(
        world: World, settings: Any) -> None:
    settings.MESSAGING_OUTBOX_RETENTION_DAYS = 30
    for _ in range(7):
        _message(world, MessageStatus.SENT, 100)
    assert upkeep.purge_old_messages(batch=2, max_batches=2) == 4
    assert len(Message.objects.filter(dedupe_key__startswith="purge-test-")) == 3
    assert AuditEvent.objects.filter(action="outbox.purge").count() == 2
    assert upkeep.purge_old_messages(batch=2, max_batches=None) == 3
    assert not Message.objects.filter(dedupe_key__startswith="purge-test-").exists()


def test_the_running_worker_purges_between_passes(world: World, settings: Any) -> None:
    import threading

    settings.MESSAGING_OUTBOX_RETENTION_DAYS = 30
    settings.MESSAGING_UPKEEP_SECONDS = 0
    old = _message(world, MessageStatus.CANCELLED, 60)
    stop = threading.Event()
    # One pass, then stop: an upkeep period of 0 runs the upkeep before the first pass.
    run_worker(worker="purge-test", interval=0, stop=stop, on_pass=lambda n: stop.set())
    assert not Message.objects.filter(pk=old.pk).exists()


def test_a_worker_started_for_a_moment_does_no_upkeep(world: World, settings: Any) -> None:
    import threading

    settings.MESSAGING_OUTBOX_RETENTION_DAYS = 30
    settings.MESSAGING_UPKEEP_SECONDS = 3600
    old = _message(world, MessageStatus.CANCELLED, 60)
    stop = threading.Event()
    run_worker(worker="purge-test", interval=0, stop=stop, on_pass=lambda n: stop.set())
    assert Message.objects.filter(pk=old.pk).exists()


def test_sqlite_gets_planner_statistics(world: World) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's autovacuum keeps its statistics")
    upkeep.refresh_statistics()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'patients_patient'")
        assert cursor.fetchone()[0] > 0
