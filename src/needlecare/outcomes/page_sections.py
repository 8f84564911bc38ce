"""The outcomes app's sections of shared pages (``needlecare.sections``), all at order 50:

- the staff's patient page: each course, where it stands, its outcomes and adverse events;
- the plan page: the course in full, with the forms to record outcomes and adverse events;
- the consultation page: the treatment chosen and the way to the comparison;
- the clinicians' check-in page: the recovery chart of the session;
- the escalation page: referrals, and the form to close the escalation with one;
- the patient's phone home page: the questions waiting for them, their course and what to
  expect at this stage, and their recovery chart.
"""

from __future__ import annotations

from typing import Any

from needlecare import sections
from needlecare.access import Actor, Permission
from needlecare.care.models import Consultation, TreatmentPlan
from needlecare.outcomes import course, recovery_chart
from needlecare.outcomes.forms import ReferralForm
from needlecare.outcomes.models import Referral, TreatmentChoice
from needlecare.patients.models import Patient
from needlecare.recovery.links import current_session
from needlecare.recovery.models import CheckIn, Escalation, EscalationStatus

ORDER = 50


def _time_zone(actor: Actor) -> str:
    # The staff member's clinic: the page header reads it too, so it is loaded once.
    clinic = getattr(actor.user, "clinic", None)
    return clinic.time_zone if clinic is not None else "UTC"


def patient_chart(actor: Actor, patient: Patient) -> dict[str, Any] | None:
    if not actor.can(Permission.VIEW_CLINICAL):
        return None
    courses = course.courses_of(patient, _time_zone(actor))
    if not courses:
        return None
    return {"courses": courses, "can_write": actor.can(Permission.WRITE_CLINICAL)}


def plan_page(actor: Actor, plan: TreatmentPlan) -> dict[str, Any] | None:
    if not actor.can(Permission.VIEW_CLINICAL):
        return None
    return {"course": course.course_of(plan, _time_zone(actor)),
            "can_write": actor.can(Permission.WRITE_CLINICAL)}


def consultation_page(actor: Actor, consultation: Consultation) -> dict[str, Any] | None:
    if not actor.can(Permission.VIEW_CLINICAL):
        return None
    # The consultation page has read (and audited) the consultation; its choices are part of
    # the same record.
    choice = (TreatmentChoice.objects.filter(consultation_id=consultation.pk)
              .select_related("chosen_by").first())
    return {"consultation": consultation, "choice": choice,
            "has_indications": bool((consultation.intake or {}).get("indications"))}


def checkin_page(actor: Actor, checkin: CheckIn) -> dict[str, Any] | None:
    chart = recovery_chart.session_recovery_chart(actor, checkin.session_id)
    return {"chart": chart} if chart.charts else None


def escalation_page(actor: Actor, escalation: Escalation) -> dict[str, Any] | None:
    if not actor.can(Permission.VIEW_CLINICAL):
        return None
    closing = escalation.status != EscalationStatus.CLOSED
    # Part of the escalation the page has read and audited.
    referrals = list(Referral.objects.filter(escalation_id=escalation.pk)
                     .select_related("created_by"))
    return {"escalation": escalation, "referrals": referrals, "closing": closing,
            "form": ReferralForm(closing=closing),
            "can_write": actor.can(Permission.WRITE_CLINICAL)}


def patient_home(actor: Actor, patient: Patient) -> dict[str, Any] | None:
    stage = course.patient_stage(actor)
    session = current_session(patient.pk)
    chart = (recovery_chart.session_recovery_chart(actor, session.pk)
             if session is not None else None)
    return {"stage": stage, "chart": chart if chart and chart.charts else None}


def register() -> None:
    """Add the sections (called once from OutcomesConfig.ready)."""
    for page, name, template, context in (
            (sections.Page.PATIENT_CHART, "course", "outcomes/section_patient_chart.html",
             patient_chart),
            (sections.Page.PLAN, "course", "outcomes/section_plan.html", plan_page),
            (sections.Page.CONSULTATION, "treatment_choice",
             "outcomes/section_consultation.html", consultation_page),
            (sections.Page.CHECKIN, "recovery_chart", "outcomes/section_checkin.html",
             checkin_page),
            (sections.Page.ESCALATION, "referral", "outcomes/section_escalation.html",
             escalation_page),
            (sections.Page.PATIENT_HOME, "outcomes", "outcomes/section_patient_home.html",
             patient_home)):
        sections.register(page, sections.Section(name, ORDER, template, context))
