"""Outcome measures over a course: check a recorded outcome, score it, compare it with the
patient's baseline, and say when each measure is due.

Every measure is data (``protocol/outcomes-2026.1.toml``, plus any questionnaire a clinic
holding a licence has loaded). Nothing here reads a database or a clock: callers pass the
session dates and the records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Final, Literal

from pydantic import Field, StrictInt

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.common import Basis, Document, Output, SourceRef, basis_of
from needlecare.clinical.protocol.datafile import source_refs
from needlecare.clinical.protocol.outcomes_loader import Outcomes, default_outcomes, total_range
from needlecare.clinical.protocol.outcomes_schema import Measure, Respondent
from needlecare.clinical.vocabulary import Evidence

OUTCOME_SCHEMA: Final = "needlecare.outcome/1"
ADVERSE_EVENT_SCHEMA: Final = "needlecare.adverse-event/1"

Direction = Literal["improved", "unchanged", "worse"]


class InvalidOutcome(ValueError):
    """A recorded outcome or adverse event does not fit its measure. ``problems`` holds one
    line per problem, each starting with the field it is about."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# --- recording and scoring ---------------------------------------------------------------

class RecordedOutcome(Document):
    """One measure as recorded: the value of each item (strict integers: ``true`` is not 1)."""

    schema_: Literal["needlecare.outcome/1"] = Field(OUTCOME_SCHEMA, alias="schema")
    measure: str
    assessed_on: dt.date
    values: dict[str, StrictInt]


class ScoredOutcome(Output):
    measure: str
    outcomes: str = Field(description="label of the outcome-measures file that scored it")
    respondent: Respondent
    assessed_on: dt.date
    values: dict[str, int]
    raw_score: int = Field(description="sum of the items that count towards the score")
    score: int | float = Field(
        description="the raw score, or the licensor's reported score for a questionnaire "
                    "with a conversion table")
    score_min: int | float
    score_max: int | float
    better: Literal["lower", "higher"]
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


def validate_outcome(record: RecordedOutcome, outcomes: Outcomes | None = None) -> ScoredOutcome:
    """Check ``record`` against its measure (known items, required items, ranges) and score
    it. Raises ``InvalidOutcome`` listing every problem."""
    outcomes = outcomes if outcomes is not None else default_outcomes()
    measure = outcomes.measures.get(record.measure)
    if measure is None:
        raise InvalidOutcome([f"measure: unknown measure {record.measure!r}; expected one of: "
                              + ", ".join(sorted(outcomes.measures))])
    problems = list(_item_problems(record, measure))
    if problems:
        raise InvalidOutcome(problems)
    raw = sum(value for key, value in record.values.items() if measure.items[key].in_total)
    low, high = total_range(measure)
    if measure.conversion:
        score: int | float = measure.conversion[raw]
        score_min: int | float = min(measure.conversion.values())
        score_max: int | float = max(measure.conversion.values())
    else:
        score, score_min, score_max = raw, low, high
    return ScoredOutcome(
        measure=record.measure, outcomes=outcomes.label, respondent=measure.respondent,
        assessed_on=record.assessed_on, values=dict(record.values), raw_score=raw, score=score,
        score_min=score_min, score_max=score_max, better=measure.better,
        evidence=measure.evidence, basis=basis_of(measure.evidence),
        sources=source_refs(outcomes.bibliography, measure.sources),
    )


def _item_problems(record: RecordedOutcome, measure: Measure) -> Iterator[str]:
    for key in record.values:
        if key not in measure.items:
            yield (f"values.{key}: not an item of {record.measure}; its items are "
                   + ", ".join(measure.items))
    for key, item in measure.items.items():
        value = record.values.get(key)
        if value is None:
            if item.required:
                yield f"values.{key}: required"
        elif value < item.min:
            yield f"values.{key}: {value} is below the minimum {item.min}"
        elif value > item.max:
            yield f"values.{key}: {value} is above the maximum {item.max}"


# --- change ------------------------------------------------------------------------------

class OutcomeChange(Output):
    measure: str
    baseline_on: dt.date | None
    assessed_on: dt.date
    baseline_score: int | float | None
    score: int | float
    change: int | float | None = Field(description="score minus baseline score")
    improvement: int | float = Field(
        description="how far the score moved in the better direction (negative: worse); for a "
                    "rating of change, the rating's distance from 'no change'")
    percent_of_possible: float | None = Field(
        description="improvement as a percentage of the improvement that was possible from "
                    "the baseline; none when the baseline was already the best score")
    direction: Direction


