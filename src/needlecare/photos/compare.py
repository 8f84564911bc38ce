"""Two photos of the same view, side by side or under a slider, aligned on the face.

The later photo is moved onto the earlier one's frame by a similarity transform (rotation,
uniform scale, shift): from the two faces' landmarks when both were found, else from the eye
centres a clinician marked by hand (``services.mark_eyes``). Alignment works on the screen
copies (sRGB, upright); the aligned picture is made when asked for and never stored.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image

from needlecare.access import Actor, Permission
from needlecare.errors import Conflict, ServiceError
from needlecare.imaging.alignment import Matrix, from_eye_centres, from_faces, warp
from needlecare.imaging.landmarks import Face, find_face
from needlecare.patients.access import access_record
from needlecare.photos import files
from needlecare.photos.measurement import noise_floor
from needlecare.photos.models import AnalysisStatus, Photo
from needlecare.photos.scopes import UsesInForce, effective_scopes, uses_in_force

RGB8 = npt.NDArray[np.uint8]
JPEG_QUALITY = 85


def screen_pixels(photo: Photo) -> RGB8:
    """The photo's screen copy (upright sRGB) as RGB pixels."""
    with Image.open(io.BytesIO(files.read(photo.screen_name))) as image:
        return np.asarray(image.convert("RGB"))


def encode_jpeg(rgb: RGB8, quality: int = JPEG_QUALITY) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "JPEG", quality=quality)
    return out.getvalue()


def _face(photo: Photo, rgb: RGB8 | None) -> Face | None:
    height, width = (rgb.shape[:2] if rgb is not None
                     else (photo.screen_height, photo.screen_width))
    if photo.landmarks:
        points = np.asarray(photo.landmarks, dtype=np.float32) * np.array(
            [width, height], dtype=np.float32)
        return Face(points, (width, height))
    if photo.analysis_status != AnalysisStatus.DONE and rgb is not None:
        # Not analysed yet (the worker is behind): find the face now, without storing it.
        return find_face(rgb)
    return None


def _eyes(photo: Photo, size: tuple[int, int]) -> tuple[tuple[float, float], ...] | None:
    if not photo.eyes:
        return None
    width, height = size
    return tuple((float(x) * width, float(y) * height) for x, y in photo.eyes)


@dataclass(frozen=True)
class Alignment:
    #: "face" (landmarks), "eyes" (two points) or "" (none possible).
    method: str
    matrix: Matrix | None


def alignment(reference: Photo, moving: Photo, reference_rgb: RGB8 | None = None,
              moving_rgb: RGB8 | None = None) -> Alignment:
    """How ``moving``'s screen copy maps onto ``reference``'s (None when neither faces nor
    marked eyes are known for both)."""
    reference_face = _face(reference, reference_rgb)
    moving_face = _face(moving, moving_rgb)
    if reference_face is not None and moving_face is not None:
        return Alignment("face", from_faces(moving_face, reference_face))
    reference_size = ((reference_rgb.shape[1], reference_rgb.shape[0])
                      if reference_rgb is not None
                      else (reference.screen_width, reference.screen_height))
    moving_size = ((moving_rgb.shape[1], moving_rgb.shape[0]) if moving_rgb is not None
                   else (moving.screen_width, moving.screen_height))
    reference_eyes = (reference_face.eye_centres() if reference_face is not None
                      else _eyes(reference, reference_size))
    moving_eyes = (moving_face.eye_centres() if moving_face is not None
                   else _eyes(moving, moving_size))
    if reference_eyes is None or moving_eyes is None:
        return Alignment("", None)
    return Alignment("eyes", from_eye_centres((moving_eyes[0], moving_eyes[1]),
                                              (reference_eyes[0], reference_eyes[1])))


@dataclass(frozen=True)
class ZoneComparison:
    zone: str
    before: float
    after: float
    delta: float
    is_change: bool


