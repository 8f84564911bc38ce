"""The clinic side of the journey, through the pages a clinician uses: consultation and
screening, consent, plan, booking, chart, signature, aftercare."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from needlecare.accounts.models import Role
from needlecare.care.aftercare import aftercare_document, signed_session_facts
from needlecare.care.models import (
    AftercareRecord,
    Consent,
    Consultation,
    SessionStatus,
    TreatmentPlan,
    TreatmentSession,
)
from tests.factories import make_clinic, make_patient, make_user
from tests.web.care.support import audit_actions, chart_post, client_for, intake_post, today

pytestmark = pytest.mark.django_db


def test_a_clinician_takes_a_patient_from_consultation_to_a_signed_session() -> None:
    clinic = make_clinic()
    clinician = make_user(clinic, Role.CLINICIAN)
    front_desk = make_user(clinic, Role.FRONT_DESK)
    patient = make_patient(clinic, front_desk, given_name="Robin", family_name="Ashdown")
    client = client_for(clinician)

    # Consultation: a history of cold sores and skin type IV give two precautions.
    response = client.post(reverse("consultation-new", args=[patient.pk]), intake_post(
        fitzpatrick="4", cond_cold_sore_history="yes"))
    consultation = Consultation.objects.get(patient=patient)
    assert response.status_code == 302
    assert response["Location"] == reverse("consultation-detail", args=[consultation.pk])
    assert consultation.verdict == "suitable_with_precautions"
    assert consultation.protocol_version == "microneedling-2026.2"
    assert consultation.intake["date_of_birth"] == patient.date_of_birth.isoformat()

    page = client.get(response["Location"]).content.decode()
    assert "Suitable with precautions" in page
    assert "History of cold sores" in page
    assert "reactivation risk" in page  # the clinician's text
    assert "talk with you about preventing a flare" in page  # the patient's text
    assert "Vaghela D" in page  # a cited source
    assert "https://pubmed.ncbi.nlm.nih.gov/34448760/" in page  # a PMID made a link

    # Consent, typed by the patient on the clinic's device.
    response = client.post(reverse("consent-new", args=[patient.pk]) + "?kind=treatment",
                           {"signed_name": "  robin   ASHDOWN ", "understood": "on"},
                           HTTP_USER_AGENT="Tablet/1.0")
    consent = Consent.objects.get(patient=patient)
    assert response["Location"] == reverse("consent-detail", args=[consent.pk])
    assert (consent.text_version, consent.witnessed_by, consent.signed_user_agent) == (
        "treatment-2026.1", clinician, "Tablet/1.0")
    assert consent.signed_ip == "127.0.0.1"

    # Plan from the consultation.
    response = client.post(reverse("plan-new", args=[consultation.pk]),
                           {"indications": ["acne_scars"], "zones": ["cheeks"]})
    plan = TreatmentPlan.objects.get(patient=patient)
    assert response["Location"] == reverse("plan-detail", args=[plan.pk])
    # Skin type IV caps the cheeks at the darker-skin maximum.
    assert plan.depth_ranges == {"cheeks": [1.5, 1.5]}
    assert (plan.sessions_planned, plan.interval_days) == (6, 28)

    # The front desk books the session in the diary, from the plan's booking page.
    tomorrow = today() + dt.timedelta(days=1)
    response = client_for(front_desk).post(reverse("session-book", args=[plan.pk]), {
        "practitioner": clinician.pk, "starts_at": f"{tomorrow.isoformat()}T10:30"})
    session = TreatmentSession.objects.get(plan=plan)
    assert response["Location"] == reverse("session-detail", args=[session.pk])
    assert session.status == SessionStatus.BOOKED

    # The clinician charts a draft, then signs.
    response = client.post(reverse("session-detail", args=[session.pk]), chart_post())
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED
    assert session.cartridge_lot == "CART-2026-A"

    # Signing asks for the screening's two precautions first, each by what it is about.
    response = client.post(reverse("session-sign", args=[session.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "the precaution about History of cold sores is not recorded" in page
    assert "the precaution about Fitzpatrick IV is not recorded" in page
    response = client.post(reverse("session-detail", args=[session.pk]), chart_post(
        precaution_cold_sore_history="done",
        precaution_cold_sore_history_note="Aciclovir from 2 days before",
        precaution_darker_skin="done", precaution_darker_skin_note=""))
    assert response.status_code == 302

    response = client.post(reverse("session-sign", args=[session.pk]))
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.SIGNED
    assert (session.signed_by, session.consent) == (clinician, consent)
    assert session.practitioner == clinician  # left empty on the chart: the signer

    record = AftercareRecord.objects.get(session=session)
    assert record.protocol_version == "microneedling-2026.2"
    plan, version = aftercare_document(session)
    assert version == "microneedling-2026.2"
    assert [d["day"] for d in plan["days"]] == list(range(15))
    assert plan["days"][0]["date"] == today().isoformat()
    assert plan["session"]["fitzpatrick"] == 4
    assert plan["session"]["products"] == ["hyaluronic_acid"]

    facts = signed_session_facts(session)
    assert (facts.date, facts.deepest_depth_mm, facts.zones) == (today(), 1.5, ["cheeks"])

    # One audit row per change and per page read, none for the redirects in between.
    assert audit_actions(patient=patient) == [
        "consultation.create", "consultation.view", "consent.sign", "plan.create",
        "appointment.book", "appointment.booked", "session.chart", "session.view",
        "session.chart", "session.sign"]

    page = client.get(reverse("session-detail", args=[session.pk])).content.decode()
    assert "Signed by" in page
    assert "Aftercare plan" in page
    assert 'name="cartridge_lot"' not in page  # read-only once signed
