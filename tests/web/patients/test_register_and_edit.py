from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from needlecare.audit.models import AuditEvent
from needlecare.patients.models import Patient
from tests.factories import make_patient
from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db


def _form(**changes: Any) -> dict[str, Any]:
    data = {"given_name": "Robin", "family_name": "Quill", "date_of_birth": "1988-03-02",
            "phone": "07700 900456", "email": "robin@example.test", "preferred_channel": "sms"}
    data.update(changes)
    return data


def test_front_desk_registers_a_patient_and_lands_on_their_page(journey: dict) -> None:
    client = client_for(journey["front_desk"])
    response = client.post(reverse("patient-new"), _form())
    patient = Patient.objects.get(family_name="Quill")
    assert response.status_code == 302
    assert response["Location"] == reverse("patient-detail", args=[patient.pk])
    assert patient.clinic == journey["clinic"]
    assert patient.created_by == journey["front_desk"]
    event = AuditEvent.objects.get(action="patient.register")
    assert event.patient == patient
    assert event.actor == journey["front_desk"]


def test_day_month_year_dates_are_understood(journey: dict) -> None:
    client_for(journey["front_desk"]).post(reverse("patient-new"),
                                           _form(date_of_birth="02/03/1988"))
    assert Patient.objects.get(family_name="Quill").date_of_birth == dt.date(1988, 3, 2)


@pytest.mark.parametrize(("changes", "message"), [
    ({"date_of_birth": "2999-01-01"}, "cannot be in the future"),
    ({"date_of_birth": "1890-01-01"}, "more than 120 years ago"),
    ({"date_of_birth": "31/02/1990"}, "day/month/year"),
    ({"given_name": "  "}, "This field is required"),
    ({"phone": "call me"}, "7 to 15 digits"),
    ({"phone": "", "preferred_channel": "sms"}, "need a mobile phone number"),
    ({"email": "", "preferred_channel": "email"}, "need an email address"),
    ({"email": "not-an-address"}, "valid email"),
])
def test_bad_details_are_explained_and_nothing_is_saved(journey: dict, changes: dict,
                                                        message: str) -> None:
    desk = client_for(journey["front_desk"])  # (signing in is audited: before counting)
    before = AuditEvent.objects.count()
    response = desk.post(reverse("patient-new"), _form(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Patient.objects.filter(family_name="Quill").exists()
    assert AuditEvent.objects.count() == before


def test_a_future_date_of_birth_is_refused_today_not_tomorrow(journey: dict) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    client = client_for(journey["front_desk"])
    client.post(reverse("patient-new"), _form(date_of_birth=tomorrow.isoformat()))
    assert not Patient.objects.filter(family_name="Quill").exists()
    client.post(reverse("patient-new"), _form(date_of_birth=timezone.localdate().isoformat()))
    assert Patient.objects.filter(family_name="Quill").exists()


def test_a_possible_duplicate_asks_for_confirmation_first(journey: dict) -> None:
    existing = make_patient(journey["clinic"], journey["clinician"], given_name="Robin",
                            family_name="Quill", date_of_birth=dt.date(1988, 3, 2))
    client = client_for(journey["front_desk"])

    # Same name in another case and spacing, same birthday: warned, nothing saved.
    response = client.post(reverse("patient-new"), _form(given_name=" robin ",
                                                          family_name="QUILL"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "already registered" in page
    assert 'name="register_anyway"' in page
    assert reverse("patient-detail", args=[existing.pk]) in page
    assert Patient.objects.filter(name_key="robin quill").count() == 1

    response = client.post(reverse("patient-new"), _form(register_anyway="on"))
    assert response.status_code == 302
    assert Patient.objects.filter(name_key="robin quill").count() == 2
    event = AuditEvent.objects.get(action="patient.register")
    assert event.detail == {"duplicate_confirmed_of": [existing.pk]}


def test_the_confirmation_box_is_not_offered_without_a_duplicate(journey: dict) -> None:
    response = client_for(journey["front_desk"]).get(reverse("patient-new"))
    assert 'name="register_anyway"' not in response.content.decode()


def test_a_namesake_at_another_clinic_is_not_a_duplicate(journey: dict) -> None:
    from tests.factories import journey_to_signed_session

    other = journey_to_signed_session()
    make_patient(other["clinic"], other["clinician"], given_name="Robin", family_name="Quill",
                 date_of_birth=dt.date(1988, 3, 2))
    response = client_for(journey["front_desk"]).post(reverse("patient-new"), _form())
    assert response.status_code == 302


def test_editing_saves_and_audits_which_fields_changed(journey: dict) -> None:
    patient = journey["patient"]
    client = client_for(journey["front_desk"])
    form = client.get(reverse("patient-edit", args=[patient.pk])).context["form"]
    data = {name: form.initial[name] for name in form.fields}
    data["date_of_birth"] = patient.date_of_birth.isoformat()
    data["phone"] = "07700 900999"

    response = client.post(reverse("patient-edit", args=[patient.pk]), data)

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.phone == "07700 900999"
    event = AuditEvent.objects.get(action="patient.update")
    assert event.patient == patient
    assert event.detail == {"changed": ["phone"], "changes": {
        "phone": {"old": "07700 900123", "new": "07700 900999"}}}


def test_an_invalid_edit_writes_nothing_and_changes_nothing(journey: dict) -> None:
    patient = journey["patient"]
    desk = client_for(journey["front_desk"])
    before = AuditEvent.objects.count()
    response = desk.post(
        reverse("patient-edit", args=[patient.pk]),
        _form(given_name="Changed", date_of_birth="2999-01-01"))
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    assert AuditEvent.objects.count() == before
    patient.refresh_from_db()
    assert patient.given_name == "Sam"


def test_an_edit_form_with_errors_writes_nothing(journey: dict) -> None:
    desk = client_for(journey["front_desk"])
    before = AuditEvent.objects.count()
    response = desk.post(
        reverse("patient-edit", args=[journey["patient"].pk]), _form(date_of_birth="soon"))
    assert response.status_code == 200
    assert AuditEvent.objects.count() == before
