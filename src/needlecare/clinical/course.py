"""A plan as a course: the earliest safe date for the next session, and how the course is going.

``earliest_safe_date`` is the one place that decides when the next session may be booked; the
diary's booking rules and the course view both call it. Dated rules each give a date the session
may not come before (the plan's interval after the last signed session, a screening deferral,
the start of the consent); the answer is the latest of them and of the first day asked about.
Rules without a date (an open escalation, no plan, no consent, an undated deferral, a consent
that ends too soon) make the answer "not now": no date is offered at all. Every rule that binds
comes with its code, its wording and its sources from the protocol's ``[course]`` table.

``course_progress`` is the arithmetic of the course: sessions planned and done, each interval
against the protocol's window (early, on time, late), and where the patient is now.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, model_validator

from needlecare.clinical.common import (
    Basis,
    Document,
    Output,
    ProtocolRef,
    SourceRef,
    basis_of,
    clinician_text,
    protocol_ref,
    sources_of,
)
from needlecare.clinical.protocol.loader import Protocol, default_protocol
from needlecare.clinical.protocol.schema import Course
from needlecare.clinical.vocabulary import Evidence

IntervalDays = Annotated[StrictInt, Field(ge=1, le=365)]


class SafeDateFacts(Document):
    """What the earliest safe date depends on, as the clinic's records hold it."""

    from_date: dt.date = Field(description="the first day asked about (usually today)")
    last_session_date: dt.date | None = Field(
        default=None, description="the last signed session of the course, if any")
    interval_days: IntervalDays | None = Field(
        default=None, description="the plan's interval; the protocol's default when absent")
    defer_until: dt.date | None = Field(default=None, description="the screening's defer_until")
    resolve_when: list[str] = Field(
        default=[], description="conditions an undated screening deferral waits for")
    escalation_open: StrictBool = Field(
        default=False, description="an escalation for the last session is still open")
    active_plan: StrictBool
    consent_valid_from: dt.date | None = Field(
        description="when the treatment consent took effect; null = no valid consent")
    consent_valid_until: dt.date | None = Field(
        default=None, description="last day the consent is valid; null = no end date")

    @model_validator(mode="after")
    def _consent_window(self) -> SafeDateFacts:
        if self.consent_valid_until is not None:
            if self.consent_valid_from is None:
                raise ValueError("consent_valid_until needs consent_valid_from")
            if self.consent_valid_until < self.consent_valid_from:
                raise ValueError("consent_valid_until is before consent_valid_from")
        return self


class Constraint(Output):
    """A rule, with a date the session may not come before."""

    code: str
    not_before: dt.date
    clinician: str
    patient: str
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


class Block(Output):
    """A rule without a date: while it holds, no session can be booked."""

    code: str
    clinician: str
    patient: str
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


class SafeDate(Output):
    protocol: ProtocolRef
    date: dt.date | None = Field(description="earliest safe date; null = not now (see blocked)")
    binding: list[Constraint] = Field(
        description="the dated rules that set the date (none when it is from_date itself)")
    constraints: list[Constraint] = Field(description="every dated rule that applies")
    blocked: list[Block] = Field(description="rules without a date that hold now")


def _course_table(protocol: Protocol) -> Course:
    table = protocol.data.course
    if table is None:
        raise ValueError(f"protocol {protocol.label} has no course rules")
    return table


def _constraint(table: Course, protocol: Protocol, code: str, day: dt.date) -> Constraint:
    rule = table.rules[code]
    return Constraint(code=code, not_before=day,
                      clinician=clinician_text(rule.clinician, rule.evidence),
                      patient=rule.patient, evidence=rule.evidence,
                      basis=basis_of(rule.evidence),
                      sources=sources_of(protocol, rule.sources))


def _block(table: Course, protocol: Protocol, code: str) -> Block:
    rule = table.rules[code]
    return Block(code=code, clinician=clinician_text(rule.clinician, rule.evidence),
                 patient=rule.patient, evidence=rule.evidence, basis=basis_of(rule.evidence),
                 sources=sources_of(protocol, rule.sources))


