"""Newsletter consent kept properly: double opt-in with an expiring link, recorded with time,
source and wording; one-click withdrawal from every newsletter (RFC 8058: a mail client's
POST without cookies or CSRF token) and from the patient's page; sign-ups rate-limited with
limits in the database; bounces and complaints suppress the address."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needlecare.access import Actor
from needlecare.education import consent, newsletter, webhooks
from needlecare.education.models import (
    CommunicationConsent,
    ConsentState,
    Purpose,
    RateLimit,
    Subscriber,
    SuppressedAddress,
)
from needlecare.education.newsletter import CampaignDraft
from needlecare.messaging.models import MessageKind, MessageStatus
from needlecare.patients.models import Patient
from tests.web.education.support import (
    World,
    give_newsletter_consent,
    make_world,
    rows,
    verified_phone,
    work,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return make_world()


def _link(body: str, name: str) -> str:
    found = re.search(rf"https?://\S+/newsletter/{name}/\S+/", body)
    assert found, body
    return "/" + found.group(0).split("/", 3)[3]


def _sign_up(world: World, email: str = "reader@example.test") -> str:
    """Sign up on the public page; returns the confirmation link's path."""
    response = Client().post(reverse("public-subscribe", args=[world.clinic.slug]),
                             {"email": email, "adult": "on"})
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    work()
    [sent] = [m for m in mail.outbox if m.to == [email]]
    return _link(sent.body, "confirm")


def test_double_opt_in_is_recorded_with_time_source_and_wording(world: World) -> None:
    confirm = _sign_up(world)
    row = CommunicationConsent.objects.get(subscriber__email="reader@example.test")
    assert row.state == ConsentState.PENDING
    assert row.source == "public_page"
    assert row.wording == consent.NEWSLETTER_WORDING
    assert row.requested_at is not None
    visitor = Client()
    assert visitor.get(confirm).status_code == 200  # a link scanner's GET confirms nothing
    row.refresh_from_db()
    assert row.state == ConsentState.PENDING
    page = visitor.post(confirm)
    assert "You are subscribed" in page.content.decode()
    row.refresh_from_db()
    assert row.state == ConsentState.GIVEN
    assert row.confirmed_at is not None
    # The public subscriber is not a patient record.
    assert not Patient.objects.filter(email="reader@example.test").exists()
    assert Subscriber.objects.get(email="reader@example.test").clinic == world.clinic


def test_a_confirmation_link_expires(world: World) -> None:
    confirm = _sign_up(world)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=48, minutes=1), tick=False):
        response = Client().post(confirm)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert CommunicationConsent.objects.get().state == ConsentState.PENDING
    assert not newsletter.audience(world.clinic, newsletter.Segment()).recipients


def test_a_forged_confirmation_link_does_nothing(world: World) -> None:
    confirm = _sign_up(world)
    assert Client().post(confirm.replace(":", ":x", 1)).status_code == 404


def _newsletter_to(world: World) -> mail.EmailMessage:
    campaign = newsletter.create_campaign(Actor(user=world.owner), CampaignDraft(
        subject="Spring news", body="Hello."))
    newsletter.schedule(Actor(user=world.owner), campaign.pk)
    work()
    [sent] = [m for m in mail.outbox if m.subject == "Spring news"]
    return sent


