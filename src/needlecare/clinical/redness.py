"""Redness on photos: the expected change in a* after a session, and when photos flag it.

The protocol's ``[photo_redness]`` table holds a decay model per recovery depth band: on day
``t`` after the session the top of the expected band is ``peak_a·e^(−t/tau_days) +
residual_a`` (a change in CIELAB a* from the patient's own pre-treatment photo; the band runs
from 0 up to it). A photo is above the band when its change is at least ``flag_margin_a``
higher. Persistent redness needs ``consecutive_photos`` usable photo check-ins in a row, all
from ``from_day`` on (after the fading window of the redness course), all above the band.

Photos only ever add a triage reason: nothing here can lower a level the patient's answers set.
Photos that failed the quality checks are never measured, so they are left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Annotated

from pydantic import Field, StrictBool, StrictFloat, StrictInt

from needlecare.clinical.common import (
    Basis,
    Document,
    Output,
    SourceRef,
    basis_of,
    sources_of,
)
from needlecare.clinical.protocol.loader import Protocol, default_protocol
from needlecare.clinical.protocol.schema import PhotoRedness
from needlecare.clinical.recovery import depth_band
from needlecare.clinical.session import SessionFacts

# StrictFloat takes integers but refuses booleans and strings; a union with StrictInt would
# drop minimum/maximum from the JSON Schema.
AStarChange = Annotated[StrictFloat, Field(
    ge=-60, le=60, description="change in CIELAB a* from the pre-treatment baseline photo")]


class PhotoMeasurement(Document):
    """Redness measured on one check-in's photo of the treated area."""

    day: Annotated[StrictInt, Field(ge=0, le=3650, description="days since the session")]
    a_star_change: AStarChange
    quality_ok: StrictBool = Field(description="the photo passed the quality checks; a photo "
                                               "that failed is never used for measurement")


class RednessBand(Output):
    day: int
    depth_band: str
    expected_max_a: float = Field(description="top of the expected band (change in a*)")
    flag_from_a: float = Field(description="a change at or above this is above the band by "
                                           "the protocol's margin")
    noise_floor_a: float = Field(description="changes smaller than this are not changes")
    flags_from_day: int = Field(description="photos count towards a flag from this day on")
    basis: Basis
    sources: list[SourceRef]


class PhotoRednessFinding(Output):
    days: list[int] = Field(description="the consecutive photo days above the band")
    a_star_changes: list[float]
    flag_from_a: list[float]


def _model(protocol: Protocol) -> PhotoRedness:
    model = protocol.data.photo_redness
    if model is None:
        raise ValueError(f"protocol {protocol.label} has no expected redness course for photos")
    return model


def _top(model: PhotoRedness, band: str, day: int) -> float:
    curve = model.curves[band]
    return curve.peak_a * math.exp(-day / curve.tau_days) + curve.residual_a


def expected_redness(session: SessionFacts, day: int,
                     protocol: Protocol | None = None) -> RednessBand:
    """The expected band of redness on photos ``day`` days after the session."""
    protocol = protocol or default_protocol()
    if day < 0:
        raise ValueError("day must be 0 or later")
    model = _model(protocol)
    band = depth_band(session, protocol)
    top = _top(model, band, day)
    curve = model.curves[band]
    return RednessBand(
        day=day, depth_band=band, expected_max_a=round(top, 2),
        flag_from_a=round(top + model.flag_margin_a, 2), noise_floor_a=model.noise_floor_a,
        flags_from_day=model.from_day, basis=basis_of(curve.evidence),
        sources=sources_of(protocol, list(dict.fromkeys([*curve.sources, *model.sources]))),
    )


def redness_course(session: SessionFacts, last_day: int,
                   protocol: Protocol | None = None) -> list[RednessBand]:
    """The expected band for every day from the session to ``last_day`` (for charts)."""
    protocol = protocol or default_protocol()
    return [expected_redness(session, day, protocol) for day in range(last_day + 1)]


def _by_day(photos: Iterable[PhotoMeasurement]) -> list[tuple[int, float]]:
    # Several usable photos on one day (several views) count as one photo check-in, read at
    # its reddest: a second view can then only add redness, never hide it.
    worst: dict[int, float] = {}
    for photo in photos:
        if photo.quality_ok:
            worst[photo.day] = max(worst.get(photo.day, -math.inf), float(photo.a_star_change))
    return sorted(worst.items())


def persistent_photo_redness(session: SessionFacts, photos: Sequence[PhotoMeasurement],
                             protocol: Protocol | None = None) -> PhotoRednessFinding | None:
    """The latest photo check-ins when they all show redness above the expected band, else
    None. Only the most recent usable photo check-ins count: redness that has since settled on
    photos no longer flags."""
    protocol = protocol or default_protocol()
    model = _model(protocol)
    band = depth_band(session, protocol)
    latest = _by_day(photos)[-model.consecutive_photos:]
    if len(latest) < model.consecutive_photos:
        return None
    thresholds = [_top(model, band, day) + model.flag_margin_a for day, _ in latest]
    if all(day >= model.from_day and change >= threshold
           for (day, change), threshold in zip(latest, thresholds, strict=True)):
        return PhotoRednessFinding(days=[day for day, _ in latest],
                                   a_star_changes=[change for _, change in latest],
                                   flag_from_a=[round(t, 2) for t in thresholds])
    return None
