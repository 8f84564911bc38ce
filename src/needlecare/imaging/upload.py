"""The whole intake of one uploaded photo: accept it, make its derivatives and, unless the
caller defers it to a worker, measure it; every step from the pixels decoded once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from needlecare.imaging.analysis import DEFAULT_ZONES, PhotoAnalysis, analyse
from needlecare.imaging.colour import decode_for_measurement, measurement_image
from needlecare.imaging.derivatives import Derivative, make_derivatives
from needlecare.imaging.formats import ImageFormat
from needlecare.imaging.intake import AcceptedImage, IntakeLimits, accept_image


@dataclass(frozen=True)
class ProcessedUpload:
    accepted: AcceptedImage
    derivatives: list[Derivative]
    analysis: PhotoAnalysis | None  # None when the caller deferred it


def process_upload(data: bytes, limits: IntakeLimits | None = None, *,
                   zones: Iterable[str] = DEFAULT_ZONES, control: str | None = None,
                   measure_now: bool = True) -> ProcessedUpload:
    """Accept ``data`` (raising ``IntakeRefused``), make its derivatives, and measure it.

    The measurement reads the same pixels as the stored file: for JPEG, PNG and WebP the
    preview intake decoded holds exactly the stored pixels; a HEIF photo is measured from the
    JPEG that is stored.
    """
    accepted = accept_image(data, limits)
    preview = accepted.preview
    derivatives = make_derivatives(accepted.data, decoded=preview)
    analysis = None
    if measure_now:
        if preview is not None and accepted.received_format is not ImageFormat.HEIF:
            image = measurement_image(preview, (accepted.width, accepted.height))
        else:
            image = decode_for_measurement(accepted.data)
        analysis = analyse(image, zones, control)
    return ProcessedUpload(accepted, derivatives, analysis)
