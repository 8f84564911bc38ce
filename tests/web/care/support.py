"""Helpers for the clinic-side tests: signed-in clients, form payloads and a plan ready to
chart."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone

from needlecare.accounts.models import Role
from needlecare.audit.models import AuditEvent
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.clinical import vocabulary as vocab
from tests.factories import make_clinic, make_consent, make_consultation, make_patient, make_user


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def today() -> dt.date:
    return timezone.localdate()


def intake_post(**changes: Any) -> dict[str, Any]:
    """The consultation form as a clinician fills it: every question answered "no"."""
    data: dict[str, Any] = {
        "assessed_on": today().isoformat(), "planned_date": today().isoformat(),
        "fitzpatrick": "2", "indications": ["acne_scars"], "zones": ["cheeks"],
        "device": "pen",
    }
    for code in vocab.CONDITIONS:
        data[f"cond_{code}"] = "no"
    for code in vocab.ALLERGIES:
        data[f"allergy_{code}"] = "no"
    for code in vocab.MEDICATIONS:
        data[f"med_{code}"] = "no"
        data[f"med_{code}_last_dose"] = ""
    for code in vocab.PROCEDURES:
        data[f"proc_{code}"] = "no"
        data[f"proc_{code}_date"] = ""
    data.update(changes)
    return data


def chart_post(zones: list[dict[str, Any]] | None = None, **changes: Any) -> dict[str, Any]:
    """A complete chart: everything signing needs, for the cheeks at 1.5 mm."""
    zones = zones if zones is not None else [{"zone": "cheeks", "depth_mm": "1.50",
                                              "passes": "3", "depth_reason": ""}]
    data: dict[str, Any] = {
        "performed_on": today().isoformat(), "practitioner": "", "device": "pen",
        "device_model": "Synthetic Pen 3", "cartridge_lot": "CART-2026-A",
        "cartridge_expiry": (today() + dt.timedelta(days=200)).isoformat(),
        "anaesthetic": "lidocaine 5%", "anaesthetic_minutes": "30",
        "endpoint_reached": "uniform pinpoint bleeding",
        "product_hyaluronic_acid": "on", "product_hyaluronic_acid_name": "HA glide",
        "product_hyaluronic_acid_lot": "HA-77",
        "immediate_reaction": "expected erythema", "notes": "", "interval_reason": "",
        "zones-TOTAL_FORMS": str(len(zones)), "zones-INITIAL_FORMS": str(len(zones)),
        "zones-MIN_NUM_FORMS": "0", "zones-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(zones):
        for key, value in row.items():
            data[f"zones-{n}-{key}"] = value
    data.update(changes)
    return data


def book(plan: Any, by: Any, when: dt.datetime | None = None) -> TreatmentSession:
    return TreatmentSession.objects.create(
        clinic=plan.clinic, patient=plan.patient, plan=plan, status=SessionStatus.BOOKED,
        scheduled_for=when or timezone.now(), booked_by=by)


def fresh_clinic() -> dict[str, Any]:
    """A clinic with one user per role and a healthy patient with a treatment consent."""
    clinic = make_clinic()
    clinician = make_user(clinic, Role.CLINICIAN)
    patient = make_patient(clinic, clinician)
    return {"clinic": clinic, "clinician": clinician, "owner": make_user(clinic, Role.OWNER),
            "front_desk": make_user(clinic, Role.FRONT_DESK), "patient": patient,
            "consultation": make_consultation(patient, clinician),
            "consent": make_consent(patient, clinician)}


def audit_actions(**filters: Any) -> list[str]:
    return list(AuditEvent.objects.filter(**filters).order_by("id").values_list("action",
                                                                                 flat=True))
