"""Treatment planning: needle depth per zone, the course of sessions, dates and preparation.

A plan never loosens its screening. A dated deferral moves the first session; a deferral that
waits on an undated condition (an infection clearing, a pregnancy ending) withholds every date;
"not suitable" gets no dates either, although depths and the course are still computed so that
a clinician considering an override can see what would be planned.

Every number comes from the protocol's ``[planning]`` tables. Most depth ranges are clinic
defaults ([P]); each output entry carries its ``basis`` so that a screen can say which.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal

from pydantic import Field, model_validator

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.common import (
    CLINIC_POLICY_NOTE,
    Basis,
    Document,
    Fitzpatrick,
    IndicationCode,
    Output,
    ProtocolRef,
    SourceRef,
    ZoneCode,
    basis_of,
    cached_per_protocol,
    clinician_text,
    protocol_ref,
    sources_of,
)
from needlecare.clinical.protocol.loader import Protocol, default_protocol
from needlecare.clinical.protocol.schema import DepthRange
from needlecare.clinical.screening import Intake, MedicationAnswer, ScreeningResult, screen
from needlecare.clinical.vocabulary import Evidence, Verdict

PLAN_REQUEST_SCHEMA: Final = "needlecare.plan-request/1"
PLAN_SCHEMA: Final = "needlecare.plan/1"

NO_DEPTH_RANGE = "no protocol depth range for this zone and indication"

PlanStatus = Literal["ready", "deferred", "not_suitable"]

# A summary built from several entries is only as strong as its weakest one.
_WEAKNESS: Mapping[Evidence, int] = {
    Evidence.CITED: 0,
    Evidence.CITED_LOW: 1,
    Evidence.PRACTICE: 2,
}


# --- input -------------------------------------------------------------------------------------


class PlanRequest(Document):
    """What a clinician asks to plan. Give either a screening already done or the intake to
    screen now; with an intake, facts it reports (such as a topical retinoid, which no screening
    rule tests) can still bring in the matching preparation steps."""

    schema_: Literal["needlecare.plan-request/1"] = Field(PLAN_REQUEST_SCHEMA, alias="schema")
    indications: list[IndicationCode] = Field(min_length=1)
    zones: list[ZoneCode] = Field(min_length=1)
    fitzpatrick: Fitzpatrick
    start_date: dt.date | None = Field(
        default=None, description="desired first session; defaults to the screened planned_date")
    screening: ScreeningResult | None = None
    intake: Intake | None = None

    @model_validator(mode="after")
    def _one_source_of_screening(self) -> PlanRequest:
        if (self.screening is None) == (self.intake is None):
            raise ValueError("give exactly one of 'screening' or 'intake'")
        _check_unique(self.indications, "indication")
        _check_unique(self.zones, "zone")
        intake = self.intake
        if intake is not None:
            # The intake is screened for this plan, so it must describe the same patient and
            # cover every zone planned: zone-specific rules only fire for the zones screened.
            if intake.fitzpatrick is not None and intake.fitzpatrick != self.fitzpatrick:
                raise ValueError(f"fitzpatrick {self.fitzpatrick} contradicts the intake's "
                                 f"fitzpatrick {intake.fitzpatrick}")
            unscreened = [z for z in self.zones if intake.zones and z not in intake.zones]
            if unscreened:
                raise ValueError(f"zones {unscreened} are not among the intake's zones "
                                 f"{intake.zones}; they were not screened")
        return self


def _check_unique(codes: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"{what} {code!r} is listed more than once")
        seen.add(code)


# --- output ------------------------------------------------------------------------------------


class IndicationDepth(Output):
    indication: str
    entry: str = Field(description="key of the protocol's planning.depth entry")
    min_mm: float = Field(description="the protocol's range, before any skin-type cap")
    max_mm: float
    note: str
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


class SkinTypeLimit(Output):
    """The darker-skin rule: start low and never exceed the cap."""

    from_fitzpatrick: int
    max_mm: float
    clinician: str
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


class ZonePlan(Output):
    zone: str
    min_mm: float
    max_mm: float = Field(description="never exceed this depth in this zone")
    start_mm: float = Field(description="depth for the first session")
    protocol_max_mm: float = Field(description="the deepest the indications allow, uncapped")
    capped_for_skin_type: bool = Field(description="the skin-type cap lowered the range")
    skin_type_limit: SkinTypeLimit | None = Field(
        description="present whenever the darker-skin rule applies to this patient")
    indications: list[IndicationDepth] = Field(description="the ranges the union was built from")
    evidence: Evidence = Field(description="the weakest evidence behind the range")
    basis: Basis
    sources: list[SourceRef]


class NotApplicable(Output):
    zone: str
    indication: str
    reason: str


class IndicationCourse(Output):
    indication: str
    sessions_min: int
    sessions_max: int
    interval_days: int
    note: str
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


class Course(Output):
    sessions_min: int
    sessions_max: int
    interval_days: int = Field(description="the longest interval among the planned indications")
    notes: list[str]
    evidence: Evidence
    basis: Basis
    by_indication: list[IndicationCourse]


class ScheduledSession(Output):
    number: int
    date: dt.date
    beyond_minimum: bool = Field(
        description="after sessions_min: book it only if the response so far warrants it")


class PreparationStep(Output):
    item: str
    because_of: list[str] = Field(
        description="intake facts that made the step apply; empty = applies to everyone")
    stop_days_before: int | None
    stop_date: dt.date | None = Field(
        description="from this date; None when the step has no lead time or no start is known")
    stop_date_before_assessment: bool = Field(
        description="the stop date had already passed when the patient was assessed, so the "
                    "patient cannot have been told in time: check, or move the start")
    clinician: str
    patient: str
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


class AnaestheticStep(Output):
    item: str
    minutes_min: int
    minutes_max: int
    clinician: str
    patient: str
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


class ResultsNote(Output):
    item: str
    clinician: str
    patient: str
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


class TreatmentPlan(Output):
    schema_: Literal["needlecare.plan/1"] = Field(PLAN_SCHEMA, alias="schema")
    protocol: ProtocolRef
    status: PlanStatus
    screening_verdict: Verdict
    fitzpatrick: int
    indications: list[str] = Field(description="as requested, including any planned nowhere")
    requested_start: dt.date
    earliest_start: dt.date | None = Field(
        description="first session date; None when not suitable or waiting on resolve_when")
    defer_until: dt.date | None = Field(description="copied from the screening")
    resolve_when: list[str] = Field(description="undated conditions the deferral waits for")
    zones: list[ZonePlan]
    not_applicable: list[NotApplicable]
    sessions: Course
    schedule: list[ScheduledSession]
    preparation: list[PreparationStep]
    anaesthetic: list[AnaestheticStep]
    results_timeline: list[ResultsNote]
    precautions: list[str] = Field(description="copied from the screening")


# --- engine ------------------------------------------------------------------------------------


@cached_per_protocol
def _depth_index(protocol: Protocol) -> Mapping[tuple[str, str], tuple[str, DepthRange]]:
    # The loader refuses overlapping entries, so each (zone, indication) has at most one.
    return {(entry.zone, indication): (key, entry)
            for key, entry in protocol.data.planning.depth.items()
            for indication in entry.indications}


def _weakest(evidence: Iterable[Evidence]) -> Evidence:
    return max(evidence, key=_WEAKNESS.__getitem__)


def _unique_keys(*groups: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(key for group in groups for key in group))


def _patient_text(text: str, evidence: Evidence, states_a_value: bool) -> str:
    if evidence is Evidence.PRACTICE and states_a_value:
        return f"{text} {CLINIC_POLICY_NOTE}"
    return text


def _check_codes(codes: Sequence[str], table: Mapping[str, vocab.Term], what: str) -> None:
    if not codes:
        raise ValueError(f"at least one {what} is needed")
    for code in codes:
        if code not in table:
            raise ValueError(f"unknown {what} {code!r}; expected one of: "
                             f"{', '.join(sorted(table))}")
    _check_unique(codes, what)


def _check_facts(facts: Iterable[str]) -> None:
    for fact in facts:
        if not vocab.is_known_fact(fact):
            # A misspelt fact would silently drop a preparation step.
            raise ValueError(f"unknown fact {fact!r} in facts_present")


def intake_facts(intake: Intake) -> set[str]:
    """The facts an intake reports as present now, in the protocol's ``category:code`` form."""
    facts = {f"condition:{code}" for code, yes in intake.conditions.items() if yes}
    facts |= {f"allergy:{code}" for code, yes in intake.allergies.items() if yes}
    facts |= {f"procedure:{code}" for code, when in intake.procedures.items()
              if when is not False}
    for code, med in intake.medications.items():
        # Only current use: a medicine already stopped needs no "stop before treatment" step.
        if med is True or (isinstance(med, MedicationAnswer) and med.current):
            facts.add(f"medication:{code}")
    return facts


