"""Builders for the education tests: a clinic with an editor, a clinician and a patient, a
published article timed to a stage, consents given through the real services, and the outbox
worker run once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needlecare.access import Actor
from needlecare.accounts.models import Clinic, Role, User
from needlecare.care.models import TreatmentSession
from needlecare.education import articles, consent
from needlecare.education.articles import ArticleDraft
from needlecare.education.models import Article, CommunicationConsent, ConsentState, Purpose
from needlecare.messaging.models import Message, MessagingSettings
from needlecare.messaging.worker import run_worker
from needlecare.patients.models import Patient
from needlecare.recovery.links import replace_link
from needlecare.recovery.models import Escalation, EscalationStatus, PatientLink
from tests.factories import (
    make_clinic,
    make_consent,
    make_consultation,
    make_patient,
    make_plan,
    make_signed_session,
    make_user,
)


@dataclass
class World:
    clinic: Clinic
    owner: User
    clinician: User
    front_desk: User
    patient: Patient
    session: TreatmentSession
    link: PatientLink
    url: str

    @property
    def token(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    def client(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


def make_world(days_ago: int = 2, **patient_fields: Any) -> World:
    """A clinic open round the clock with no quiet hours in the way of tests that run at any
    time, and a patient whose session was signed ``days_ago`` days ago."""
    clinic = make_clinic()
    MessagingSettings.objects.create(clinic=clinic, quiet_from=dt.time(0), quiet_until=dt.time(0))
    owner = make_user(clinic, Role.OWNER, email="owner@example.test", first_name="Olive")
    clinician = make_user(clinic, Role.CLINICIAN, email="clinician@example.test",
                          first_name="Casey", title="Registered nurse")
    desk = make_user(clinic, Role.FRONT_DESK, email="desk@example.test")
    patient = make_patient(clinic, clinician, **{"preferred_channel": "email",
                                                 "messages_opt_in": True, **patient_fields})
    make_consent(patient, clinician)
    plan = make_plan(make_consultation(patient, clinician), clinician)
    session = make_signed_session(plan, clinician, performed_on=timezone.localdate()
                                  - dt.timedelta(days=days_ago))
    issued = replace_link(Actor(user=clinician), patient.pk)
    return World(clinic=clinic, owner=owner, clinician=clinician, front_desk=desk,
                 patient=patient, session=session, link=issued.link, url=issued.url)


def draft(**changes: Any) -> ArticleDraft:
    values: dict[str, Any] = {
        "title": "What is normal on day 2", "summary": "Redness like mild sunburn fades.",
        "body": "## Day 2\n\nRedness like mild sunburn is normal.", "sources": "minutilli2024",
        "stage": "healing", "topics": ("aftercare",)}
    values.update(changes)
    return ArticleDraft(**values)


def published_article(world: World, **changes: Any) -> Article:
    """An article written by the owner (an editor), reviewed and published by the
    clinician."""
    article = articles.create_article(Actor(user=world.owner), draft(**changes))
    articles.submit_for_review(Actor(user=world.owner), article.pk)
    articles.review(Actor(user=world.clinician), article.pk, approve=True, publish_now=True)
    article.refresh_from_db()
    return article


def patient_actor(world: World) -> Actor:
    return Actor.for_link(PatientLink.objects.select_related("clinic").get(pk=world.link.pk))


def give_reading_consent(world: World) -> None:
    consent.set_reading_consent(patient_actor(world), True)


def give_newsletter_consent(patient: Patient) -> CommunicationConsent:
    """A confirmed newsletter consent (as if the patient had followed the link)."""
    now = timezone.now()
    return CommunicationConsent.objects.create(
        clinic_id=patient.clinic_id, patient=patient, purpose=Purpose.MARKETING,
        state=ConsentState.GIVEN, wording=consent.NEWSLETTER_WORDING,
        wording_version=consent.WORDING_VERSION, source="patient_page",
        email=patient.email, requested_at=now, confirmed_at=now)


def open_escalation(world: World, level: str = "contact_clinic",
                    status: str = EscalationStatus.OPEN,
                    opened_at: dt.datetime | None = None,
                    patient: Patient | None = None) -> Escalation:
    patient = patient or world.patient
    session = TreatmentSession.objects.filter(patient=patient).first() or world.session
    now = opened_at or timezone.now()
    return Escalation.objects.create(
        clinic=world.clinic, patient=patient, session=session, level=level, reasons=[],
        opened_at=now, deadline=now + dt.timedelta(hours=4), status=status,
        closed_at=now if status == EscalationStatus.CLOSED else None)


def work() -> int:
    return run_worker(once=True, worker="test-worker")


def rows(**filters: Any) -> list[Message]:
    return list(Message.objects.filter(**filters).order_by("due_at", "id"))


def verified_phone(world: World) -> Client:
    """The patient's phone, past the date-of-birth step."""
    phone = Client()
    born = world.patient.date_of_birth
    response = phone.post(reverse("patient-verify", args=[world.token]),
                          {"day": born.day, "month": born.month, "year": born.year})
    assert response.status_code == 302, response.content.decode()[:500]
    return phone