def outcome_change(follow_up: ScoredOutcome, baseline: ScoredOutcome | None = None,
                   outcomes: Outcomes | None = None) -> OutcomeChange:
    """The change a follow-up shows: against the patient's own baseline for most measures,
    read directly for a rating of change (the global aesthetic improvement scale). Raises
    ``ValueError`` for a measure that shows no change (satisfaction) or a mismatched pair."""
    outcomes = outcomes if outcomes is not None else default_outcomes()
    measure = outcomes.measures.get(follow_up.measure)
    if measure is None:
        raise ValueError(f"unknown measure {follow_up.measure!r}")
    if measure.change == "none":
        raise ValueError(f"{follow_up.measure} is not a measure of change")
    sign = 1 if measure.better == "higher" else -1
    if measure.change == "rated":
        if baseline is not None:
            raise ValueError(f"{follow_up.measure} rates change itself; it takes no baseline")
        assert measure.rated_neutral is not None  # the loader requires it for a rating
        rated = sign * (follow_up.raw_score - measure.rated_neutral)
        return OutcomeChange(
            measure=follow_up.measure, baseline_on=None, assessed_on=follow_up.assessed_on,
            baseline_score=None, score=follow_up.score, change=None, improvement=rated,
            percent_of_possible=None, direction=_direction(rated))
    if baseline is None:
        raise ValueError(f"{follow_up.measure} is compared with a baseline; none was given")
    if baseline.measure != follow_up.measure:
        raise ValueError(f"baseline is {baseline.measure}, follow-up is {follow_up.measure}")
    if (baseline.score_min, baseline.score_max) != (follow_up.score_min, follow_up.score_max):
        raise ValueError("baseline and follow-up were scored on different ranges")
    if baseline.assessed_on > follow_up.assessed_on:
        raise ValueError("the baseline is dated after the follow-up")
    change = follow_up.score - baseline.score
    improvement = sign * change
    best = follow_up.score_max if measure.better == "higher" else follow_up.score_min
    possible = sign * (best - baseline.score)
    percent = round(100 * improvement / possible, 1) if possible else None
    return OutcomeChange(
        measure=follow_up.measure, baseline_on=baseline.assessed_on,
        assessed_on=follow_up.assessed_on, baseline_score=baseline.score, score=follow_up.score,
        change=change, improvement=improvement, percent_of_possible=percent,
        direction=_direction(improvement))


def _direction(improvement: int | float) -> Direction:
    if improvement > 0:
        return "improved"
    return "worse" if improvement < 0 else "unchanged"


# --- which measures, and when -------------------------------------------------------------

def measures_for(indications: Sequence[str], outcomes: Outcomes | None = None) -> list[str]:
    """Measures that suit any of ``indications`` (a measure naming none suits all)."""
    outcomes = outcomes if outcomes is not None else default_outcomes()
    _check_indications(indications)
    return [key for key, m in outcomes.measures.items() if _suits(m, indications)]


def _suits(measure: Measure, indications: Sequence[str]) -> bool:
    return not measure.indications or bool(set(measure.indications) & set(indications))


def _check_indications(indications: Sequence[str]) -> None:
    unknown = [code for code in indications if code not in vocab.INDICATIONS]
    if unknown:
        raise ValueError(f"unknown indication code(s): {', '.join(unknown)}")
    if not indications:
        raise ValueError("at least one indication is needed")


class ScheduledAssessment(Output):
    point: str
    label: str
    due: dt.date
    session: int | None = Field(
        default=None, description="for a per-session point: which session (1 = the first)")
    clinician_measures: list[str]
    patient_measures: list[str]
    invite_patient: bool
    answer_by: dt.date | None = Field(description="last day a patient invitation stays open")
    remind_on: dt.date | None
    patient: str = Field(description="invitation text; empty when nothing is asked of the "
                                     "patient")
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


