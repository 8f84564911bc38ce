"""The patient's rights (the rights app) over what education holds: the export carries their
consents, a public newsletter subscription under their address and the messages to it; an
erasure withdraws and empties all of it, and nothing more is sent to them."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from needlecare.access import Actor
from needlecare.education import consent, newsletter
from needlecare.education.models import (
    CommunicationConsent,
    ConsentState,
    Purpose,
    Subscriber,
    SuppressedAddress,
)
from needlecare.messaging.models import Message, MessageKind, MessageStatus, Recipient
from needlecare.rights.models import Erasure
from tests.web.education.support import (
    World,
    give_newsletter_consent,
    give_reading_consent,
    make_world,
    work,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()

OTHER = "someone.else@example.test"


def _subscribe_publicly(world: World, email: str) -> CommunicationConsent:
    """A confirmed subscription from the public page."""
    consent.subscribe_public(world.clinic, email, adult=True, source="public_page",
                             ip="203.0.113.9")
    pending = CommunicationConsent.objects.get(subscriber__email=email.lower())
    return consent.confirm(consent.confirm_token(pending), "203.0.113.10")


def _newsletter_scheduled(world: World) -> None:
    owner = Actor(user=world.owner)
    campaign = newsletter.create_campaign(owner, newsletter.CampaignDraft(
        subject="Spring news", body="Our opening hours change in April."))
    newsletter.schedule(owner, campaign.pk)


@pytest.fixture
def subscribed(world: World) -> World:
    """The patient reads and takes the newsletter on their record, also subscribed from the
    public page under their own address (in capitals), and someone else subscribed too; a
    newsletter is waiting in the outbox for all of them; the patient's address was reported
    as complaining afterwards."""
    give_reading_consent(world)
    give_newsletter_consent(world.patient)
    _subscribe_publicly(world, world.patient.email.upper())
    _subscribe_publicly(world, OTHER)
    _newsletter_scheduled(world)
    SuppressedAddress.objects.create(email=world.patient.email, reason="complaint")
    return world


def _newsletter_rows(**filters: Any) -> Any:
    return Message.objects.filter(kind=MessageKind.NEWSLETTER, **filters)


def test_the_export_holds_the_consents_and_the_public_subscription(subscribed: World) -> None:
    world = subscribed
    response = world.client(world.owner).post(
        reverse("patient-record-export", args=[world.patient.pk]))
    assert response.status_code == 200
    records = json.loads(zipfile.ZipFile(io.BytesIO(response.content))
                         .read("record.json"))["records"]

    [subscriber] = records["education.subscriber"]
    assert subscriber["email"] == world.patient.email
    consents = records["education.communicationconsent"]
    assert {(c["purpose"], c["patient"] is not None) for c in consents} == {
        (Purpose.EDUCATION, True), (Purpose.MARKETING, True), (Purpose.MARKETING, False)}
    assert all(c["subscriber"] in (None, subscriber["id"]) for c in consents)
    # The messages to the public subscription, and to the patient, are in it.
    messages = records["messaging.message"]
    assert {m["recipient"] for m in messages if m["kind"] == MessageKind.NEWSLETTER} == {
        Recipient.PATIENT, Recipient.SUBSCRIBER}
    assert [s["reason"] for s in records["education.suppressedaddress"]] == ["complaint"]
    # Nobody else's subscription.
    assert OTHER not in json.dumps(records)


def test_an_erasure_withdraws_and_empties_everything_education_holds(
        subscribed: World) -> None:
    world = subscribed
    patient = world.patient
    address = patient.email
    assert _newsletter_rows(to_address="", status=MessageStatus.PENDING).count() == 3

    response = world.client(world.owner).post(
        reverse("patient-record-erase", args=[patient.pk]),
        {"confirm_name": patient.full_name})
    assert response.status_code == 302
    assert Erasure.objects.filter(patient=patient).exists()

    theirs = CommunicationConsent.objects.exclude(subscriber__email=OTHER)
    assert theirs.count() == 3
    assert set(theirs.values_list("state", "withdrawn_source", "email", "requested_ip",
                                  "confirmed_ip")) == {
        (ConsentState.WITHDRAWN, "erasure", "", None, None)}
    subscriber = Subscriber.objects.exclude(email=OTHER).get()
    assert subscriber.email == f"erased-{subscriber.pk}@erased.invalid"
    assert not Subscriber.objects.filter(email__iexact=address).exists()
    # Their newsletters (on the record and to the subscription) are cancelled; the other
    # subscriber's is not.
    assert _newsletter_rows(status=MessageStatus.CANCELLED).count() == 2
    [other] = _newsletter_rows(status=MessageStatus.PENDING)
    assert other.recipient == Recipient.SUBSCRIBER
    assert CommunicationConsent.objects.get(pk=other.context["consent"]).subscriber.email \
        == OTHER
    assert CommunicationConsent.objects.get(subscriber__email=OTHER).state == ConsentState.GIVEN

    # The reading timed to their care is cancelled with the rest of their messages.
    assert set(Message.objects.filter(kind=MessageKind.READING).values_list(
        "status", flat=True)) == {MessageStatus.CANCELLED}

    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        work()
    sent = Message.objects.filter(status=MessageStatus.SENT)
    assert list(sent.values_list("to_address", flat=True)) == [OTHER]
    assert not Message.objects.filter(kind__in=(
        MessageKind.NEWSLETTER, MessageKind.READING, MessageKind.SUBSCRIPTION_CONFIRMATION)
    ).exclude(pk=other.pk).exclude(to_address="", body="").exists()
