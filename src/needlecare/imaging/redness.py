"""Redness measured honestly: CIELAB a* over landmark regions, against the patient's own
baseline of the same view, with a stated noise floor.

- a* comes from the colour-managed conversion in ``colour`` (never from pixels read as sRGB
  when the photo says otherwise; imaging.md §2.1).
- Regions come from landmarks, never from a colour threshold: a threshold on redness drops
  exactly the red pixels being measured (imaging.md §3). Inside a region only clipped pixels
  and the brightest and darkest 5 % (specular highlights, shadows) are left out, by lightness.
- A change is reported with the noise floor: two phone photos of the same skin differ by up to
  about 3 a* units (imaging.md §0, §1.5: MDC95 ≈ 2.77 × SEM with SEM ≈ 1), so smaller changes
  are not called a change.
- Photos that failed the quality checks are never measured.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from needlecare.imaging.colour import MeasurementImage, lab_from_rgb8
from needlecare.imaging.landmarks import (
    REGION_POINTS,
    Face,
    channel_extremes,
    polygon_window,
)
from needlecare.imaging.quality import QualityReport

NOISE_FLOOR_A_STAR = 3.0
# Regions shrink by this share of the face width, away from brows, lashes, lips and edges.
ERODE_SHARE = 0.015
# Lightness trimming inside a region (specular highlights and shadows).
TRIM_PERCENT = 5.0
MIN_REGION_PIXELS = 50
MEASURABLE_ZONES = frozenset(REGION_POINTS)


class NotMeasurable(ValueError):
    """The photo failed its quality checks, or a zone has no region in a face."""


@dataclass(frozen=True)
class RegionReading:
    zone: str
    a_star: float          # mean a* of the kept pixels
    a_star_median: float
    l_star: float
    b_star: float
    pixels: int


@dataclass(frozen=True)
class RednessReading:
    """Redness of one photo: treated zones and, when one was given and visible, a control."""

    zones: dict[str, RegionReading]
    control: RegionReading | None
    colour_space: str
    profile_assumed: bool

    def against_control(self, zone: str) -> float | None:
        """a* of the zone minus a* of the untreated control region of the same photo."""
        if self.control is None or zone not in self.zones:
            return None
        return self.zones[zone].a_star - self.control.a_star


@dataclass(frozen=True)
class ZoneChange:
    zone: str
    delta_a_star: float                    # current − baseline
    delta_against_control: float | None    # (current − control) − (baseline − control)
    noise_floor: float

    @property
    def is_change(self) -> bool:
        """True when the change is beyond the noise floor (the control-normalised change when
        both photos had a control, which cancels a change of light between them)."""
        delta = (self.delta_against_control if self.delta_against_control is not None
                 else self.delta_a_star)
        return abs(delta) >= self.noise_floor


def _region(image: MeasurementImage, face: Face, zone: str) -> RegionReading | None:
    erode = max(1, round(ERODE_SHARE * face.width))
    window = polygon_window(face.regions(zone), image.size, erode_px=erode)
    crop = window.crop(image.rgb)
    if not crop.size:
        return None
    largest, smallest = channel_extremes(crop)
    # Clipped pixels hold no colour information.
    pixels = crop[window.mask & (largest < 250) & (smallest > 5)]
    if len(pixels) < MIN_REGION_PIXELS:
        return None
    lab = lab_from_rgb8(np.ascontiguousarray(pixels), image.space)
    low, high = np.percentile(lab[:, 0], [TRIM_PERCENT, 100 - TRIM_PERCENT])
    kept = lab[(lab[:, 0] >= low) & (lab[:, 0] <= high)]
    if len(kept) < MIN_REGION_PIXELS:
        return None
    mean = kept.mean(axis=0, dtype=np.float64)
    return RegionReading(zone, float(mean[1]), float(np.median(kept[:, 1])), float(mean[0]),
                         float(mean[2]), len(kept))


def measure(image: MeasurementImage, face: Face, quality: QualityReport,
            zones: Iterable[str], control: str | None = None) -> RednessReading:
    """Mean a* of each treated zone (and of the control zone) of a photo that passed quality.

    Zones must have a landmark region (``MEASURABLE_ZONES``); a region that is hidden or too
    small in this photo is left out of the reading.
    """
    if not quality.passed:
        raise NotMeasurable("the photo failed its quality checks: "
                            + ", ".join(quality.codes))
    wanted = list(dict.fromkeys(zones))
    unknown = [z for z in [*wanted, *([control] if control else [])]
               if z not in MEASURABLE_ZONES]
    if unknown:
        raise NotMeasurable(f"no landmark region for {', '.join(unknown)}")
    if control is not None and control in wanted:
        raise NotMeasurable("the control region must be an untreated zone")
    readings = {z: r for z in wanted if (r := _region(image, face, z)) is not None}
    control_reading = _region(image, face, control) if control else None
    return RednessReading(readings, control_reading, image.space.name, image.space.assumed)


def change_from_baseline(current: RednessReading, baseline: RednessReading,
                         noise_floor: float = NOISE_FLOOR_A_STAR) -> dict[str, ZoneChange]:
    """The change of each zone measured in both photos, against the same patient's baseline
    photo of the same view."""
    changes = {}
    for zone, reading in current.zones.items():
        before = baseline.zones.get(zone)
        if before is None:
            continue
        now_vs_control = current.against_control(zone)
        then_vs_control = baseline.against_control(zone)
        against_control = (now_vs_control - then_vs_control
                           if now_vs_control is not None and then_vs_control is not None
                           else None)
        changes[zone] = ZoneChange(zone, reading.a_star - before.a_star, against_control,
                                   noise_floor)
    return changes


@dataclass(frozen=True)
class ExpectedCourse:
    """An expected redness course after a session: Δa*(t) = A·e^(−t/τ) + c (imaging.md §1.6,
    a policy model). The parameters belong to the protocol, by needle depth; none are
    chosen here."""

    amplitude: float
    tau_days: float
    plateau: float = 0.0

    def at(self, days: float) -> float:
        if days < 0:
            raise ValueError("days since the session cannot be negative")
        return self.amplitude * math.exp(-days / self.tau_days) + self.plateau

    def excess(self, delta_a_star: float, days: float) -> float:
        """How far an observed change from baseline is above the expected course."""
        return delta_a_star - self.at(days)
