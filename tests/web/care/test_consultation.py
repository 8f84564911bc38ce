"""Consultation and screening: the structured intake, the result page and the override."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from needlecare.audit.models import AuditEvent
from needlecare.care.models import Consultation
from tests.web.care.support import client_for, intake_post, today

pytestmark = pytest.mark.django_db


def _consult(journey: dict[str, Any], **answers: Any) -> tuple[Any, Consultation]:
    client = client_for(journey["clinician"])
    response = client.post(reverse("consultation-new", args=[journey["patient"].pk]),
                           intake_post(**answers))
    assert response.status_code == 302, response.content.decode()[:2000]
    return client, Consultation.objects.filter(patient=journey["patient"]).first()


def test_the_form_asks_skin_type_by_burning_and_tanning_and_every_question(
        journey: dict[str, Any]) -> None:
    page = client_for(journey["clinician"]).get(
        reverse("consultation-new", args=[journey["patient"].pk])).content.decode()
    assert "Always burns, never tans." in page
    assert "Never infer the skin type from appearance" in page
    assert "<legend>Conditions</legend>" in page
    assert "Active inflammatory acne in the area" in page  # vocabulary display
    assert "Papulopustular or nodular acne" in page  # its definition as help text
    assert "Yes, taking now" in page
    assert "Yes, date unknown" in page
    assert f'value="{today().isoformat()}"' in page  # assessed_on defaults to today


def test_not_asked_questions_are_listed_and_never_give_suitable(
        journey: dict[str, Any]) -> None:
    client, consultation = _consult(journey, cond_keloid_history="not_asked",
                                    med_anticoagulant="not_asked")
    assert "keloid_history" not in consultation.intake["conditions"]
    assert consultation.verdict == "suitable_with_precautions"
    page = client.get(reverse("consultation-detail", args=[consultation.pk])).content.decode()
    assert "Unanswered questions" in page
    assert "Keloid or hypertrophic scarring" in page
    assert "Anticoagulant" in page


def test_a_recent_peel_defers_with_the_date_and_is_labelled_clinic_policy(
        journey: dict[str, Any]) -> None:
    peel = today() - dt.timedelta(days=3)
    client, consultation = _consult(journey, proc_chemical_peel_light="dated",
                                    proc_chemical_peel_light_date=peel.isoformat())
    assert consultation.verdict == "defer"
    assert consultation.defer_until is not None
    assert consultation.defer_until > today()
    page = client.get(reverse("consultation-detail", args=[consultation.pk])).content.decode()
    assert "Deferred until" in page
    assert "Clinic policy" in page
    assert "Common practice: clinic handouts" in page  # the source, cited as what it is


def test_stopped_medicine_and_undated_procedure_reach_the_intake(
        journey: dict[str, Any]) -> None:
    last = today() - dt.timedelta(days=60)
    _, consultation = _consult(journey, med_isotretinoin="stopped",
                               med_isotretinoin_last_dose=last.isoformat(),
                               proc_dermal_filler="undated")
    assert consultation.intake["medications"]["isotretinoin"] == {
        "current": False, "last_dose": last.isoformat()}
    assert consultation.intake["procedures"]["dermal_filler"] is True
    assert consultation.result["reasons"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"assessed_on": "31/02/2026"}, "Enter a valid date."),
    ({"planned_date": (today() - dt.timedelta(days=1)).isoformat()},
     "cannot be planned before the consultation"),
    ({"assessed_on": (today() + dt.timedelta(days=2)).isoformat(),
      "planned_date": (today() + dt.timedelta(days=3)).isoformat()},
     "cannot be in the future"),
    ({"fitzpatrick": "7"}, "Select a valid choice."),
    ({"proc_ipl": "dated"}, "Give the date"),
    ({"med_nsaid": "current", "med_nsaid_last_dose": today().isoformat()},
     "only for a medicine that was stopped"),
    ({"zones": ["elbow"]}, "Select a valid choice."),
])
def test_bad_answers_re_render_with_a_message_and_store_nothing(
        journey: dict[str, Any], changes: dict[str, Any], message: str) -> None:
    before = Consultation.objects.count()
    response = client_for(journey["clinician"]).post(
        reverse("consultation-new", args=[journey["patient"].pk]), intake_post(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Consultation.objects.count() == before


def test_a_birth_date_after_the_consultation_is_refused_by_the_screening(
        journey: dict[str, Any]) -> None:
    patient = journey["patient"]
    patient.date_of_birth = today() + dt.timedelta(days=1)
    patient.save()
    response = client_for(journey["clinician"]).post(
        reverse("consultation-new", args=[patient.pk]), intake_post())
    assert response.status_code == 200
    assert "date_of_birth is after assessed_on" in response.content.decode()


def test_override_needs_a_reason_and_keeps_the_screening_verdict(
        journey: dict[str, Any]) -> None:
    client, consultation = _consult(journey, cond_keloid_history="yes")
    original = consultation.verdict
    url = reverse("consultation-override", args=[consultation.pk])

    response = client.post(url, {"verdict": "suitable", "reason": "fine"})
    assert response.status_code == 200
    assert "at least 10 characters" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.override_verdict == ""
    assert not AuditEvent.objects.filter(action="screening.override").exists()

    reason = "Keloid history was a single ear-piercing keloid 20 years ago."
    response = client.post(url, {"verdict": "suitable_with_precautions", "reason": reason})
    assert response.status_code == 302
    consultation.refresh_from_db()
    assert consultation.verdict == original  # the screening's verdict is kept
    assert consultation.result["verdict"] == original
    assert (consultation.override_verdict, consultation.override_reason) == (
        "suitable_with_precautions", reason)
    assert consultation.effective_verdict == "suitable_with_precautions"
    assert consultation.overridden_by == journey["clinician"]
    event = AuditEvent.objects.get(action="screening.override")
    assert event.detail == {"screening_verdict": original, "old_verdict": original,
                            "new_verdict": "suitable_with_precautions", "reason": reason}
    assert event.patient == journey["patient"]

    page = client.get(reverse("consultation-detail", args=[consultation.pk])).content.decode()
    assert "verdict:" in page
    assert reason in page
    assert "Screening verdict (kept as it was)" in page


def test_override_to_the_same_verdict_is_refused(journey: dict[str, Any]) -> None:
    client, consultation = _consult(journey)
    response = client.post(reverse("consultation-override", args=[consultation.pk]), {
        "verdict": consultation.verdict, "reason": "No change, just testing this."})
    assert response.status_code == 200
    assert "choose a different one" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.override_verdict == ""
