"""`needlecare demo`: the synthetic demo clinic, loaded through the services."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from needlecare.accounts.models import Clinic, User
from needlecare.audit import chain
from needlecare.audit.models import AuditEvent
from needlecare.care.models import Consent, Consultation, TreatmentPlan, TreatmentSession
from needlecare.patients.models import Patient
from needlecare.recovery.models import (
    CheckIn,
    Escalation,
    EscalationNote,
    EscalationStatus,
    PatientLink,
)
from needlecare.web import demo_data

pytestmark = pytest.mark.django_db

# Each kind of patient-data row, and the audit action of the service that makes one.
CREATED_BY = {
    Patient: "patient.register",
    Consultation: "consultation.create",
    Consent: "consent.sign",
    TreatmentPlan: "plan.create",
    TreatmentSession: "session.book",
    PatientLink: "link.create",
    CheckIn: "checkin.submit",
    Escalation: "escalation.open",
}


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in
            (Clinic, User, Patient, Consultation, Consent, TreatmentPlan, TreatmentSession,
             CheckIn, Escalation, EscalationNote)}


def test_the_demo_loads_a_clinic_at_every_stage_and_prints_the_logins() -> None:
    output = run_demo()

    clinic = Clinic.objects.get(name="Demo Skin Clinic")
    assert clinic.phone == "020 7946 0000"
    assert Patient.objects.filter(clinic=clinic).count() >= 30
    for member in demo_data.STAFF:
        assert member.username in output
        assert User.objects.get(username=member.username).check_password(
            demo_data.DEMO_PASSWORD)
    assert demo_data.DEMO_PASSWORD in output
    assert "http://127.0.0.1:8000/" in output

    verdicts = set(Consultation.objects.values_list("verdict", flat=True))
    assert verdicts == {"suitable", "suitable_with_precautions", "defer", "not_suitable"}
    days = {s.performed_on and (s.signed_at.date() - s.performed_on).days
            for s in TreatmentSession.objects.filter(status="signed")}
    assert days == {0}  # each session signed on the day it was done
    assert TreatmentSession.objects.filter(status="booked").exists()
    assert set(CheckIn.objects.values_list("level", flat=True)) == {
        "expected", "contact_clinic", "urgent", "emergency"}

    open_levels = set(Escalation.objects.filter(status=EscalationStatus.OPEN)
                      .values_list("level", flat=True))
    assert len(open_levels) >= 2
    assert Escalation.objects.filter(status=EscalationStatus.CLOSED).exclude(outcome="").exists()
    assert Escalation.objects.filter(status=EscalationStatus.OPEN,
                                     deadline__lt=timezone.now()).exists()  # one overdue


def test_the_demo_data_are_synthetic() -> None:
    run_demo()
    for patient in Patient.objects.all():
        assert patient.email.endswith("@example.test")
        assert patient.phone.startswith("07700 900")


def test_every_patient_data_row_has_its_audit_trail() -> None:
    run_demo()
    audited = Counter(AuditEvent.objects.filter(patient__isnull=False)
                      .values_list("patient_id", "action"))
    for model, action in CREATED_BY.items():
        rows = Counter(model.objects.values_list("pk" if model is Patient else "patient_id",
                                                 flat=True))
        assert rows, model
        for patient_id, n in rows.items():
            assert audited[(patient_id, action)] >= n, (model.__name__, patient_id, action)
    signed = TreatmentSession.objects.filter(status="signed").values_list("patient_id", flat=True)
    for patient_id in signed:
        assert audited[(patient_id, "session.sign")] >= 1


def test_running_it_again_changes_nothing_but_the_try_me_link() -> None:
    run_demo()
    before = counts()
    output = run_demo()
    assert "Already loaded" in output
    assert counts() == before
    # The printed link is fresh; the one before it no longer works.
    links = PatientLink.objects.filter(patient__given_name="Robin",
                                       patient__family_name="Ashdown")
    assert links.filter(revoked_at__isnull=True).count() == 1
    assert "/p/" in output


def test_reset_rebuilds_it() -> None:
    run_demo()
    before = counts()
    first_patient = Patient.objects.order_by("pk").first()
    run_demo("--reset")
    assert counts() == before
    assert not Patient.objects.filter(pk=first_patient.pk).exists()


def test_the_demo_refuses_to_run_in_production(settings: Any) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        run_demo()
    assert not Clinic.objects.exists()


def test_demo_staff_sign_in_with_the_documented_password_alone() -> None:
    run_demo()
    for member in demo_data.STAFF:
        client = Client()
        response = client.post("/login/", {"username": member.username,
                                           "password": demo_data.DEMO_PASSWORD})
        assert response.status_code == 302
        assert client.get(response["Location"], follow=True).status_code == 200
        assert "One more step" not in client.get("/patients/").content.decode()


def test_a_sealed_demo_verifies_and_resets() -> None:
    run_demo()
    chain.seal_all()
    assert chain.verify().broken is None
    run_demo("--reset")
    chain.seal_all()
    assert chain.verify().broken is None
