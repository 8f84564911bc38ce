"""The worker sends what is due, when it is due, and decides at send time whether a message
still applies: an answered invitation gets no reminder, an unanswered one exactly one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from needlecare.access import hash_token
from needlecare.audit.models import AuditEvent
from needlecare.care.aftercare import signed_session_facts
from needlecare.care.models import AftercareRecord
from needlecare.clinical.aftercare import aftercare
from needlecare.messaging.compose import LINK_PLACEHOLDER, prepare
from needlecare.messaging.models import Message, MessageKind, MessageStatus
from needlecare.recovery import links
from needlecare.recovery.models import PatientLink
from tests.web.messaging.support import (
    World,
    check_in,
    live_link,
    london,
    make_world,
    messages,
    sign,
    work,
)

pytestmark = pytest.mark.django_db

URL = re.compile(r"https://clinic\.example\.test/p/([A-Za-z0-9_-]+)/")


def only(kind: str) -> Message:
    [message] = messages(kind=kind)
    return message


def test_the_aftercare_email_carries_the_plan_and_a_working_personal_link(
        world: World) -> None:
    sign(world)
    assert work() == 1  # only the aftercare message is due now
    [email] = mail.outbox
    assert email.to == [world.patient.email]
    assert email.subject == f"Your aftercare plan from {world.clinic.name}"
    assert "Dear Sam," in email.body
    assert "sunscreen" in email.body
    # Evidence tags are for staff pages: the patient's copy carries none.
    assert "Clinic policy" not in email.body
    assert world.clinic.phone in email.body

    # The link was issued for the message (by the system, audited) and opens the phone page.
    link = live_link(world.session)
    assert link.created_by is None
    assert AuditEvent.objects.filter(action="link.create", actor_kind="system",
                                     patient=world.patient).count() == 1
    token = URL.search(email.body).group(1)
    assert hash_token(token) == link.token_hash
    opened = Client().get(f"/p/{token}/")
    assert opened.status_code == 302
    assert opened["Location"] == f"/p/{token}/verify/"

    # What was sent is stored with the link replaced: the token is never in the database.
    message = only(MessageKind.AFTERCARE_PLAN)
    assert message.status == MessageStatus.SENT
    assert message.link == link
    assert message.to_address == world.patient.email
    assert token not in message.body
    assert LINK_PLACEHOLDER in message.body
    assert email.extra_headers["Message-ID"] == f"<{message.dedupe_key}@clinic.example.test>"
    assert AuditEvent.objects.filter(action="message.sent", object_id=str(message.pk)).exists()


def test_the_aftercare_email_says_the_same_from_a_compact_record_as_from_a_whole_one(
        world: World) -> None:
    session = sign(world)
    message = only(MessageKind.AFTERCARE_PLAN)
    _sent, from_compact = prepare(message)
    record = AftercareRecord.objects.get(session=session)
    assert record.plan["schema"] == "needlecare.aftercare-record/1"
    # As records were stored before they were compact: the whole document.
    whole = aftercare(signed_session_facts(session)).model_dump(mode="json", by_alias=True)
    AftercareRecord.objects.filter(pk=record.pk).update(plan=whole)
    _sent, from_whole = prepare(message)
    assert from_compact.body == from_whole.body
    assert whole["days"][0]["instructions"][0]["text"] in from_compact.body


def test_invitations_go_on_their_days_and_only_unanswered_ones_get_a_reminder(
        world: World, clock: Any) -> None:
    sign(world)
    work()
    mail.outbox.clear()

    clock.move_to(london(2026, 3, 3, 17, 59))
    assert work() == 0
    clock.move_to(london(2026, 3, 3, 18))
    work()
    [invitation] = mail.outbox
    assert invitation.subject.startswith("How is your skin healing?")
    assert "It is 1 day since your treatment" in invitation.body
    link = live_link(world.session)
    assert URL.search(invitation.body).group(1)  # the same link as the aftercare message
    assert only(MessageKind.AFTERCARE_PLAN).link == link

    # The patient answers that evening: the next day's reminder is not sent.
    clock.move_to(london(2026, 3, 3, 20))
    check_in(link)
    clock.move_to(london(2026, 3, 4, 18))
    work()
    assert len(mail.outbox) == 1
    first_reminder = messages(kind=MessageKind.CHECKIN_REMINDER)[0]
    assert first_reminder.status == MessageStatus.SKIPPED
    assert first_reminder.reason == "The patient checked in after the invitation."

    # Day 3: invited, no answer, reminded exactly once 24 hours later.
    clock.move_to(london(2026, 3, 5, 18))
    work()
    clock.move_to(london(2026, 3, 6, 18))
    work()
    clock.move_to(london(2026, 3, 6, 23))
    work()
    subjects = [m.subject for m in mail.outbox]
    assert subjects[1].startswith("How is your skin healing?")
    assert subjects[2].startswith("Reminder: how is your skin healing?")
    assert len(subjects) == 3
    assert messages(kind=MessageKind.CHECKIN_REMINDER)[1].status == MessageStatus.SENT


def test_a_patient_who_checked_in_that_day_is_not_invited(world: World, clock: Any) -> None:
    sign(world)
    work()
    mail.outbox.clear()
    clock.move_to(london(2026, 3, 3, 9))
    work()
    check_in(live_link(world.session))
    clock.move_to(london(2026, 3, 4, 18))
    work()
    assert mail.outbox == []
    invitation, reminder = (messages(kind=kind)[0] for kind in (
        MessageKind.CHECKIN_INVITATION, MessageKind.CHECKIN_REMINDER))
    assert invitation.reason == (
        "The patient has checked in since the start of the day it was for.")
    assert reminder.reason == "The invitation it follows was not sent."


def test_sms_patients_get_short_texts_with_the_link(db: None, clock: Any,
                                                    sms_outbox: list[Any]) -> None:
    world = make_world(channel="sms")
    sign(world)
    work()
    [sms] = sms_outbox
    assert sms.to == world.patient.phone
    assert "\n" not in sms.body
    assert len(sms.body) < 300
    assert URL.search(sms.body)
    assert sms.dedupe_key == only(MessageKind.AFTERCARE_PLAN).dedupe_key
    assert mail.outbox == []


def test_the_address_is_read_when_the_message_is_sent(world: World, clock: Any) -> None:
    sign(world)
    work()
    world.patient.email = "new-address@example.test"
    world.patient.save()
    clock.move_to(london(2026, 3, 3, 18))
    work()
    assert mail.outbox[-1].to == ["new-address@example.test"]


def test_a_message_due_in_quiet_hours_waits_for_their_end(world: World, clock: Any) -> None:
    """A message that became due before the quiet hours but found no worker running until
    after they began (the worker was down) still waits for the morning."""
    sign(world)
    clock.move_to(london(2026, 3, 2, 23))
    assert work() == 1
    assert mail.outbox == []
    message = only(MessageKind.AFTERCARE_PLAN)
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 0)
    assert message.next_attempt_at == london(2026, 3, 3, 8)
    clock.move_to(london(2026, 3, 3, 8))
    work()
    assert len(mail.outbox) == 1


def test_the_next_session_reminder_unless_one_is_booked(world: World, clock: Any) -> None:
    sign(world)
    work()
    mail.outbox.clear()
    clock.move_to(london(2026, 3, 27, 18))
    work()
    reminder = [m for m in mail.outbox if m.subject.startswith("Your next session")]
    assert len(reminder) == 1
    assert "from Monday 30 March 2026" in reminder[0].body


def test_the_next_session_reminder_is_skipped_when_it_is_booked(world: World,
                                                                clock: Any) -> None:
    from needlecare.diary import services as diary

    sign(world)
    diary.book_session(world.actor(world.front_desk), world.plan.pk, world.clinician.pk,
                       london(2026, 4, 1, 10))
    clock.move_to(london(2026, 3, 27, 18))
    work()
    assert only(MessageKind.NEXT_SESSION).reason == "The next session is already booked."


def test_links_made_before_nonces_keep_working_but_are_not_sent(world: World) -> None:
    sign(world)
    old = PatientLink.objects.create(
        clinic=world.clinic, patient=world.patient, session=world.session,
        token_hash=hash_token("an-old-random-token"), created_by=world.clinician)
    assert Client().get("/p/an-old-random-token/").status_code == 302  # to the verify step
    work()
    message = only(MessageKind.AFTERCARE_PLAN)
    assert message.status == MessageStatus.SKIPPED
    assert "made before links could be sent" in message.reason
    assert message.link_id is None or message.link == old


def test_a_changed_secret_key_stops_links_being_sent(world: World, settings: Any) -> None:

    sign(world)
    links.replace_link(world.actor(), world.patient.pk)
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    work()
    assert "secret key has changed" in only(MessageKind.AFTERCARE_PLAN).reason