def earliest_safe_date(facts: SafeDateFacts, protocol: Protocol | None = None) -> SafeDate:
    """The earliest date on or after ``facts.from_date`` that every rule allows, or none."""
    protocol = protocol or default_protocol()
    table = _course_table(protocol)
    constraints: list[Constraint] = []
    if facts.last_session_date is not None:
        interval = facts.interval_days or table.default_interval_days
        constraints.append(_constraint(
            table, protocol, "min_interval",
            facts.last_session_date + dt.timedelta(days=interval)))
    if facts.defer_until is not None:
        constraints.append(_constraint(table, protocol, "screening_defer", facts.defer_until))
    if facts.consent_valid_from is not None:
        constraints.append(_constraint(table, protocol, "consent_valid_from",
                                       facts.consent_valid_from))

    blocks: list[str] = []
    if facts.resolve_when:
        blocks.append("screening_undated")
    if facts.escalation_open:
        blocks.append("open_escalation")
    if not facts.active_plan:
        blocks.append("no_active_plan")
    if facts.consent_valid_from is None:
        blocks.append("no_consent")

    date = max([facts.from_date, *(c.not_before for c in constraints)])
    if facts.consent_valid_until is not None and date > facts.consent_valid_until:
        blocks.append("consent_expired")
    binding = [c for c in constraints if c.not_before == date]
    return SafeDate(
        protocol=protocol_ref(protocol),
        date=None if blocks else date,
        binding=[] if blocks else binding,
        constraints=constraints,
        blocked=[_block(table, protocol, code) for code in blocks],
    )


# --- the course ------------------------------------------------------------------------------

IntervalStatus = Literal["early", "on_time", "late"]


class CourseFacts(Document):
    sessions_planned: Annotated[StrictInt, Field(ge=1, le=52)]
    session_dates: list[dt.date] = Field(default=[], description="signed sessions of the plan")
    interval_days: IntervalDays


class IntervalCheck(Output):
    after_session: int = Field(description="the interval after this session number")
    from_date: dt.date
    to_date: dt.date
    days: int
    min_days: int
    max_days: int
    status: IntervalStatus


class CourseProgress(Output):
    protocol: ProtocolRef
    sessions_planned: int
    sessions_done: int
    sessions_remaining: int
    complete: bool
    intervals: list[IntervalCheck]
    on_time: int
    early: int
    late: int
    next_session: int | None = Field(description="number of the next session; null when complete")
    next_safe: SafeDate | None = Field(description="the earliest safe date, when it was asked")
    summary: str = Field(description="where the course stands, in plain words")


def _day(date: dt.date) -> str:
    return f"{date.day} {date:%b %Y}"


def _summary(planned: int, done: int, safe: SafeDate | None) -> str:
    if done >= planned:
        extra = f" ({done} done)" if done > planned else ""
        return f"Course complete: {planned} of {planned} sessions{extra}"
    position = f"Session {done + 1} of {planned}"
    if safe is None:
        return position
    if safe.date is None:
        reasons = ", ".join(block.code.replace("_", " ") for block in safe.blocked)
        return f"{position}, not bookable now ({reasons})"
    return f"{position}, next safe from {_day(safe.date)}"


def course_progress(facts: CourseFacts, safe: SafeDate | None = None,
                    protocol: Protocol | None = None) -> CourseProgress:
    """Sessions planned and done, each interval against the protocol's window, and where the
    course stands (pass the earliest safe date to name the next one)."""
    protocol = protocol or default_protocol()
    table = _course_table(protocol)
    dates = sorted(facts.session_dates)
    low = facts.interval_days
    high = facts.interval_days + table.late_after_extra_days
    intervals = []
    for number, (first, second) in enumerate(itertools.pairwise(dates), start=1):
        days = (second - first).days
        status: IntervalStatus = "early" if days < low else "late" if days > high else "on_time"
        intervals.append(IntervalCheck(after_session=number, from_date=first, to_date=second,
                                       days=days, min_days=low, max_days=high, status=status))
    done = len(dates)
    complete = done >= facts.sessions_planned
    return CourseProgress(
        protocol=protocol_ref(protocol),
        sessions_planned=facts.sessions_planned, sessions_done=done,
        sessions_remaining=max(facts.sessions_planned - done, 0), complete=complete,
        intervals=intervals,
        on_time=sum(i.status == "on_time" for i in intervals),
        early=sum(i.status == "early" for i in intervals),
        late=sum(i.status == "late" for i in intervals),
        next_session=None if complete else done + 1,
        next_safe=None if complete else safe,
        summary=_summary(facts.sessions_planned, done, None if complete else safe),
    )
