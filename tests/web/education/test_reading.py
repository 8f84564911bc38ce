"""Reading timed to the patient's stage: "for you now" on the phone page, and reading
messages at most once a week, only with consent, never while an escalation is open."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needlecare.access import Actor
from needlecare.care import services as care
from needlecare.care.models import TreatmentSession
from needlecare.diary import services as diary
from needlecare.education import consent
from needlecare.education.models import CommunicationConsent, ConsentState, Purpose
from needlecare.messaging.models import Message, MessageKind, MessageStatus, Recipient
from needlecare.recovery.models import EscalationStatus
from tests.web.education.support import (
    World,
    give_reading_consent,
    make_world,
    open_escalation,
    patient_actor,
    published_article,
    rows,
    verified_phone,
    work,
)
from tests.web.messaging.support import chart

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world(days_ago=2)


def _reading_row(world: World, key: str = "reading:test") -> Message:
    now = timezone.now()
    return Message.objects.create(
        clinic=world.clinic, recipient=Recipient.PATIENT, patient=world.patient,
        kind=MessageKind.READING, channel="email", due_at=now, next_attempt_at=now,
        dedupe_key=key)


def _verified_phone(world: World) -> Client:
    return verified_phone(world)


def test_a_patient_on_day_2_sees_the_article_for_now(world: World) -> None:
    published_article(world, title="Your skin on day 2")
    published_article(world, title="Weeks two to eight", stage="remodelling")
    phone = _verified_phone(world)
    page = phone.get(reverse("patient-home", args=[world.token])).content.decode()
    assert "For you now" in page
    assert "Your skin on day 2" in page
    assert "Weeks two to eight" not in page


def test_the_patient_turns_reading_messages_on_and_off_on_their_page(world: World) -> None:
    phone = _verified_phone(world)
    phone.post(reverse("patient-reading", args=[world.token]), {"reading": "yes"})
    row = CommunicationConsent.objects.get(patient=world.patient, purpose=Purpose.EDUCATION)
    assert row.state == ConsentState.GIVEN
    assert row.wording == consent.READING_WORDING
    assert row.source == "patient_page"
    assert row.requested_at is not None
    phone.post(reverse("patient-reading", args=[world.token]), {"reading": "no"})
    row.refresh_from_db()
    assert row.state == ConsentState.WITHDRAWN
    assert row.withdrawn_at is not None


def test_a_reading_message_goes_with_consent(world: World) -> None:
    article = published_article(world, title="Your skin on day 2")
    give_reading_consent(world)
    message = _reading_row(world)
    work()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT, message.reason
    assert message.context["article"] == article.pk
    assert "Your skin on day 2" in mail.outbox[-1].body
    assert reverse("public-article", args=[world.clinic.slug, article.slug]) \
        in mail.outbox[-1].body


def test_no_reading_message_without_consent(world: World) -> None:
    published_article(world)
    message = _reading_row(world)
    work()
    message.refresh_from_db()
    assert message.status == MessageStatus.SKIPPED
    assert "not asked for reading" in message.reason


def test_a_patient_with_an_open_escalation_receives_no_reading_message(world: World) -> None:
    published_article(world)
    give_reading_consent(world)
    open_escalation(world, status=EscalationStatus.ACKNOWLEDGED)
    message = _reading_row(world)
    work()
    message.refresh_from_db()
    assert message.status == MessageStatus.SKIPPED
    assert "escalation" in message.reason
    assert not [m for m in mail.outbox if "reading for you" in m.subject]


def test_the_weekly_cap_holds(world: World) -> None:
    published_article(world, title="First read")
    published_article(world, title="Second read")
    published_article(world, title="Weeks two to eight", stage="remodelling")
    give_reading_consent(world)
    first = _reading_row(world, "reading:one")
    second = _reading_row(world, "reading:two")
    work()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == MessageStatus.SENT
    assert second.status == MessageStatus.PENDING  # waits for the week to be up
    assert second.next_attempt_at >= first.sent_at + dt.timedelta(days=7) - \
        dt.timedelta(seconds=1)
    with time_machine.travel(timezone.now() + dt.timedelta(days=6, hours=23), tick=False):
        work()
        second.refresh_from_db()
        assert second.status == MessageStatus.PENDING
    with time_machine.travel(timezone.now() + dt.timedelta(days=7, minutes=1), tick=False):
        work()
        second.refresh_from_db()
        assert second.status == MessageStatus.SENT
    sent = [m.subject for m in mail.outbox if "reading for you" in m.subject]
    # A week on, the patient is in weeks 2–8: the second message is for that stage.
    assert len(sent) == 2
    assert "Weeks two to eight" in sent[1]


def _book_in_the_diary(world: World) -> TreatmentSession:
    """The plan's next session, booked by the desk in the diary six weeks on at 10:00."""
    day = timezone.localdate() + dt.timedelta(days=42)
    starts = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
    appointment = diary.book_session(Actor(user=world.front_desk), world.session.plan_id,
                                     world.clinician.pk, starts)
    assert appointment.treatment_session is not None
    return appointment.treatment_session


def test_signing_schedules_reading_rows_only_for_patients_who_asked(world: World) -> None:
    patient = world.patient
    give_reading_consent(world)  # on day 2: the rows still ahead of that session
    keys = {m.dedupe_key for m in rows(patient=patient, kind=MessageKind.READING)}
    assert keys == {f"reading:{world.session.pk}:day{n}" for n in (15, 57)}
    session = _book_in_the_diary(world)
    # Booking after a signed session is not "before the first session".
    assert not rows(patient=patient, kind=MessageKind.READING,
                    dedupe_key=f"reading:booked:{session.pk}")
    care.sign_session(Actor(user=world.clinician), session.pk, dataclasses.replace(
        chart(timezone.localdate()), interval_reason="Synthetic test: a second session."))
    keys = {m.dedupe_key for m in rows(patient=patient, kind=MessageKind.READING)}
    assert {f"reading:{session.pk}:day{n}" for n in (2, 15, 57)} <= keys


def test_reading_consent_is_separate_from_clinical_messages(world: World) -> None:
    give_reading_consent(world)
    consent.set_reading_consent(patient_actor(world), False)
    world.patient.refresh_from_db()
    assert world.patient.messages_opt_in  # clinical messages are not touched


def test_nothing_is_scheduled_for_a_patient_who_did_not_ask(world: World) -> None:
    session = _book_in_the_diary(world)
    care.sign_session(Actor(user=world.clinician), session.pk, dataclasses.replace(
        chart(timezone.localdate()), interval_reason="Synthetic test: a second session."))
    assert not rows(kind=MessageKind.READING)