def test_one_click_unsubscribe_works_with_a_post_from_a_mail_client(world: World) -> None:
    row = give_newsletter_consent(world.patient)
    sent = _newsletter_to(world)
    url = sent.extra_headers["List-Unsubscribe"].strip("<>")
    path = "/" + url.split("/", 3)[3]
    mail_client = Client(enforce_csrf_checks=True)  # no cookies, no CSRF token
    response = mail_client.post(path, "List-Unsubscribe=One-Click",
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert not mail_client.cookies
    row.refresh_from_db()
    assert row.state == ConsentState.WITHDRAWN
    assert row.withdrawn_source == "one_click"
    campaign = row.withdrawn_campaign
    assert campaign is not None
    assert newsletter.counts(campaign).unsubscribes == 1
    # Again: nothing changes, still fine.
    assert mail_client.post(path, "List-Unsubscribe=One-Click",
                            content_type="application/x-www-form-urlencoded").status_code == 200


def test_opening_the_unsubscribe_link_shows_a_button_and_changes_nothing(world: World) -> None:
    row = give_newsletter_consent(world.patient)
    sent = _newsletter_to(world)
    path = _link(sent.body, "unsubscribe")
    page = Client().get(path)
    assert page.status_code == 200
    assert "Unsubscribe" in page.content.decode()
    row.refresh_from_db()
    assert row.state == ConsentState.GIVEN
    done = Client(enforce_csrf_checks=True).post(path)
    assert "You are unsubscribed" in done.content.decode()
    row.refresh_from_db()
    assert row.state == ConsentState.WITHDRAWN


def test_the_patient_subscribes_and_withdraws_on_their_page(world: World) -> None:
    phone = verified_phone(world)
    home = reverse("patient-home", args=[world.token])
    assert "Email me a link to subscribe" in phone.get(home).content.decode()
    phone.post(reverse("patient-newsletter", args=[world.token]), {"newsletter": "subscribe"})
    work()
    [sent] = [m for m in mail.outbox if "Confirm your subscription" in m.subject]
    assert sent.to == [world.patient.email]
    assert Client().post(_link(sent.body, "confirm")).status_code == 200
    assert "You receive the newsletter by email" in phone.get(home).content.decode()
    phone.post(reverse("patient-newsletter", args=[world.token]), {"newsletter": "withdraw"})
    row = consent.latest(Purpose.MARKETING, patient_id=world.patient.pk)
    assert row is not None
    assert row.state == ConsentState.WITHDRAWN
    assert row.withdrawn_source == "patient_page"
    world.patient.refresh_from_db()
    assert world.patient.messages_opt_in  # clinical messages never depend on it


def test_sign_ups_are_limited_by_limits_kept_in_the_database(world: World) -> None:
    RateLimit.objects.filter(name="subscribe-per-ip").update(max_requests=2)
    url = reverse("public-subscribe", args=[world.clinic.slug])
    for n in range(2):
        assert Client().post(url, {"email": f"r{n}@example.test", "adult": "on"}
                             ).status_code == 200
    refused = Client().post(url, {"email": "r9@example.test", "adult": "on"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert not Subscriber.objects.filter(email="r9@example.test").exists()


def test_nobody_under_18_signs_up(world: World) -> None:
    response = Client().post(reverse("public-subscribe", args=[world.clinic.slug]),
                             {"email": "kid@example.test"})
    assert response.status_code == 200
    assert "Check your email" not in response.content.decode()
    assert not Subscriber.objects.exists()


# --- the email provider's webhook -----------------------------------------------------------

SECRET = "test-webhook-secret-0123456789"


def _post_events(events: list[dict[str, object]], *, key: str = SECRET,
                 timestamp: int | None = None) -> object:
    body = json.dumps({"events": events}).encode()
    moment = timestamp if timestamp is not None else int(timezone.now().timestamp())
    return Client(enforce_csrf_checks=True).post(
        reverse("email-events"), body, content_type="application/json",
        headers={"X-Needlecare-Timestamp": str(moment),
                 "X-Needlecare-Signature": webhooks.sign(body, moment, key)})


def test_a_signed_bounce_suppresses_the_address(world: World, settings: object) -> None:
    settings.EDUCATION_EMAIL_WEBHOOK_SECRET = SECRET  # type: ignore[attr-defined]
    give_newsletter_consent(world.patient)
    response = _post_events([{"type": "bounce", "email": world.patient.email.upper(),
                              "permanent": True, "detail": "550 user unknown"},
                             {"type": "bounce", "email": "soft@example.test",
                              "permanent": False}])
    assert response.status_code == 200
    assert response.json() == {"suppressed": 1}
    assert SuppressedAddress.objects.get().email == world.patient.email
    campaign = newsletter.create_campaign(Actor(user=world.owner), CampaignDraft(
        subject="Spring news", body="Hello."))
    newsletter.schedule(Actor(user=world.owner), campaign.pk)
    assert campaign.__class__.objects.get(pk=campaign.pk).queued == 0


def test_a_complaint_suppresses_and_withdraws(world: World, settings: object) -> None:
    settings.EDUCATION_EMAIL_WEBHOOK_SECRET = SECRET  # type: ignore[attr-defined]
    row = give_newsletter_consent(world.patient)
    assert _post_events([{"type": "complaint", "email": world.patient.email}]
                        ).status_code == 200
    row.refresh_from_db()
    assert row.state == ConsentState.WITHDRAWN
    assert row.withdrawn_source == "complaint"


def test_a_wrong_or_replayed_signature_is_refused(world: World, settings: object) -> None:
    settings.EDUCATION_EMAIL_WEBHOOK_SECRET = SECRET  # type: ignore[attr-defined]
    event = [{"type": "complaint", "email": world.patient.email}]
    assert _post_events(event, key="not-the-secret").status_code == 401
    old = int((timezone.now() - dt.timedelta(minutes=10)).timestamp())
    assert _post_events(event, timestamp=old).status_code == 401
    assert not SuppressedAddress.objects.exists()


def test_without_a_secret_the_webhook_is_off(world: World) -> None:
    assert _post_events([{"type": "complaint", "email": "a@example.test"}]).status_code == 503


def test_bounces_do_not_stop_clinical_messages(world: World, settings: object) -> None:
    settings.EDUCATION_EMAIL_WEBHOOK_SECRET = SECRET  # type: ignore[attr-defined]
    _post_events([{"type": "complaint", "email": world.patient.email}])
    from needlecare.recovery.links import send_link

    send_link(Actor(user=world.front_desk), world.patient.pk)
    work()
    assert {m.status for m in rows(kind=MessageKind.PERSONAL_LINK)} == {MessageStatus.SENT}
