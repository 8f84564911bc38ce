"""A clinic for the outcomes tests: London time, one user per role, an opted-in patient with a
consent and a plan of three sessions 28 days apart; sessions signed through the services on
chosen days (so the outcomes app's handlers run as they do in the clinic)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.db import transaction
from django.test import Client

from needlecare.access import Actor
from needlecare.accounts.models import Clinic, Role, User
from needlecare.care import services as care
from needlecare.care.models import Consent, Consultation, TreatmentPlan, TreatmentSession
from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.patients.models import Patient
from needlecare.recovery import links
from needlecare.recovery import services as recovery
from needlecare.recovery.models import PatientLink
from tests.factories import make_clinic, make_consent, make_consultation, make_patient, make_user

LONDON = ZoneInfo("Europe/London")


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


@dataclass
class World:
    clinic: Clinic
    clinician: User
    owner: User
    front_desk: User
    patient: Patient
    consultation: Consultation
    plan: TreatmentPlan

    def actor(self, user: User | None = None) -> Actor:
        return Actor(user=user or self.clinician)

    def client(self, user: User | None = None) -> Client:
        client = Client()
        client.force_login(user or self.clinician)
        return client


def make_world(*, clinic: Clinic | None = None, sessions_planned: int = 3,
               indications: tuple[str, ...] = ("acne_scars",),
               intake: dict[str, Any] | None = None, given_name: str = "Sam") -> World:
    clinic = clinic or make_clinic(time_zone="Europe/London")
    clinician = make_user(clinic, Role.CLINICIAN, email="clinician@example.test",
                          first_name="Casey", last_name="Clinician")
    owner = make_user(clinic, Role.OWNER, email="owner@example.test", first_name="Olive",
                      last_name="Owner")
    front_desk = make_user(clinic, Role.FRONT_DESK)
    patient = make_patient(clinic, clinician, given_name=given_name, preferred_channel="email",
                           messages_opt_in=True)
    consultation = make_consultation(patient, clinician, intake)
    consent = make_consent(patient, clinician)
    # Signed long before any day a test moves the clock to.
    Consent.objects.filter(pk=consent.pk).update(signed_at=london(2025, 1, 6, 9))
    plan = TreatmentPlan.objects.create(
        clinic=clinic, patient=patient, consultation=consultation, created_by=clinician,
        indications=list(indications), zones=["cheeks"], fitzpatrick=2, generated={},
        protocol_version="microneedling-2026.2", sessions_planned=sessions_planned,
        interval_days=28, depth_ranges={"cheeks": [1.5, 2.0]})
    return World(clinic=clinic, clinician=clinician, owner=owner, front_desk=front_desk,
                 patient=patient, consultation=consultation, plan=plan)


def add_patient(world: World, given_name: str, *,
                indications: tuple[str, ...] = ("acne_scars",)) -> World:
    """Another patient of the same clinic and staff, with their own consultation, consent and
    plan."""
    patient = make_patient(world.clinic, world.clinician, given_name=given_name,
                           preferred_channel="email", messages_opt_in=True)
    consultation = make_consultation(patient, world.clinician)
    consent = make_consent(patient, world.clinician)
    Consent.objects.filter(pk=consent.pk).update(signed_at=london(2025, 1, 6, 9))
    plan = TreatmentPlan.objects.create(
        clinic=world.clinic, patient=patient, consultation=consultation,
        created_by=world.clinician, indications=list(indications), zones=["cheeks"],
        fitzpatrick=2, generated={}, protocol_version="microneedling-2026.2",
        sessions_planned=3, interval_days=28, depth_ranges={"cheeks": [1.5, 2.0]})
    return World(clinic=world.clinic, clinician=world.clinician, owner=world.owner,
                 front_desk=world.front_desk, patient=patient, consultation=consultation,
                 plan=plan)


def chart(day: dt.date, depth: str = "1.50", reason: str = "",
          interval_reason: str = "") -> care.ChartData:
    return care.ChartData(
        performed_on=day, device="pen", device_model="Synthetic Pen 3",
        cartridge_lot=f"CART-{day:%m%d}", cartridge_expiry=day + dt.timedelta(days=200),
        zones=(care.ZoneRow("cheeks", Decimal(depth), 3, reason),),
        products=({"code": "hyaluronic_acid", "name": "HA glide", "lot": "HA-77"},),
        endpoint_reached="uniform pinpoint bleeding", interval_reason=interval_reason)


def sign_on(world: World, day: dt.date, *, by: User | None = None, depth: str = "1.50",
            reason: str = "", interval_reason: str = "",
            plan: TreatmentPlan | None = None) -> TreatmentSession:
    """Book and sign a session performed on ``day`` (the clock is at 10:00 that day)."""
    plan = plan or world.plan
    with time_machine.travel(london(day.year, day.month, day.day, 10), tick=False):
        with transaction.atomic():  # what the diary does once its booking rules pass
            session = care.open_booked_session(plan.pk, london(day.year, day.month, day.day, 10),
                                               world.front_desk)
        return care.sign_session(Actor(user=by or world.clinician), session.pk,
                                 chart(day, depth, reason, interval_reason))


def link_of(world: World) -> PatientLink:
    found = PatientLink.objects.filter(patient=world.patient, revoked_at__isnull=True).first()
    if found is None:
        found = links.replace_link(world.actor(), world.patient.pk).link
    return PatientLink.objects.select_related("clinic", "patient").get(pk=found.pk)


def check_in_at(world: World, moment: dt.datetime,
                symptoms: dict[str, tuple[int, str]] | None = None,
                flags: tuple[str, ...] = ()) -> Any:
    """The patient checks in at ``moment`` about their latest signed session."""
    link = link_of(world)
    answers = {
        "symptoms": {code: {"severity": severity, "trend": trend}
                     for code, (severity, trend) in (symptoms if symptoms is not None else {
                         "redness": (2, "better")}).items()},
        "red_flags": {code: code in flags for code in RED_FLAGS},
        "note": "",
    }
    with time_machine.travel(moment, tick=False):
        return recovery.submit_checkin(Actor.for_link(link), answers)


def issue_link(world: World) -> tuple[PatientLink, str]:
    """A new personal link for the patient, and its token."""
    issued = links.replace_link(world.actor(), world.patient.pk)
    return issued.link, issued.url.rstrip("/").rsplit("/", 1)[-1]


def verified_phone(world: World, token: str) -> Client:
    """A phone that has given the patient's date of birth on their link."""
    from django.urls import reverse

    client = Client()
    born = world.patient.date_of_birth
    response = client.post(reverse("patient-verify", args=[token]), {
        "day": str(born.day), "month": str(born.month), "year": str(born.year)})
    assert response.status_code == 302, response.content
    return client
