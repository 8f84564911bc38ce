"""Cancelling a session, revoking a link or withdrawing consent stops what is pending."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from needlecare.access import hash_token
from needlecare.care import services as care
from needlecare.care.models import Consent
from needlecare.messaging.models import LINK_BEARING, MessageKind, MessageStatus
from needlecare.recovery import links
from tests.web.messaging.support import World, live_link, london, messages, sign, work

pytestmark = pytest.mark.django_db


def test_cancelling_a_booked_session_stops_its_reminder(world: World, clock: Any) -> None:
    session = care.book_session(world.actor(world.front_desk), world.plan.pk,
                                london(2026, 3, 10, 9, 30))
    care.cancel_session(world.actor(world.front_desk), session.pk, "Patient has a cold")
    [reminder] = messages(kind=MessageKind.SESSION_REMINDER)
    assert (reminder.status, reminder.reason) == (MessageStatus.CANCELLED,
                                                  "The session was cancelled.")
    clock.move_to(london(2026, 3, 9, 18))
    assert work() == 0
    assert mail.outbox == []


def test_a_reminder_for_a_session_rebooked_elsewhere_is_not_sent(world: World,
                                                                 clock: Any) -> None:
    """No reschedule service exists: a moved appointment is a cancellation and a new booking,
    and each booking has its own reminder."""
    first = care.book_session(world.actor(world.front_desk), world.plan.pk,
                              london(2026, 3, 10, 9, 30))
    care.cancel_session(world.actor(world.front_desk), first.pk, "Moved to Thursday")
    care.book_session(world.actor(world.front_desk), world.plan.pk, london(2026, 3, 12, 9))
    clock.move_to(london(2026, 3, 11, 18))
    work()
    [email] = mail.outbox
    assert "Thursday 12 March 2026, 09:00" in email.body


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
