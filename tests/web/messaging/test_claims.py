"""Claims: each due row goes to one worker; a worker that dies mid-send holds its rows until
the claim times out, then another worker sends them once more, with the same dedupe key."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command

from needlecare.messaging import heartbeat, outbox
from needlecare.messaging.models import (
    Message,
    MessageKind,
    MessageStatus,
    WorkerHeartbeat,
)
from needlecare.messaging.worker import process, run_once
from tests.web.messaging.support import START, World, sign, work

pytestmark = pytest.mark.django_db


def test_a_claim_takes_only_due_rows_and_never_the_same_row_twice(world: World,
                                                                  clock: Any) -> None:
    sign(world)
    first = outbox.claim("worker-a", batch=10)
    assert [Message.objects.get(pk=c.message_id).kind for c in first] == [
        MessageKind.AFTERCARE_PLAN]
    assert outbox.claim("worker-b", batch=10) == []
    message = Message.objects.get(pk=first[0].message_id)
    assert (message.status, message.claimed_by, message.attempts) == (
        MessageStatus.SENDING, "worker-a", 1)
    assert message.next_attempt_at == START + dt.timedelta(seconds=300)


def test_a_worker_killed_mid_send_causes_one_resend_after_the_timeout(
        world: World, clock: Any, settings: Any) -> None:
    settings.MESSAGING_CLAIM_TIMEOUT = 120
    sign(world)
    [held] = outbox.claim("doomed-worker")
    # The doomed worker hands the message to the channel, then dies before recording it.
    message = Message.objects.get(pk=held.message_id)
    from needlecare.messaging.channels import deliver
    from needlecare.messaging.compose import prepare

    sent, _stored = prepare(message)
    deliver(sent)
    assert len(mail.outbox) == 1

    clock.move_to(START + dt.timedelta(seconds=119))
    assert work() == 0  # still claimed
    clock.move_to(START + dt.timedelta(seconds=120))
    assert work() == 1
    assert len(mail.outbox) == 2  # one resend, never more
    first, second = (m.extra_headers["Message-ID"] for m in mail.outbox)
    assert first == second == f"<{message.dedupe_key}@clinic.example.test>"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
    assert message.claimed_by == "test-worker"

    # The dead worker's claim is gone: had it lived, it could record nothing.
    assert outbox.mark_sent(held, channel="email", to="x", subject="", body="",
                            link_id=None) is False
    clock.move_to(START + dt.timedelta(days=1))
    work()
    assert len(mail.outbox) == 2


def test_a_dead_worker_s_claims_are_released_when_its_heartbeat_stops(
        world: World, clock: Any, settings: Any) -> None:
    settings.MESSAGING_HEARTBEAT_STALE_SECONDS = 10
    sign(world)
    heartbeat.beat("crashed-worker")
    [held] = outbox.claim("crashed-worker")
    heartbeat.beat("live-worker")

    clock.move_to(START + dt.timedelta(seconds=8))
    heartbeat.beat("live-worker")
    assert outbox.claim("live-worker") == []  # 8 s of silence: still alive
    clock.move_to(START + dt.timedelta(seconds=11))
    heartbeat.beat("live-worker")
    # Seconds after the beats stopped, long before the 300-second claim timeout.
    [taken] = outbox.claim("live-worker")
    assert taken.message_id == held.message_id
    message = Message.objects.get(pk=held.message_id)
    assert (message.status, message.claimed_by, message.attempts) == (
        MessageStatus.SENDING, "live-worker", 2)
    assert outbox.mark_sent(held, channel="email", to="x", subject="", body="",
                            link_id=None) is False


def test_a_live_worker_keeps_its_claims_while_it_beats(world: World, clock: Any) -> None:
    sign(world)
    heartbeat.beat("slow-worker")
    [held] = outbox.claim("slow-worker")
    for seconds in range(5, 300, 5):  # a send that takes minutes, the heartbeat going on
        clock.move_to(START + dt.timedelta(seconds=seconds))
        heartbeat.beat("slow-worker")
        assert outbox.claim("other-worker") == []
    assert outbox.mark_sent(held, channel="email", to="x", subject="", body="",
                            link_id=None) is True


def test_a_worker_that_stops_cleanly_leaves_no_heartbeat(world: World) -> None:
    call_command("worker", "--once", "--name", "tidy-worker", verbosity=0)
    assert not WorkerHeartbeat.objects.filter(name="tidy-worker").exists()


def test_a_row_claimed_again_after_its_last_attempt_is_given_up(world: World, clock: Any,
                                                                settings: Any) -> None:
    settings.MESSAGING_MAX_ATTEMPTS = 1
    sign(world)
    outbox.claim("doomed-worker")
    clock.move_to(START + dt.timedelta(seconds=300))
    run_once("rescuer")
    message = Message.objects.get(kind=MessageKind.AFTERCARE_PLAN)
    assert message.status == MessageStatus.DEAD
    assert mail.outbox == []


def test_a_cancelled_message_is_not_sent_by_a_worker_that_claimed_it_earlier(
        world: World) -> None:
    sign(world)
    [held] = outbox.claim("slow-worker")
    Message.objects.filter(pk=held.message_id).update(status=MessageStatus.CANCELLED)
    assert process(held) == ""
    assert mail.outbox == []


def test_claims_are_proportional_to_what_is_due(world: World, clock: Any,
                                                django_assert_max_num_queries: Any) -> None:
    sign(world)
    with django_assert_max_num_queries(4):  # savepoint, select, update (and release)
        claimed = outbox.claim("worker", batch=50)
    assert len(claimed) == 1


def test_the_management_command_sends_what_is_due(world: World) -> None:
    sign(world)
    call_command("worker", "--once", "--name", "command-worker", verbosity=0)
    assert len(mail.outbox) == 1
    assert Message.objects.get(kind=MessageKind.AFTERCARE_PLAN).claimed_by == "command-worker"


def test_the_back_off_doubles_up_to_its_cap(settings: Any) -> None:
    settings.MESSAGING_RETRY_SECONDS = 60
    settings.MESSAGING_RETRY_MAX_SECONDS = 3600
    assert [outbox.backoff(n).total_seconds() for n in range(1, 9)] == [
        60, 120, 240, 480, 960, 1920, 3600, 3600]