def assessment_schedule(session_dates: Sequence[dt.date], indications: Sequence[str],
                        outcomes: Outcomes | None = None) -> list[ScheduledAssessment]:
    """When each measure is due for a course with these sessions (done or planned), in date
    order. The last date given is taken as the course's last session, so pass the planned
    dates until the course ends. Patient-reported measures at a point make it an invitation,
    open for the file's answer window with one reminder."""
    outcomes = outcomes if outcomes is not None else default_outcomes()
    _check_indications(indications)
    if not session_dates:
        raise ValueError("a course needs at least one session date")
    dates = sorted(session_dates)
    if len(set(dates)) != len(dates):
        raise ValueError("two sessions on the same date")
    invitations = outcomes.data.invitations
    found: list[tuple[dt.date, int, ScheduledAssessment]] = []
    for order, (key, point) in enumerate(outcomes.data.schedule.items()):
        keys = [m for m in outcomes.point_measures[key]
                if _suits(outcomes.measures[m], indications)]
        clinician = [m for m in keys if outcomes.measures[m].respondent == "clinician"]
        patient = [m for m in keys if outcomes.measures[m].respondent == "patient"]
        if not keys:
            continue
        if point.anchor == "first_session":
            anchors: list[tuple[int | None, dt.date]] = [(None, dates[0])]
        elif point.anchor == "last_session":
            anchors = [(None, dates[-1])]
        else:  # each session after the first: the first is the baseline
            anchors = [(i, d) for i, d in enumerate(dates, start=1) if i > 1]
        for session, anchor in anchors:
            due = anchor + dt.timedelta(days=point.offset_days)
            invite = bool(patient)
            found.append((due, order, ScheduledAssessment(
                point=key, label=point.label, due=due, session=session,
                clinician_measures=clinician, patient_measures=patient, invite_patient=invite,
                answer_by=due + dt.timedelta(days=invitations.answer_within_days)
                if invite else None,
                remind_on=due + dt.timedelta(days=invitations.reminder_after_days)
                if invite else None,
                patient=point.patient if invite else "",
                evidence=point.evidence, basis=basis_of(point.evidence),
                sources=source_refs(outcomes.bibliography, point.sources))))
    return [item for _, _, item in sorted(found, key=lambda f: (f[0], f[1]))]


# --- adverse events ----------------------------------------------------------------------

class AdverseEventRecord(Document):
    schema_: Literal["needlecare.adverse-event/1"] = Field(ADVERSE_EVENT_SCHEMA, alias="schema")
    type: str
    severity: StrictInt = Field(description="severity grade (CTCAE v5.0 general grades)")
    onset: dt.date
    resolved: dt.date | None = None
    note: str = ""


class AdverseEvent(Output):
    type: str
    type_label: str
    severity: int
    severity_label: str
    serious: bool
    onset: dt.date
    resolved: dt.date | None
    lasted_days: int | None
    note: str
    outcomes: str
    sources: list[SourceRef]


def validate_adverse_event(record: AdverseEventRecord, session_date: dt.date | None = None,
                           outcomes: Outcomes | None = None) -> AdverseEvent:
    """Check an adverse event against the classification (known type, defined grade, dates in
    order, a description for "other"). Raises ``InvalidOutcome`` listing every problem."""
    outcomes = outcomes if outcomes is not None else default_outcomes()
    ae = outcomes.data.adverse_events
    problems: list[str] = []
    kind = ae.types.get(record.type)
    if kind is None:
        problems.append(f"type: unknown adverse event type {record.type!r}; expected one of: "
                        + ", ".join(ae.types))
    grade = ae.severity.grades.get(record.severity)
    if grade is None:
        problems.append(f"severity: grade {record.severity} is not defined; grades are "
                        + ", ".join(str(g) for g in sorted(ae.severity.grades)))
    if record.resolved is not None and record.resolved < record.onset:
        problems.append("resolved: is before onset")
    if session_date is not None and record.onset < session_date:
        problems.append("onset: is before the session it follows")
    if record.type == "other" and not record.note.strip():
        problems.append("note: describe an adverse event of type 'other'")
    if problems:
        raise InvalidOutcome(problems)
    assert kind is not None
    assert grade is not None
    return AdverseEvent(
        type=record.type, type_label=kind.label, severity=record.severity,
        severity_label=grade.label, serious=record.severity >= ae.severity.serious_from,
        onset=record.onset, resolved=record.resolved,
        lasted_days=(record.resolved - record.onset).days if record.resolved else None,
        note=record.note, outcomes=outcomes.label,
        sources=source_refs(outcomes.bibliography, [*kind.sources, *ae.severity.sources]))