@dataclass
class Comparison:
    before: Photo
    after: Photo
    before_scopes: list[str]
    after_scopes: list[str]
    in_force: UsesInForce
    days_apart: int
    alignment: str
    zones: list[ZoneComparison]
    noise_floor: float


def _pair(actor: Actor, before_id: int | str, after_id: int | str, action: str,
          permission: Permission = Permission.VIEW_CLINICAL) -> tuple[Photo, Photo]:
    detail = {"photos": [str(before_id), str(after_id)]}
    before = access_record(actor, Photo, before_id, permission=permission, action=action,
                           related=("clinic", "session"), detail=detail)
    after = access_record(actor, Photo, after_id, permission=permission, action=action,
                          related=("clinic", "session"), detail=detail)
    if before.patient_id != after.patient_id:
        raise ServiceError("different_patients", _("Compare two photos of the same patient."))
    if before.view != after.view or before.zone != after.zone:
        raise ServiceError("different_views", _(
            "Compare two photos of the same view: %(a)s and %(b)s differ.")
            % {"a": before.get_view_display(), "b": after.get_view_display()})
    if (after.taken_at, after.pk) < (before.taken_at, before.pk):
        before, after = after, before
    return before, after


def compare(actor: Actor, before_id: int | str, after_id: int | str) -> Comparison:
    """Two photos of one view of one patient, earlier first, with their measurements."""
    with transaction.atomic():
        before, after = _pair(actor, before_id, after_id, "photo.compare")
        in_force = uses_in_force(before.patient_id)
    floor = noise_floor()
    zones = []
    if before.redness and after.redness:
        for zone, reading in after.redness["zones"].items():
            earlier = before.redness["zones"].get(zone)
            if earlier is None:
                continue
            delta = reading["a_star"] - earlier["a_star"]
            zones.append(ZoneComparison(zone, round(earlier["a_star"], 1),
                                        round(reading["a_star"], 1), round(delta, 1),
                                        abs(delta) >= floor))
    if before.landmarks and after.landmarks:
        method = "face"
    elif before.eyes and after.eyes:
        method = "eyes"
    elif before.analysis_status != AnalysisStatus.DONE or (
            after.analysis_status != AnalysisStatus.DONE):
        method = "pending"  # the faces are found when the aligned picture is made
    else:
        method = ""
    return Comparison(before, after, effective_scopes(before, in_force),
                      effective_scopes(after, in_force), in_force,
                      (after.taken_at.date() - before.taken_at.date()).days, method, zones,
                      floor)


def aligned_image(actor: Actor, reference_id: int | str, moving_id: int | str) -> bytes:
    """``moving``'s screen copy moved onto ``reference``'s frame, as a JPEG."""
    with transaction.atomic():
        reference = access_record(actor, Photo, reference_id,
                                  permission=Permission.VIEW_CLINICAL, action="photo.align",
                                  detail={"onto": str(reference_id), "moved": str(moving_id)})
        moving = access_record(actor, Photo, moving_id, permission=Permission.VIEW_CLINICAL,
                               action="photo.align",
                               detail={"onto": str(reference_id), "moved": str(moving_id)})
    return align_pixels(reference, moving)


def align_pixels(reference: Photo, moving: Photo) -> bytes:
    """The aligned JPEG, for a caller that has already checked access."""
    if reference.patient_id != moving.patient_id or reference.view != moving.view:
        raise ServiceError("different_views", _("Compare two photos of the same view."))
    reference_rgb = screen_pixels(reference)
    moving_rgb = screen_pixels(moving)
    found = alignment(reference, moving, reference_rgb, moving_rgb)
    if found.matrix is None:
        raise Conflict("alignment_needs_eyes", _(
            "No face was found in one of the photos: mark the two eyes on it to align them."))
    size = (reference_rgb.shape[1], reference_rgb.shape[0])
    return encode_jpeg(warp(moving_rgb, found.matrix, size))
