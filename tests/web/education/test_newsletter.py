"""The newsletter: only confirmed consent, the segment, hold-backs the editor can see, a test
send, scheduling at the clinic's rate, cancellation, and counts that track no one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from needlecare.access import Actor
from needlecare.care.models import PlanStatus
from needlecare.education import newsletter
from needlecare.education.models import (
    Campaign,
    CommunicationConsent,
    ConsentState,
    EducationSettings,
    LinkClick,
    Purpose,
    Subscriber,
    SuppressedAddress,
)
from needlecare.education.newsletter import CampaignDraft
from needlecare.education.rules import Segment
from needlecare.messaging.models import MessageKind, MessageStatus
from needlecare.patients.models import Patient
from needlecare.recovery.models import EscalationStatus
from tests.factories import make_consultation, make_patient, make_plan, make_signed_session
from tests.web.education.support import (
    World,
    give_newsletter_consent,
    make_world,
    open_escalation,
    rows,
    work,
)

pytestmark = pytest.mark.django_db

BODY = "## Spring news\n\nRead [our tips](https://clinic.example/tips)."


@pytest.fixture
def world() -> World:
    return make_world()


def _campaign(world: World, segment: Segment | None = None) -> Campaign:
    return newsletter.create_campaign(Actor(user=world.owner), CampaignDraft(
        subject="Spring news", body=BODY, segment=segment or Segment()))


def _newsletters() -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.subject == "Spring news"]


def _another_patient(world: World, **fields: object) -> Patient:
    patient = make_patient(world.clinic, world.clinician, **fields)
    give_newsletter_consent(patient)
    return patient


def test_a_patient_with_an_open_escalation_receives_no_promotion(world: World) -> None:
    give_newsletter_consent(world.patient)
    calm = _another_patient(world, given_name="Calm")
    open_escalation(world)
    campaign = _campaign(world)
    reach = newsletter.audience(world.clinic, Segment())
    assert [r.patient_id for r in reach.recipients] == [calm.pk]
    assert reach.held_back == {"open_escalation": 1}
    page = world.client(world.owner).get(reverse("campaign-detail", args=[campaign.pk]))
    assert "1 patient is held back" in page.content.decode()
    assert "an escalation is still open: 1" in page.content.decode()
    newsletter.schedule(Actor(user=world.owner), campaign.pk)
    work()
    assert [m.to for m in _newsletters()] == [[calm.email]]


def test_an_escalation_opened_after_scheduling_still_stops_it(world: World) -> None:
    give_newsletter_consent(world.patient)
    campaign = _campaign(world)
    newsletter.schedule(Actor(user=world.owner), campaign.pk)
    open_escalation(world)
    work()
    [row] = rows(kind=MessageKind.NEWSLETTER, patient=world.patient)
    assert row.status == MessageStatus.SKIPPED
    assert "escalation" in row.reason
    assert not _newsletters()


def test_an_urgent_escalation_in_the_last_30_days_holds_back(world: World) -> None:
    give_newsletter_consent(world.patient)
    open_escalation(world, level="urgent", status=EscalationStatus.CLOSED,
                    opened_at=timezone.now() - dt.timedelta(days=20))
    old = _another_patient(world, given_name="Old")
    open_escalation(world, level="emergency", status=EscalationStatus.CLOSED,
                    opened_at=timezone.now() - dt.timedelta(days=45), patient=old)
    reach = newsletter.audience(world.clinic, Segment())
    assert [r.patient_id for r in reach.recipients] == [old.pk]
    assert reach.held_back == {"recent_serious_escalation": 1}


def test_patients_under_18_never_receive_promotion(world: World) -> None:
    today = timezone.localdate()
    minor = _another_patient(world, date_of_birth=today.replace(year=today.year - 17))
    reach = newsletter.audience(world.clinic, Segment())
    assert minor.pk not in {r.patient_id for r in reach.recipients}
    assert reach.held_back == {"minor": 1}


def test_only_confirmed_consent_counts_and_subscribers_stay_apart(world: World) -> None:
    subscriber = Subscriber.objects.create(clinic=world.clinic, email="fan@example.test",
                                           adult_confirmed=True)
    CommunicationConsent.objects.create(
        clinic=world.clinic, subscriber=subscriber, purpose=Purpose.MARKETING,
        state=ConsentState.GIVEN, wording="w", wording_version="1", source="public_page",
        email=subscriber.email)
    CommunicationConsent.objects.create(  # asked, never confirmed
        clinic=world.clinic, patient=world.patient, purpose=Purpose.MARKETING,
        state=ConsentState.PENDING, wording="w", wording_version="1", source="patient_page",
        email=world.patient.email)
    everyone = newsletter.audience(world.clinic, Segment())
    assert [(r.patient_id, r.subscriber_id) for r in everyone.recipients] == \
        [(None, subscriber.pk)]
    assert newsletter.audience(world.clinic, Segment(audience="patients")).recipients == []


def test_the_segment_of_past_patients_whose_course_ended_over_3_months_ago(
        world: World) -> None:
    today = timezone.localdate()
    past = _another_patient(world, given_name="Past")
    plan = make_plan(make_consultation(past, world.clinician), world.clinician)
    plan.sessions_planned = 1
    plan.status = PlanStatus.COMPLETED
    plan.save()
    make_signed_session(plan, world.clinician, performed_on=today - dt.timedelta(days=120))
    give_newsletter_consent(world.patient)  # still in their course
    reach = newsletter.audience(world.clinic, Segment(audience="patients",
                                                      course_ended_months=3))
    assert [r.patient_id for r in reach.recipients] == [past.pk]


def test_scheduling_spreads_rows_at_the_clinic_rate(world: World) -> None:
    EducationSettings.objects.create(clinic=world.clinic, send_rate_per_minute=2)
    for n in range(5):
        _another_patient(world, given_name=f"P{n}")
    campaign = _campaign(world)
    start = timezone.now() + dt.timedelta(hours=1)
    newsletter.schedule(Actor(user=world.owner), campaign.pk, start)
    due = [m.due_at for m in rows(kind=MessageKind.NEWSLETTER)]
    assert len(due) == 5
    assert due[0] == start
    assert due[-1] - due[0] == dt.timedelta(minutes=2)
    work()  # nothing is due yet
    assert not _newsletters()


def test_every_newsletter_carries_one_click_unsubscribe(world: World) -> None:
    give_newsletter_consent(world.patient)
    campaign = _campaign(world)
    newsletter.schedule(Actor(user=world.owner), campaign.pk)
    work()
    [sent] = _newsletters()
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = sent.extra_headers["List-Unsubscribe"]
    assert link.startswith("<http")
    assert "/newsletter/unsubscribe/" in link
    assert link.strip("<>") in sent.body
    # No tracking: plain text, the link as written (click counting is off by default).
    assert "https://clinic.example/tips" in sent.body
    assert "<img" not in sent.body
    [row] = rows(kind=MessageKind.NEWSLETTER)
    assert "[unsubscribe link]" in row.body  # the stored copy holds no working link


def test_a_test_send_goes_to_the_editor_only(world: World) -> None:
    give_newsletter_consent(world.patient)
    campaign = _campaign(world)
    world.client(world.owner).post(reverse("campaign-test", args=[campaign.pk]))
    work()
    [sent] = [m for m in mail.outbox if "Spring news" in m.subject]
    assert sent.subject == "[Test] Spring news"
    assert sent.to == [world.owner.email]
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_cancel_stops_what_has_not_gone(world: World) -> None:
    give_newsletter_consent(world.patient)
    campaign = _campaign(world)
    newsletter.schedule(Actor(user=world.owner), campaign.pk,
                        timezone.now() + dt.timedelta(days=1))
    newsletter.cancel(Actor(user=world.owner), campaign.pk)
    assert {m.status for m in rows(kind=MessageKind.NEWSLETTER)} == {MessageStatus.CANCELLED}


def test_a_suppressed_address_is_left_out(world: World) -> None:
    give_newsletter_consent(world.patient)
    SuppressedAddress.objects.create(email=world.patient.email, reason="bounce")
    assert newsletter.audience(world.clinic, Segment()).suppressed == 1


def test_counts_delivered_and_clicks_only_when_the_clinic_counts(world: World) -> None:
    give_newsletter_consent(world.patient)
    campaign = _campaign(world)
    newsletter.schedule(Actor(user=world.owner), campaign.pk)
    work()
    counts = newsletter.counts(campaign)
    assert counts.delivered == 1
    assert counts.unsubscribes == 0
    assert counts.clicks is None
    page = world.client(world.owner).get(reverse("campaign-detail", args=[campaign.pk]))
    assert "Opens are not tracked" in page.content.decode()


def test_with_click_counting_on_links_count_clicks_not_people(world: World) -> None:
    EducationSettings.objects.create(clinic=world.clinic, count_link_clicks=True)
    give_newsletter_consent(world.patient)
    campaign = _campaign(world)
    newsletter.schedule(Actor(user=world.owner), campaign.pk)
    work()
    [sent] = _newsletters()
    tracked = next(word for word in sent.body.replace("(", " ").replace(")", " ").split()
                   if "/newsletter/link/" in word)
    response = world.client(world.front_desk).get(tracked.split("testserver")[-1]
                                                  if "testserver" in tracked
                                                  else "/" + tracked.split("/", 3)[3])
    assert response.status_code == 302
    assert response["Location"] == \
        "https://clinic.example/tips"
    assert LinkClick.objects.get(campaign=campaign).count == 1
    assert newsletter.counts(campaign).clicks == [("https://clinic.example/tips", 1)]