def _check_screening(screening: ScreeningResult, fitzpatrick: int, start: dt.date,
                     protocol: Protocol) -> None:
    ref = protocol_ref(protocol)
    if screening.protocol != ref:
        raise ValueError(
            f"the screening was done under protocol {screening.protocol.name}-"
            f"{screening.protocol.version}, not {ref.name}-{ref.version}; screen again")
    if start < screening.planned_date:
        # Waiting periods were checked against planned_date; an earlier start could fall
        # inside one of them.
        raise ValueError(f"start_date {start} is before the screened planned_date "
                         f"{screening.planned_date}; screen again for the earlier date")
    for reason in screening.reasons:
        for fact in reason.facts:
            category, _, code = fact.partition(":")
            if category == "fitzpatrick" and code != str(fitzpatrick):
                raise ValueError(f"fitzpatrick {fitzpatrick} contradicts the screening, which "
                                 f"was done for Fitzpatrick {code}")


def _status(verdict: Verdict) -> PlanStatus:
    if verdict is Verdict.NOT_SUITABLE:
        return "not_suitable"
    return "deferred" if verdict is Verdict.DEFER else "ready"


def _earliest_start(screening: ScreeningResult, start: dt.date) -> dt.date | None:
    status = _status(screening.verdict)
    if status == "not_suitable":
        return None
    if status == "ready":
        return start
    if screening.resolve_when or screening.defer_until is None:
        # An undated condition can outlast any dated wait, so no date can be promised.
        return None
    return max(start, screening.defer_until)


