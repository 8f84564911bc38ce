"""Photos leaving the clinical record: teaching copies with the eyes hidden, the clinic's
teaching and marketing sets, and before/after sheets (PDF) for the patient and, with the
marketing use only, for the clinic.

Each export asks for the photo's uses in force at the moment it is made (``scopes``), so a
use the patient withdraws is gone from every export at once. Every copy made for teaching has
the eyes hidden (a bar placed from the landmarks, or from the eyes a clinician marked); a photo
whose eyes are not known is not exported for teaching at all.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
from django.db import transaction
from django.utils.translation import gettext as _

from needlecare.access import Actor, Permission, audit, require
from needlecare.documents.pdf import render_pdf
from needlecare.errors import Conflict, NotFound, ServiceError
from needlecare.imaging.alignment import warp
from needlecare.imaging.anonymise import hide_eyes
from needlecare.imaging.landmarks import Face
from needlecare.patients.access import access_record
from needlecare.photos.compare import (
    alignment,
    encode_jpeg,
    screen_pixels,
)
from needlecare.photos.models import Photo, Scope
from needlecare.photos.scopes import UsesInForce, allows, effective_scopes, uses_in_force
from needlecare.photos.services import ShownPhoto, patient_may_see
from needlecare.recovery.links import own_link

EXPORT_SCOPES = (Scope.TEACHING, Scope.MARKETING)
LIBRARY_SIZE = 200


def _eyes_hidden(photo: Photo, rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    face = None
    if photo.landmarks:
        face = Face(np.asarray(photo.landmarks, dtype=np.float32)
                    * np.array([width, height], dtype=np.float32), (width, height))
    if photo.eyes:
        (rx, ry), (lx, ly) = photo.eyes
        eyes = ((rx * width, ry * height), (lx * width, ly * height))
    elif face is not None:
        eyes = face.eye_centres()
    else:
        raise Conflict("eyes_unknown", _(
            "No face was found in this photo: mark the two eyes on it before it is used "
            "for teaching, so they can be hidden."))
    return hide_eyes(rgb, eyes, face)


def teaching_copy(actor: Actor, photo_id: int | str) -> bytes:
    """A JPEG of the photo with the eyes hidden, for the teaching use only."""
    with transaction.atomic():
        photo = access_record(actor, Photo, photo_id, permission=Permission.VIEW_CLINICAL,
                              action="photo.export", detail={"scope": Scope.TEACHING})
        if not allows(photo, str(Scope.TEACHING), uses_in_force(photo.patient_id)):
            raise Conflict("scope_not_allowed", _(
                "The patient has not allowed this photo to be used for teaching (or has "
                "withdrawn it)."))
    return encode_jpeg(_eyes_hidden(photo, screen_pixels(photo)))


@dataclass
class Library:
    scope: str
    photos: list[ShownPhoto]


def library(actor: Actor, scope: str) -> Library:
    """The clinic's photos that may be used for teaching or marketing now."""
    require(actor, Permission.VIEW_CLINICAL)
    if scope not in EXPORT_SCOPES:
        raise NotFound(_("No such set of photos."))
    with transaction.atomic():
        shown: list[ShownPhoto] = []
        in_force_by_patient: dict[int, UsesInForce] = {}
        # The uses are read per patient, now; a JSON "contains" filter is not portable to
        # SQLite, so the photos recorded with the use are narrowed here.
        for photo in (Photo.objects.filter(clinic_id=actor.clinic_id)
                      .select_related("patient").order_by("-taken_at", "-id")):
            if scope not in photo.scopes or (scope == Scope.TEACHING and not photo.eyes):
                continue  # a teaching copy needs the eyes, to hide them
            if photo.patient_id not in in_force_by_patient:
                in_force_by_patient[photo.patient_id] = uses_in_force(photo.patient_id)
            in_force = in_force_by_patient[photo.patient_id]
            scopes = effective_scopes(photo, in_force)
            if scope in scopes:
                shown.append(ShownPhoto(photo, scopes))
            if len(shown) >= LIBRARY_SIZE:
                break
        audit(actor, "photo.library", detail={"scope": scope,
                                              "photos": [s.photo.pk for s in shown]})
    return Library(scope, shown)


# --- before/after sheets ----------------------------------------------------------------------

AUDIENCES = {"patient": Scope.SHOWN_TO_PATIENT, "marketing": Scope.MARKETING}


def _data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _local_date(photo: Photo) -> dt.date:
    return photo.taken_at.astimezone(ZoneInfo(photo.clinic.time_zone)).date()


def before_after_sheet(actor: Actor, before_id: int | str, after_id: int | str,
                       audience: str) -> tuple[bytes, str]:
    """A one-page PDF of two photos of one view, the later one aligned onto the earlier one,
    and its file name. For the patient (the use "shown to the patient") or for the clinic's
    marketing (the use "marketing", staff only)."""
    scope = AUDIENCES.get(audience)
    if scope is None:
        raise NotFound(_("No such sheet."))
    if actor.link is not None and audience != "patient":
        raise NotFound(_("No such sheet."))
    permission = Permission.PATIENT_SELF if actor.link is not None else Permission.VIEW_CLINICAL
    detail = {"audience": audience, "photos": [str(before_id), str(after_id)]}
    with transaction.atomic():
        before = access_record(actor, Photo, before_id, permission=permission,
                               action="photo.sheet", related=("clinic",), detail=detail)
        after = access_record(actor, Photo, after_id, permission=permission,
                              action="photo.sheet", related=("clinic",), detail=detail)
        in_force = uses_in_force(before.patient_id)
        if actor.link is not None:
            link = own_link(actor)
            if not (patient_may_see(before, in_force, link)
                    and patient_may_see(after, in_force, link)):
                raise NotFound(_("No such photo."))
        for photo in (before, after):
            if not allows(photo, str(scope), in_force):
                raise Conflict("scope_not_allowed", _(
                    "The patient has not allowed these photos to be used this way (or has "
                    "withdrawn it): %(use)s.") % {"use": Scope(scope).label})
        if before.patient_id != after.patient_id or before.view != after.view:
            raise ServiceError("different_views", _(
                "A before/after sheet shows two photos of the same view of one patient."))
        if (after.taken_at, after.pk) < (before.taken_at, before.pk):
            before, after = after, before
        clinic = before.clinic
        patient = before.patient
    before_rgb = screen_pixels(before)
    after_rgb = screen_pixels(after)
    found = alignment(before, after, before_rgb, after_rgb)
    if found.matrix is not None:
        after_rgb = warp(after_rgb, found.matrix, (before_rgb.shape[1], before_rgb.shape[0]))
    pictures = [before_rgb, after_rgb]
    html_pictures = [_data_uri(encode_jpeg(p, 82)) for p in pictures]
    pdf = render_pdf("photos/sheet.html", {
        "clinic": clinic, "audience": audience,
        "patient_name": patient.full_name if audience == "patient" else "",
        "view": before.get_view_display(), "before": before, "after": after,
        "before_date": _local_date(before), "after_date": _local_date(after),
        "before_src": html_pictures[0], "after_src": html_pictures[1],
        "aligned": found.matrix is not None,
    })
    name = f"before-after-{before.view}-{_local_date(before):%Y-%m-%d}-" \
           f"{_local_date(after):%Y-%m-%d}.pdf"
    return pdf, name
