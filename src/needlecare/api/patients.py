"""/api/v1/patients: find, register and read patients (staff)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Path, Query, Router, Status

from needlecare.api.auth import STAFF, actor
from needlecare.api.errors import responses
from needlecare.api.schemas import (
    MAX_ID,
    MAX_PAGE,
    NO_NUL,
    Appointment,
    CheckInItem,
    ClinicalSummary,
    ConsultationItem,
    EscalationItem,
    PatientDetail,
    PatientIn,
    PatientOut,
    PatientPage,
    PatientSummary,
    PlanItem,
    SessionItem,
)
from needlecare.chart.timeline import PatientRecord, patient_record
from needlecare.patients import services
from needlecare.patients.models import Patient
from needlecare.patients.services import PatientDetails

router = Router(tags=["patients"], auth=STAFF)


def patient_out(patient: Patient) -> PatientOut:
    return PatientOut(id=patient.pk, given_name=patient.given_name,
                      family_name=patient.family_name, date_of_birth=patient.date_of_birth,
                      phone=patient.phone, email=patient.email,
                      preferred_channel=patient.preferred_channel,
                      created_at=patient.created_at)


@router.get("/patients", response=responses({200: PatientPage}),
            summary="Find patients by name, date of birth or phone number")
def list_patients(
    request: HttpRequest,
    q: str = Query("", max_length=100, pattern=NO_NUL,
                   description="words of the name, a date of birth (YYYY-MM-DD or "
                               "DD/MM/YYYY) or digits of the phone number; empty lists all"),
    page: int = Query(1, ge=1, le=MAX_PAGE),
) -> PatientPage:
    found = services.search_patients(actor(request), q, page, count=True)
    count = found.count or 0
    return PatientPage(
        query=found.query, kind=found.kind, page=found.page.number,
        pages=max(1, -(-count // services.PAGE_SIZE)), count=count,
        results=[PatientSummary(id=p.pk, given_name=p.given_name, family_name=p.family_name,
                                date_of_birth=p.date_of_birth)
                 for p in found.page.object_list])


@router.post("/patients", response=responses({201: PatientOut}, 409),
             summary="Register a patient",
             description="A patient with the same name and date of birth answers 409 "
                         "`possible_duplicate` with the ids of the matches, unless "
                         "`confirm_duplicate` is true.")
def register_patient(request: HttpRequest, payload: PatientIn) -> Status[PatientOut]:
    details = PatientDetails(
        given_name=payload.given_name, family_name=payload.family_name,
        date_of_birth=payload.date_of_birth, phone=payload.phone, email=payload.email,
        preferred_channel=payload.preferred_channel.value)
    patient = services.register_patient(actor(request), details,
                                        confirm_duplicate=payload.confirm_duplicate)
    return Status(201, patient_out(patient))


@router.get("/patients/{patient_id}", response=responses({200: PatientDetail}),
            summary="A patient, their appointments and (for clinicians) a clinical summary")
def get_patient(request: HttpRequest,
                patient_id: int = Path(..., ge=1, le=MAX_ID)) -> PatientDetail:
    record = patient_record(actor(request), patient_id)
    return PatientDetail(patient=patient_out(record.patient),
                         appointments=_appointments(record),
                         clinical=_clinical(record) if record.clinical else None)


def _appointments(record: PatientRecord) -> list[Appointment]:
    return [Appointment(id=e.record.pk, scheduled_for=e.record.scheduled_for,
                        status=e.record.status)
            for e in record.entries if e.kind == "session"]


def _clinical(record: PatientRecord) -> ClinicalSummary:
    summary = ClinicalSummary(consultations=[], plans=[], sessions=[], checkins=[],
                              escalations=[])
    for entry in record.entries:
        r = entry.record
        if entry.kind == "consultation":
            summary.consultations.append(ConsultationItem(
                id=r.pk, created_at=r.created_at, verdict=r.verdict,
                effective_verdict=r.effective_verdict, protocol_version=r.protocol_version))
        elif entry.kind == "plan":
            summary.plans.append(PlanItem(
                id=r.pk, created_at=r.created_at, status=r.status,
                indications=list(r.indications), zones=list(r.zones),
                sessions_planned=r.sessions_planned, interval_days=r.interval_days,
                summary=entry.summary))
        elif entry.kind == "session":
            summary.sessions.append(SessionItem(
                id=r.pk, scheduled_for=r.scheduled_for, status=r.status,
                performed_on=r.performed_on, summary=entry.summary))
        elif entry.kind == "checkin":
            summary.checkins.append(CheckInItem(id=r.pk, submitted_at=r.submitted_at,
                                                level=r.level, escalation_id=r.escalation_id))
        elif entry.kind == "escalation":
            summary.escalations.append(EscalationItem(
                id=r.pk, level=r.level, status=r.status, opened_at=r.opened_at,
                deadline=r.deadline, overdue=entry.overdue))
    return summary
