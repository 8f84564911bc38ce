"""Recording outcomes: a clinician's measure at a visit, the patient's answers to an
invitation, and adverse events.

Every value is checked by the clinical core against the outcome-measures file
(``clinical.outcomes.validate_outcome``: known items, required items, ranges; strict integers)
and stored with its scored document and, for a follow-up, its change from the patient's own
baseline (``outcome_change``), so the clinic's numbers count what was shown, never a
recomputation. Each service runs in one transaction with its audit row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from pydantic import ValidationError

from needlecare import clock
from needlecare.access import Actor, Permission
from needlecare.care.models import SessionStatus, TreatmentPlan, TreatmentSession
from needlecare.clinical.outcomes import (
    AdverseEventRecord,
    InvalidOutcome,
    RecordedOutcome,
    ScoredOutcome,
    measures_for,
    outcome_change,
    validate_adverse_event,
    validate_outcome,
)
from needlecare.clinical.protocol.outcomes_loader import Outcomes, default_outcomes
from needlecare.errors import Conflict, ServiceError
from needlecare.outcomes.course import clinic_today
from needlecare.outcomes.models import (
    AdverseEvent,
    InvitationStatus,
    OutcomeInvitation,
    OutcomeRecord,
    Respondent,
)
from needlecare.patients.access import access_record
from needlecare.recovery.models import Escalation


def outcomes() -> Outcomes:
    """The outcome measures in force (the shipped file; a clinic's licensed questionnaires
    join it through ``Outcomes.with_questionnaires``)."""
    return default_outcomes()


def _refusal(problems: Sequence[str]) -> ServiceError:
    """The clinical core's problems ("values.grade: 5 is above the maximum 4") as a refusal
    about the first field named."""
    first = problems[0]
    path, _sep, _rest = first.partition(":")
    field = path.removeprefix("values.") if path.startswith("values.") else path
    return ServiceError("invalid_outcome", "; ".join(problems), field=field)


def clinician_measures(plan: TreatmentPlan) -> list[str]:
    found = outcomes()
    return [key for key in measures_for(plan.indications, found)
            if found.measures[key].respondent == "clinician"]


def points_for(measure: str) -> list[str]:
    """The schedule points at which ``measure`` is taken."""
    return [point for point, keys in outcomes().point_measures.items() if measure in keys]


def _indication(plan: TreatmentPlan, measure: str) -> str:
    suits = outcomes().measures[measure].indications
    return next((code for code in plan.indications if not suits or code in suits),
                plan.indications[0])


def _baseline(plan_id: int, measure: str) -> OutcomeRecord | None:
    return (OutcomeRecord.objects.filter(plan_id=plan_id, measure=measure, point="baseline")
            .order_by("assessed_on", "id").first())


def _store(plan: TreatmentPlan, scored: ScoredOutcome, *, point: str, respondent: Any,
           session: TreatmentSession | None, invitation: OutcomeInvitation | None,
           by: Any) -> OutcomeRecord:
    found = outcomes()
    measure = found.measures[scored.measure]
    baseline = change = None
    if point != "baseline" and measure.change == "from_baseline":
        baseline = _baseline(plan.pk, scored.measure)
        if baseline is not None and baseline.assessed_on <= scored.assessed_on:
            change = outcome_change(scored, ScoredOutcome.model_validate(baseline.scored),
                                    found)
        else:
            baseline = None
    elif measure.change == "rated":
        change = outcome_change(scored, None, found)
    if session is not None:
        practitioner_id = session.practitioner_id
    else:  # the course's latest signed session by then
        practitioner_id = (TreatmentSession.objects.filter(
            plan_id=plan.pk, status=SessionStatus.SIGNED, performed_on__lte=scored.assessed_on)
            .order_by("-performed_on", "-id").values_list("practitioner_id", flat=True).first())
    return OutcomeRecord.objects.create(
        clinic_id=plan.clinic_id, patient_id=plan.patient_id, plan=plan, session=session,
        practitioner_id=practitioner_id,
        invitation=invitation, measure=scored.measure, point=point, respondent=respondent,
        assessed_on=scored.assessed_on, values=scored.values,
        scored=scored.model_dump(mode="json", by_alias=True),
        change=change.model_dump(mode="json", by_alias=True) if change else None,
        outcomes_version=scored.outcomes, score=float(scored.score),
        indication=_indication(plan, scored.measure), baseline=baseline,
        direction=change.direction if change else "",
        improvement=float(change.improvement) if change else None,
        percent_of_possible=change.percent_of_possible if change else None, recorded_by=by)


def _scored(measure: str, assessed_on: dt.date, values: Mapping[str, Any]) -> ScoredOutcome:
    try:
        record = RecordedOutcome.model_validate({"measure": measure, "assessed_on": assessed_on,
                                                 "values": dict(values)})
    except ValidationError as exc:
        problems = [f"values.{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}"
                    if e["loc"][:1] == ("values",) else f"{e['loc'][0]}: {e['msg']}"
                    for e in exc.errors()]
        raise _refusal(problems) from None
    try:
        return validate_outcome(record, outcomes())
    except InvalidOutcome as exc:
        raise _refusal(exc.problems) from None


def record_outcome(actor: Actor, plan_id: int | str, *, measure: str, point: str,
                   assessed_on: dt.date, values: Mapping[str, Any],
                   session_id: int | None = None) -> OutcomeRecord:
    """A clinician's outcome measure for a course, at one of the schedule's points."""
    with transaction.atomic():
        plan = access_record(actor, TreatmentPlan, plan_id,
                             permission=Permission.WRITE_CLINICAL, action="outcome.record",
                             related=("clinic",),
                             detail={"measure": measure, "point": point})
        if measure not in clinician_measures(plan):
            raise ServiceError("measure_not_for_plan", _(
                "Choose a clinician's measure that suits this plan's indications."),
                field="measure")
        if point not in points_for(measure):
            raise ServiceError("point_invalid", _(
                "This measure is not taken at that point of the course."), field="point")
        if assessed_on > clinic_today(plan.clinic.time_zone):
            raise ServiceError("assessed_in_future", _("The date cannot be in the future."),
                               field="assessed_on")
        session = None
        if session_id is not None:
            session = TreatmentSession.objects.filter(
                pk=session_id, plan_id=plan.pk, status=SessionStatus.SIGNED).first()
            if session is None:
                raise ServiceError("session_invalid", _(
                    "Choose a signed session of this plan."), field="session")
        scored = _scored(measure, assessed_on, values)
        if point != "baseline" and OutcomeRecord.objects.filter(
                plan_id=plan.pk, measure=measure, point="baseline",
                assessed_on__gt=assessed_on).exists():
            raise ServiceError("before_baseline", _(
                "This date is before the baseline of the same measure."), field="assessed_on")
        return _store(plan, scored, point=point, respondent=Respondent.CLINICIAN,
                      session=session, invitation=None, by=actor.user)


def open_invitation(actor: Actor, invitation_id: int | str) -> OutcomeInvitation:
    """An invitation as its patient opens it (their own, through their link)."""
    with transaction.atomic():
        invitation = access_record(actor, OutcomeInvitation, invitation_id,
                                   permission=Permission.PATIENT_SELF, action="outcome.open",
                                   related=("clinic", "plan"))
    return invitation


def invitation_state(invitation: OutcomeInvitation, today: dt.date) -> str:
    """``open``, ``answered``, ``not_yet``, ``closed`` (past its answer window) or
    ``cancelled``."""
    if invitation.status == InvitationStatus.ANSWERED:
        return "answered"
    if invitation.status == InvitationStatus.CANCELLED:
        return "cancelled"
    if today < invitation.due:
        return "not_yet"
    return "closed" if today > invitation.answer_by else "open"


def answer_invitation(actor: Actor, invitation_id: int | str,
                      answers: Mapping[str, Mapping[str, Any]]) -> list[OutcomeRecord]:
    """The patient's answers to an invitation: one record per measure asked."""
    with transaction.atomic():
        invitation = access_record(actor, OutcomeInvitation, invitation_id,
                                   permission=Permission.PATIENT_SELF,
                                   action="outcome.answer", related=("clinic", "plan"),
                                   lock=True)
        today = clinic_today(invitation.clinic.time_zone)
        state = invitation_state(invitation, today)
        if state == "answered":
            raise Conflict("already_answered", _("You have already answered these questions. "
                                                 "Thank you."))
        if state != "open":
            raise Conflict(f"invitation_{state}", _(
                "These questions are not open for answers now. Please call your clinic if "
                "you would like to tell them how your skin is."))
        unknown = set(answers) - set(invitation.measures)
        if unknown:
            raise ServiceError("measure_not_asked", _("Answer only the questions asked."))
        scored = []
        for measure in invitation.measures:
            if measure not in answers:
                raise ServiceError("answer_required", _("Please answer every question."),
                                   field=measure)
            scored.append(_scored(measure, today, answers[measure]))
        changed = OutcomeInvitation.objects.filter(
            pk=invitation.pk, status=InvitationStatus.PENDING).update(
            status=InvitationStatus.ANSWERED, answered_at=clock.now())
        if not changed:
            raise Conflict("already_answered", _("You have already answered these questions. "
                                                 "Thank you."))
        return [_store(invitation.plan, s, point=invitation.point,
                       respondent=Respondent.PATIENT, session=invitation.session,
                       invitation=invitation, by=None) for s in scored]


