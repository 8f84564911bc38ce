"""Synthetic records for tests. Every name, date and number here is made up.

These build rows directly (not through services) so that each area's tests can start from
any point of the journey; the services' own tests go through the services.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from needlecare.accounts.models import Clinic, Role, User
from needlecare.care.models import (
    Consent,
    ConsentKind,
    Consultation,
    SessionStatus,
    SessionZone,
    TreatmentPlan,
    TreatmentSession,
)
from needlecare.clinical.screening import Intake, screen
from needlecare.clinical.vocabulary import ALLERGIES, CONDITIONS, MEDICATIONS, PROCEDURES
from needlecare.patients.models import Patient

PASSWORD = "correct-horse-battery-staple"
ALWAYS_OPEN = {str(day): [["00:00", "24:00"]] for day in range(7)}
_seq = itertools.count(1)


def make_clinic(**fields: Any) -> Clinic:
    n = next(_seq)
    # Open round the clock unless a test gives hours: tests run at any real time, and only the
    # tests about opening hours should depend on them.
    defaults: dict[str, Any] = {"name": f"Test Clinic {n}", "slug": f"test-clinic-{n}",
                                "phone": "020 7946 0000", "opening_hours": ALWAYS_OPEN}
    return Clinic.objects.create(**{**defaults, **fields})


def make_user(clinic: Clinic | None, role: str = Role.CLINICIAN, **fields: Any) -> User:
    n = next(_seq)
    user = User(username=fields.pop("username", f"user{n}"), clinic=clinic, role=role,
                first_name=fields.pop("first_name", "Alex"),
                last_name=fields.pop("last_name", f"Tester{n}"), **fields)
    user.set_password(PASSWORD)
    user.save()
    return user


def make_patient(clinic: Clinic, by: User, **fields: Any) -> Patient:
    n = next(_seq)
    defaults: dict[str, Any] = {"given_name": "Sam", "family_name": f"Example{n}",
                                "date_of_birth": dt.date(1990, 5, 17),
                                "phone": "07700 900123", "email": f"sam{n}@example.test"}
    return Patient.objects.create(clinic=clinic, created_by=by, **{**defaults, **fields})


def healthy_intake(**changes: Any) -> dict[str, Any]:
    """An intake with every question answered 'no'."""
    today = timezone.localdate()
    doc: dict[str, Any] = {
        "assessed_on": today.isoformat(), "planned_date": today.isoformat(),
        "fitzpatrick": 2, "indications": ["acne_scars"], "zones": ["cheeks"], "device": "pen",
        "conditions": dict.fromkeys(CONDITIONS, False),
        "medications": dict.fromkeys(MEDICATIONS, False),
        "procedures": dict.fromkeys(PROCEDURES, False),
        "allergies": dict.fromkeys(ALLERGIES, False),
    }
    doc.update(changes)
    return doc


def make_consultation(patient: Patient, by: User, intake: dict[str, Any] | None = None
                      ) -> Consultation:
    doc = Intake.model_validate(intake or healthy_intake())
    result = screen(doc)
    return Consultation.objects.create(
        clinic=patient.clinic, patient=patient, created_by=by,
        intake=doc.model_dump(mode="json", by_alias=True),
        result=result.model_dump(mode="json", by_alias=True),
        protocol_version=f"{result.protocol.name}-{result.protocol.version}",
        verdict=result.verdict.value, defer_until=result.defer_until)


def make_consent(patient: Patient, by: User, kind: str = ConsentKind.TREATMENT) -> Consent:
    return Consent.objects.create(
        clinic=patient.clinic, patient=patient, kind=kind, text_version="test-1",
        text="Synthetic consent text.", signed_name=patient.full_name,
        signed_at=timezone.now(), witnessed_by=by)


def make_plan(consultation: Consultation, by: User) -> TreatmentPlan:
    return TreatmentPlan.objects.create(
        clinic=consultation.clinic, patient=consultation.patient, consultation=consultation,
        created_by=by, indications=["acne_scars"], zones=["cheeks"], fitzpatrick=2,
        generated={}, protocol_version="microneedling-2026.1", sessions_planned=3,
        interval_days=28, depth_ranges={"cheeks": [1.5, 2.0]})


def make_signed_session(plan: TreatmentPlan, by: User, performed_on: dt.date | None = None,
                        depth: str = "1.50") -> TreatmentSession:
    performed_on = performed_on or timezone.localdate()
    session = TreatmentSession.objects.create(
        clinic=plan.clinic, patient=plan.patient, plan=plan, status=SessionStatus.SIGNED,
        scheduled_for=timezone.make_aware(dt.datetime.combine(performed_on, dt.time(10))),
        booked_by=by, performed_on=performed_on, practitioner=by, device="pen",
        device_model="Synthetic Pen 3", cartridge_lot="LOT-TEST-1",
        cartridge_expiry=performed_on + dt.timedelta(days=365), anaesthetic="lidocaine 5%",
        anaesthetic_minutes=30, products=[{"code": "hyaluronic_acid", "name": "HA glide",
                                           "lot": "HA-1"}],
        endpoint_reached="uniform pinpoint bleeding", signed_at=timezone.now(), signed_by=by)
    SessionZone.objects.create(session=session, zone="cheeks", depth_mm=depth, passes=3)
    return session


def journey_to_signed_session(clinic: Clinic | None = None) -> dict[str, Any]:
    """A clinic, one user per role, and a patient with a signed session today."""
    clinic = clinic or make_clinic()
    clinician = make_user(clinic, Role.CLINICIAN)
    patient = make_patient(clinic, clinician)
    consultation = make_consultation(patient, clinician)
    make_consent(patient, clinician)
    plan = make_plan(consultation, clinician)
    session = make_signed_session(plan, clinician)
    return {"clinic": clinic, "clinician": clinician,
            "owner": make_user(clinic, Role.OWNER),
            "front_desk": make_user(clinic, Role.FRONT_DESK),
            "patient": patient, "consultation": consultation, "plan": plan,
            "session": session}


ALL_PHOTO_USES = ["clinical_record", "shown_to_patient", "teaching", "marketing"]


def make_photo_consent(patient: Patient, by: User, uses: list[str] | None = None,
                       signed_at: dt.datetime | None = None) -> Consent:
    """A signed photo consent (the current text) allowing ``uses`` (all of them by default)."""
    return Consent.objects.create(
        clinic=patient.clinic, patient=patient, kind=ConsentKind.PHOTOS,
        text_version="photos-2026.2", text="Synthetic photo consent text.",
        photo_uses=list(uses if uses is not None else ALL_PHOTO_USES),
        signed_name=patient.full_name, signed_at=signed_at or timezone.now(), witnessed_by=by)
