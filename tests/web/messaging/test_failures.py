"""A failing channel leaves the message ``failed`` with the error shown to staff, retried
later with back-off, ``dead`` after the last attempt, and sendable again by hand (audited).
Nothing is lost."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from needlecare.audit.models import AuditEvent
from needlecare.messaging.models import Message, MessageKind, MessageStatus
from tests.web.messaging.support import START, WebhookSink, World, make_world, sign, work

pytestmark = pytest.mark.django_db

REFUSING = "tests.web.messaging.support.RefusingEmailBackend"


def aftercare() -> Message:
    return Message.objects.get(kind=MessageKind.AFTERCARE_PLAN)


def test_an_smtp_refusal_is_failed_shown_to_staff_and_retried_with_back_off(
        world: World, clock: Any, settings: Any) -> None:
    settings.EMAIL_BACKEND = REFUSING
    sign(world)
    work()
    message = aftercare()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 1
    assert "SMTPDataError" in message.last_error
    assert "relay denied" in message.last_error
    assert message.next_attempt_at == START + dt.timedelta(seconds=60)
    assert AuditEvent.objects.filter(action="message.failed", object_id=str(message.pk))

    page = world.client().get(reverse("outbox")).content.decode()
    failures = page.split('id="failures"')[1].split("</table>")[0]
    assert "relay denied" in failures
    assert f'action="{reverse("message-retry", args=[message.pk])}"' in failures

    # Not before the back-off has passed; then again, waiting twice as long after each try.
    clock.move_to(START + dt.timedelta(seconds=59))
    assert work() == 0
    clock.move_to(START + dt.timedelta(seconds=60))
    work()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 2)
    assert message.next_attempt_at == START + dt.timedelta(seconds=60 + 120)

    # Once the server accepts mail again, the next retry delivers it, once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clock.move_to(START + dt.timedelta(seconds=180))
    work()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(mail.outbox) == 1


def test_after_the_last_attempt_it_is_dead_and_can_be_retried_by_hand(
        world: World, clock: Any, settings: Any) -> None:
    settings.EMAIL_BACKEND = REFUSING
    settings.MESSAGING_MAX_ATTEMPTS = 3
    sign(world)
    for minutes in (0, 1, 3):
        clock.move_to(START + dt.timedelta(minutes=minutes))
        work()
    message = aftercare()
    assert (message.status, message.attempts) == (MessageStatus.DEAD, 3)
    assert message.reason == "Gave up after 3 attempts."
    clock.move_to(START + dt.timedelta(days=1))
    assert work() == 0  # a dead message stays dead

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = world.client(world.front_desk)  # the front desk may send a plan again
    response = client.post(reverse("message-retry", args=[message.pk]),
                           {"next": reverse("patient-detail", args=[world.patient.pk])})
    assert response.status_code == 302
    assert response["Location"] == reverse("patient-detail", args=[world.patient.pk])
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 0)
    retry = AuditEvent.objects.get(action="message.retry")
    assert (retry.actor, retry.patient) == (world.front_desk, world.patient)
    assert retry.detail["before"]["status"] == "dead"
    assert retry.detail["before"]["attempts"] == 3
    work()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(mail.outbox) == 1


def test_a_message_that_is_not_failed_cannot_be_retried(world: World) -> None:
    sign(world)
    message = aftercare()
    response = world.client().post(reverse("message-retry", args=[message.pk]), follow=True)
    assert "Only a failed or unsent message can be sent again" in response.content.decode()
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING


def test_a_pending_message_can_be_cancelled_by_hand(world: World) -> None:
    sign(world)
    message = aftercare()
    world.client().post(reverse("message-cancel", args=[message.pk]))
    message.refresh_from_db()
    assert message.status == MessageStatus.CANCELLED
    assert message.reason.startswith("Cancelled by ")
    assert AuditEvent.objects.filter(action="message.cancel", object_id=str(message.pk))


def test_a_webhook_answering_500_fails_the_text_and_the_retry_carries_the_same_key(
        db: None, clock: Any, settings: Any) -> None:
    world = make_world(channel="sms")
    with WebhookSink(statuses=(500, 200)) as sink:
        settings.MESSAGING_SMS_BACKEND = "webhook"
        settings.SMS_WEBHOOK_URL = sink.url
        settings.SMS_WEBHOOK_AUTH_HEADER = "Authorization: Bearer test-secret"
        sign(world)
        work()
        message = aftercare()
        assert message.status == MessageStatus.FAILED
        assert "answered 500" in message.last_error
        assert "provider unavailable" in message.last_error
        page = world.client().get(reverse("outbox")).content.decode()
        assert "answered 500" in page
        clock.move_to(START + dt.timedelta(minutes=1))
        work()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    first, second = sink.requests
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"] \
        == message.dedupe_key
    assert first["headers"]["Authorization"] == "Bearer test-secret"
    sent = json.loads(second["body"])
    assert sent["to"] == world.patient.phone
    assert sent["reference"] == message.dedupe_key
    assert "/p/" in sent["text"]


def test_an_unreachable_provider_is_a_failure_not_a_crash(
        db: None, clock: Any, settings: Any) -> None:
    world = make_world(channel="sms")
    settings.MESSAGING_SMS_BACKEND = "webhook"
    settings.SMS_WEBHOOK_URL = "http://127.0.0.1:9/sms"  # discard port: nobody listens
    sign(world)
    work()
    assert "could not be reached" in aftercare().last_error


def test_no_provider_configured_says_what_to_set(db: None, clock: Any,
                                                 settings: Any) -> None:
    world = make_world(channel="sms")
    settings.MESSAGING_SMS_BACKEND = "webhook"
    settings.SMS_WEBHOOK_URL = ""
    sign(world)
    work()
    assert "NEEDLECARE_SMS_WEBHOOK_URL" in aftercare().last_error
