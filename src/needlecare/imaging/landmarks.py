"""Face landmarks (MediaPipe Face Mesh, 468 points) and the skin regions built from them.

mediapipe 0.10.21 is the last release that ships its face models inside the wheel, so it works
offline (docs/photos.md says how its dependencies are pinned). It is imported on first use:
the import costs about two seconds, which a Django process should not pay at start-up.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

# Landmark indices of the Face Mesh topology. Each region is the convex hull of its points;
# "subject's right" is on the image's left in a frontal photo. The forehead, cheek and chin
# sets were checked on a portrait to lie on skin (imaging.md §3); the commonly copied forehead
# set 10/67/109/151/297/338 reaches the hairline and is not used. The perioral region is the
# skin between the nose and the upper lip, above the lip's border (the lip itself is red).
# Zones of the vocabulary without a region here (jawline, neck, ...) are not measured from a
# frontal photo: their edges run into the background.
REGION_POINTS: dict[str, tuple[tuple[int, ...], ...]] = {
    "forehead": ((9, 107, 66, 105, 104, 69, 108, 151, 337, 299, 333, 334, 296, 336),),
    "cheeks": ((50, 36, 206, 216, 212, 202, 187, 123, 117, 118),
               (280, 266, 426, 436, 432, 422, 411, 352, 346, 347)),
    "chin": ((152, 148, 176, 149, 150, 377, 400, 378, 379, 175, 199, 200, 18),),
    "nose": ((168, 6, 197, 195, 5, 4, 45, 275, 51, 281, 220, 440, 114, 343),),
    "perioral": ((2, 97, 98, 167, 165, 92, 326, 327, 393, 391, 322),),
    "periorbital": ((228, 229, 230, 231, 117, 118, 119, 120, 121),
                    (448, 449, 450, 451, 346, 347, 348, 349, 350)),
}
# Eye contours (subject's right, subject's left), for eye centres and for hiding the eyes.
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
# The brows frame the bar that hides the eyes.
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54,
             103, 67, 109)

Points = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Face:
    """Landmarks of one face, in pixels of the image they were found in (x right, y down)."""

    points: Points  # (468, 2)
    image_size: tuple[int, int]

    def eye_centres(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(subject's right eye, subject's left eye) centres."""
        right = self.points[list(RIGHT_EYE)].mean(axis=0)
        left = self.points[list(LEFT_EYE)].mean(axis=0)
        return (float(right[0]), float(right[1])), (float(left[0]), float(left[1]))

    @property
    def width(self) -> float:
        oval = self.points[list(FACE_OVAL)]
        return float(oval[:, 0].max() - oval[:, 0].min())

    @property
    def height(self) -> float:
        oval = self.points[list(FACE_OVAL)]
        return float(oval[:, 1].max() - oval[:, 1].min())

    def polygon(self, indices: tuple[int, ...]) -> Points:
        hull = cv2.convexHull(self.points[list(indices)].astype(np.float32))
        return np.asarray(hull, dtype=np.float32).reshape(-1, 2)

    def regions(self, zone: str) -> list[Points]:
        """The polygons of a zone code (``REGION_POINTS``); KeyError for zones without one."""
        return [self.polygon(points) for points in REGION_POINTS[zone]]

    def face_mask(self) -> Mask:
        return polygon_mask([self.polygon(FACE_OVAL)], self.image_size)

    def face_window(self) -> Window:
        """The face oval as a mask over its bounding box (cheaper than a whole-image mask)."""
        return polygon_window([self.polygon(FACE_OVAL)], self.image_size)


@dataclass(frozen=True)
class Window:
    """A mask over the bounding box ``rows`` × ``columns`` of an image."""

    rows: slice
    columns: slice
    mask: Mask

    def crop(self, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        return np.ascontiguousarray(image[self.rows, self.columns])


def channel_extremes(rgb: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8],
                                                          npt.NDArray[np.uint8]]:
    """The largest and the smallest channel value of each pixel (much faster through OpenCV
    than a numpy reduction over the last axis)."""
    red, green, blue = cv2.split(rgb)
    largest = np.asarray(cv2.max(cv2.max(red, green), blue), dtype=np.uint8)
    smallest = np.asarray(cv2.min(cv2.min(red, green), blue), dtype=np.uint8)
    return largest, smallest


def polygon_window(polygons: list[Points], size: tuple[int, int],
                   erode_px: int = 0) -> Window:
    """Like ``polygon_mask``, over the polygons' bounding box only."""
    width, height = size
    corners = np.concatenate(polygons)
    x0 = max(int(np.floor(corners[:, 0].min())) - 1, 0)
    y0 = max(int(np.floor(corners[:, 1].min())) - 1, 0)
    x1 = min(int(np.ceil(corners[:, 0].max())) + 2, width)
    y1 = min(int(np.ceil(corners[:, 1].max())) + 2, height)
    if x1 <= x0 or y1 <= y0:
        return Window(slice(0, 0), slice(0, 0), np.zeros((0, 0), dtype=bool))
    shifted = [p - np.array([x0, y0], dtype=np.float32) for p in polygons]
    return Window(slice(y0, y1), slice(x0, x1),
                  polygon_mask(shifted, (x1 - x0, y1 - y0), erode_px))


def polygon_mask(polygons: list[Points], size: tuple[int, int], erode_px: int = 0) -> Mask:
    """A boolean mask of ``size`` (width, height) filled inside the polygons, eroded."""
    width, height = size
    mask = np.zeros((height, width), dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(p).astype(np.int32) for p in polygons], (1,))
    if erode_px > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode_px + 1,) * 2)
        return np.asarray(cv2.erode(mask, kernel), dtype=bool)
    return mask.astype(bool)


class _Detector:
    """One Face Mesh graph per process (graphs do not survive a fork), used under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._graph: Any = None
        self._pid = -1

    def find(self, rgb: npt.NDArray[np.uint8]) -> Points | None:
        with self._lock:
            if self._graph is None or self._pid != os.getpid():
                # Imported here: it takes about two seconds.
                from mediapipe.python.solutions import face_mesh

                self._graph = face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1,
                                                 refine_landmarks=False,
                                                 min_detection_confidence=0.5)
                self._pid = os.getpid()
            result = self._graph.process(np.ascontiguousarray(rgb))
        if not result.multi_face_landmarks:
            return None
        height, width = rgb.shape[:2]
        marks = result.multi_face_landmarks[0].landmark
        points = np.array([(m.x * width, m.y * height) for m in marks], dtype=np.float32)
        return points[:468]


_DETECTOR = _Detector()


def find_face(rgb: npt.NDArray[np.uint8]) -> Face | None:
    """The landmarks of the face in an upright RGB image, or None when no face is found."""
    points = _DETECTOR.find(rgb)
    if points is None:
        return None
    return Face(points, (int(rgb.shape[1]), int(rgb.shape[0])))