def _zone_plans(indications: Sequence[str], zones: Sequence[str], fitzpatrick: int,
                protocol: Protocol) -> tuple[list[ZonePlan], list[NotApplicable]]:
    index = _depth_index(protocol)
    dark = protocol.data.planning.dark_skin
    dark_applies = fitzpatrick >= dark.from_fitzpatrick
    limit = SkinTypeLimit(
        from_fitzpatrick=dark.from_fitzpatrick, max_mm=dark.max_mm,
        clinician=clinician_text(dark.clinician, dark.evidence), evidence=dark.evidence,
        basis=basis_of(dark.evidence), sources=sources_of(protocol, dark.sources),
    ) if dark_applies else None
    planned: list[ZonePlan] = []
    missing: list[NotApplicable] = []
    for zone in zones:
        ranges: list[tuple[str, str, DepthRange]] = []
        for indication in indications:
            hit = index.get((zone, indication))
            if hit is None:
                missing.append(NotApplicable(zone=zone, indication=indication,
                                             reason=NO_DEPTH_RANGE))
            else:
                ranges.append((indication, *hit))
        if not ranges:
            continue
        low = min(entry.min_mm for _, _, entry in ranges)
        high = max(entry.max_mm for _, _, entry in ranges)
        top, bottom = high, low
        if dark_applies:
            top, bottom = min(high, dark.max_mm), min(low, dark.max_mm)
        evidence = [entry.evidence for _, _, entry in ranges]
        source_keys = [entry.sources for _, _, entry in ranges]
        if top < high:
            # Only a cap that bites shapes the range; otherwise the rule is shown on its own
            # (skin_type_limit) and does not dilute a cited range to clinic policy.
            evidence.append(dark.evidence)
            source_keys.append(dark.sources)
        weakest = _weakest(evidence)
        planned.append(ZonePlan(
            zone=zone, min_mm=bottom, max_mm=top, start_mm=bottom, protocol_max_mm=high,
            capped_for_skin_type=top < high, skin_type_limit=limit,
            indications=[IndicationDepth(
                indication=indication, entry=key, min_mm=entry.min_mm, max_mm=entry.max_mm,
                note=entry.note, evidence=entry.evidence, basis=basis_of(entry.evidence),
                sources=sources_of(protocol, entry.sources),
            ) for indication, key, entry in ranges],
            evidence=weakest, basis=basis_of(weakest),
            sources=sources_of(protocol, _unique_keys(*source_keys)),
        ))
    return planned, missing


