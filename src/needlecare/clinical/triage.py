"""Recovery triage: a patient's check-in in, a level with reasons and today's advice out.

The level is the most severe rule that fired. Answers that are missing are read as the worst
possible answer (an unanswered red-flag question as "yes", a missing severity as 10, a missing
trend as "worse") and the reason is marked ``assumed``: leaving a question out can never lower
the level. Earlier check-ins supply a trend the patient did not state: a severity higher than
last time counts as worsening whatever the patient ticked.

Redness measured on photos (``photos``) is one more input: it can add a reason, never remove
one, so a photo can raise a level but never lower the level the patient's answers set. A code
the protocol's vocabulary edition does not have is refused, never ignored.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from pydantic import Field, StrictBool, model_validator

from needlecare.clinical.aftercare import instructions_for_day
from needlecare.clinical.common import (
    Basis,
    Document,
    Output,
    ProtocolRef,
    RedFlagCode,
    Severity,
    SourceRef,
    SymptomCode,
    basis_of,
    cached_per_protocol,
    clinician_text,
    protocol_ref,
    sources_of,
)
from needlecare.clinical.protocol.loader import Protocol, default_protocol
from needlecare.clinical.protocol.schema import TriageRule
from needlecare.clinical.recovery import ExpectedCourse, SymptomExpectation, expected_course
from needlecare.clinical.redness import PhotoMeasurement, persistent_photo_redness
from needlecare.clinical.session import SessionFacts
from needlecare.clinical.vocabulary import (
    EDITION,
    RED_FLAGS,
    SYMPTOMS,
    Evidence,
    Level,
    Trend,
    codes_in,
)

CHECKIN_SCHEMA: Final = "needlecare.checkin/1"
TRIAGE_SCHEMA: Final = "needlecare.triage/1"
TRIAGE_RECORD_SCHEMA: Final = "needlecare.triage-record/1"
WORST_SEVERITY = 10


class SymptomReport(Document):
    severity: Severity | None = Field(default=None, description="0 (none) to 10 (worst)")
    trend: Trend | None = Field(default=None, description="since the last check-in or "
                                                          "yesterday")


class EarlierCheckIn(Document):
    reported_at: dt.datetime
    symptoms: dict[SymptomCode, SymptomReport] = {}
    red_flags: dict[RedFlagCode, StrictBool | None] = {}


class CheckIn(Document):
    """One check-in. A symptom left out is not present; a red flag left out (or null) is
    unanswered and read as "yes"."""

    schema_: Literal["needlecare.checkin/1"] = Field(CHECKIN_SCHEMA, alias="schema")
    session: SessionFacts
    reported_at: dt.datetime
    symptoms: dict[SymptomCode, SymptomReport] = {}
    red_flags: dict[RedFlagCode, StrictBool | None] = {}
    note: str = Field(default="", max_length=4000, description="the patient's own words")
    previous: list[EarlierCheckIn] = Field(default=[], description="earlier check-ins for "
                                                                   "the same session")
    photos: list[PhotoMeasurement] = Field(
        default=[], description="redness measured on this session's photos so far, this "
                                "check-in's included")

    @model_validator(mode="after")
    def _after_the_session(self) -> CheckIn:
        if self.reported_at.date() < self.session.date:
            raise ValueError("reported_at is before the session date")
        for i, earlier in enumerate(self.previous):
            if not self.session.date <= earlier.reported_at.date() <= self.reported_at.date():
                raise ValueError(f"previous.{i}.reported_at is outside the session and this "
                                 "check-in")
        today = (self.reported_at.date() - self.session.date).days
        for i, photo in enumerate(self.photos):
            if photo.day > today:
                raise ValueError(f"photos.{i}.day {photo.day} is after this check-in (day "
                                 f"{today})")
        return self


class TriageReason(Output):
    rule: str
    level: Level
    subject: str | None = Field(description="the symptom or red flag the rule fired on")
    assumed: bool = Field(description="fired because an answer was missing")
    clinician: str
    patient: str
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


class TriageResult(Output):
    schema_: Literal["needlecare.triage/1"] = Field(TRIAGE_SCHEMA, alias="schema")
    protocol: ProtocolRef
    day: int = Field(description="days since the session (0 = the session day)")
    level: Level
    reasons: list[TriageReason]
    advice: list[str]
    expected: ExpectedCourse
    unanswered: list[str]


class ReasonRecord(Output):
    """A reason as stored: which rule fired, on what, and whether on a missing answer."""

    rule: str
    level: Level
    subject: str | None
    assumed: bool


class TriageRecord(Output):
    """What a triage decided and why, as a check-in stores it (a few hundred bytes): the
    texts, sources, advice and expected course are the named protocol version's, rebuilt by
    ``explain`` exactly as the patient was shown them (a protocol version never changes)."""

    schema_: Literal["needlecare.triage-record/1"] = Field(TRIAGE_RECORD_SCHEMA,
                                                           alias="schema")
    protocol: ProtocolRef
    day: int
    level: Level
    reasons: list[ReasonRecord]


def record_of(result: TriageResult) -> TriageRecord:
    return TriageRecord(
        protocol=result.protocol, day=result.day, level=result.level,
        reasons=[ReasonRecord(rule=r.rule, level=r.level, subject=r.subject, assumed=r.assumed)
                 for r in result.reasons])


def explain(record: TriageRecord, checkin: CheckIn, protocol: Protocol) -> TriageResult:
    """The whole result a stored record stands for, from ``protocol`` (the version it names)
    and the check-in it was made from (its earlier check-ins are not needed): the same
    reasons, advice, expected course and unanswered questions."""
    if protocol_ref(protocol) != record.protocol:
        raise ValueError(f"the record names protocol {record.protocol.version}, not "
                         f"{protocol.version}")
    rules = protocol.data.triage.rules
    built = _reasons_for(protocol)
    reasons = []
    for reason in record.reasons:
        rule = rules.get(reason.rule)
        if rule is None or rule.level is not reason.level:
            raise ValueError(f"protocol {protocol.label} has no {reason.level.value} rule "
                             f"{reason.rule!r}")
        reasons.append(built.get(reason.rule, rule, reason.subject, reason.assumed))
    return TriageResult(
        protocol=record.protocol, day=record.day, level=record.level, reasons=reasons,
        advice=_advice(protocol, record.level, checkin.session, record.day),
        expected=expected_course(checkin.session, record.day, protocol),
        unanswered=_unanswered(checkin, protocol))


@dataclass(frozen=True, slots=True)
class _Symptom:
    """A reported symptom as the rules read it, missing answers filled with the worst."""

    severity: int
    severity_assumed: bool
    worse: bool
    trend_assumed: bool


@dataclass(frozen=True, slots=True)
class _Case:
    checkin: CheckIn
    day: int
    course: ExpectedCourse
    expected: Mapping[str, SymptomExpectation]  # the course by symptom code
    symptoms: Mapping[str, _Symptom]
    protocol: Protocol


def _read_symptoms(checkin: CheckIn) -> dict[str, _Symptom]:
    history = sorted(checkin.previous, key=lambda c: c.reported_at.replace(tzinfo=None))
    read = {}
    for code, report in checkin.symptoms.items():
        worse = report.trend is None or report.trend is Trend.WORSE
        if report.severity is not None and not worse:
            for earlier in reversed(history):
                before = earlier.symptoms.get(code)
                if before is not None and before.severity is not None:
                    worse = report.severity > before.severity
                    break
        read[code] = _Symptom(
            severity=WORST_SEVERITY if report.severity is None else report.severity,
            severity_assumed=report.severity is None,
            worse=worse,
            trend_assumed=report.trend is None,
        )
    return read


# --- rule kinds: each yields (subject, assumed) for every way the rule fires ---------------

Fired = Iterator[tuple[str | None, bool]]


def _red_flag(rule: TriageRule, case: _Case) -> Fired:
    if rule.devices_any and case.checkin.session.device not in rule.devices_any:
        return
    for flag in rule.red_flags:
        answer = case.checkin.red_flags.get(flag)
        if answer is None:
            yield flag, True
        elif answer:
            yield flag, False


def _red_flags_together(rule: TriageRule, case: _Case) -> Fired:
    answers = case.checkin.red_flags
    # Each side reads as the worst answer: an unanswered flag counts as "yes" (assumed).
    companions = [answers.get(flag) for flag in rule.with_red_flags
                  if answers.get(flag) is not False]
    if not companions:
        return
    companion_assumed = all(answer is None for answer in companions)
    for flag, assumed in _red_flag(rule, case):
        yield flag, assumed or companion_assumed


def _photo_redness(rule: TriageRule, case: _Case) -> Fired:
    if case.checkin.photos and persistent_photo_redness(
            case.checkin.session, case.checkin.photos, case.protocol) is not None:
        yield None, False


def _red_flag_with_symptom(rule: TriageRule, case: _Case) -> Fired:
    threshold = rule.min_severity or 0
    strong = [(code, s) for code in rule.symptoms
              if (s := case.symptoms.get(code)) is not None and s.severity >= threshold]
    if not strong:
        return
    for flag, assumed in _red_flag(rule, case):
        yield flag, assumed or any(s.severity_assumed for _, s in strong)


def _in_days(rule: TriageRule, day: int) -> bool:
    return day >= rule.from_day and (rule.to_day is None or day <= rule.to_day)


def _symptom_severity(rule: TriageRule, case: _Case) -> Fired:
    if not _in_days(rule, case.day):
        return
    threshold = rule.min_severity or 0
    for code in rule.symptoms:
        s = case.symptoms.get(code)
        if s is not None and s.severity >= threshold:
            yield code, s.severity_assumed


def _symptom_worsening(rule: TriageRule, case: _Case) -> Fired:
    if not _in_days(rule, case.day):
        return
    for code in rule.symptoms:
        s = case.symptoms.get(code)
        if s is not None and s.worse and (
                case.day > case.expected[code].worsening_ok_until_day):
            yield code, s.trend_assumed


def _symptom_persistent(rule: TriageRule, case: _Case) -> Fired:
    if not _in_days(rule, case.day):
        return
    for code in rule.symptoms:
        if code in case.symptoms and case.expected[code].phase == "not_expected":
            yield code, False


def _symptom_above_expected(rule: TriageRule, case: _Case) -> Fired:
    if not _in_days(rule, case.day):
        return
    for code in rule.symptoms:
        s = case.symptoms.get(code)
        expected = case.expected[code]
        if s is not None and expected.phase != "not_expected" and (
                s.severity > expected.max_severity):
            yield code, s.severity_assumed


def _within_course(s: _Symptom, expected: SymptomExpectation, day: int) -> bool:
    return (
        expected.phase != "not_expected"
        and s.severity <= expected.max_severity
        and not (s.worse and day > expected.worsening_ok_until_day)
        and not (s.severity_assumed or s.trend_assumed)
    )


def _symptom_expected(rule: TriageRule, case: _Case) -> Fired:
    for code in rule.symptoms:
        s = case.symptoms.get(code)
        if s is not None and _within_course(s, case.expected[code], case.day):
            yield code, False


def _free_text(rule: TriageRule, case: _Case) -> Fired:
    if not case.checkin.note:
        return
    pattern = _keyword_pattern(tuple(rule.keywords))
    if match := pattern.search(case.checkin.note):
        yield match.group(0).lower(), False


_KEYWORD_PATTERNS: dict[tuple[str, ...], re.Pattern[str]] = {}


def _keyword_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    pattern = _KEYWORD_PATTERNS.get(keywords)
    if pattern is None:
        alternatives = "|".join(re.escape(k) for k in keywords)
        pattern = re.compile(rf"\b(?:{alternatives})\w*", re.IGNORECASE)
        _KEYWORD_PATTERNS[keywords] = pattern
    return pattern


Kind = Callable[[TriageRule, _Case], Fired]

_KINDS: Mapping[str, Kind] = {
    "red_flag": _red_flag,
    "red_flag_with_symptom": _red_flag_with_symptom,
    "red_flags_together": _red_flags_together,
    "symptom_severity": _symptom_severity,
    "symptom_worsening": _symptom_worsening,
    "symptom_persistent": _symptom_persistent,
    "symptom_above_expected": _symptom_above_expected,
    "symptom_expected": _symptom_expected,
    "free_text": _free_text,
    "photo_redness": _photo_redness,
}


# --- reasons and advice, built once per protocol -------------------------------------------

def _assumed_preface(subject: str | None) -> str:
    if subject is not None and subject in RED_FLAGS:
        return f"You did not tell us whether you have {RED_FLAGS[subject].patient}. If you do:"
    if subject is not None and subject in SYMPTOMS:
        return (f"You did not tell us everything about your {SYMPTOMS[subject].patient}, so we "
                "assume the worst:")
    return "Some answers were missing, so we assume the worst:"


class _Reasons:
    """Reason objects are immutable, so each (rule, subject, assumed) is built only once."""

    def __init__(self, protocol: Protocol) -> None:
        self._protocol = protocol
        self._built: dict[tuple[str, str | None, bool], TriageReason] = {}

    def get(self, rule_id: str, rule: TriageRule, subject: str | None,
            assumed: bool) -> TriageReason:
        key = (rule_id, subject, assumed)
        reason = self._built.get(key)
        if reason is None:
            patient = f"{_assumed_preface(subject)} {rule.patient}" if assumed else rule.patient
            reason = TriageReason(
                rule=rule_id, level=rule.level, subject=subject, assumed=assumed,
                clinician=clinician_text(rule.clinician, rule.evidence), patient=patient,
                evidence=rule.evidence, basis=basis_of(rule.evidence),
                sources=sources_of(self._protocol, rule.sources),
            )
            self._built[key] = reason
        return reason


_reasons_for = cached_per_protocol(_Reasons)


@cached_per_protocol
def _rules_for(protocol: Protocol) -> tuple[tuple[str, TriageRule, Kind], ...]:
    return tuple((rule_id, rule, _KINDS[rule.kind])
                 for rule_id, rule in protocol.data.triage.rules.items())


def _advice(protocol: Protocol, level: Level, session: SessionFacts, day: int) -> list[str]:
    return list(_advice_for(protocol, level, day, float(session.deepest_depth_mm),
                            session.fitzpatrick, session.device, tuple(session.zones),
                            tuple(session.products)))


@functools.lru_cache(maxsize=8192)
def _advice_for(protocol: Protocol, level: Level, day: int, depth: float, fitzpatrick: int,
                device: str, zones: tuple[str, ...], products: tuple[str, ...]
                ) -> tuple[str, ...]:
    # Cached on the session's selectors: the same advice serves every patient whose
    # session and day match, and building aftercare instructions dominates the cost.
    triage_data = protocol.data.triage
    lines = list(triage_data.advice[level].patient)
    if level is Level.EMERGENCY:
        lines[0] = f"{lines[0]} Use {triage_data.emergency_number_hint}."
    if level.rank <= Level.CONTACT_CLINIC.rank:
        session = SessionFacts(date=dt.date(2000, 1, 1), deepest_depth_mm=depth,
                               fitzpatrick=fitzpatrick, device=device, zones=list(zones),
                               products=list(products))
        lines += [i.text for i in instructions_for_day(session, day, protocol)
                  if i.category in ("soothing", "moisturiser", "sun")]
    lines.append(protocol.data.aftercare.call_clinic)
    return tuple(lines)


def _check_known(checkin: CheckIn, protocol: Protocol) -> None:
    """Refuse codes newer than the protocol: its rules would silently pass them over."""
    if protocol.vocabulary >= EDITION:
        return
    flags = codes_in("red_flags", protocol.vocabulary)
    symptoms = codes_in("symptoms", protocol.vocabulary)
    answers: list[CheckIn | EarlierCheckIn] = [checkin, *checkin.previous]
    for doc in answers:
        for code in doc.red_flags:
            if code not in flags:
                raise ValueError(f"red flag {code!r} is not part of protocol {protocol.label}")
        for code in doc.symptoms:
            if code not in symptoms:
                raise ValueError(f"symptom {code!r} is not part of protocol {protocol.label}")
    if checkin.photos and protocol.data.photo_redness is None:
        raise ValueError(f"protocol {protocol.label} does not read redness on photos")


def _unanswered(checkin: CheckIn, protocol: Protocol) -> list[str]:
    flags = codes_in("red_flags", protocol.vocabulary)
    missing = [f"red_flags.{code}" for code in RED_FLAGS
               if code in flags and checkin.red_flags.get(code) is None]
    for code, report in checkin.symptoms.items():
        if report.severity is None:
            missing.append(f"symptoms.{code}.severity")
        if report.trend is None:
            missing.append(f"symptoms.{code}.trend")
    return missing


def triage(checkin: CheckIn, protocol: Protocol | None = None) -> TriageResult:
    """Apply every triage rule to a check-in."""
    protocol = protocol or default_protocol()
    _check_known(checkin, protocol)
    day = (checkin.reported_at.date() - checkin.session.date).days
    course = expected_course(checkin.session, day, protocol)
    case = _Case(checkin, day, course, {s.symptom: s for s in course.symptoms},
                 _read_symptoms(checkin), protocol)
    reasons = _reasons_for(protocol)
    fired: list[TriageReason] = []
    for rule_id, rule, kind in _rules_for(protocol):
        for subject, assumed in kind(rule, case):
            fired.append(reasons.get(rule_id, rule, subject, assumed))
    fired.sort(key=lambda r: -r.level.rank)
    level = fired[0].level if fired else Level.EXPECTED
    return TriageResult(
        protocol=protocol_ref(protocol),
        day=day,
        level=level,
        reasons=fired,
        advice=_advice(protocol, level, checkin.session, day),
        expected=case.course,
        unanswered=_unanswered(checkin, protocol),
    )
