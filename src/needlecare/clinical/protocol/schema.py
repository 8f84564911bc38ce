"""The shape of a protocol file, validated strictly (unknown keys are errors).

Each rule-like entry carries ``evidence`` (the clinical reference's tag) and ``sources``
(bibliography keys). Cross-checks that need the whole file (codes, sources, overlaps) live in
``loader.py``; this module only describes and type-checks single entries.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from needlecare.clinical.vocabulary import Evidence, Level, Verdict

Text = Annotated[str, Field(min_length=1)]
Days = Annotated[StrictInt, Field(ge=0, le=3650)]
Mm = Annotated[float, Field(gt=0, le=3.0)]
Fitz = Annotated[StrictInt, Field(ge=1, le=6)]
Severity = Annotated[StrictInt, Field(ge=0, le=10)]
Sources = Annotated[list[Text], Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Cited(Strict):
    evidence: Evidence
    sources: Sources


class ProtocolInfo(Strict):
    name: Text
    version: Text
    title: Text
    effective: dt.date
    reference: Text
    vocabulary: Annotated[StrictInt, Field(ge=1, description="vocabulary edition")] = 1


class Citation(Strict):
    citation: Text
    link: str = ""
    kind: Literal["peer_reviewed", "regulatory", "secondary", "practice"]


class ScreeningRule(Cited):
    """A contraindication or precaution, fired by any one of its facts."""

    facts: Annotated[list[Text], Field(min_length=1)]
    verdict: Verdict
    wait_days: Days | None = None
    zones_any: list[Text] = []
    devices_any: list[Text] = []
    resolve_when: str = ""
    precaution: str = ""
    clinician: Text
    patient: Text
    enabled: StrictBool = True


class AuthorisedUse(Strict):
    indications: list[Text]
    zones: list[Text]


class ScreeningInformation(Cited):
    minimum_age: StrictInt
    authorised_uses: list[AuthorisedUse]
    age_text: Text
    off_label_text: Text


class Screening(Strict):
    rules: dict[str, ScreeningRule]
    information: ScreeningInformation


class DepthRange(Cited):
    zone: Text
    indications: Annotated[list[Text], Field(min_length=1)]
    min_mm: Mm
    max_mm: Mm
    note: str = ""


class SessionPlan(Cited):
    sessions_min: Annotated[StrictInt, Field(ge=1, le=52)]
    sessions_max: Annotated[StrictInt, Field(ge=1, le=52)]
    interval_days: Annotated[StrictInt, Field(ge=1, le=365)]
    note: str = ""


class DarkSkinCap(Cited):
    from_fitzpatrick: Fitz
    max_mm: Mm
    clinician: Text


class Preparation(Cited):
    when_facts: list[Text] = []
    stop_days_before: Days | None = None
    clinician: Text
    patient: Text


class Anaesthetic(Cited):
    minutes_min: Annotated[StrictInt, Field(ge=0, le=240)]
    minutes_max: Annotated[StrictInt, Field(ge=0, le=240)]
    clinician: Text
    patient: Text


class TimelineItem(Cited):
    clinician: Text
    patient: Text


class Planning(Strict):
    dark_skin: DarkSkinCap
    depth: dict[str, DepthRange]
    sessions: dict[str, SessionPlan]
    preparation: dict[str, Preparation]
    anaesthetic: dict[str, Anaesthetic]
    results_timeline: dict[str, TimelineItem]


AftercareCategory = Literal[
    "cleansing", "moisturiser", "soothing", "sun", "makeup", "actives", "exercise",
    "swimming", "picking", "hair_removal", "products", "next_session", "watch",
]


class AftercareItem(Cited):
    category: AftercareCategory
    slot: Text
    from_day: Days
    to_day: Days | None = None
    min_depth_mm: Mm | None = None
    max_depth_mm: Mm | None = None
    fitzpatrick_min: Fitz | None = None
    fitzpatrick_max: Fitz | None = None
    products_any: list[Text] = []
    zones_any: list[Text] = []
    devices_any: list[Text] = []
    patient: Text

    @model_validator(mode="after")
    def _ranges_in_order(self) -> AftercareItem:
        if self.to_day is not None and self.to_day < self.from_day:
            raise ValueError(f"to_day {self.to_day} is before from_day {self.from_day}")
        if (self.min_depth_mm is not None and self.max_depth_mm is not None
                and self.min_depth_mm > self.max_depth_mm):
            raise ValueError("min_depth_mm is above max_depth_mm")
        if (self.fitzpatrick_min is not None and self.fitzpatrick_max is not None
                and self.fitzpatrick_min > self.fitzpatrick_max):
            raise ValueError("fitzpatrick_min is above fitzpatrick_max")
        return self


class CheckInSchedule(Cited):
    """When patients are invited to report how they heal, and when they are reminded."""

    days: Annotated[list[Annotated[StrictInt, Field(ge=1, le=365)]], Field(min_length=1)]
    reminder_after_hours: Annotated[StrictInt, Field(ge=1, le=72)]
    invite_at_hour: Annotated[StrictInt, Field(ge=0, le=23)]
    clinician: Text

    @model_validator(mode="after")
    def _days_in_order(self) -> CheckInSchedule:
        if self.days != sorted(set(self.days)):
            raise ValueError("days must be increasing, without repeats")
        return self


class Aftercare(Strict):
    plan_days: Annotated[StrictInt, Field(ge=14, le=60)]
    call_clinic: Text
    check_ins: CheckInSchedule
    items: dict[str, AftercareItem]


class DepthBand(Cited):
    above_mm: Annotated[float, Field(ge=0, le=3.0)]
    up_to_mm: Mm


class SymptomCourse(Cited):
    onset_day: Days
    normal_until: dict[str, Days]
    tolerable_until: Days | None = None
    peak_severity: Severity
    tolerable_severity: Severity = 0
    worsening_ok_until: Annotated[StrictInt, Field(ge=-1, le=60)]
    patient_normal: Text
    patient_fading: str = ""


class SkinNote(Cited):
    fitzpatrick_min: Fitz
    patient: Text


class Recovery(Cited):
    rf_band: Text
    depth_bands: dict[str, DepthBand]
    symptoms: dict[str, SymptomCourse]
    skin_notes: dict[str, SkinNote]


TriageKind = Literal[
    "red_flag", "red_flag_with_symptom", "red_flags_together", "symptom_severity",
    "symptom_worsening", "symptom_persistent", "symptom_above_expected", "symptom_expected",
    "free_text", "photo_redness",
]


class TriageRule(Cited):
    kind: TriageKind
    level: Level
    red_flags: list[Text] = []
    with_red_flags: list[Text] = []
    symptoms: list[Text] = []
    devices_any: list[Text] = []
    min_severity: Severity | None = None
    from_day: Days = 0
    to_day: Days | None = None
    keywords: list[Text] = []
    clinician: Text
    patient: Text


class Advice(Strict):
    patient: list[Text]


class Triage(Strict):
    emergency_number_hint: Text
    rules: dict[str, TriageRule]
    advice: dict[Level, Advice]


ADelta = Annotated[float, Field(ge=0, le=30, description="change in CIELAB a*")]


class RednessCurve(Cited):
    """The top of the expected band: ``peak_a · e^(−day / tau_days) + residual_a``."""

    peak_a: Annotated[float, Field(gt=0, le=30)]
    tau_days: Annotated[float, Field(gt=0, le=30)]
    residual_a: ADelta = 0.0


class PhotoRedness(Cited):
    """Redness measured on photos (change in a* from the patient's own baseline)."""

    noise_floor_a: Annotated[float, Field(gt=0, le=10)]
    flag_margin_a: Annotated[float, Field(gt=0, le=20)]
    consecutive_photos: Annotated[StrictInt, Field(ge=2, le=10)]
    from_day: Days
    clinician: Text
    curves: dict[str, RednessCurve]


class CourseRule(Cited):
    clinician: Text
    patient: Text


#: The rules the earliest-safe-date function applies; each needs its wording and sources.
COURSE_RULE_CODES = (
    "min_interval", "screening_defer", "consent_valid_from",
    "screening_undated", "open_escalation", "no_active_plan", "no_consent", "consent_expired",
)


class Course(Cited):
    default_interval_days: Annotated[StrictInt, Field(ge=1, le=365)]
    late_after_extra_days: Annotated[StrictInt, Field(ge=0, le=365)]
    clinician: Text
    rules: dict[str, CourseRule]


Stage = Literal["booked", "healing", "remodelling", "after_course", "maintenance"]
Topic = Literal["this_stage", "results_show", "builds", "lasting"]


class ExpectationItem(Cited):
    stages: Annotated[list[Stage], Field(min_length=1)]
    topic: Topic
    clinician: Text
    patient: Text


class Expectations(Strict):
    healing_until_day: Days
    remodelling_until_day: Days
    items: dict[str, ExpectationItem]


class ProtocolFile(Strict):
    protocol: ProtocolInfo
    bibliography: dict[str, Citation]
    screening: Screening
    planning: Planning
    aftercare: Aftercare
    recovery: Recovery
    triage: Triage
    # Added in microneedling-2026.2; earlier versions have none of them.
    photo_redness: PhotoRedness | None = None
    course: Course | None = None
    expectations: Expectations | None = None
