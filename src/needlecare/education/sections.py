"""The education app's sections of the patient's phone home page (``needlecare.sections``):
"for you now" (order 60) and the newsletter (order 70)."""

from __future__ import annotations

from typing import Any

from needlecare import clock
from needlecare.education import consent, reading
from needlecare.education.models import Stage
from needlecare.patients.models import Patient


def reading_section(actor: Any, patient: Patient) -> dict[str, Any] | None:
    stage, articles = reading.for_you_now(patient, clock.localdate())
    consents = consent.patient_consents(patient.pk)
    if stage is None and not articles:
        return None
    return {"stage": Stage(stage).label if stage else "", "articles": articles,
            "clinic_slug": patient.clinic.slug, "reading_given": consents.reading_given,
            "wording": consent.READING_WORDING}


def newsletter_section(actor: Any, patient: Patient) -> dict[str, Any] | None:
    consents = consent.patient_consents(patient.pk)
    return {"state": consents.newsletter_state, "has_email": bool(patient.email),
            "wording": consent.NEWSLETTER_WORDING,
            "confirm_hours": consent.confirm_hours()}
