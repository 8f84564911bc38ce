"""The expected course of each symptom after a session, by depth band, day and skin type.

Each symptom has a normal window (ends on a day that depends on the depth band), then an
optional "fading" window in which it may linger at a lower severity, and after that it is not
expected: triage calls that persistent. Severities above the day's band are "worse than
expected".
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import Field

from needlecare.clinical.common import (
    Basis,
    Output,
    SourceRef,
    basis_of,
    sources_of,
)
from needlecare.clinical.protocol.loader import Protocol, default_protocol
from needlecare.clinical.session import SessionFacts
from needlecare.clinical.vocabulary import SYMPTOMS, codes_in

Phase = Literal["not_yet", "normal", "fading", "not_expected"]
Intensity = Literal["none", "mild", "moderate", "marked"]


class SymptomExpectation(Output):
    symptom: str
    expected: bool = Field(description="part of normal healing on this day")
    phase: Phase
    max_severity: int = Field(description="highest 0–10 severity still expected today")
    intensity: Intensity
    normal_until_day: int
    tolerable_until_day: int | None
    worsening_ok_until_day: int
    patient: str
    basis: Basis
    sources: list[SourceRef]


class ExpectedCourse(Output):
    day: int
    depth_band: str
    symptoms: list[SymptomExpectation]
    skin_notes: list[str]

    def for_symptom(self, code: str) -> SymptomExpectation:
        for item in self.symptoms:
            if item.symptom == code:
                return item
        raise KeyError(code)


def _intensity(severity: int) -> Intensity:
    if severity == 0:
        return "none"
    if severity <= 3:
        return "mild"
    return "moderate" if severity <= 6 else "marked"


def depth_band(session: SessionFacts, protocol: Protocol) -> str:
    recovery = protocol.data.recovery
    if session.device == "rf":
        return recovery.rf_band
    depth = float(session.deepest_depth_mm)
    for name, band in recovery.depth_bands.items():
        if band.above_mm < depth <= band.up_to_mm:
            return name
    raise ValueError(f"no depth band covers {depth} mm")  # the loader guarantees coverage


def expected_course(session: SessionFacts, day: int,
                    protocol: Protocol | None = None) -> ExpectedCourse:
    """What is normal ``day`` days after the session (day 0 is the session day)."""
    protocol = protocol or default_protocol()
    if day < 0:
        raise ValueError("day must be 0 or later")
    return _course(protocol, depth_band(session, protocol), session.fitzpatrick, day)


@functools.lru_cache(maxsize=4096)
def _course(protocol: Protocol, band: str, fitzpatrick: int, day: int) -> ExpectedCourse:
    recovery = protocol.data.recovery
    known = codes_in("symptoms", protocol.vocabulary)
    items = []
    for code in SYMPTOMS:
        if code not in known:
            continue
        course = recovery.symptoms[code]
        normal_until = course.normal_until[band]
        phase: Phase
        if day < course.onset_day:
            phase, ceiling, text = "not_yet", course.peak_severity, course.patient_normal
        elif day <= normal_until:
            phase, ceiling, text = "normal", course.peak_severity, course.patient_normal
        elif course.tolerable_until is not None and day <= course.tolerable_until:
            phase, ceiling = "fading", course.tolerable_severity
            text = course.patient_fading or course.patient_normal
        else:
            phase, ceiling, text = "not_expected", 0, ""
        items.append(SymptomExpectation(
            symptom=code,
            expected=phase in ("normal", "fading"),
            phase=phase,
            max_severity=ceiling,
            intensity=_intensity(ceiling) if phase != "not_yet" else "none",
            normal_until_day=normal_until,
            tolerable_until_day=course.tolerable_until,
            worsening_ok_until_day=course.worsening_ok_until,
            patient=text,
            basis=basis_of(course.evidence),
            sources=sources_of(protocol, course.sources),
        ))
    notes = [note.patient for note in recovery.skin_notes.values()
             if fitzpatrick >= note.fitzpatrick_min]
    return ExpectedCourse(day=day, depth_band=band, symptoms=items, skin_notes=notes)
