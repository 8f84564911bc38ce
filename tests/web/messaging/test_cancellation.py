"""Cancelling an appointment, revoking a link or withdrawing consent stops what is pending."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from needlecare.access import hash_token
from needlecare.care import services as care
from needlecare.care.models import Consent
from needlecare.diary import services as diary
from needlecare.messaging.models import LINK_BEARING, MessageKind, MessageStatus
from needlecare.recovery import links
from tests.web.messaging.support import World, live_link, london, messages, sign, work

pytestmark = pytest.mark.django_db


def ics(attachment: Any) -> str:
    content = attachment[1]
    return content.decode() if isinstance(content, bytes) else content


def test_cancelling_a_booked_session_stops_its_reminder(world: World, clock: Any) -> None:
    desk = world.actor(world.front_desk)
    booked = diary.book_session(desk, world.plan.pk, world.clinician.pk,
                                london(2026, 3, 10, 9, 30))
    diary.cancel(desk, booked.pk, "Patient has a cold")
    [reminder] = messages(kind=MessageKind.APPOINTMENT_REMINDER)
    assert (reminder.status, reminder.reason) == (MessageStatus.CANCELLED,
                                                  "The appointment was cancelled.")
    clock.move_to(london(2026, 3, 9, 18))
    work()
    # Only the cancellation: the confirmation of an appointment cancelled before it went out
    # is not sent, nor is the reminder.
    assert [m.subject for m in mail.outbox] == [
        f"Your appointment at {world.clinic.name} is cancelled"]
    assert messages(kind=MessageKind.APPOINTMENT_BOOKED)[0].status == MessageStatus.CANCELLED
    [calendar] = [ics(a) for a in mail.outbox[0].attachments if a[0] == "appointment.ics"]
    assert "METHOD:CANCEL" in calendar
    assert "STATUS:CANCELLED" in calendar
    assert "SEQUENCE:1" in calendar


def test_a_moved_appointment_is_reminded_at_its_new_time(world: World, clock: Any) -> None:
    """The change is told at once with the same calendar event (its SEQUENCE raised), and
    the reminder follows the appointment."""
    desk = world.actor(world.front_desk)
    first = diary.book_session(desk, world.plan.pk, world.clinician.pk,
                               london(2026, 3, 10, 9, 30))
    diary.move(desk, first.pk, london(2026, 3, 12, 9))
    clock.move_to(london(2026, 3, 11, 9, 30))
    work()
    booked, changed, reminder = mail.outbox
    assert "Thursday 12 March 2026, 09:00" in changed.body
    assert "It was on Tuesday 10 March 2026, 09:30." in changed.body
    uid = re.search(r"UID:(\S+)", ics(booked.attachments[0])).group(1)
    assert re.search(r"UID:(\S+)", ics(changed.attachments[0])).group(1) == uid
    assert "SEQUENCE:1" in ics(changed.attachments[0])
    assert "Thursday 12 March 2026, 09:00" in reminder.body


def test_revoking_the_link_cancels_the_messages_that_carry_it(world: World,
                                                              clock: Any) -> None:
    sign(world)
    work()  # the aftercare message goes, with the session's first link
    link = live_link(world.session)
    links.revoke_link(world.actor(), link.pk, "Lost phone")
    pending = messages(kind__in=LINK_BEARING, status=MessageStatus.PENDING)
    assert pending == []
    cancelled = messages(kind__in=LINK_BEARING, status=MessageStatus.CANCELLED)
    assert len(cancelled) == 12
    assert {m.reason for m in cancelled} == {"The personal link was revoked."}
    # The next-session reminder carries no link and still goes.
    assert messages(kind=MessageKind.NEXT_SESSION)[0].status == MessageStatus.PENDING
    mail.outbox.clear()
    clock.move_to(london(2026, 3, 5, 18))
    work()
    assert mail.outbox == []


def test_a_new_link_takes_over_the_check_ins_still_ahead(world: World, clock: Any) -> None:
    sign(world)
    work()
    links.revoke_link(world.actor(), live_link(world.session).pk, "Lost phone")
    clock.move_to(london(2026, 3, 4, 12))
    issued = links.replace_link(world.actor(), world.patient.pk)
    new = messages(kind=MessageKind.CHECKIN_INVITATION, status=MessageStatus.PENDING)
    assert [m.context["day"] for m in new] == [3, 7, 14, 28, 56]
    assert {m.link for m in new} == {issued.link}
    # The new link goes to the patient at once; the invitations carry it later.
    mail.outbox.clear()
    work()
    [sent] = mail.outbox
    assert sent.subject.startswith("Your personal link")
    assert issued.url in sent.body
    mail.outbox.clear()
    clock.move_to(london(2026, 3, 5, 18))
    work()
    [email] = mail.outbox
    token = re.search(r"/p/([A-Za-z0-9_-]+)/", email.body).group(1)
    assert hash_token(token) == issued.link.token_hash


def test_a_link_issued_by_staff_before_the_worker_runs_is_the_one_sent(world: World) -> None:
    sign(world)
    issued = links.replace_link(world.actor(), world.patient.pk)
    work()
    assert len(mail.outbox) == 2  # the aftercare plan, and the link sent on its own
    assert all(issued.url in email.body for email in mail.outbox)
    assert {m.link for m in messages(kind__in=LINK_BEARING)} == {issued.link}


def test_withdrawing_the_treatment_consent_cancels_everything_pending(world: World,
                                                                      clock: Any) -> None:
    sign(world)
    work()
    consent = Consent.objects.get(patient=world.patient)
    care.withdraw_consent(world.actor(), consent.pk, "Does not want further treatment")
    patient_messages = messages(patient=world.patient, recipient="patient")
    assert {m.status for m in patient_messages} == {MessageStatus.SENT,
                                                    MessageStatus.CANCELLED}
    assert {m.reason for m in patient_messages if m.status == MessageStatus.CANCELLED} == {
        "The patient withdrew their treatment consent."}
    mail.outbox.clear()
    clock.move_to(london(2026, 4, 30))
    work()
    assert mail.outbox == []
