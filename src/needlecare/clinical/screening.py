"""Candidacy screening: a structured intake in, a verdict with every reason out.

The overall verdict is the most restrictive rule that fired. A question a rule needs but the
intake leaves unanswered is listed in ``unanswered`` and keeps the verdict at best
``suitable_with_precautions``: a missing answer never produces ``suitable``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

from pydantic import Field, StrictBool, model_validator

from needlecare.clinical.common import (
    CLINIC_POLICY_NOTE,
    AllergyCode,
    Basis,
    ConditionCode,
    DeviceCode,
    Document,
    Fitzpatrick,
    IndicationCode,
    MedicationCode,
    Output,
    ProcedureCode,
    ProtocolRef,
    SourceRef,
    ZoneCode,
    basis_of,
    clinician_text,
    protocol_ref,
    sources_of,
)
from needlecare.clinical.protocol.loader import Protocol, default_protocol
from needlecare.clinical.protocol.schema import ScreeningRule
from needlecare.clinical.vocabulary import EDITION, Evidence, Verdict, codes_in

INTAKE_SCHEMA: Final = "needlecare.intake/1"
RESULT_SCHEMA: Final = "needlecare.screening/1"


class MedicationAnswer(Document):
    current: StrictBool = Field(description="taking it now")
    last_dose: dt.date | None = Field(
        default=None, description="date of the last dose, if stopped")


class Intake(Document):
    """What the consultation records. A code left out of a section is an unanswered question;
    ``false`` is a "no"."""

    schema_: Literal["needlecare.intake/1"] = Field(INTAKE_SCHEMA, alias="schema")
    assessed_on: dt.date
    planned_date: dt.date = Field(description="date the first session is planned for")
    date_of_birth: dt.date | None = None
    fitzpatrick: Fitzpatrick | None = None
    indications: list[IndicationCode] = []
    zones: list[ZoneCode] = Field(default=[], description="zones to treat; empty = not decided")
    device: DeviceCode | None = None
    conditions: dict[ConditionCode, StrictBool] = {}
    medications: dict[MedicationCode, StrictBool | MedicationAnswer] = Field(
        default={}, description="true = taking now; false = never or not in the last year")
    procedures: dict[ProcedureCode, StrictBool | dt.date] = Field(
        default={}, description="date of the most recent; true = yes, date unknown; false = no")
    allergies: dict[AllergyCode, StrictBool] = {}

    @model_validator(mode="after")
    def _dates_make_sense(self) -> Intake:
        if self.planned_date < self.assessed_on:
            raise ValueError("planned_date is before assessed_on")
        if self.date_of_birth is not None and self.date_of_birth > self.assessed_on:
            raise ValueError("date_of_birth is after assessed_on")
        for code, med in self.medications.items():
            if (isinstance(med, MedicationAnswer) and med.last_dose is not None
                    and med.last_dose > self.assessed_on):
                raise ValueError(f"medications.{code}.last_dose is in the future")
        for code, when in self.procedures.items():
            if isinstance(when, dt.date) and when > self.assessed_on:
                raise ValueError(f"procedures.{code} is dated after assessed_on")
        return self


class Reason(Output):
    rule: str
    verdict: Verdict
    clinician: str
    patient: str
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]
    facts: list[str]
    defer_until: dt.date | None = None
    resolve_when: str = ""
    precaution: str = ""


class Unanswered(Output):
    field: str
    rule: str


class Information(Output):
    code: str
    text: str
    sources: list[SourceRef]


class ScreeningResult(Output):
    schema_: Literal["needlecare.screening/1"] = Field(RESULT_SCHEMA, alias="schema")
    protocol: ProtocolRef
    assessed_on: dt.date
    planned_date: dt.date
    verdict: Verdict
    defer_until: dt.date | None = Field(
        description="earliest date the dated deferrals allow; never on or before planned_date")
    resolve_when: list[str] = Field(description="conditions an undated deferral waits for")
    reasons: list[Reason]
    precautions: list[str]
    unanswered: list[Unanswered]
    information: list[Information]


@dataclass(frozen=True, slots=True)
class _Finding:
    """How one fact of a rule reads in the intake."""

    present: bool
    unanswered_field: str | None = None
    dated: dt.date | None = None


def _read_fact(intake: Intake, fact: str) -> _Finding:
    category, _, code = fact.partition(":")
    if category == "fitzpatrick":
        if intake.fitzpatrick is None:
            return _Finding(False, "fitzpatrick")
        return _Finding(intake.fitzpatrick == int(code))
    if category in ("condition", "allergy"):
        section = intake.conditions if category == "condition" else intake.allergies
        answer = section.get(code)
        field = f"{'conditions' if category == 'condition' else 'allergies'}.{code}"
        return _Finding(False, field) if answer is None else _Finding(answer)
    if category == "medication":
        med = intake.medications.get(code)
        field = f"medications.{code}"
        if med is None:
            return _Finding(False, field)
        if isinstance(med, bool):
            return _Finding(med)
        if med.current:
            return _Finding(True)
        if med.last_dose is None:
            # Stopped, date unknown: count from the day of assessment, as for procedures.
            return _Finding(True, f"{field}.last_dose", dated=intake.assessed_on)
        return _Finding(True, dated=med.last_dose)
    assert category == "procedure", category
    when = intake.procedures.get(code)
    field = f"procedures.{code}"
    if when is None:
        return _Finding(False, field)
    if isinstance(when, bool):
        # "Yes, date unknown": assume it happened on the day of assessment, the latest
        # it can have been, so the waiting period is never shortened by a missing date.
        return _Finding(True, f"{field}.date", dated=intake.assessed_on) if when else (
            _Finding(False))
    return _Finding(True, dated=when)


def _evaluate(rule_id: str, rule: ScreeningRule, intake: Intake, protocol: Protocol
              ) -> tuple[Reason | None, list[Unanswered]]:
    # A rule limited to zones or devices the intake rules out cannot fire: its questions do
    # not matter, so they are not unanswered (a "yes" must never screen better than a blank).
    if rule.zones_any and intake.zones and not set(rule.zones_any) & set(intake.zones):
        return None, []
    if rule.devices_any and intake.device is not None and intake.device not in rule.devices_any:
        return None, []
    unanswered: list[Unanswered] = []
    fired: list[str] = []
    defer_dates: list[dt.date] = []
    ongoing = False
    for fact in rule.facts:
        finding = _read_fact(intake, fact)
        if finding.unanswered_field:
            unanswered.append(Unanswered(field=finding.unanswered_field, rule=rule_id))
        if not finding.present:
            continue
        if finding.dated is not None and rule.wait_days is not None:
            until = finding.dated + dt.timedelta(days=rule.wait_days)
            if until <= intake.planned_date:
                continue
            defer_dates.append(until)
        elif finding.dated is not None:
            continue  # a stopped medication with no waiting period no longer matters
        else:
            ongoing = True
        fired.append(fact)
    if not fired:
        return None, unanswered
    if rule.zones_any and not intake.zones:
        unanswered.append(Unanswered(field="zones", rule=rule_id))
    if rule.devices_any and intake.device is None:
        unanswered.append(Unanswered(field="device", rule=rule_id))
    defer_until = None
    resolve_when = rule.resolve_when
    if rule.verdict is Verdict.DEFER:
        if ongoing and rule.wait_days is not None:
            resolve_when = resolve_when or f"{rule.wait_days} days after it is stopped"
        elif defer_dates and not ongoing:
            defer_until = max(defer_dates)
    patient = rule.patient
    if rule.evidence is Evidence.PRACTICE:
        patient = f"{patient} {CLINIC_POLICY_NOTE}"
    reason = Reason(
        rule=rule_id, verdict=rule.verdict, clinician=clinician_text(rule.clinician,
                                                                     rule.evidence),
        patient=patient, evidence=rule.evidence, basis=basis_of(rule.evidence),
        sources=sources_of(protocol, rule.sources), facts=fired, defer_until=defer_until,
        resolve_when=resolve_when if rule.verdict is Verdict.DEFER and not defer_until else "",
        precaution=rule.precaution,
    )
    return reason, unanswered


def _information(intake: Intake, protocol: Protocol) -> Iterator[Information]:
    info = protocol.data.screening.information
    sources = sources_of(protocol, info.sources)
    if intake.date_of_birth is not None:
        dob, on = intake.date_of_birth, intake.planned_date
        age = on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))
        if age < info.minimum_age:
            yield Information(code="under_authorised_age", text=info.age_text, sources=sources)
    for indication in intake.indications:
        for zone in intake.zones:
            if not any(indication in use.indications and zone in use.zones
                       for use in info.authorised_uses):
                yield Information(code="off_label", text=info.off_label_text, sources=sources)
                return


_SECTIONS = {"conditions": "condition", "medications": "medication",
             "procedures": "procedure", "allergies": "allergy"}


def _check_known(intake: Intake, protocol: Protocol) -> None:
    """Refuse answers newer than the protocol: no rule of it would read them, so a "yes" would
    be silently ignored."""
    if protocol.vocabulary >= EDITION:
        return
    for section, what in _SECTIONS.items():
        known = codes_in(section, protocol.vocabulary)
        for code in getattr(intake, section):
            if code not in known:
                raise ValueError(f"{what} {code!r} is not part of protocol {protocol.label}")


def screen(intake: Intake, protocol: Protocol | None = None) -> ScreeningResult:
    """Apply every enabled screening rule to the intake."""
    protocol = protocol or default_protocol()
    _check_known(intake, protocol)
    reasons: list[Reason] = []
    unanswered: dict[str, Unanswered] = {}
    for rule_id, rule in protocol.data.screening.rules.items():
        if not rule.enabled:
            continue
        reason, missing = _evaluate(rule_id, rule, intake, protocol)
        for item in missing:
            unanswered.setdefault(item.field, item)
        if reason is not None:
            reasons.append(reason)
    reasons.sort(key=lambda r: -r.verdict.rank)
    verdict = max((r.verdict for r in reasons), key=lambda v: v.rank, default=Verdict.SUITABLE)
    if unanswered and verdict is Verdict.SUITABLE:
        verdict = Verdict.SUITABLE_WITH_PRECAUTIONS
    dated = [r.defer_until for r in reasons if r.defer_until is not None]
    return ScreeningResult(
        protocol=protocol_ref(protocol),
        assessed_on=intake.assessed_on,
        planned_date=intake.planned_date,
        verdict=verdict,
        defer_until=max(dated) if verdict is Verdict.DEFER and dated else None,
        resolve_when=[r.resolve_when for r in reasons if r.resolve_when],
        reasons=reasons,
        precautions=[r.precaution for r in reasons if r.precaution],
        unanswered=list(unanswered.values()),
        information=list(_information(intake, protocol)),
    )

