"""Consent: the text a patient reads, signing with their own name, immutability, withdrawal."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from needlecare.audit.models import AuditEvent
from needlecare.care import consent_texts
from needlecare.care.models import Consent
from tests.factories import make_patient
from tests.web.care.support import client_for

pytestmark = pytest.mark.django_db


def _sign(journey: dict[str, Any], kind: str = "treatment", **data: Any) -> Any:
    payload = {"signed_name": journey["patient"].full_name, "understood": "on", **data}
    return client_for(journey["clinician"]).post(
        reverse("consent-new", args=[journey["patient"].pk]) + f"?kind={kind}", payload)


def test_the_treatment_text_sets_expectations_and_states_the_risks() -> None:
    text = consent_texts.current("treatment").text
    for phrase in ("mild sunburn", "1 to 3 days", "Swelling", "bleeding", "flaking",
                   "within 7 days", "Infection", "Cold sores", "darker skin",
                   "granulomas", "Track marks", "Scarring: rare",
                   "weeks and months", "cumulative", "cannot be reversed",
                   "about 3 months after your last session", "aftercare",
                   "withdraw this consent at any time"):
        assert phrase in text, phrase
    assert consent_texts.current("treatment").version == "treatment-2026.1"
    assert consent_texts.current("photos").version == "photos-2026.2"


def test_the_patient_reads_the_current_text_before_signing(journey: dict[str, Any]) -> None:
    page = client_for(journey["clinician"]).get(
        reverse("consent-new", args=[journey["patient"].pk]) + "?kind=treatment"
    ).content.decode()
    assert "<h2>What results to expect</h2>" in page
    assert "they cannot be reversed" in page
    assert "I have read and understood this information" in page
    assert "treatment-2026.1" in page


def test_the_name_must_be_the_patients_own(journey: dict[str, Any]) -> None:
    before = Consent.objects.count()
    response = _sign(journey, signed_name="Somebody Else")
    assert response.status_code == 200
    assert "Type your full name exactly" in response.content.decode()
    assert Consent.objects.count() == before
    assert not AuditEvent.objects.filter(action="consent.sign").exists()


def test_the_understood_box_must_be_ticked(journey: dict[str, Any]) -> None:
    before = Consent.objects.count()
    response = _sign(journey, understood="")
    assert response.status_code == 200
    assert "Tick the box" in response.content.decode()
    assert Consent.objects.count() == before


def test_photo_consent_is_separate_and_records_the_chosen_uses(
        journey: dict[str, Any]) -> None:
    page = client_for(journey["clinician"]).get(
        reverse("consent-new", args=[journey["patient"].pk]) + "?kind=photos").content.decode()
    assert "Teaching, anonymised" in page
    assert "marketing" in page

    response = _sign(journey, "photos", photo_uses=["clinical_record", "teaching"])
    consent = Consent.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert (consent.kind, consent.text_version) == ("photos", "photos-2026.2")
    assert consent.photo_uses == ["clinical_record", "teaching"]

    response = _sign(journey, "photos", photo_uses=["marketing"])
    assert response.status_code == 200
    assert "always kept in the clinical record" in response.content.decode()


def test_an_unknown_kind_is_not_found(journey: dict[str, Any]) -> None:
    response = client_for(journey["clinician"]).get(
        reverse("consent-new", args=[journey["patient"].pk]) + "?kind=tattoo")
    assert response.status_code == 404


def test_a_signed_consent_cannot_be_changed_and_shows_the_text_as_signed(
        journey: dict[str, Any]) -> None:
    response = _sign(journey)
    consent = Consent.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert consent.text == consent_texts.current("treatment").text
    consent.text = "A different text."
    with pytest.raises(ValidationError):
        consent.save()

    # The stored copy is what the page shows, whatever the current text says.
    Consent.objects.filter(pk=consent.pk).update(text="## Old wording\nThe 2025 text.")
    page = client_for(journey["clinician"]).get(response["Location"]).content.decode()
    assert "<h3>Old wording</h3>" in page
    assert "The 2025 text." in page


def test_withdrawal_needs_a_reason_and_ends_validity(journey: dict[str, Any]) -> None:
    patient = make_patient(journey["clinic"], journey["clinician"])
    journey = {**journey, "patient": patient}
    response = _sign(journey)
    consent = Consent.objects.get(patient=patient)
    client = client_for(journey["clinician"])
    url = reverse("consent-withdraw", args=[consent.pk])

    response = client.post(url, {"reason": "  "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    consent.refresh_from_db()
    assert consent.is_valid

    response = client.post(url, {"reason": "Patient changed her mind by phone."})
    assert response.status_code == 302
    consent.refresh_from_db()
    assert not consent.is_valid
    assert consent.withdrawal_recorded_by == journey["clinician"]
    assert consent.withdrawn_reason == "Patient changed her mind by phone."
    assert AuditEvent.objects.filter(action="consent.withdraw", patient=patient).count() == 1

    response = client.post(url, {"reason": "Again, twice."})
    assert "already withdrawn" in response.content.decode()
    page = client.get(reverse("consent-detail", args=[consent.pk])).content.decode()
    assert "Withdrawn" in page
    assert "no longer valid" in page
