"""Notes to the patient after a worrying check-in; email alerts to clinicians when an urgent
or emergency escalation opens, and again when it passes its deadline unacknowledged."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from needlecare.messaging.models import MessageKind, MessageStatus
from needlecare.recovery import services as recovery
from needlecare.recovery.models import Escalation
from tests.web.messaging.support import World, check_in, live_link, london, messages, sign, work

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(world: World, clock: Any) -> World:
    sign(world)
    work()
    mail.outbox.clear()
    clock.move_to(london(2026, 3, 3, 10))  # Tuesday, day 1
    return world


def test_an_urgent_check_in_alerts_every_clinician_by_email_at_once(
        linked: World, clock: Any) -> None:
    clock.move_to(london(2026, 3, 3, 23, 30))  # in quiet hours: alerts ignore them
    check_in(live_link(linked.session), flags=("pus_or_yellow_crusts",))
    escalation = Escalation.objects.get()
    work()
    alerts = [m for m in mail.outbox if m.subject.startswith("Urgent")]
    assert sorted(m.to[0] for m in alerts) == ["clinician@example.test", "owner@example.test"]
    body = alerts[0].body
    assert f"/escalations/{escalation.pk}/" in body
    # Email is not a safe place for clinical details: no name, no symptoms.
    assert linked.patient.family_name not in body
    assert "pus" not in body.lower()
    # The patient's note answers their own check-in, so it goes at once too.
    [note] = [m for m in mail.outbox if m.to == [linked.patient.email]]
    # What happens next, from the clinic's hours (Tuesday 23:30: closed until 09:00).
    body = " ".join(note.body.split())
    assert "We are closed until tomorrow at 09:00. We have been told and will call you when " \
           "we open." in body
    assert "call you back today" not in body
    assert "If you cannot wait, contact an out-of-hours doctor" in body
    assert "call 999 now" in body


def test_an_unacknowledged_escalation_alerts_again_at_its_deadline(
        linked: World, clock: Any) -> None:
    check_in(live_link(linked.session), flags=("fever_or_chills",))
    escalation = Escalation.objects.get()
    work()
    mail.outbox.clear()
    overdue = messages(kind=MessageKind.ESCALATION_OVERDUE)
    assert {m.due_at for m in overdue} == {escalation.deadline}
    clock.move_to(escalation.deadline)
    work()
    assert sorted(m.to[0] for m in mail.outbox) == ["clinician@example.test",
                                                    "owner@example.test"]
    assert all(m.subject.startswith("Overdue") for m in mail.outbox)


def test_an_acknowledged_escalation_sends_no_second_alert(linked: World, clock: Any) -> None:
    check_in(live_link(linked.session), flags=("fever_or_chills",))
    escalation = Escalation.objects.get()
    work()
    mail.outbox.clear()
    recovery.acknowledge_escalation(linked.actor(), escalation.pk)
    clock.move_to(escalation.deadline)
    work()
    assert mail.outbox == []
    assert {m.reason for m in messages(kind=MessageKind.ESCALATION_OVERDUE)} == {
        "A clinician acknowledged the escalation."}


def test_a_raised_escalation_alerts_at_the_new_level_and_moves_the_deadline_check(
        linked: World, clock: Any) -> None:
    link = live_link(linked.session)
    check_in(link, flags=("fever_or_chills",))
    work()
    clock.move_to(london(2026, 3, 3, 10, 30))
    check_in(link, flags=("fever_or_chills", "breathing_or_throat_swelling"))
    escalation = Escalation.objects.get()
    assert escalation.level == "emergency"
    overdue = messages(kind=MessageKind.ESCALATION_OVERDUE)
    assert {m.status for m in overdue if m.due_at != escalation.deadline} == {
        MessageStatus.CANCELLED}
    work()
    subjects = [m.subject for m in mail.outbox if m.to[0] != linked.patient.email]
    assert sum(s.startswith("Emergency") for s in subjects) == 2


def test_a_contact_clinic_check_in_gets_a_note_but_no_alert(linked: World) -> None:
    check_in(live_link(linked.session), flags=("new_dark_patches",))
    work()
    [note] = mail.outbox
    assert note.to == [linked.patient.email]
    assert "A clinician will look at your answers and contact you by tomorrow at 17:30" in \
        " ".join(note.body.split())
    assert not messages(kind=MessageKind.CLINICIAN_ALERT)


def test_a_reassuring_check_in_sends_nothing(linked: World) -> None:
    check_in(live_link(linked.session))
    work()
    assert mail.outbox == []
    assert not messages(kind=MessageKind.TRIAGE_NOTE)


def test_a_text_message_note_is_short_and_leaves_the_advice_to_the_result_page(
        linked: World, sms_outbox: list[Any]) -> None:
    linked.patient.preferred_channel = "sms"
    linked.patient.save()
    sms_outbox.clear()
    check_in(live_link(linked.session), flags=("pus_or_yellow_crusts",))
    work()
    [note] = [s for s in sms_outbox if s.dedupe_key.startswith("triage-note.")]
    # Tuesday 10:00, open: call now; called back within the clinic's four hours.
    assert f"Please call us now on {linked.clinic.phone}" in note.body
    assert "call you back by 14:00" in note.body
    assert "SPF" not in note.body  # aftercare advice is on the page the patient just saw
    assert len(note.body) <= 160 * 2  # at most two text-message segments
