"""Choosing a treatment: microneedling beside its alternatives, for this patient.

``compare_alternatives`` takes a consultation's indications, zones, Fitzpatrick type and the
intake facts that matter (built from the screening by ``request_from_screening``) and returns
one row per option: what it suits and whether it suits this patient's indications and scar
types, downtime, sessions, the risks shown to everyone, and the risks flagged for this patient,
each with its evidence and sources. Options the clinic does not offer are marked "refer".

A risk is flagged when everything it depends on is known to hold ("applies"), and also when
some of it is unknown, as long as nothing known rules it out ("possible": the unknown answer is
listed). So a missing answer never hides a risk, and adding a risk factor never removes one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Final, Literal

from pydantic import Field, model_validator

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.common import (
    Basis,
    Document,
    Fitzpatrick,
    IndicationCode,
    Output,
    SourceRef,
    ZoneCode,
    basis_of,
)
from needlecare.clinical.protocol.alternatives_loader import (
    ANCHOR_OPTION,
    Alternatives,
    default_alternatives,
)
from needlecare.clinical.protocol.alternatives_schema import (
    RISK_LEVELS,
    Option,
    OptionKind,
    RiskLevel,
    RiskRule,
    ScarType,
)
from needlecare.clinical.protocol.datafile import source_refs
from needlecare.clinical.screening import Intake, MedicationAnswer, ScreeningResult
from needlecare.clinical.vocabulary import Evidence, Verdict

REQUEST_SCHEMA: Final = "needlecare.alternatives-request/1"
COMPARISON_SCHEMA: Final = "needlecare.alternatives/1"

RISK_LEVEL_MEANING: Mapping[RiskLevel, str] = {
    "note": "worth saying; not expected to change the choice",
    "caution": "discuss; adjust settings, protect (for example antiviral cover), or prefer "
               "another option",
    "avoid": "generally not advised for this patient: prefer another option or refer",
}

Status = Literal["applies", "possible"]
Availability = Literal["offered", "refer"]


# --- input -------------------------------------------------------------------------------

class AlternativesRequest(Document):
    """What the comparison needs from a consultation. ``facts`` are intake facts present
    (``condition:keloid_history``, ``medication:isotretinoin`` while its waiting period runs);
    ``unanswered`` are facts the intake did not ask. Empty ``zones`` means not decided yet."""

    schema_: Literal["needlecare.alternatives-request/1"] = Field(REQUEST_SCHEMA,
                                                                  alias="schema")
    indications: list[IndicationCode] = Field(min_length=1)
    zones: list[ZoneCode] = []
    fitzpatrick: Fitzpatrick | None = None
    facts: list[str] = []
    unanswered: list[str] = []
    scar_types: list[ScarType] = Field(
        default=[], description="atrophic acne scar types present; empty = not recorded")
    screening_verdict: Verdict | None = Field(
        default=None, description="the microneedling screening verdict, shown on its row")

    @model_validator(mode="after")
    def _facts_are_known(self) -> AlternativesRequest:
        for field in ("facts", "unanswered"):
            unknown = [f for f in getattr(self, field) if not vocab.is_known_fact(f)]
            if unknown:
                raise ValueError(f"{field}: unknown fact(s) {', '.join(unknown)}")
        both = set(self.facts) & set(self.unanswered)
        if both:
            raise ValueError(f"a fact cannot be both present and unanswered: "
                             f"{', '.join(sorted(both))}")
        return self


def request_from_screening(intake: Intake, screening: ScreeningResult,
                           scar_types: Collection[ScarType] = (),
                           alternatives: Alternatives | None = None) -> AlternativesRequest:
    """The comparison request for a screened consultation.

    Present facts are those the screening fired on (so a stopped medication counts while the
    protocol's waiting period for it runs, as isotretinoin does for 6 months) plus every
    condition, allergy and current medication answered "yes". Facts a risk rule uses that the
    intake left unanswered are passed on as unanswered."""
    alternatives = alternatives if alternatives is not None else default_alternatives()
    if not intake.indications:
        raise ValueError("the intake names no indication to compare treatments for")
    present = {fact for reason in screening.reasons for fact in reason.facts
               if not fact.startswith("fitzpatrick:")}
    present |= {f"condition:{c}" for c, yes in intake.conditions.items() if yes}
    present |= {f"allergy:{a}" for a, yes in intake.allergies.items() if yes}
    present |= {f"medication:{m}" for m, answer in intake.medications.items()
                if answer is True or (isinstance(answer, MedicationAnswer) and answer.current)}
    used = {fact for rule in alternatives.data.risks.values() for fact in rule.facts_any}
    unanswered = sorted(fact for fact in used - present if not _answered(intake, fact))
    return AlternativesRequest(
        indications=list(intake.indications), zones=list(intake.zones),
        fitzpatrick=intake.fitzpatrick, facts=sorted(present), unanswered=unanswered,
        scar_types=list(dict.fromkeys(scar_types)), screening_verdict=screening.verdict)


def _answered(intake: Intake, fact: str) -> bool:
    category, _, code = fact.partition(":")
    sections: Mapping[str, Collection[str]] = {
        "condition": intake.conditions.keys(), "allergy": intake.allergies.keys(),
        "medication": intake.medications.keys(), "procedure": intake.procedures.keys(),
    }
    return code in sections[category]


# --- output ------------------------------------------------------------------------------

class Statement(Output):
    clinician: str
    patient: str
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


class SuitsEntry(Statement):
    key: str
    indications: list[str]
    scar_types: list[str]
    matches: bool = Field(description="suits one of this consultation's indications (and its "
                                      "scar types, when both are recorded)")


class DowntimeEntry(Statement):
    days_min: int | None
    days_max: int | None


class SessionsEntry(Statement):
    min: int | None
    max: int | None
    interval_days: int | None


class RiskFlag(Statement):
    risk: str
    level: RiskLevel
    status: Status
    because: list[str] = Field(description="what made it apply: facts, 'fitzpatrick:N', zones")
    unknown: list[str] = Field(description="answers that would settle a 'possible' risk")


class AlternativeRow(Output):
    option: str
    name: str
    kind: OptionKind
    patient_name: str
    what_it_is: Statement
    fits: bool
    fits_indications: list[str]
    fits_scar_types: list[str]
    suits: list[SuitsEntry]
    downtime: DowntimeEntry
    sessions: SessionsEntry
    general_risks: list[RiskFlag]
    patient_risks: list[RiskFlag]
    highest_level: RiskLevel | None = Field(description="of the risks flagged for this patient")
    offered: bool
    availability: Availability
    screening_verdict: Verdict | None = Field(
        description="the screening verdict, on the microneedling row only")


class Comparison(Output):
    schema_: Literal["needlecare.alternatives/1"] = Field(COMPARISON_SCHEMA, alias="schema")
    alternatives: str = Field(description="label of the alternatives file used")
    indications: list[str]
    zones: list[str]
    fitzpatrick: int | None
    scar_types: list[str]
    rows: list[AlternativeRow]


# --- the comparison ----------------------------------------------------------------------

def compare_alternatives(request: AlternativesRequest, not_offered: Collection[str] = (),
                         alternatives: Alternatives | None = None) -> Comparison:
    """Microneedling first, then the alternatives in the file's order. ``not_offered`` lists
    the clinic's options it does not provide: they stay in the comparison, marked "refer"."""
    alternatives = alternatives if alternatives is not None else default_alternatives()
    options = alternatives.data.options
    unknown = sorted(set(not_offered) - set(options))
    if unknown:
        raise ValueError(f"not_offered: unknown option(s) {', '.join(unknown)}; expected one "
                         f"of: {', '.join(options)}")
    flags = _flags_by_option(request, alternatives)
    order = [ANCHOR_OPTION, *(key for key in options if key != ANCHOR_OPTION)]
    rows = [_row(key, options[key], request, flags.get(key, ([], [])), key not in not_offered,
                 alternatives) for key in order]
    return Comparison(
        alternatives=alternatives.label, indications=list(request.indications),
        zones=list(request.zones), fitzpatrick=request.fitzpatrick,
        scar_types=list(request.scar_types), rows=rows)


def _row(key: str, option: Option, request: AlternativesRequest,
         flags: tuple[list[RiskFlag], list[RiskFlag]], offered: bool,
         alternatives: Alternatives) -> AlternativeRow:
    bib = alternatives.data.bibliography
    suits = [SuitsEntry(
        key=suit_key, indications=list(s.indications), scar_types=list(s.scar_types),
        matches=_matches(s.indications, s.scar_types, request), clinician=s.clinician,
        patient=s.patient, evidence=s.evidence, basis=basis_of(s.evidence),
        sources=source_refs(bib, s.sources)) for suit_key, s in option.suits.items()]
    matching = [s for s in suits if s.matches]
    fits_indications = [code for code in request.indications
                        if any(code in s.indications for s in matching)]
    fits_scar_types = [t for t in request.scar_types
                       if any(not s.scar_types or t in s.scar_types for s in matching)]
    general, patient = flags
    d, n = option.downtime, option.sessions
    return AlternativeRow(
        option=key, name=option.name, kind=option.kind, patient_name=option.patient_name,
        what_it_is=Statement(clinician=option.name, patient=option.patient,
                             evidence=option.evidence, basis=basis_of(option.evidence),
                             sources=source_refs(bib, option.sources)),
        fits=bool(matching), fits_indications=fits_indications, fits_scar_types=fits_scar_types,
        suits=suits,
        downtime=DowntimeEntry(clinician=d.clinician, patient=d.patient, days_min=d.days_min,
                               days_max=d.days_max, evidence=d.evidence,
                               basis=basis_of(d.evidence), sources=source_refs(bib, d.sources)),
        sessions=SessionsEntry(clinician=n.clinician, patient=n.patient, min=n.min, max=n.max,
                               interval_days=n.interval_days, evidence=n.evidence,
                               basis=basis_of(n.evidence), sources=source_refs(bib, n.sources)),
        general_risks=general, patient_risks=patient,
        highest_level=max((f.level for f in patient), key=RISK_LEVELS.index, default=None),
        offered=offered, availability="offered" if offered else "refer",
        screening_verdict=request.screening_verdict if key == ANCHOR_OPTION else None)


def _matches(indications: Sequence[str], scar_types: Sequence[str],
             request: AlternativesRequest) -> bool:
    if not set(indications) & set(request.indications):
        return False
    # Scar types narrow the match only when both the option and the patient record them.
    return not (scar_types and request.scar_types
                and "acne_scars" in request.indications
                and not set(scar_types) & set(request.scar_types))


def _flags_by_option(request: AlternativesRequest, alternatives: Alternatives
                     ) -> dict[str, tuple[list[RiskFlag], list[RiskFlag]]]:
    found: dict[str, tuple[list[RiskFlag], list[RiskFlag]]] = {}
    for key, rule in alternatives.data.risks.items():
        evaluated = _evaluate(rule, request)
        if evaluated is None:
            continue
        status, because, unknown = evaluated
        flag = RiskFlag(
            risk=key, level=rule.level, status=status, because=because, unknown=unknown,
            clinician=rule.clinician, patient=rule.patient, evidence=rule.evidence,
            basis=basis_of(rule.evidence),
            sources=source_refs(alternatives.data.bibliography, rule.sources))
        for option in rule.options:
            general, patient = found.setdefault(option, ([], []))
            (general if rule.always else patient).append(flag)
    for _, patient in found.values():
        patient.sort(key=lambda f: -RISK_LEVELS.index(f.level))  # stable: file order within
    return found


def _evaluate(rule: RiskRule, request: AlternativesRequest
              ) -> tuple[Status, list[str], list[str]] | None:
    """None when something known rules the risk out; otherwise its status, what made it
    apply and what is still unknown."""
    if rule.always:
        return "applies", [], []
    because: list[str] = []
    unknown: list[str] = []
    for holds, reasons, missing in _conditions(rule, request):
        if holds is False:
            return None
        if holds is None:
            unknown += missing
        because += reasons
    return ("possible" if unknown else "applies"), because, unknown


def _conditions(rule: RiskRule, request: AlternativesRequest
                ) -> Iterator[tuple[bool | None, list[str], list[str]]]:
    """Each condition the rule names: holds (True), fails (False) or unknown (None)."""
    if rule.facts_any:
        present = [f for f in rule.facts_any if f in request.facts]
        missing = [f for f in rule.facts_any if f in request.unanswered]
        yield (True, present, []) if present else ((None, [], missing) if missing
                                                   else (False, [], []))
    if rule.fitzpatrick_min is not None:
        if request.fitzpatrick is None:
            yield None, [], ["fitzpatrick"]
        elif request.fitzpatrick >= rule.fitzpatrick_min:
            yield True, [f"fitzpatrick:{request.fitzpatrick}"], []
        else:
            yield False, [], []
    if rule.zones_any:
        if not request.zones:
            yield None, [], ["zones"]
        else:
            zones = [z for z in request.zones if z in rule.zones_any]
            yield (True, [f"zone:{z}" for z in zones], []) if zones else (False, [], [])
