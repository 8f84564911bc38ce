"""The shape of the alternatives file: microneedling and the treatments it is weighed against.

Strict like the protocol's schema. Each option says what it suits, its downtime and its number
of sessions, each cited; risk rules say which options carry a risk, and for whom (a fact in the
intake, a Fitzpatrick type, a treated zone), also cited. Whole-file cross-checks live in
``alternatives_loader.py``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt

from needlecare.clinical.protocol.schema import Citation, Cited, Fitz, ProtocolInfo, Strict, Text

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Days = Annotated[StrictInt, Field(ge=0, le=365)]
Count = Annotated[StrictInt, Field(ge=1, le=52)]

#: Atrophic acne scar morphology (Needlecare's outcome measures count the same three).
ScarType = Literal["icepick", "boxcar", "rolling"]
#: How much a risk weighs for this patient, least to most.
RiskLevel = Literal["note", "caution", "avoid"]
OptionKind = Literal["procedure", "adjunct"]

RISK_LEVELS: tuple[RiskLevel, ...] = ("note", "caution", "avoid")


class Suits(Cited):
    indications: Annotated[list[Text], Field(min_length=1)]
    #: For acne scars: the morphologies it suits; empty means not specific.
    scar_types: list[ScarType] = []
    clinician: Text
    patient: Text


class Downtime(Cited):
    clinician: Text
    patient: Text
    days_min: Days | None = None
    days_max: Days | None = None


class Sessions(Cited):
    clinician: Text
    patient: Text
    min: Count | None = None
    max: Count | None = None
    interval_days: Annotated[StrictInt, Field(ge=1, le=365)] | None = None


class Option(Cited):
    """One treatment. ``patient`` says what it is in plain words (cited like any claim)."""

    name: Text
    kind: OptionKind
    patient_name: Text
    patient: Text
    suits: Annotated[dict[Key, Suits], Field(min_length=1)]
    downtime: Downtime
    sessions: Sessions


class RiskRule(Cited):
    """A risk of some options. It applies when every condition it names holds: one of
    ``facts_any`` is present, the skin type is at least ``fitzpatrick_min``, a treated zone
    is one of ``zones_any``. ``always = true`` marks a risk shown to everyone."""

    options: Annotated[list[Text], Field(min_length=1)]
    level: RiskLevel
    always: StrictBool = False
    facts_any: list[Text] = []
    fitzpatrick_min: Fitz | None = None
    zones_any: list[Text] = []
    clinician: Text
    patient: Text


class AlternativesFile(Strict):
    alternatives: ProtocolInfo
    bibliography: dict[str, Citation]
    options: Annotated[dict[Key, Option], Field(min_length=2)]
    risks: dict[Key, RiskRule]
