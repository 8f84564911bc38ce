"""/api/v1/plans/{id}/outcomes, /api/v1/outcome-invitations/{id}/answers and /api/v1/numbers:
outcome records of a course (clinicians read and record them; the patient answers their own
questions with their personal link's token), and the clinic's numbers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status
from pydantic import BeforeValidator, Field, StrictInt

from needlecare import clock
from needlecare.api.auth import PATIENT, STAFF, actor
from needlecare.api.errors import responses
from needlecare.api.schemas import MAX_ID, Input, IsoDate
from needlecare.outcomes import course, numbers, records
from needlecare.outcomes.course import clinic_today
from needlecare.outcomes.models import OutcomeRecord

router = Router(tags=["outcomes"])
numbers_router = Router(tags=["numbers"], auth=STAFF)

Key = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")]


def _json_integer(value: Any) -> Any:
    # As for check-in scores: 3.0 is the integer 3, but true, "3" and 3.5 are not integers.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("Enter a whole number.")
    return value


ItemValue = Annotated[StrictInt, Field(ge=-1000, le=1000), BeforeValidator(_json_integer)]
# Item and measure keys are checked by the clinical core against the measure (a refusal naming
# the item), not by a pattern here: a JSON Schema for dictionary keys is not one every client
# and fuzzer reads.
ItemKey = Annotated[str, Field(max_length=60)]
Values = Annotated[dict[ItemKey, ItemValue], Field(min_length=1, max_length=30)]


class OutcomeIn(Input):
    measure: Key = Field(description="a clinician's measure of the outcome-measures file that "
                                     "suits the plan's indications")
    point: Key = Field(description="the schedule point (baseline, each_session, "
                                   "three_months_after…)")
    assessed_on: IsoDate
    values: Values = Field(description="item → value")
    session_id: int | None = Field(None, ge=1, le=MAX_ID,
                                   description="a signed session of the plan, if taken at one")


class Source(Schema):
    key: str
    citation: str
    link: str


class OutcomeOut(Schema):
    id: int
    plan_id: int
    measure: str
    point: str
    respondent: str
    assessed_on: dt.date
    values: dict[str, int]
    score: float
    direction: str | None = Field(description="improved, unchanged or worse; none for a "
                                              "baseline or a measure that shows no change")
    improvement: float | None
    percent_of_possible: float | None
    baseline_id: int | None
    outcomes_version: str
    sources: list[Source]
    recorded_by: str | None
    recorded_at: dt.datetime


class IntervalOut(Schema):
    after_session: int
    days: int
    status: str


class CourseOut(Schema):
    plan_id: int
    sessions_planned: int
    sessions_done: int
    complete: bool
    summary: str = Field(description="where the course stands, in plain words")
    next_safe_date: dt.date | None
    intervals: list[IntervalOut]
    outcomes: list[OutcomeOut]


class AnswersIn(Input):
    answers: Annotated[dict[ItemKey, Values], Field(min_length=1, max_length=10)] = Field(
        description="measure → item → value, for the measures the invitation asks")


def outcome_out(record: OutcomeRecord) -> OutcomeOut:
    return OutcomeOut(
        id=record.pk, plan_id=record.plan_id, measure=record.measure, point=record.point,
        respondent=record.respondent, assessed_on=record.assessed_on,
        values=dict(record.values), score=record.score, direction=record.direction or None,
        improvement=record.improvement, percent_of_possible=record.percent_of_possible,
        baseline_id=record.baseline_id, outcomes_version=record.outcomes_version,
        sources=[Source(key=s["key"], citation=s["citation"], link=s.get("link", ""))
                 for s in record.scored.get("sources", [])],
        recorded_by=str(record.recorded_by) if record.recorded_by_id else None,
        recorded_at=record.recorded_at)


@router.get("/plans/{plan_id}/outcomes", auth=STAFF, response=responses({200: CourseOut}),
            summary="A course: where it stands and its outcome records")
def plan_outcomes(request: HttpRequest,
                  plan_id: int = Path(..., ge=1, le=MAX_ID)) -> CourseOut:
    found = course.plan_course(actor(request), plan_id)
    progress = found.progress
    return CourseOut(
        plan_id=found.plan.pk, sessions_planned=progress.sessions_planned,
        sessions_done=progress.sessions_done, complete=progress.complete,
        summary=progress.summary,
        next_safe_date=found.safe.date if found.safe is not None else None,
        intervals=[IntervalOut(after_session=i.after_session, days=i.days, status=i.status)
                   for i in progress.intervals],
        outcomes=[outcome_out(r) for r in found.records])


@router.post("/plans/{plan_id}/outcomes", auth=STAFF, response=responses({201: OutcomeOut}),
             summary="Record a clinician's outcome measure for a course")
def record_outcome(request: HttpRequest, payload: OutcomeIn,
                   plan_id: int = Path(..., ge=1, le=MAX_ID)) -> Status[OutcomeOut]:
    record = records.record_outcome(
        actor(request), plan_id, measure=payload.measure, point=payload.point,
        assessed_on=payload.assessed_on, values=payload.values, session_id=payload.session_id)
    return Status(201, outcome_out(record))


@router.post("/outcome-invitations/{invitation_id}/answers", auth=PATIENT,
             response=responses({201: list[OutcomeOut]}, 409),
             summary="The patient answers their outcome questions (personal link's token)")
def answer(request: HttpRequest, payload: AnswersIn,
           invitation_id: int = Path(..., ge=1, le=MAX_ID)) -> Status[list[OutcomeOut]]:
    stored = records.answer_invitation(actor(request), invitation_id, payload.answers)
    return Status(201, [outcome_out(r) for r in stored])


# --- the clinic's numbers ---------------------------------------------------------------------

class Counted(Schema):
    key: str
    label: str
    count: int
    per_100_sessions: float | None


class PractitionerSessions(Schema):
    practitioner_id: int | None
    name: str
    sessions: int


class MonthOut(Schema):
    month: str = Field(description="YYYY-MM")
    sessions: int
    by_practitioner: list[PractitionerSessions]


class LevelOut(Schema):
    level: str
    count: int
    median_minutes_to_acknowledge: float | None


class EscalationsOut(Schema):
    total: int
    by_level: list[LevelOut]
    median_minutes_to_acknowledge: float | None
    acknowledged: int
    answered_within_deadline: int
    due: int = Field(description="acknowledged, or past their deadline")
    percent_within_deadline: float | None


class AdherenceOut(Schema):
    day: int
    invited: int
    answered: int
    percent: float | None


class OutcomeNumbers(Schema):
    indication: str
    measure: str
    follow_ups: int
    improved: int
    percent_improved: float | None
    mean_percent_of_possible: float | None


class OverridePair(Schema):
    verdict: str
    override_verdict: str
    count: int


class NumbersOut(Schema):
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")
    practitioner_id: int | None
    sessions: int
    months: list[MonthOut]
    adverse_events: int
    adverse_events_per_100_sessions: float | None
    adverse_events_by_severity: list[Counted]
    adverse_events_by_type: list[Counted]
    escalations: EscalationsOut
    checkin_adherence: list[AdherenceOut]
    outcomes: list[OutcomeNumbers]
    screening_overrides: int
    screening_overrides_by_verdict: list[OverridePair]
    depth_overrides: int


#: The query's parameters ("from" is a Python keyword, hence the aliases).
FROM = Query(None, alias="from", description="first day (YYYY-MM-DD)")
TO = Query(None, alias="to", description="last day (YYYY-MM-DD)")
PRACTITIONER = Query(None, ge=1, le=MAX_ID, description="one practitioner's numbers")


@numbers_router.get("/numbers", response=responses({200: NumbersOut}, 400),
                    by_alias=True,
                    summary="The clinic's numbers for a date range (the last 12 months by "
                            "default), optionally for one practitioner")
def clinic_numbers(request: HttpRequest, start: dt.date | None = FROM,
                   end: dt.date | None = TO, practitioner: int | None = PRACTITIONER
                   ) -> NumbersOut:
    who = actor(request)
    clinic = getattr(who.user, "clinic", None)
    default = numbers.default_filter(clinic_today(clinic.time_zone) if clinic is not None
                                     else clock.localdate())
    found = numbers.clinic_numbers(who, numbers.NumbersFilter(
        start=start or default.start, end=end or default.end, practitioner_id=practitioner))
    pairs = []
    for row in found.override_pairs:
        before, after, cell = row
        pairs.append(OverridePair(verdict=before, override_verdict=after, count=cell.value))
    return NumbersOut.model_validate({
        "from": found.filter.start, "to": found.filter.end,
        "practitioner_id": found.filter.practitioner_id, "sessions": found.sessions.value,
        "months": [MonthOut(month=m.month.strftime("%Y-%m"), sessions=m.total.value,
                            by_practitioner=[
                                PractitionerSessions(practitioner_id=pk, name=name,
                                                     sessions=cell.value)
                                for (pk, name), cell in zip(found.month_practitioners,
                                                            m.by_practitioner, strict=True)])
                   for m in found.months],
        "adverse_events": found.adverse_events.value,
        "adverse_events_per_100_sessions": found.adverse_events_per_100,
        "adverse_events_by_severity": [
            Counted(key=i.key, label=i.label, count=i.count.value,
                    per_100_sessions=i.per_100_sessions) for i in found.by_severity],
        "adverse_events_by_type": [
            Counted(key=i.key, label=i.label, count=i.count.value,
                    per_100_sessions=i.per_100_sessions) for i in found.by_type],
        "escalations": EscalationsOut(
            total=found.escalations.value,
            by_level=[LevelOut(level=r.level, count=r.count.value,
                               median_minutes_to_acknowledge=r.median_minutes)
                      for r in found.by_level],
            median_minutes_to_acknowledge=found.median_minutes_to_acknowledge,
            acknowledged=found.acknowledged,
            answered_within_deadline=found.answered_in_time.value,
            due=found.answered_in_time.denominator or 0,
            percent_within_deadline=found.answered_in_time.share),
        "checkin_adherence": [AdherenceOut(day=r.day, invited=r.invited,
                                           answered=r.answered.value, percent=r.share)
                              for r in found.adherence],
        "outcomes": [OutcomeNumbers(indication=r.indication, measure=r.measure,
                                    follow_ups=r.follow_ups.value, improved=r.improved.value,
                                    percent_improved=r.share_improved,
                                    mean_percent_of_possible=r.mean_percent_of_possible)
                     for r in found.outcomes],
        "screening_overrides": found.screening_overrides.value,
        "screening_overrides_by_verdict": pairs,
        "depth_overrides": found.depth_overrides.value})