def _course(indications: Sequence[str], planned_zones: Sequence[ZonePlan],
            protocol: Protocol) -> Course:
    used = {item.indication for zone in planned_zones for item in zone.indications}
    by_indication: list[IndicationCourse] = []
    for indication in indications:
        if indication not in used:
            continue
        entry = protocol.data.planning.sessions.get(indication)
        if entry is None:  # the loader requires one per indication; a clear error regardless
            raise ValueError(f"the protocol has no session plan for {indication!r}")
        by_indication.append(IndicationCourse(
            indication=indication, sessions_min=entry.sessions_min,
            sessions_max=entry.sessions_max, interval_days=entry.interval_days,
            note=entry.note, evidence=entry.evidence, basis=basis_of(entry.evidence),
            sources=sources_of(protocol, entry.sources),
        ))
    interval = max(c.interval_days for c in by_indication)
    notes: list[str] = []
    unplanned = [i for i in indications if i not in used]
    if unplanned:
        notes.append(f"Not in the course: {', '.join(unplanned)} (no protocol depth range in "
                     "any requested zone).")
    if len({c.interval_days for c in by_indication}) > 1:
        shorter = [c for c in by_indication if c.interval_days < interval]
        notes.append(
            "The indications have different intervals ("
            + ", ".join(f"{c.indication} {c.interval_days} days" for c in by_indication)
            + f"). The plan uses the longest, {interval} days, so no zone is treated sooner "
            "than its protocol allows; this departs from the interval planned for "
            + ", ".join(f"{c.indication} ({c.interval_days} days)" for c in shorter)
            + ". Where an indication should keep its own interval, plan it separately.")
    weakest = _weakest(c.evidence for c in by_indication)
    return Course(
        sessions_min=max(c.sessions_min for c in by_indication),
        sessions_max=max(c.sessions_max for c in by_indication),
        interval_days=interval, notes=notes, evidence=weakest, basis=basis_of(weakest),
        by_indication=by_indication,
    )


def _schedule(start: dt.date | None, course: Course) -> list[ScheduledSession]:
    if start is None:
        return []
    step = dt.timedelta(days=course.interval_days)
    return [ScheduledSession(number=n + 1, date=start + n * step,
                             beyond_minimum=n + 1 > course.sessions_min)
            for n in range(course.sessions_max)]


def _preparation(facts: set[str], start: dt.date | None, assessed_on: dt.date,
                 protocol: Protocol) -> list[PreparationStep]:
    steps: list[PreparationStep] = []
    for key, item in protocol.data.planning.preparation.items():
        because = [f for f in item.when_facts if f in facts]
        if item.when_facts and not because:
            continue
        days = item.stop_days_before
        stop = start - dt.timedelta(days=days) if start and days is not None else None
        steps.append(PreparationStep(
            item=key, because_of=because, stop_days_before=days, stop_date=stop,
            stop_date_before_assessment=stop is not None and stop < assessed_on,
            clinician=clinician_text(item.clinician, item.evidence),
            patient=_patient_text(item.patient, item.evidence, days is not None),
            evidence=item.evidence, basis=basis_of(item.evidence),
            sources=sources_of(protocol, item.sources),
        ))
    return steps


