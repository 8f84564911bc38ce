"""The measurement of one photo: decode at reduced scale, find the face, check quality, and
only when it passes, measure redness in the requested zones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from needlecare.imaging.colour import MeasurementImage, decode_for_measurement
from needlecare.imaging.landmarks import Face, find_face
from needlecare.imaging.quality import QualityReport, assess
from needlecare.imaging.redness import RednessReading, measure

DEFAULT_ZONES = ("forehead", "cheeks", "nose", "chin")


@dataclass(frozen=True)
class PhotoAnalysis:
    image: MeasurementImage
    face: Face | None
    quality: QualityReport
    redness: RednessReading | None  # None when the photo failed quality

    @property
    def measured(self) -> bool:
        return self.redness is not None


def analyse(image: MeasurementImage, zones: Iterable[str] = DEFAULT_ZONES,
            control: str | None = None) -> PhotoAnalysis:
    face = find_face(image.rgb)
    quality = assess(image, face)
    redness = (measure(image, face, quality, zones, control)
               if quality.passed and face is not None else None)
    return PhotoAnalysis(image, face, quality, redness)


def analyse_photo(data: bytes, zones: Iterable[str] = DEFAULT_ZONES,
                  control: str | None = None) -> PhotoAnalysis:
    """Analyse the stored bytes of a photo that passed intake."""
    return analyse(decode_for_measurement(data), zones, control)
