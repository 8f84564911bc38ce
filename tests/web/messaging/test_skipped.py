"""A message that cannot be sent is recorded as such, with the reason staff see."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from needlecare.messaging.models import Message, MessageKind, MessageStatus
from tests.web.messaging.support import START, make_world, sign, work

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("changes", "reason"), [
    ({"messages_opt_in": False}, "The patient has not agreed to messages."),
    ({"preferred_channel": "none"}, "The patient asked for no messages."),
    ({"preferred_channel": "email", "email": ""}, "No email address on the patient's record."),
    ({"preferred_channel": "sms", "phone": ""}, "No mobile phone number on the patient's record."),
])
def test_an_unsendable_message_is_skipped_with_its_reason(
        db: None, clock: Any, changes: dict[str, Any], reason: str,
        sms_outbox: list[Any]) -> None:
    world = make_world()
    for name, value in changes.items():
        setattr(world.patient, name, value)
    world.patient.save()
    sign(world)
    work()
    message = Message.objects.get(kind=MessageKind.AFTERCARE_PLAN)
    assert (message.status, message.reason) == (MessageStatus.SKIPPED, reason)
    assert mail.outbox == []
    assert sms_outbox == []
    page = world.client().get(reverse("patient-detail", args=[world.patient.pk]))
    assert reason.replace("'", "&#x27;") in page.content.decode()
    desk = world.client(world.front_desk).get(reverse("outbox") + "?status=skipped")
    assert reason.replace("'", "&#x27;") in desk.content.decode()


def test_a_skipped_message_goes_once_the_record_is_fixed_and_it_is_retried(
        db: None, clock: Any) -> None:
    world = make_world(opt_in=False)
    sign(world)
    work()
    world.patient.messages_opt_in = True
    world.patient.save()
    message = Message.objects.get(kind=MessageKind.AFTERCARE_PLAN)
    world.client().post(reverse("message-retry", args=[message.pk]))
    work()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(mail.outbox) == 1
    assert message.due_at == START
