"""The facts the clinical core's ``earliest_safe_date`` needs, read from the patient's record
for a treatment session: the plan, the sessions of its course (signed, and booked in the
diary), the screening's deferral, an escalation still open for the last session, and the
treatment consent. The decision itself is the core's; this module only reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from needlecare.care.models import (
    Consent,
    ConsentKind,
    PlanStatus,
    SessionStatus,
    TreatmentPlan,
    TreatmentSession,
    Verdict,
)
from needlecare.clinical.course import SafeDate, SafeDateFacts, earliest_safe_date
from needlecare.diary.models import HOLDING, Appointment, AppointmentKind
from needlecare.recovery.models import Escalation, EscalationStatus


@dataclass(frozen=True)
class CourseDates:
    """The plan and the dates of its sessions, read once per booking."""

    plan: TreatmentPlan | None
    #: Days of the course's sessions: signed (performed) and booked in the diary.
    session_days: list[dt.date]
    last_signed: TreatmentSession | None
    escalation_open: bool
    consent_from: dt.date | None
    defer_until: dt.date | None
    resolve_when: list[str]


def _screening(plan: TreatmentPlan) -> tuple[dt.date | None, list[str]]:
    consultation = plan.consultation
    if consultation.effective_verdict != Verdict.DEFER:
        return None, []
    if consultation.override_verdict:
        # A clinician's "defer" without the screening's own dates: undated.
        return None, [consultation.override_reason or "clinician's decision"]
    result = consultation.result or {}
    return consultation.defer_until, list(result.get("resolve_when", []))


def course_dates(patient_id: int, plan_id: int | None, time_zone: str, *,
                 excluding: int | None = None) -> CourseDates:
    """``excluding`` leaves out an appointment being moved."""
    zone = ZoneInfo(time_zone)
    plan = (TreatmentPlan.objects.select_related("consultation").filter(
        pk=plan_id, patient_id=patient_id).first() if plan_id is not None else None)
    consent = (Consent.objects.filter(patient_id=patient_id, kind=ConsentKind.TREATMENT,
                                      withdrawn_at__isnull=True)
               .order_by("signed_at", "id").first())
    if plan is None:
        return CourseDates(None, [], None, False,
                           consent.signed_at.astimezone(zone).date() if consent else None,
                           None, [])
    signed = list(TreatmentSession.objects.filter(
        plan_id=plan.pk, status=SessionStatus.SIGNED, performed_on__isnull=False)
        .order_by("-performed_on", "-id"))
    booked = Appointment.objects.filter(plan_id=plan.pk, type__kind=AppointmentKind.SESSION,
                                        status__in=HOLDING,
                                        treatment_session__status=SessionStatus.BOOKED)
    if excluding is not None:
        booked = booked.exclude(pk=excluding)
    days = [s.performed_on for s in signed if s.performed_on is not None]
    days += [start.astimezone(zone).date() for start in booked.values_list("starts_at",
                                                                            flat=True)]
    last = signed[0] if signed else None
    escalation_open = last is not None and Escalation.objects.filter(
        session_id=last.pk, status__in=(EscalationStatus.OPEN,
                                        EscalationStatus.ACKNOWLEDGED)).exists()
    defer_until, resolve_when = _screening(plan)
    return CourseDates(plan=plan, session_days=sorted(days), last_signed=last,
                       escalation_open=escalation_open,
                       consent_from=consent.signed_at.astimezone(zone).date() if consent
                       else None, defer_until=defer_until, resolve_when=resolve_when)


def safe_date(course: CourseDates, *, today: dt.date, day: dt.date | None = None) -> SafeDate:
    """The clinical core's earliest safe date from ``today``, counting the sessions of the
    course on or before ``day`` (all of them when ``day`` is None: the next one)."""
    plan = course.plan
    before = [d for d in course.session_days if day is None or d <= day]
    return earliest_safe_date(SafeDateFacts(
        from_date=today, last_session_date=max(before) if before else None,
        interval_days=plan.interval_days if plan is not None else None,
        defer_until=course.defer_until, resolve_when=course.resolve_when,
        escalation_open=course.escalation_open,
        active_plan=plan is not None and plan.status == PlanStatus.ACTIVE,
        consent_valid_from=course.consent_from))


def next_session_after(course: CourseDates, day: dt.date) -> dt.date | None:
    later = [d for d in course.session_days if d > day]
    return min(later) if later else None
