"""Types shared by the engines' input and output documents.

Codes are plain strings checked against the vocabulary (their JSON Schema lists the allowed
values). Clinical scores are strict integers: pydantic's lax mode would accept ``false`` as 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    WithJsonSchema,
)

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.protocol.loader import Protocol
from needlecare.clinical.vocabulary import Evidence


def _code_type(table: Mapping[str, vocab.Term], what: str) -> Any:
    allowed = sorted(table)

    def check(value: str) -> str:
        if value not in table:
            raise ValueError(f"unknown {what} {value!r}; expected one of: {', '.join(allowed)}")
        return value

    return Annotated[str, AfterValidator(check),
                     WithJsonSchema({"type": "string", "enum": allowed})]


ZoneCode = _code_type(vocab.ZONES, "zone")
IndicationCode = _code_type(vocab.INDICATIONS, "indication")
ConditionCode = _code_type(vocab.CONDITIONS, "condition")
MedicationCode = _code_type(vocab.MEDICATIONS, "medication")
ProcedureCode = _code_type(vocab.PROCEDURES, "procedure")
AllergyCode = _code_type(vocab.ALLERGIES, "allergy")
DeviceCode = _code_type(vocab.DEVICES, "device")
ProductCode = _code_type(vocab.PRODUCTS, "product")
SymptomCode = _code_type(vocab.SYMPTOMS, "symptom")
RedFlagCode = _code_type(vocab.RED_FLAGS, "red flag")

Fitzpatrick = Annotated[StrictInt, Field(ge=1, le=6, description="Fitzpatrick skin type 1–6")]
Severity = Annotated[StrictInt, Field(ge=0, le=10, description="0 (none) to 10 (worst)")]
DepthMm = Annotated[StrictFloat | StrictInt, Field(gt=0, le=3.0,
                                                   description="needle depth in mm")]

Basis = Literal["evidence", "limited_evidence", "clinic_policy"]

_BASIS: Mapping[Evidence, Basis] = {
    Evidence.CITED: "evidence",
    Evidence.CITED_LOW: "limited_evidence",
    Evidence.PRACTICE: "clinic_policy",
}

CLINIC_POLICY_NOTE = "This is your clinic's policy."
LIMITED_EVIDENCE_NOTE = "Limited evidence: based on a weak or secondary source."


class Document(BaseModel):
    """Base for input documents: unknown fields are errors, so typos are never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Output(BaseModel):
    model_config = ConfigDict(frozen=True)


class SourceRef(Output):
    key: str
    citation: str
    link: str
    kind: str


class ProtocolRef(Output):
    name: str
    version: str


def basis_of(evidence: Evidence) -> Basis:
    return _BASIS[evidence]


def protocol_ref(protocol: Protocol) -> ProtocolRef:
    return ProtocolRef(name=protocol.name, version=protocol.version)


def sources_of(protocol: Protocol, keys: list[str]) -> list[SourceRef]:
    bib = protocol.data.bibliography
    return [SourceRef(key=k, citation=bib[k].citation, link=bib[k].link, kind=bib[k].kind)
            for k in keys]


def clinician_text(text: str, evidence: Evidence) -> str:
    return f"{text} ({LIMITED_EVIDENCE_NOTE})" if evidence is Evidence.CITED_LOW else text


def day_of(session_date: dt.date, when: dt.date) -> int:
    return (when - session_date).days


T = TypeVar("T")


def cached_per_protocol(build: Callable[[Protocol], T]) -> Callable[[Protocol], T]:
    """Memoise a derived table per protocol object (protocols are immutable)."""
    cache: dict[int, tuple[Protocol, T]] = {}

    def get(protocol: Protocol) -> T:
        hit = cache.get(id(protocol))
        if hit is None or hit[0] is not protocol:
            hit = (protocol, build(protocol))
            cache[id(protocol)] = hit
        return hit[1]

    return get
