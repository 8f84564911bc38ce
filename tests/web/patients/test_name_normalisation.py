"""Names are stored without invisible characters, and a look-alike name with the same date of
birth is flagged as a possible duplicate (the API's side: tests/web/api/test_look_alikes.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from needlecare.access import Actor
from needlecare.patients.models import Patient
from needlecare.patients.services import (
    PatientDetails,
    PossibleDuplicate,
    register_patient,
    search_patients,
)
from tests.factories import make_patient
from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db

BIRTHDAY = dt.date(1988, 3, 2)


def _form(**changes: str) -> dict[str, str]:
    data = {"given_name": "Robin", "family_name": "Quill", "date_of_birth": BIRTHDAY.isoformat(),
            "phone": "07700 900123", "email": "", "preferred_channel": "sms"}
    data.update(changes)
    return data


def test_a_name_with_a_cyrillic_o_is_flagged_as_a_possible_duplicate(journey: dict) -> None:
    existing = make_patient(journey["clinic"], journey["clinician"], given_name="Robin",
                            family_name="Quill", date_of_birth=BIRTHDAY)
    client = client_for(journey["front_desk"])
    response = client.post(reverse("patient-new"), _form(given_name="R\u043ebin"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "already registered" in page
    assert reverse("patient-detail", args=[existing.pk]) in page
    assert Patient.objects.filter(family_name="Quill").count() == 1


def test_zero_width_and_direction_characters_are_not_stored(journey: dict) -> None:
    patient = register_patient(Actor(user=journey["front_desk"]), PatientDetails(
        given_name="Ro\u200bbin\u202e", family_name="\ufeffQuill", date_of_birth=BIRTHDAY,
        phone="07700 900123"))
    patient.refresh_from_db()
    assert (patient.given_name, patient.family_name) == ("Robin", "Quill")
    assert patient.name_key == "robin quill"


def test_a_look_alike_with_another_birthday_is_not_a_duplicate(journey: dict) -> None:
    make_patient(journey["clinic"], journey["clinician"], given_name="Robin",
                 family_name="Quill", date_of_birth=BIRTHDAY)
    register_patient(Actor(user=journey["front_desk"]), PatientDetails(
        given_name="R\u043ebin", family_name="Quill", date_of_birth=BIRTHDAY.replace(year=1990),
        phone="07700 900123"))


def test_the_confirmed_look_alike_is_registered(journey: dict) -> None:
    make_patient(journey["clinic"], journey["clinician"], given_name="Robin",
                 family_name="Quill", date_of_birth=BIRTHDAY)
    actor = Actor(user=journey["front_desk"])
    details = PatientDetails(given_name="R\u043ebin", family_name="Quill",
                             date_of_birth=BIRTHDAY, phone="07700 900123")
    with pytest.raises(PossibleDuplicate):
        register_patient(actor, details)
    register_patient(actor, details, confirm_duplicate=True)
    assert Patient.objects.filter(name_key="robin quill").count() == 2


def test_a_search_without_accents_finds_an_accented_name(journey: dict) -> None:
    zoe = make_patient(journey["clinic"], journey["clinician"], given_name="Zoë",
                       family_name="Ñúñez", date_of_birth=BIRTHDAY)
    found = search_patients(Actor(user=journey["front_desk"]), "zoe nunez")
    assert [p.pk for p in found.page.object_list] == [zoe.pk]


def test_a_name_longer_than_the_limit_after_normalising_is_refused(journey: dict) -> None:
    # One character that NFKC spells out in 18 letters.
    response = client_for(journey["front_desk"]).post(
        reverse("patient-new"), _form(given_name="\ufdfa" * 10))
    assert response.status_code == 200
    assert "at most 100 characters" in response.content.decode()