def record_adverse_event(actor: Actor, session_id: int | str, *, type: str, severity: int,
                         onset: dt.date, resolved: dt.date | None = None, note: str = "",
                         escalation_id: int | None = None) -> AdverseEvent:
    """An adverse event after a signed session, classified by type and CTCAE grade."""
    note = (note or "").strip()
    with transaction.atomic():
        session = access_record(actor, TreatmentSession, session_id,
                                permission=Permission.WRITE_CLINICAL,
                                action="adverse_event.record", related=("clinic",),
                                detail={"type": type, "severity": severity})
        if session.status != SessionStatus.SIGNED or session.performed_on is None:
            raise Conflict("not_signed", _("Adverse events follow a signed session."))
        if onset > clinic_today(session.clinic.time_zone):
            raise ServiceError("onset_in_future", _("The onset cannot be in the future."),
                               field="onset")
        escalation = None
        if escalation_id is not None:
            escalation = Escalation.objects.filter(pk=escalation_id,
                                                   session_id=session.pk).first()
            if escalation is None:
                raise ServiceError("escalation_invalid", _(
                    "That escalation is not about this session."))
        try:
            record = AdverseEventRecord(type=type, severity=severity, onset=onset,
                                        resolved=resolved, note=note)
            classified = validate_adverse_event(record, session.performed_on, outcomes())
        except ValidationError as exc:
            raise ServiceError("invalid_adverse_event", str(exc.errors()[0]["msg"])) from None
        except InvalidOutcome as exc:
            raise _refusal(exc.problems) from None
        return AdverseEvent.objects.create(
            clinic_id=session.clinic_id, patient_id=session.patient_id, session=session,
            escalation=escalation, type=type, severity=severity, serious=classified.serious,
            onset=onset, resolved=resolved, note=note,
            classified=classified.model_dump(mode="json", by_alias=True),
            outcomes_version=classified.outcomes, practitioner_id=session.practitioner_id,
            session_date=session.performed_on, recorded_by=actor.user)


def plan_for_recording(actor: Actor, plan_id: int | str) -> tuple[TreatmentPlan,
                                                                  list[TreatmentSession]]:
    """The plan and its signed sessions, for the forms that record outcomes and adverse
    events."""
    with transaction.atomic():
        plan = access_record(actor, TreatmentPlan, plan_id,
                             permission=Permission.WRITE_CLINICAL, action="outcome.form",
                             related=("clinic",))
        sessions = list(TreatmentSession.objects.filter(plan_id=plan.pk,
                                                        status=SessionStatus.SIGNED)
                        .order_by("performed_on", "id"))
    return plan, sessions
