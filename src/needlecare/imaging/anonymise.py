"""Hide the eyes of a face for the teaching scope: a solid bar (default) or a heavy blur,
placed along the line through the eye centres."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from needlecare.imaging.landmarks import LEFT_BROW, LEFT_EYE, RIGHT_BROW, RIGHT_EYE, Face

Point = tuple[float, float]


def eye_bar(eyes: tuple[Point, Point], face: Face | None = None) -> npt.NDArray[np.float32]:
    """The four corners of a rectangle covering both eyes.

    From the eye centres alone it spans 2.4 eye distances by 0.8 (beyond the outer corners and
    the lids of an average face); with landmarks it also covers every eye and brow-underside
    point, with a margin.
    """
    (x0, y0), (x1, y1) = eyes
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    along = np.array([x1 - x0, y1 - y0])
    distance = float(np.hypot(*along))
    if distance < 1e-6:
        raise ValueError("the two eye centres must be apart")
    along /= distance
    across = np.array([-along[1], along[0]])
    half_length, half_height = 1.2 * distance, 0.4 * distance
    if face is not None:
        points = face.points[list(RIGHT_EYE + LEFT_EYE + RIGHT_BROW + LEFT_BROW)] - centre
        half_length = max(half_length, float(np.abs(points @ along).max()) + 0.15 * distance)
        eye_points = face.points[list(RIGHT_EYE + LEFT_EYE)] - centre
        half_height = max(half_height, float(np.abs(eye_points @ across).max())
                          + 0.2 * distance)
    corners = [centre + sx * half_length * along + sy * half_height * across
               for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    return np.array(corners, dtype=np.float32)


def hide_eyes(rgb: npt.NDArray[np.uint8], eyes: tuple[Point, Point], face: Face | None = None,
              style: Literal["bar", "blur"] = "bar") -> npt.NDArray[np.uint8]:
    """A copy of ``rgb`` with the eyes hidden."""
    polygon = np.round(eye_bar(eyes, face)).astype(np.int32)
    out = rgb.copy()
    if style == "bar":
        cv2.fillPoly(out, [polygon], (0, 0, 0))
        return out
    (x0, y0), (x1, y1) = eyes
    sigma = max(3.0, 0.35 * float(np.hypot(x1 - x0, y1 - y0)))
    blurred = cv2.GaussianBlur(rgb, (0, 0), sigmaX=sigma)
    mask = np.zeros(rgb.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [polygon], (1,))
    out[mask.astype(bool)] = blurred[mask.astype(bool)]
    return out
