"""Where a patient is in their care, read from their plans and sessions: the stage
(``clinical.expectations.stage_of``), indications, skin type and when their course ended.

A course is complete when its plan is marked completed or has as many signed sessions as
planned; sessions signed beyond the plan are maintenance.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from needlecare.care.models import PlanStatus, SessionStatus, TreatmentPlan, TreatmentSession
from needlecare.clinical.expectations import stage_of
from needlecare.education.rules import PatientFacts


def facts_for(patient_ids: Iterable[int], today: dt.date) -> dict[int, PatientFacts]:
    """Every patient's facts in three queries (a newsletter audience reads hundreds)."""
    ids = list(patient_ids)
    plans: dict[int, list[TreatmentPlan]] = defaultdict(list)
    for plan in TreatmentPlan.objects.filter(patient_id__in=ids).order_by("created_at", "id"):
        plans[plan.patient_id].append(plan)
    signed: dict[int, list[TreatmentSession]] = defaultdict(list)
    booked: set[int] = set()
    for session in (TreatmentSession.objects.filter(patient_id__in=ids)
                    .exclude(status=SessionStatus.CANCELLED)
                    .only("patient_id", "plan_id", "status", "performed_on")
                    .order_by("performed_on", "id")):
        if session.status == SessionStatus.SIGNED and session.performed_on is not None:
            signed[session.patient_id].append(session)
        elif session.status == SessionStatus.BOOKED:
            booked.add(session.patient_id)
    return {pid: _facts(plans.get(pid, []), signed.get(pid, []), pid in booked, today)
            for pid in ids}


def patient_facts(patient_id: int, today: dt.date) -> PatientFacts:
    return facts_for([patient_id], today)[patient_id]


def _complete(plan: TreatmentPlan, signed_in_plan: int) -> bool:
    return plan.status == PlanStatus.COMPLETED or signed_in_plan >= plan.sessions_planned


def _facts(plans: list[TreatmentPlan], signed: list[TreatmentSession], booked: bool,
           today: dt.date) -> PatientFacts:
    indications = tuple(dict.fromkeys(code for plan in plans for code in plan.indications))
    fitzpatrick = plans[-1].fitzpatrick if plans else None
    if not signed:
        stage = "booked" if booked or any(p.status == PlanStatus.ACTIVE for p in plans) \
            else None
        return PatientFacts(stage=stage, indications=indications, fitzpatrick=fitzpatrick)
    by_plan: dict[int, list[TreatmentSession]] = defaultdict(list)
    for session in signed:
        by_plan[session.plan_id].append(session)
    course_ended_on = None
    for plan in plans:
        sessions = by_plan.get(plan.pk, [])
        if sessions and _complete(plan, len(sessions)):
            ended = sessions[-1].performed_on
            if course_ended_on is None or (ended and ended > course_ended_on):
                course_ended_on = ended
    last = signed[-1]
    assert last.performed_on is not None
    current = next((p for p in plans if p.pk == last.plan_id), None)
    in_plan = len(by_plan.get(last.plan_id, []))
    complete = current is not None and _complete(current, in_plan)
    maintenance = current is not None and in_plan > current.sessions_planned
    stage = stage_of(today, last.performed_on, course_complete=complete,
                     maintenance=maintenance) if last.performed_on <= today else "booked"
    return PatientFacts(stage=stage, indications=indications, fitzpatrick=fitzpatrick,
                        course_ended_on=course_ended_on, treated=True)
