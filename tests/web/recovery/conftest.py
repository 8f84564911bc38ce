"""Builders for the recovery tests: a signed session some days ago, its personal link, a
phone that has passed the date-of-birth step, and check-in form answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needlecare.access import Actor
from needlecare.accounts.models import Clinic, User
from needlecare.care.models import TreatmentSession
from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.patients.models import Patient
from needlecare.recovery import links
from needlecare.recovery.models import PatientLink
from tests.factories import (
    journey_to_signed_session,
    make_consultation,
    make_patient,
    make_plan,
    make_signed_session,
)


@dataclass
class Linked:
    clinic: Clinic
    clinician: User
    owner: User
    front_desk: User
    patient: Patient
    session: TreatmentSession
    link: PatientLink
    token: str
    url: str

    def path(self, name: str = "patient-home", **kwargs: Any) -> str:
        return reverse(name, kwargs={"token": self.token, **kwargs})


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def issue(clinician: User, session: TreatmentSession) -> tuple[PatientLink, str, str]:
    issued = links.replace_link(Actor(user=clinician), session.patient_id)
    return issued.link, token_of(issued.url), issued.url


def signed_days_ago(days: int, clinic: Clinic | None = None, **session: Any) -> Linked:
    """A patient whose session was signed ``days`` days ago, with a personal link."""
    j = journey_to_signed_session(clinic)
    when = timezone.localdate() - dt.timedelta(days=days)
    if days:
        s = j["session"]
        s.performed_on = when
        s.scheduled_for = timezone.make_aware(dt.datetime.combine(when, dt.time(10)))
        s.cartridge_expiry = when + dt.timedelta(days=365)
        for field, value in session.items():
            setattr(s, field, value)
        s.save()
    link, token, url = issue(j["clinician"], j["session"])
    return Linked(clinic=j["clinic"], clinician=j["clinician"], owner=j["owner"],
                  front_desk=j["front_desk"], patient=j["patient"], session=j["session"],
                  link=link, token=token, url=url)


def another_patient(linked: Linked, days: int = 2) -> Linked:
    """A second patient of the same clinic, with their own session and link."""
    patient = make_patient(linked.clinic, linked.clinician, given_name="Robin",
                           date_of_birth=dt.date(1979, 2, 3))
    plan = make_plan(make_consultation(patient, linked.clinician), linked.clinician)
    session = make_signed_session(plan, linked.clinician,
                                  performed_on=timezone.localdate() - dt.timedelta(days=days))
    link, token, url = issue(linked.clinician, session)
    return Linked(clinic=linked.clinic, clinician=linked.clinician, owner=linked.owner,
                  front_desk=linked.front_desk, patient=patient, session=session, link=link,
                  token=token, url=url)


def dob_data(d: dt.date) -> dict[str, str]:
    return {"day": str(d.day), "month": str(d.month), "year": str(d.year)}


def verified_client(linked: Linked, client: Client | None = None) -> Client:
    client = client or Client()
    response = client.post(linked.path("patient-verify"), dob_data(linked.patient.date_of_birth))
    assert response.status_code == 302, response.content
    return client


def answers(symptoms: Mapping[str, tuple[int, str]] | None = None,
            flags: Iterable[str] = (), note: str = "") -> dict[str, str]:
    """The check-in form as a patient fills it: every warning sign answered."""
    flags = set(flags)
    data = {f"flag_{code}": "yes" if code in flags else "no" for code in RED_FLAGS}
    for code, (severity, trend) in (symptoms or {}).items():
        data[f"{code}_present"] = "on"
        data[f"{code}_severity"] = str(severity)
        data[f"{code}_trend"] = trend
    data["note"] = note
    return data


NORMAL_DAY_2 = {"redness": (3, "better"), "swelling": (2, "better"), "tightness": (2, "same")}


@pytest.fixture
def linked(db: None) -> Linked:
    return signed_days_ago(2)


