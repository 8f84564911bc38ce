"""Align two photos of the same view: a similarity transform (rotation, uniform scale,
translation), from face landmarks or from two eye centres a clinician marked by hand."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from needlecare.imaging.landmarks import Face

Matrix = npt.NDArray[np.float64]  # 2×3, maps moving-image pixels onto reference pixels
Point = tuple[float, float]


def from_eye_centres(moving: tuple[Point, Point], reference: tuple[Point, Point]) -> Matrix:
    """The exact similarity that puts the two moving eye centres on the reference ones.

    Each pair is (subject's right eye, subject's left eye).
    """
    (mx0, my0), (mx1, my1) = moving
    (rx0, ry0), (rx1, ry1) = reference
    source = complex(mx1 - mx0, my1 - my0)
    target = complex(rx1 - rx0, ry1 - ry0)
    if abs(source) < 1e-6 or abs(target) < 1e-6:
        raise ValueError("the two eye centres must be apart")
    factor = target / source  # rotation and scale as one complex number
    a, b = factor.real, factor.imag
    tx = rx0 - (a * mx0 - b * my0)
    ty = ry0 - (b * mx0 + a * my0)
    return np.array([[a, -b, tx], [b, a, ty]], dtype=np.float64)


def from_faces(moving: Face, reference: Face) -> Matrix:
    """The least-squares similarity between the two faces' landmarks, robust to the points
    that moved with the expression (LMedS)."""
    matrix, _ = cv2.estimateAffinePartial2D(moving.points, reference.points, method=cv2.LMEDS)
    if matrix is None:
        return from_eye_centres(moving.eye_centres(), reference.eye_centres())
    return np.asarray(matrix, dtype=np.float64)


def warp(rgb: npt.NDArray[np.uint8], matrix: Matrix,
         size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """``rgb`` moved by ``matrix`` onto a canvas of ``size`` (width, height) of the reference."""
    warped = cv2.warpAffine(rgb, matrix, size, flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    return np.asarray(warped, dtype=np.uint8)


def apply(matrix: Matrix, points: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Points (N, 2) of the moving image in reference pixels."""
    homogeneous = np.hstack([points.astype(np.float64), np.ones((len(points), 1))])
    result: npt.NDArray[np.float64] = homogeneous @ matrix.T
    return result
