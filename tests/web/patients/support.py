"""Builders for the records the shared factories do not make yet (aftercare, check-ins,
escalations, booked and cancelled sessions), and a signed-in client."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone

from needlecare.care.models import AftercareRecord, SessionStatus, TreatmentSession
from needlecare.recovery.models import CheckIn, Escalation, EscalationStatus
from tests.factories import make_consent, make_consultation, make_plan, make_signed_session


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_booked_session(plan: Any, by: Any, *, status: str = SessionStatus.BOOKED,
                        days_ahead: int = 7) -> TreatmentSession:
    return TreatmentSession.objects.create(
        clinic=plan.clinic, patient=plan.patient, plan=plan, status=status, booked_by=by,
        scheduled_for=timezone.now() + dt.timedelta(days=days_ahead))


def make_aftercare(session: TreatmentSession) -> AftercareRecord:
    return AftercareRecord.objects.create(session=session, plan={"days": []},
                                          protocol_version="microneedling-2026.1")


def make_checkin(session: TreatmentSession, level: str = "expected", n: int = 0) -> CheckIn:
    return CheckIn.objects.create(
        clinic=session.clinic, patient=session.patient, session=session,
        submitted_at=timezone.now() - dt.timedelta(minutes=n), answers={}, result={},
        level=level, protocol_version="microneedling-2026.1", fingerprint=f"fp-{n}")


def make_escalation(session: TreatmentSession, level: str = "urgent", *,
                    deadline: dt.datetime | None = None,
                    status: str = EscalationStatus.OPEN) -> Escalation:
    now = timezone.now()
    return Escalation.objects.create(
        clinic=session.clinic, patient=session.patient, session=session, level=level,
        reasons=[{"code": "pus"}], opened_at=now - dt.timedelta(hours=1),
        deadline=deadline or now + dt.timedelta(hours=4), status=status)


def add_history(journey: dict[str, Any], count: int) -> None:
    """``count`` more records of every kind on the journey's patient."""
    patient, clinician = journey["patient"], journey["clinician"]
    for n in range(count):
        consultation = make_consultation(patient, clinician)
        make_consent(patient, clinician)
        plan = make_plan(consultation, clinician)
        session = make_signed_session(plan, clinician)
        make_booked_session(plan, clinician)
        make_aftercare(session)
        make_checkin(session, "contact_clinic", n)
        make_escalation(session, "contact_clinic")