def _anaesthetic(protocol: Protocol) -> list[AnaestheticStep]:
    return [AnaestheticStep(
        item=key, minutes_min=item.minutes_min, minutes_max=item.minutes_max,
        clinician=clinician_text(item.clinician, item.evidence),
        patient=_patient_text(item.patient, item.evidence, item.minutes_max > 0),
        evidence=item.evidence, basis=basis_of(item.evidence),
        sources=sources_of(protocol, item.sources),
    ) for key, item in protocol.data.planning.anaesthetic.items()]


def _results_timeline(protocol: Protocol) -> list[ResultsNote]:
    return [ResultsNote(
        item=key, clinician=clinician_text(item.clinician, item.evidence),
        patient=_patient_text(item.patient, item.evidence, False),
        evidence=item.evidence, basis=basis_of(item.evidence),
        sources=sources_of(protocol, item.sources),
    ) for key, item in protocol.data.planning.results_timeline.items()]


def plan(indications: Sequence[str], zones: Sequence[str], fitzpatrick: int,
         screening: ScreeningResult, start_date: dt.date | None = None,
         protocol: Protocol | None = None,
         facts_present: Iterable[str] | None = None) -> TreatmentPlan:
    """Plan a course for ``indications`` in ``zones`` after ``screening``.

    ``facts_present`` adds intake facts (``medication:topical_retinoid``) beyond those the
    screening fired on, so that preparation steps for facts no screening rule tests apply.
    Raises ``ValueError`` for unknown or repeated codes, a screening that does not match, or
    a request in which no zone has a depth range for any of the indications.
    """
    protocol = protocol or default_protocol()
    indications, zones = list(indications), list(zones)
    _check_codes(indications, vocab.INDICATIONS, "indication")
    _check_codes(zones, vocab.ZONES, "zone")
    if type(fitzpatrick) is not int or not 1 <= fitzpatrick <= 6:
        raise ValueError(f"fitzpatrick must be an integer from 1 to 6, not {fitzpatrick!r}")
    extra_facts = set(facts_present or ())
    _check_facts(extra_facts)
    start = start_date or screening.planned_date
    _check_screening(screening, fitzpatrick, start, protocol)

    planned, missing = _zone_plans(indications, zones, fitzpatrick, protocol)
    if not planned:
        raise ValueError(f"nothing to plan: the protocol has no depth range for "
                         f"{', '.join(indications)} in {', '.join(zones)}")
    course = _course(indications, planned, protocol)
    earliest = _earliest_start(screening, start)
    fired = {fact for reason in screening.reasons for fact in reason.facts}
    return TreatmentPlan(
        protocol=protocol_ref(protocol),
        status=_status(screening.verdict),
        screening_verdict=screening.verdict,
        fitzpatrick=fitzpatrick,
        indications=indications,
        requested_start=start,
        earliest_start=earliest,
        defer_until=screening.defer_until,
        resolve_when=list(screening.resolve_when),
        zones=planned,
        not_applicable=missing,
        sessions=course,
        schedule=_schedule(earliest, course),
        preparation=_preparation(fired | extra_facts, earliest, screening.assessed_on,
                                 protocol),
        anaesthetic=_anaesthetic(protocol),
        results_timeline=_results_timeline(protocol),
        precautions=list(screening.precautions),
    )


def plan_request(request: PlanRequest, protocol: Protocol | None = None) -> TreatmentPlan:
    """Plan from a request document, screening its intake first when it brings one."""
    protocol = protocol or default_protocol()
    facts: set[str] | None = None
    if request.intake is not None:
        # Answers the intake left open but the request settles are filled in, so that
        # zone- and skin-type rules are judged on the plan's own zones and skin type.
        intake = request.intake.model_copy(update={
            "fitzpatrick": request.intake.fitzpatrick or request.fitzpatrick,
            "zones": request.intake.zones or list(request.zones),
            "indications": request.intake.indications or list(request.indications),
        })
        screening = screen(intake, protocol)
        facts = intake_facts(intake)
    else:
        assert request.screening is not None  # the validator guarantees exactly one
        screening = request.screening
    return plan(request.indications, request.zones, request.fitzpatrick, screening,
                start_date=request.start_date, protocol=protocol, facts_present=facts)
