"""The patient's rights reach the diary: an erasure takes the diary's ways to reach the patient
(the online request's contact details, the waiting list) while the record must be kept, and
everything identifying (the request as typed, the signature drawn ahead, the notes about their
appointments) once it need not be; the appointments and pre-visit answers themselves stay."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from needlecare.diary import services
from needlecare.diary.models import (
    Appointment,
    AppointmentKind,
    BookingRequest,
    PreVisit,
    RequestStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from needlecare.rights.models import Erasure, ErasureScope
from tests.web.diary.support import Diary, london
from tests.web.diary.test_patient import phone_for
from tests.web.patients.support import client_for


@pytest.fixture
def diary_record(diary: Diary) -> Diary:
    """The patient asked online, was matched, booked a consultation with a note, signed the
    consent ahead with a finger, and waits for an earlier session."""
    BookingRequest.objects.create(
        clinic=diary.clinic, given_name="Morgan", family_name="Fairweather",
        phone="07700 900123", email="morgan@example.org", preferred_times="Mornings",
        message="Scars on my cheeks", status=RequestStatus.MATCHED, patient=diary.patient)
    appointment = diary.book(london(2026, 3, 4, 10, 0), notes="Prefers Morgan, not Ms F.")
    phone, token = phone_for(diary)
    phone.post(reverse("patient-previsit", args=[token, appointment.pk]) + "?step=skin",
               {"fitzpatrick": "3", "indications": ["acne_scars"], "zones": ["cheeks"]})
    phone.post(reverse("patient-previsit-consent", args=[token, appointment.pk]),
               {"strokes": "[[[10, 20], [30, 40]]]", "understood": "on"})
    previsit = PreVisit.objects.get(appointment=appointment)
    assert previsit.signatures.get().svg.startswith("<svg")
    services.join_waitlist(diary.actor(), diary.patient.pk,
                           diary.type(AppointmentKind.SESSION).pk, note="Fridays after 3")
    return diary


def _erase(diary: Diary) -> None:
    response = client_for(diary.owner).post(
        reverse("patient-record-erase", args=[diary.patient.pk]),
        {"confirm_name": diary.patient.full_name})
    assert response.status_code == 302


def test_while_the_record_is_kept_the_diary_loses_the_ways_to_reach_the_patient(
        diary_record: Diary) -> None:
    _erase(diary_record)
    assert Erasure.objects.get().scope == ErasureScope.CONTACT_DETAILS
    request = BookingRequest.objects.get(patient=diary_record.patient)
    assert (request.phone, request.email) == ("", "")
    assert request.given_name == "Morgan"  # kept with the record
    [entry] = WaitlistEntry.objects.filter(patient=diary_record.patient)
    assert entry.status == WaitlistStatus.REMOVED
    signature = PreVisit.objects.get(patient=diary_record.patient).signatures.get()
    assert signature.svg.startswith("<svg")


def test_past_its_retention_nothing_in_the_diary_identifies_the_patient(
        diary_record: Diary) -> None:
    answers_before = PreVisit.objects.get(patient=diary_record.patient).answers
    assert answers_before["fitzpatrick"] == 3
    with time_machine.travel(london(2035, 6, 1, 9, 0), tick=False):
        _erase(diary_record)
    assert Erasure.objects.get().scope == ErasureScope.FULL
    request = BookingRequest.objects.get(patient=diary_record.patient)
    assert "Morgan" not in (request.given_name, request.family_name)
    assert (request.preferred_times, request.message, request.date_of_birth) == ("", "", None)
    signature = PreVisit.objects.get(patient=diary_record.patient).signatures.get()
    assert signature.svg == ""
    assert signature.typed_name != diary_record.patient.full_name
    assert signature.signed_ip is None
    appointment = Appointment.objects.get(patient=diary_record.patient)
    assert appointment.notes == ""
    assert WaitlistEntry.objects.get(patient=diary_record.patient).note == ""
    # The appointment and the answers stay: they are part of the clinical record.
    assert PreVisit.objects.get(patient=diary_record.patient).answers == answers_before
