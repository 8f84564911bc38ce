"""A treatment plan as a course: where it stands, when the next session may be, and its
summary when it ends.

The arithmetic is the clinical core's (``clinical.course``: ``course_progress`` and
``earliest_safe_date``, the same function the diary's booking rules call); this module reads
what it depends on from the records: the plan's signed sessions, the consultation's screening
(with a clinician's override), the patient's treatment consent and an escalation still open
for the last session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from needlecare import clock
from needlecare.access import Actor, Permission
from needlecare.care.models import (
    Consent,
    ConsentKind,
    Consultation,
    PlanStatus,
    SessionStatus,
    TreatmentPlan,
    TreatmentSession,
)
from needlecare.clinical.course import (
    CourseFacts,
    CourseProgress,
    SafeDate,
    SafeDateFacts,
    course_progress,
    earliest_safe_date,
)
from needlecare.clinical.expectations import StageExpectations, expectations_for, stage_of
from needlecare.clinical.protocol.outcomes_loader import default_outcomes
from needlecare.outcomes.models import (
    AdverseEvent,
    InvitationStatus,
    OutcomeInvitation,
    OutcomeRecord,
)
from needlecare.patients.access import access_patient, access_record
from needlecare.patients.models import Patient
from needlecare.recovery.models import Escalation, EscalationStatus

ACTIVE_ESCALATION = (EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED)


def clinic_today(time_zone: str, now: dt.datetime | None = None) -> dt.date:
    return (now or clock.now()).astimezone(ZoneInfo(time_zone)).date()


def _screening_hold(consultation: Consultation) -> tuple[dt.date | None, list[str]]:
    """The deferral a course waits for: the screening's, unless a clinician overrode it.

    An override *to* "defer" carries no date, so it waits for the clinician (undated)."""
    if consultation.effective_verdict != "defer":
        return None, []
    if consultation.override_verdict:
        return None, [consultation.override_reason or "clinician's deferral"]
    resolve = list((consultation.result or {}).get("resolve_when", []))
    return consultation.defer_until, resolve


def safe_date_facts(plan: TreatmentPlan, signed: Sequence[dt.date], today: dt.date, *,
                    consent: Consent | None, escalation_open: bool,
                    time_zone: str) -> SafeDateFacts:
    defer_until, resolve_when = _screening_hold(plan.consultation)
    consent_from = (consent.signed_at.astimezone(ZoneInfo(time_zone)).date()
                    if consent is not None else None)
    return SafeDateFacts(
        from_date=today, last_session_date=max(signed) if signed else None,
        interval_days=plan.interval_days, defer_until=defer_until, resolve_when=resolve_when,
        escalation_open=escalation_open, active_plan=plan.status == PlanStatus.ACTIVE,
        consent_valid_from=consent_from)


@dataclass
class MeasureTrend:
    """One measure over the course: its baseline, its latest record and the change."""

    measure: str
    name: str
    baseline: OutcomeRecord | None
    latest: OutcomeRecord
    count: int


@dataclass
class Course:
    plan: TreatmentPlan
    sessions: list[TreatmentSession]
    progress: CourseProgress
    safe: SafeDate | None
    today: dt.date
    records: list[OutcomeRecord] = field(default_factory=list)
    trends: list[MeasureTrend] = field(default_factory=list)
    adverse_events: list[AdverseEvent] = field(default_factory=list)
    invitations: list[OutcomeInvitation] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.progress.complete

    @property
    def last_session(self) -> TreatmentSession | None:
        return self.sessions[-1] if self.sessions else None

    def summary(self) -> dict[str, Any]:
        """The course summary shown when it has ended (and while it runs, so far)."""
        answered = sum(i.status == InvitationStatus.ANSWERED for i in self.invitations)
        return {
            "sessions": self.progress.sessions_done, "planned": self.progress.sessions_planned,
            "first": self.sessions[0].performed_on if self.sessions else None,
            "last": self.last_session.performed_on if self.last_session else None,
            "on_time": self.progress.on_time, "early": self.progress.early,
            "late": self.progress.late,
            "adverse_events": len(self.adverse_events),
            "serious_adverse_events": sum(a.serious for a in self.adverse_events),
            "follow_ups": len(self.invitations), "follow_ups_answered": answered,
        }


def _trends(records: Iterable[OutcomeRecord]) -> list[MeasureTrend]:
    measures = default_outcomes().measures
    by_measure: dict[str, list[OutcomeRecord]] = {}
    for record in records:
        by_measure.setdefault(record.measure, []).append(record)
    trends = []
    for key, rows in by_measure.items():
        rows.sort(key=lambda r: (r.assessed_on, r.pk))
        measure = measures.get(key)
        baseline = rows[0] if measure is not None and measure.change == "from_baseline" \
            and rows[0].point == "baseline" else None
        trends.append(MeasureTrend(measure=key, name=measure.name if measure else key,
                                   baseline=baseline, latest=rows[-1], count=len(rows)))
    return trends


def build_courses(plans: Sequence[TreatmentPlan], *, time_zone: str,
                  now: dt.datetime | None = None) -> list[Course]:
    """The courses of ``plans`` (one patient's), in a fixed number of queries."""
    if not plans:
        return []
    today = clinic_today(time_zone, now)
    plan_ids = [p.pk for p in plans]
    patient_ids = {p.patient_id for p in plans}
    sessions: dict[int, list[TreatmentSession]] = {pk: [] for pk in plan_ids}
    for session in (TreatmentSession.objects.filter(plan_id__in=plan_ids,
                                                    status=SessionStatus.SIGNED)
                    .select_related("practitioner").order_by("performed_on", "id")):
        sessions[session.plan_id].append(session)
    records: dict[int, list[OutcomeRecord]] = {pk: [] for pk in plan_ids}
    for record in OutcomeRecord.objects.filter(plan_id__in=plan_ids).order_by(
            "assessed_on", "id"):
        records[record.plan_id].append(record)
    events: dict[int, list[AdverseEvent]] = {pk: [] for pk in plan_ids}
    for ae in AdverseEvent.objects.filter(session__plan_id__in=plan_ids).select_related(
            "session"):
        events[ae.session.plan_id].append(ae)
    invitations: dict[int, list[OutcomeInvitation]] = {pk: [] for pk in plan_ids}
    for invitation in OutcomeInvitation.objects.filter(plan_id__in=plan_ids):
        invitations[invitation.plan_id].append(invitation)
    consents = {c.patient_id: c for c in Consent.objects.filter(
        patient_id__in=patient_ids, kind=ConsentKind.TREATMENT, withdrawn_at__isnull=True,
        signed_at__lte=now or clock.now()).order_by("signed_at", "id")}
    last_ids = [s[-1].pk for s in sessions.values() if s]
    open_for = set(Escalation.objects.filter(session_id__in=last_ids,
                                             status__in=ACTIVE_ESCALATION)
                   .values_list("session_id", flat=True))
    courses = []
    for plan in plans:
        signed = [s.performed_on for s in sessions[plan.pk] if s.performed_on is not None]
        facts = CourseFacts(sessions_planned=plan.sessions_planned, session_dates=signed,
                            interval_days=plan.interval_days)
        safe = None
        if plan.status == PlanStatus.ACTIVE and len(signed) < plan.sessions_planned:
            safe = earliest_safe_date(safe_date_facts(
                plan, signed, today, consent=consents.get(plan.patient_id),
                escalation_open=bool(sessions[plan.pk])
                and sessions[plan.pk][-1].pk in open_for, time_zone=time_zone))
        courses.append(Course(
            plan=plan, sessions=sessions[plan.pk], progress=course_progress(facts, safe),
            safe=safe, today=today, records=records[plan.pk],
            trends=_trends(records[plan.pk]), adverse_events=events[plan.pk],
            invitations=invitations[plan.pk]))
    return courses


def _plans(patient_id: int) -> list[TreatmentPlan]:
    # Active plans first, then the most recent.
    plans = list(TreatmentPlan.objects.filter(patient_id=patient_id).select_related(
        "consultation"))
    plans.sort(key=lambda p: (p.status != PlanStatus.ACTIVE, -p.created_at.timestamp()))
    return plans


def patient_courses(actor: Actor, patient_id: int) -> list[Course]:
    """Every course of a patient."""
    with transaction.atomic():
        patient = access_patient(actor, patient_id, permission=Permission.VIEW_CLINICAL,
                                 action="course.view")
        return build_courses(_plans(patient.pk), time_zone=patient.clinic.time_zone)


def courses_of(patient: Patient, time_zone: str) -> list[Course]:
    """Every course of a patient a page has already read through the access layer (and
    audited): the staff's patient page."""
    return build_courses(_plans(patient.pk), time_zone=time_zone)


def plan_course(actor: Actor, plan_id: int | str) -> Course:
    """The course of one plan."""
    with transaction.atomic():
        plan = access_record(actor, TreatmentPlan, plan_id, permission=Permission.VIEW_CLINICAL,
                             action="course.view", related=("consultation", "clinic"))
        return build_courses([plan], time_zone=plan.clinic.time_zone)[0]


def course_of(plan: TreatmentPlan, time_zone: str) -> Course:
    """The course of a plan a page has already read through the access layer (and audited):
    its sessions, outcomes and adverse events are part of the same record."""
    return build_courses([plan], time_zone=time_zone)[0]


@dataclass
class PatientStage:
    """What the patient's own page shows about their course."""

    patient: Patient
    course: Course | None
    stage: str
    expectations: StageExpectations
    open_invitations: list[OutcomeInvitation]


def patient_stage(actor: Actor) -> PatientStage:
    """The patient's course, their stage and what to expect, and the outcome questions
    waiting for them (through their personal link)."""
    assert actor.link is not None
    with transaction.atomic():
        patient = access_patient(actor, actor.link.patient_id,
                                 permission=Permission.PATIENT_SELF, action="course.patient")
        plans = _plans(patient.pk)
        courses = build_courses(plans[:1], time_zone=patient.clinic.time_zone)
        course = courses[0] if courses else None
        today = clinic_today(patient.clinic.time_zone)
        invitations = list(OutcomeInvitation.objects.filter(
            patient_id=patient.pk, status=InvitationStatus.PENDING, due__lte=today,
            answer_by__gte=today).order_by("due", "id"))
    last = course.last_session.performed_on if course and course.last_session else None
    stage = stage_of(today, last, course_complete=bool(course and course.complete))
    return PatientStage(patient=patient, course=course, stage=stage,
                        expectations=expectations_for(stage), open_invitations=invitations)
