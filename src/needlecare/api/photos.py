"""/api/v1/…/photos: upload (staff for a patient; the patient with a check-in), list, fetch the
files through the access layer, compare two photos' measurements. The same limits and the same
refusals as the web forms (``photos.services``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Path, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from needlecare.api.auth import PATIENT, PATIENT_OR_STAFF, STAFF, actor
from needlecare.api.errors import responses
from needlecare.api.schemas import MAX_ID, PatientReason
from needlecare.photos import compare as comparing
from needlecare.photos import services
from needlecare.photos.models import Photo
from needlecare.photos.scopes import effective_scopes, uses_in_force

router = Router(tags=["photos"])

View = Literal["front", "left_45", "right_45", "left_profile", "right_profile", "close_up"]
Size = Literal["thumbnail", "screen", "original"]
Id = Path(..., ge=1, le=MAX_ID)
#: A multipart form has no null: 0 (or leaving it out) means "no session".
SESSION_FIELD = Form(0, ge=0, le=MAX_ID, description="the session (0: none)")


class CameraOut(Schema):
    make: str | None = None
    model: str | None = None
    flash_fired: bool | None = None
    exposure_time_s: float | None = None
    f_number: float | None = None
    iso: int | None = None
    white_balance: str | None = None


class ZoneRedness(Schema):
    a_star: float = Field(description="mean CIELAB a* of the zone's region")
    l_star: float
    b_star: float
    pixels: int


class ZoneChangeOut(Schema):
    delta: float = Field(description="change in a* from the baseline photo")
    against_control: float | None = Field(
        description="the same, less the change of the untreated control zone")
    is_change: bool = Field(description="beyond the noise floor")


class ChangeOut(Schema):
    baseline_id: int | None
    control: str | None
    zones: dict[str, ZoneChangeOut]
    a_star_change: float = Field(description="the largest treated-zone change (what triage "
                                             "reads)")
    noise_floor: float


class PhotoOut(Schema):
    id: int
    patient_id: int
    session_id: int | None
    checkin_id: int | None
    view: str
    zone: str
    moment: str
    day: int | None = Field(description="days after the session (0 = the session day)")
    taken_at: dt.datetime
    uploaded_at: dt.datetime
    taken_by: str
    uses_when_taken: list[str]
    uses_now: list[str] = Field(description="what the photo may be used for now")
    received_format: str
    content_type: str
    width: int
    height: int
    camera: CameraOut
    analysis: str = Field(description="pending, running, done or failed")
    quality_passed: bool | None = Field(description="null until checked; a photo that fails "
                                                    "is kept but never measured")
    retake: list[str] = Field(description="what to change, in plain words, when it failed")
    redness: dict[str, ZoneRedness] | None
    colour_space: str | None
    change: ChangeOut | None


class AddedPhotoOut(PhotoOut):
    added_reasons: list[PatientReason] = Field(
        description="what the photo added to the check-in's triage (persistent redness)")


class ZoneCompared(Schema):
    zone: str
    before: float
    after: float
    delta: float
    is_change: bool


class CompareOut(Schema):
    before: PhotoOut
    after: PhotoOut
    days_apart: int
    alignment: str = Field(description="face, eyes (marked by hand), pending, or empty when "
                                       "the photos cannot be aligned")
    zones: list[ZoneCompared]
    noise_floor: float


def photo_out(photo: Photo, uses_now: list[str]) -> dict[str, Any]:
    change = None
    if photo.redness_change and photo.a_star_change is not None:
        change = ChangeOut(baseline_id=photo.baseline_id,
                           control=photo.redness_change.get("control"),
                           zones=photo.redness_change["zones"],
                           a_star_change=photo.a_star_change,
                           noise_floor=photo.noise_floor or 0.0)
    camera = {k: v for k, v in (photo.camera or {}).items() if k in CameraOut.model_fields}
    return {
        "id": photo.pk, "patient_id": photo.patient_id, "session_id": photo.session_id,
        "checkin_id": photo.checkin_id, "view": photo.view, "zone": photo.zone,
        "moment": photo.moment, "day": photo.day, "taken_at": photo.taken_at,
        "uploaded_at": photo.uploaded_at, "taken_by": photo.taken_by,
        "uses_when_taken": list(photo.scopes), "uses_now": uses_now,
        "received_format": photo.received_format, "content_type": photo.content_type,
        "width": photo.width, "height": photo.height, "camera": CameraOut(**camera),
        "analysis": photo.analysis_status, "quality_passed": photo.quality_passed,
        "retake": [p["advice"] for p in (photo.quality or {}).get("problems", [])],
        "redness": ({z: ZoneRedness(**{k: r[k] for k in ("a_star", "l_star", "b_star",
                                                           "pixels")})
                     for z, r in photo.redness["zones"].items()} if photo.redness else None),
        "colour_space": photo.redness["colour_space"] if photo.redness else None,
        "change": change,
    }


def _read(file: UploadedFile | None, view: str, zone: str = "") -> services.Upload:
    if file is None:
        # Django's multipart parser drops a file part with no bytes, so an empty file arrives
        # as no file: the same refusal as an empty file (photo_empty), not a schema error.
        return services.Upload(b"", view, zone)
    # The size limit is checked before the file is read, as on the web form.
    if file.size is not None and file.size > services.intake_limits().max_bytes:
        raise services.too_large()
    return services.Upload(file.read(), view, zone)


#: Keyed by the number, as ninja keys the responses it makes: a "200" string key would be a
#: second 200 in the document (JSON parsers keep the last one; Swagger UI refuses it).
BINARY = {200: {"description": "the image", "content": {
    kind: {"schema": {"type": "string", "format": "binary"}}
    for kind in ("image/jpeg", "image/png", "image/webp")}}}


@router.post("/patients/{patient_id}/photos", auth=STAFF,
             response=responses({201: PhotoOut}),
             summary="Add a photo of a patient (staff)",
             description="Multipart: the file and the view it shows (a close-up names its "
                         "zone), when it was taken (before, after, follow_up) and optionally "
                         "the session. JPEG, PNG, HEIC/HEIF and WebP, identified by content; "
                         "refused files (other formats, polyglots, data after the image, "
                         "truncated, over the size or pixel limit) answer 422 with a code "
                         "photo_… and nothing is stored. Quality and redness are checked by "
                         "the worker (analysis: pending).")
def upload_photo(request: HttpRequest, view: Form[View],
                 file: File[UploadedFile | None] = None,
                 zone: Form[str] = "", moment: Form[Literal["before", "after",
                                                               "follow_up"]] = "before",
                 session_id: int = SESSION_FIELD,
                 patient_id: int = Id) -> Status[PhotoOut]:
    photo = services.upload_photos(actor(request), patient_id, [_read(file, view, zone)],
                                   session_id=session_id or None, moment=moment)[0]
    return Status(201, PhotoOut(**photo_out(photo, effective_scopes(
        photo, uses_in_force(photo.patient_id)))))


@router.post("/checkins/{checkin_id}/photos", auth=PATIENT,
             response=responses({201: AddedPhotoOut}),
             summary="Add a photo to the patient's check-in (personal link token)",
             description="Checked at once: quality_passed false with retake advice for a "
                         "photo to take again (it is kept, never measured); redness measured "
                         "against the baseline when it passes, and added to the check-in's "
                         "triage (added_reasons). A photo never lowers a level.")
def add_checkin_photo(request: HttpRequest, file: File[UploadedFile | None] = None,
                      view: Form[Literal["front", "left_45", "right_45"]] = "front",
                      checkin_id: int = Id) -> Status[AddedPhotoOut]:
    who = actor(request)
    added = services.add_checkin_photo(who, checkin_id, _read(file, view))
    reasons = [PatientReason(text=r["patient"], level=r["level"], basis=r["basis"],
                             assumed=r["assumed"])
               for r in (added.findings.added if added.findings is not None else [])]
    photo = added.photo
    return Status(201, AddedPhotoOut(**photo_out(photo, effective_scopes(
        photo, uses_in_force(photo.patient_id))), added_reasons=reasons))


@router.get("/patients/{patient_id}/photos", auth=STAFF,
            response=responses({200: list[PhotoOut]}),
            summary="A patient's photos, newest first (staff)")
def list_photos(request: HttpRequest, patient_id: int = Id) -> list[PhotoOut]:
    listing = services.patient_photos(actor(request), patient_id)
    return [PhotoOut(**photo_out(s.photo, s.scopes)) for s in listing.photos]


@router.get("/photos/compare", auth=STAFF, response=responses({200: CompareOut}),
            summary="Two photos of one view: their measurements and how they align (staff)")
def compare_photos(request: HttpRequest, before: int = Query(..., ge=1, le=MAX_ID),
                   after: int = Query(..., ge=1, le=MAX_ID)) -> CompareOut:
    c = comparing.compare(actor(request), before, after)
    return CompareOut(
        before=PhotoOut(**photo_out(c.before, c.before_scopes)),
        after=PhotoOut(**photo_out(c.after, c.after_scopes)), days_apart=c.days_apart,
        alignment=c.alignment, noise_floor=c.noise_floor,
        zones=[ZoneCompared(zone=z.zone, before=z.before, after=z.after, delta=z.delta,
                            is_change=z.is_change) for z in c.zones])


@router.get("/photos/{photo_id}", auth=PATIENT_OR_STAFF, response=responses({200: PhotoOut}),
            summary="One photo's record and measurements (its patient, or clinical staff)")
def get_photo(request: HttpRequest, photo_id: int = Id) -> PhotoOut:
    who = actor(request)
    if who.link is not None:
        photo = services.patient_photo(who, photo_id)
        return PhotoOut(**photo_out(photo, effective_scopes(photo,
                                                            uses_in_force(photo.patient_id))))
    detail = services.photo_detail(who, photo_id)
    return PhotoOut(**photo_out(detail.photo, detail.scopes))


@router.get("/photos/{photo_id}/file", auth=PATIENT_OR_STAFF, response=responses({200: None}),
            openapi_extra={"responses": BINARY},
            summary="A photo's image: thumbnail, screen copy or (staff) the stored original",
            description="Served through the access layer only, never cached (no-store). The "
                        "stored original keeps only its orientation and colour profile.")
def photo_file(request: HttpRequest, photo_id: int = Id,
               size: Size = "screen") -> HttpResponse:
    found = services.photo_file(actor(request), photo_id, size)
    response = HttpResponse(found.content, content_type=found.content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
