"""Is a photo good enough to measure? Blur, exposure on the face, face size, colour cast.

A photo that fails is kept but never measured, and the person taking it is told at once, in
plain words, what to change. The thresholds are engineering choices checked on synthetic
copies of a portrait (tests/imaging/test_quality.py), not clinical facts; the 2 % limit on
clipped face pixels is imaging.md §7.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from needlecare.imaging.colour import MeasurementImage
from needlecare.imaging.landmarks import Face, Mask, Window, channel_extremes

# The face's width as a share of the photo's width, and in pixels at measurement scale.
MIN_FACE_SHARE = 0.25
MIN_FACE_PIXELS = 150
# Variance of the Laplacian of the face, resampled to FACE_SHARPNESS_WIDTH pixels wide and
# scaled to a mean luma of 128 (so a dimmer photo is not taken for a blurred one).
FACE_SHARPNESS_WIDTH = 200
MIN_SHARPNESS = 15.0
# Shares of face pixels clipped (any channel at or above 250, or all at or below 10).
MAX_CLIPPED_HIGHLIGHTS = 0.02
MAX_CLIPPED_SHADOWS = 0.02
# Median luma (0–255) of the face.
MIN_FACE_LUMA = 60.0
MAX_FACE_LUMA = 225.0
# Ratio of the strongest to the weakest channel of the shades-of-grey illuminant estimate.
MAX_COLOUR_CAST = 2.0

ADVICE: dict[str, str] = {
    "no_face": "We could not find a face. Hold the phone at arm's length, straight in front "
               "of your face, with your whole face in the frame.",
    "face_too_small": "Your face is too small in the photo. Come closer so your face fills "
                      "most of the frame.",
    "blurred": "The photo is blurred. Hold the phone still (rest your elbows on a table) "
               "and take it again.",
    "too_dark": "Too dark — face a window or turn on a light, and take it again.",
    "too_bright": "Too bright — part of your face is washed out. Turn the flash off and move "
                  "out of direct sunlight.",
    "colour_cast": "The light is strongly coloured (for example a warm lamp). Take the "
                   "photo facing a window in daylight.",
    "no_colour": "This photo is black and white. Take it again in colour, with no filter.",
}


@dataclass(frozen=True)
class Problem:
    code: str
    advice: str


@dataclass(frozen=True)
class QualityReport:
    problems: tuple[Problem, ...]
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.problems)


def _luma(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def _sharpness(crop: npt.NDArray[np.uint8], face_mask: Mask, face: Face) -> float:
    """Variance of the Laplacian inside the face (``crop`` and ``face_mask`` cover the face's
    bounding box)."""
    mask = face_mask.astype(np.uint8)
    scale = FACE_SHARPNESS_WIDTH / max(face.width, 1.0)
    size = (max(8, round(crop.shape[1] * scale)), max(8, round(crop.shape[0] * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(crop, size, interpolation=interpolation)
    # Stay inside the face: the Laplacian of the face's own edge against the background
    # would count as sharpness.
    inside = np.asarray(cv2.erode(cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST),
                                  np.ones((5, 5), np.uint8)), dtype=bool)
    laplacian = np.asarray(cv2.Laplacian(resized, cv2.CV_32F))
    brightness = float(resized[inside].mean()) if inside.any() else 0.0
    values = laplacian[inside] * (128.0 / max(brightness, 1.0))
    return float(values.var()) if values.size else 0.0


_CODES = np.arange(256) / 255.0
_LINEAR_POWER_6 = np.where(_CODES <= 0.04045, _CODES / 12.92,
                           ((_CODES + 0.055) / 1.055) ** 2.4) ** 6


def _colour_cast(rgb: npt.NDArray[np.uint8]) -> float:
    """Shades of grey (Minkowski p = 6) over the whole frame in linear light, never over the
    skin alone (that would take the redness for a cast). Computed from channel histograms."""
    # Every other pixel of every other row: an estimate of the illuminant needs no more.
    sample = np.ascontiguousarray(rgb[::2, ::2])
    estimate = []
    for channel in range(3):
        counts = cv2.calcHist([sample], [channel], None, [256], [0, 256]).ravel()
        estimate.append((counts @ _LINEAR_POWER_6 / max(counts.sum(), 1.0)) ** (1 / 6))
    return float(max(estimate) / max(min(estimate), 1e-6))


def _median(values: npt.NDArray[np.uint8]) -> float:
    if not values.size:
        return 0.0
    cumulative = np.cumsum(np.bincount(values, minlength=256))
    return float(np.searchsorted(cumulative, values.size / 2))


def assess(image: MeasurementImage, face: Face | None) -> QualityReport:
    """The quality problems of a photo (none when it can be measured)."""
    rgb = image.rgb
    problems: list[str] = []
    metrics: dict[str, float] = {}
    height, width = rgb.shape[:2]
    window = (face.face_window() if face is not None else
              Window(slice(0, height), slice(0, width), np.ones((height, width), dtype=bool)))
    crop = window.crop(rgb)
    face_luma = _luma(crop)
    largest = channel_extremes(crop)[0][window.mask]
    count = max(int(largest.size), 1)
    metrics["face_luma_median"] = _median(face_luma[window.mask])
    metrics["clipped_highlights"] = np.count_nonzero(largest >= 250) / count
    metrics["clipped_shadows"] = np.count_nonzero(largest <= 10) / count
    step = max(1, rgb.shape[0] // 200)
    sample = rgb[::step, ::step].astype(np.int16)
    colourless = bool(np.abs(sample[..., 0] - sample[..., 1]).max() == 0
                      and np.abs(sample[..., 1] - sample[..., 2]).max() == 0)
    if colourless:
        problems.append("no_colour")
    if (metrics["face_luma_median"] < MIN_FACE_LUMA
            or metrics["clipped_shadows"] > MAX_CLIPPED_SHADOWS):
        problems.append("too_dark")
    elif (metrics["face_luma_median"] > MAX_FACE_LUMA
          or metrics["clipped_highlights"] > MAX_CLIPPED_HIGHLIGHTS):
        problems.append("too_bright")
    if face is None:
        problems.append("no_face")
    else:
        metrics["face_share"] = face.width / rgb.shape[1]
        metrics["face_pixels"] = face.width
        if metrics["face_share"] < MIN_FACE_SHARE or face.width < MIN_FACE_PIXELS:
            problems.append("face_too_small")
        metrics["sharpness"] = _sharpness(face_luma, window.mask, face)
        if metrics["sharpness"] < MIN_SHARPNESS:
            problems.append("blurred")
    if not colourless:
        metrics["colour_cast"] = _colour_cast(rgb)
        if metrics["colour_cast"] > MAX_COLOUR_CAST:
            problems.append("colour_cast")
    return QualityReport(tuple(Problem(code, ADVICE[code]) for code in problems), metrics)
