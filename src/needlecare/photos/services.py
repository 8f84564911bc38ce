"""Photo services: upload (staff, several at once; the patient, with a check-in), list, view,
serve the files, withdraw a use, mark the eyes, delete, and keep photos for the clinic's
record-keeping period.

Every service reaches the patient through the access layer and leaves its audit row in the
same transaction: who uploaded, listed, saw, compared, exported or deleted which photo.

An upload runs in three steps so that SQLite's single write lock is never held while a photo
is decoded or written to the object store (as the PDFs do, docs/architecture.md): the access
and consent checks (audited), then intake outside any transaction (a refused file stops here:
nothing is stored), the files written, and a second transaction that checks again and records
the photos; if it fails the files are removed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.access import Actor, Permission, audit, record_id, require
from needlecare.audit.models import AuditEvent
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.clinical.vocabulary import ZONES as VOCABULARY_ZONES
from needlecare.errors import Conflict, NotFound, ServiceError
from needlecare.imaging.camera import CameraFacts
from needlecare.imaging.intake import IntakeLimits, IntakeRefused
from needlecare.imaging.upload import ProcessedUpload, process_upload
from needlecare.patients.access import access_patient, access_record
from needlecare.patients.models import Patient
from needlecare.photos import files, measurement
from needlecare.photos.models import (
    AnalysisStatus,
    Moment,
    Photo,
    PhotoSettings,
    PhotoView,
    Scope,
    ScopeWithdrawal,
    TakenBy,
)
from needlecare.photos.scopes import UsesInForce, allows, effective_scopes, uses_in_force
from needlecare.recovery.links import own_link, require_usable
from needlecare.recovery.models import CheckIn, PatientLink
from needlecare.recovery.services import PhotoFindings

logger = logging.getLogger(__name__)

#: How many photos one staff upload may hold (a full set of views is six).
MAX_PHOTOS_PER_UPLOAD = 12
#: A photo taken or sent by mistake may be deleted by clinical staff for this long.
MISTAKE_WINDOW = dt.timedelta(hours=24)
#: A camera's own capture time is used when it is this recent (and not in the future).
CAMERA_TIME_TRUSTED_FOR = dt.timedelta(days=14)
SIZES = ("thumbnail", "screen", "original")
PATIENT_SIZES = ("thumbnail", "screen")


def intake_limits() -> IntakeLimits:
    """The file and pixel limits, the same on the web form and the API."""
    defaults = IntakeLimits()
    return IntakeLimits(
        max_bytes=int(getattr(settings, "PHOTO_MAX_BYTES", defaults.max_bytes)),
        max_pixels=int(getattr(settings, "PHOTO_MAX_PIXELS", defaults.max_pixels)),
        min_side=defaults.min_side)


@dataclass(frozen=True)
class Upload:
    """One file as sent, with the view it shows. ``label`` names it in a refusal."""

    data: bytes
    view: str
    zone: str = ""
    label: str = ""


class PhotoRefused(ServiceError):
    """A file the intake refused; ``code`` is ``photo_`` + the intake's code."""

    def __init__(self, error: IntakeRefused, label: str = "") -> None:
        message = error.message
        if label:
            message = _("%(label)s: %(message)s") % {"label": label, "message": message}
        super().__init__(f"photo_{error.code}", message, field="photos")
        self.intake_code = error.code


def too_large(label: str = "") -> PhotoRefused:
    """The refusal for a file larger than the limit, given before it is read."""
    limit = intake_limits().max_bytes
    return PhotoRefused(IntakeRefused("too_large_file", limit=f"{limit // (1024 * 1024)} MB"),
                        label)


def _check_view(view: str, zone: str) -> None:
    if view not in PhotoView.values:
        raise ServiceError("view_invalid", _("Choose the view the photo shows."), field="view")
    if view == PhotoView.CLOSE_UP:
        if zone not in VOCABULARY_ZONES:
            raise ServiceError("zone_required", _("Choose the zone a close-up shows."),
                               field="zone")
    elif zone:
        raise ServiceError("zone_only_for_close_ups", _(
            "Only a close-up names a zone; leave the zone empty for this view."), field="zone")


def _require_consent(in_force: UsesInForce) -> None:
    if not in_force.allows_new_photos:
        raise Conflict("no_photo_consent", _(
            "There is no photo consent in force for this patient: no photo can be taken or "
            "uploaded until they sign one (it always includes the clinical record)."))


def _process(upload: Upload, *, measure: bool) -> ProcessedUpload:
    """Intake (refusing with the file's label), derivatives and, when asked, the analysis.
    An analysis that breaks is left to the worker rather than losing the photo."""
    try:
        return process_upload(upload.data, intake_limits(), zones=measurement.ZONES,
                              measure_now=measure)
    except IntakeRefused as error:
        raise PhotoRefused(error, upload.label) from error
    except Exception:
        if not measure:
            raise
        logger.exception("inline photo analysis failed; the worker will try again")
        return process_upload(upload.data, intake_limits(), measure_now=False)


def _taken_at(camera: CameraFacts, now: dt.datetime, time_zone: str) -> dt.datetime:
    """The camera's capture time when it is plausible (recent, not ahead of the server),
    else the moment of upload. A camera time without an offset is the clinic's local time."""
    moment = camera.captured_at
    if moment is None:
        return now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(time_zone))
    if now - CAMERA_TIME_TRUSTED_FOR <= moment <= now + dt.timedelta(minutes=10):
        return min(moment, now)
    return now


def _day(session: TreatmentSession | None, taken_at: dt.datetime, time_zone: str,
         last_day: int | None = None) -> int | None:
    """Days after the session (negative for a photo taken before its day); a check-in's
    photo counts no later than the check-in's own day."""
    if session is None or session.performed_on is None:
        return None
    day = (taken_at.astimezone(ZoneInfo(time_zone)).date() - session.performed_on).days
    return min(day, last_day) if last_day is not None else day


def _device(camera: CameraFacts) -> str:
    make, model = (camera.make or "").strip(), (camera.model or "").strip()
    if make and model.lower().startswith(make.lower()):
        return model[:130]
    return " ".join(p for p in (make, model) if p)[:130]


def _new_photo(target: _Target, processed: ProcessedUpload, stored: files.StoredFiles,
               upload: Upload, now: dt.datetime) -> Photo:
    accepted = processed.accepted
    time_zone = target.patient.clinic.time_zone
    taken_at = _taken_at(accepted.camera, now, time_zone)
    last_day = target.checkin.result.get("day") if target.checkin is not None else None
    analysis = processed.analysis
    photo = Photo(
        clinic_id=target.patient.clinic_id, patient=target.patient, session=target.session,
        checkin=target.checkin, moment=target.moment, view=upload.view, zone=upload.zone,
        day=_day(target.session, taken_at, time_zone, last_day), taken_at=taken_at,
        uploaded_at=now, taken_by=target.taken_by, uploaded_by=target.user,
        link=target.link, consent=target.in_force.consent,
        scopes=target.in_force.ordered(), received_format=accepted.received_format.name,
        content_type=accepted.content_type, width=accepted.width, height=accepted.height,
        orientation=accepted.orientation, size_bytes=len(accepted.data), sha256=accepted.sha256,
        colour_profile=(analysis.image.space.name if analysis is not None
                        else ("embedded" if accepted.icc_profile else "sRGB (assumed)")),
        original_name=stored.original, thumbnail_name=stored.thumbnail,
        screen_name=stored.screen, screen_width=stored.screen_size[0],
        screen_height=stored.screen_size[1], device=_device(accepted.camera),
        camera=accepted.camera.as_dict())
    if analysis is not None:
        measurement.apply_analysis(photo, analysis)
        photo.analysis_status = AnalysisStatus.DONE
        photo.analysed_at = now
    return photo


@dataclass
class _Target:
    patient: Patient
    session: TreatmentSession | None
    checkin: CheckIn | None
    moment: str
    taken_by: str
    in_force: UsesInForce
    user: Any = None
    link: PatientLink | None = None


def _store(actor: Actor, target: _Target, uploads: Sequence[Upload],
           processed: Sequence[ProcessedUpload], recheck: Any) -> list[Photo]:
    stored: list[files.StoredFiles] = []
    try:
        for item in processed:
            stored.append(files.store(target.patient.clinic_id, target.patient.pk, item))
        with transaction.atomic():
            recheck()
            in_force = uses_in_force(target.patient.pk)
            _require_consent(in_force)
            target.in_force = in_force
            now = clock.now()
            photos = []
            for upload, item, names in zip(uploads, processed, stored, strict=True):
                photo = _new_photo(target, item, names, upload, now)
                if photo.analysis_status == AnalysisStatus.DONE:
                    measurement.measure_change(photo)
                photo.save()
                audit(actor, "photo.add", patient=target.patient, obj=photo, detail={
                    "view": photo.view, "moment": photo.moment, "scopes": photo.scopes,
                    "sha256": photo.sha256, "measured": photo.a_star_change is not None})
                photos.append(photo)
    except BaseException:
        files.remove([n for s in stored for n in s.names])
        raise
    return photos


def upload_photos(actor: Actor, patient_id: int | str, uploads: Sequence[Upload], *,
                  session_id: int | str | None = None, moment: str = "before"
                  ) -> list[Photo]:
    """Staff add photos of a patient, each with its view, optionally of a session.

    Either every file is accepted and stored, or none is (the refusal names the file).
    Their quality and redness are checked by the worker; the pages show them pending."""
    if not uploads:
        raise ServiceError("no_photos", _("Choose at least one photo."), field="photos")
    if len(uploads) > MAX_PHOTOS_PER_UPLOAD:
        raise ServiceError("too_many_photos", _("Send at most %(n)d photos at once.")
                           % {"n": MAX_PHOTOS_PER_UPLOAD}, field="photos")
    if moment not in Moment.values:
        raise ServiceError("moment_invalid", _("Choose when the photos were taken."),
                           field="moment")
    for upload in uploads:
        _check_view(upload.view, upload.zone)

    def check() -> _Target:
        patient = access_patient(actor, patient_id, permission=Permission.WRITE_CLINICAL,
                                 action="photo.upload", detail={"photos": len(uploads)})
        session = None
        if session_id not in (None, ""):
            key = record_id(session_id)
            session = (TreatmentSession.objects.filter(pk=key, patient=patient)
                       .exclude(status=SessionStatus.CANCELLED).first()
                       if key is not None else None)
            if session is None:
                raise ServiceError("session_unknown", _("Choose one of this patient's "
                                                        "sessions."), field="session")
        return _Target(patient=patient, session=session, checkin=None, moment=moment,
                       taken_by=str(TakenBy.CLINICIAN), in_force=uses_in_force(patient.pk),
                       user=actor.user)

    with transaction.atomic():
        target = check()
        _require_consent(target.in_force)
    processed = [_process(u, measure=False) for u in uploads]

    def recheck() -> None:
        access_patient(actor, target.patient.pk, permission=Permission.WRITE_CLINICAL,
                       action="photo.store", detail={"photos": len(uploads)})

    return _store(actor, target, uploads, processed, recheck)


@dataclass(frozen=True)
class AddedPhoto:
    photo: Photo
    #: What the photo's redness added to triage (None when it added nothing or was not
    #: measured).
    findings: PhotoFindings | None


def add_checkin_photo(actor: Actor, checkin_id: int | str, upload: Upload) -> AddedPhoto:
    """The patient adds a photo to a check-in of theirs. It is checked at once (quality
    advice to retake, redness measured when it passes) and goes into triage."""
    link = own_link(actor, "No such check-in.")
    _check_view(upload.view, upload.zone)

    def check() -> CheckIn:
        checkin = access_record(actor, CheckIn, checkin_id, permission=Permission.PATIENT_SELF,
                                action="photo.upload", related=("session", "clinic"))
        require_usable(PatientLink.objects.select_related("clinic").get(pk=link.pk))
        return checkin

    with transaction.atomic():
        checkin = check()
        target = _Target(patient=checkin.patient, session=checkin.session, checkin=checkin,
                         moment=str(Moment.FOLLOW_UP), taken_by=str(TakenBy.PATIENT),
                         in_force=uses_in_force(checkin.patient_id), link=link)
        _require_consent(target.in_force)
    processed = _process(upload, measure=True)
    photo = _store(actor, target, [upload], [processed], check)[0]
    return AddedPhoto(photo, _feed(actor, photo))


def _feed(actor: Actor, photo: Photo) -> PhotoFindings | None:
    """Triage with the photo; when that fails, the worker measures it again and retries, so
    a finding is never lost."""
    try:
        return measurement.feed_triage(actor, photo)
    except Exception:
        logger.exception("photo %s: triage with photos failed; left to the worker", photo.pk)
        Photo.objects.filter(pk=photo.pk).update(analysis_status=AnalysisStatus.PENDING)
        photo.analysis_status = AnalysisStatus.PENDING
        return None


# --- reading --------------------------------------------------------------------------------

@dataclass
class ShownPhoto:
    photo: Photo
    scopes: list[str]


@dataclass
class PhotoListing:
    patient: Patient
    photos: list[ShownPhoto]
    in_force: UsesInForce
    #: view -> its photos, oldest first (the timeline of each view).
    by_view: dict[str, list[ShownPhoto]] = field(default_factory=dict)


def _listing(patient: Patient, photos: Sequence[Photo], in_force: UsesInForce) -> PhotoListing:
    shown = [ShownPhoto(p, effective_scopes(p, in_force)) for p in photos]
    by_view: dict[str, list[ShownPhoto]] = {}
    for view in PhotoView.values:
        same = sorted((s for s in shown if s.photo.view == view),
                      key=lambda s: (s.photo.taken_at, s.photo.pk))
        if same:
            by_view[view] = same
    return PhotoListing(patient, shown, in_force, by_view)


_LIST_RELATED = ("session", "checkin", "uploaded_by")


def listing_for_page(actor: Actor, patient: Patient, **which: Any) -> PhotoListing:
    """The photos a page section shows (of the patient, or of one session or check-in).

    The page has already reached ``patient`` through the access layer and written its audit
    row; a section is part of that page view, so it writes none of its own (each photo the
    browser then fetches is audited one by one, by ``photo_file``). Three queries, however
    many photos."""
    require(actor, Permission.VIEW_CLINICAL)
    if patient.clinic_id != actor.clinic_id:
        raise NotFound(_("No such patient."))
    photos = list(Photo.objects.filter(patient_id=patient.pk, **which))
    return _listing(patient, photos, uses_in_force(patient.pk))


def patient_photos(actor: Actor, patient_id: int | str) -> PhotoListing:
    """Every photo of a patient (clinical staff), newest first."""
    with transaction.atomic():
        photos = list(Photo.objects.filter(patient_id=record_id(patient_id) or 0)
                      .select_related(*_LIST_RELATED))
        patient = access_patient(actor, patient_id, permission=Permission.VIEW_CLINICAL,
                                 action="photo.list", detail={"photos": [p.pk for p in photos]})
        return _listing(patient, photos, uses_in_force(patient.pk))


def session_photos(actor: Actor, session_id: int | str) -> PhotoListing:
    with transaction.atomic():
        session = access_record(actor, TreatmentSession, session_id,
                                permission=Permission.VIEW_CLINICAL, action="photo.list",
                                detail=lambda s: {"session": s.pk, "photos": list(
                                    Photo.objects.filter(session=s).values_list("pk",
                                                                                flat=True))})
        photos = list(Photo.objects.filter(session=session).select_related(*_LIST_RELATED))
        return _listing(session.patient, photos, uses_in_force(session.patient_id))


def checkin_photos(actor: Actor, checkin_id: int | str) -> PhotoListing:
    with transaction.atomic():
        checkin = access_record(actor, CheckIn, checkin_id,
                                permission=Permission.VIEW_CLINICAL, action="photo.list",
                                detail=lambda c: {"checkin": c.pk, "photos": list(
                                    Photo.objects.filter(checkin=c).values_list("pk",
                                                                                flat=True))})
        photos = list(Photo.objects.filter(checkin=checkin).select_related(*_LIST_RELATED))
        return _listing(checkin.patient, photos, uses_in_force(checkin.patient_id))


def patient_may_see(photo: Photo, in_force: UsesInForce, link: PatientLink) -> bool:
    """A patient sees the photos they sent themselves, and the clinic's photos of them that
    may be shown to them."""
    return (photo.taken_by == TakenBy.PATIENT and photo.link_id is not None
            and photo.patient_id == link.patient_id) or allows(
                photo, str(Scope.SHOWN_TO_PATIENT), in_force)


def own_listing_for_page(actor: Actor, patient: Patient, **which: Any) -> PhotoListing:
    """The photos the patient of a personal link may see, for a section of a page of theirs
    that has already reached them through the access layer (and written its audit row)."""
    link = own_link(actor)
    if link.patient_id != patient.pk:
        raise NotFound(_("No such patient."))
    in_force = uses_in_force(patient.pk)
    photos = Photo.objects.filter(patient=patient, **which)
    return _listing(patient, [p for p in photos if patient_may_see(p, in_force, link)],
                    in_force)


def patient_photo(actor: Actor, photo_id: int | str) -> Photo:
    """One photo, for its patient (one they sent, or one shown to them)."""
    link = own_link(actor, "No such photo.")
    with transaction.atomic():
        photo = access_record(actor, Photo, photo_id, permission=Permission.PATIENT_SELF,
                              action="photo.view")
        if not patient_may_see(photo, uses_in_force(photo.patient_id), link):
            raise NotFound(_("No such photo."))
        return photo


@dataclass
class PhotoDetail:
    photo: Photo
    scopes: list[str]
    in_force: UsesInForce
    #: Who saw, compared, exported or changed this photo (newest first).
    access_log: list[AuditEvent]
    keep_until: dt.date
    can_delete: bool
    delete_refusal: str


def photo_detail(actor: Actor, photo_id: int | str) -> PhotoDetail:
    with transaction.atomic():
        photo = access_record(actor, Photo, photo_id, permission=Permission.VIEW_CLINICAL,
                              action="photo.view", related=("session", "checkin", "clinic",
                                                            "uploaded_by", "baseline",
                                                            "eyes_marked_by"))
        in_force = uses_in_force(photo.patient_id)
        # Through the (patient, at) index: the audit table is the largest there is.
        log = list(AuditEvent.objects.filter(patient_id=photo.patient_id,
                                             object_type="photos.photo",
                                             object_id=str(photo.pk))
                   .select_related("actor").order_by("-at", "-id")[:50])
        keep_until = retention_end(photo)
        refusal = _delete_refusal(actor, photo, keep_until)
    return PhotoDetail(photo, effective_scopes(photo, in_force), in_force, log, keep_until,
                       refusal is None, refusal or "")


@dataclass(frozen=True)
class PhotoFile:
    content: bytes
    content_type: str
    filename: str


def _patient_file_permission(actor: Actor) -> Permission:
    return Permission.PATIENT_SELF if actor.link is not None else Permission.VIEW_CLINICAL


def photo_file(actor: Actor, photo_id: int | str, size: str) -> PhotoFile:
    """A photo's bytes (thumbnail, screen copy or, for staff, the stored original), for
    whoever may see it; every fetch is audited."""
    allowed = PATIENT_SIZES if actor.link is not None else SIZES
    if size not in allowed:
        raise NotFound(_("No such photo."))
    with transaction.atomic():
        photo = access_record(actor, Photo, photo_id,
                              permission=_patient_file_permission(actor),
                              action="photo.file", detail={"size": size})
        if actor.link is not None:
            link = own_link(actor)
            if not patient_may_see(photo, uses_in_force(photo.patient_id), link):
                raise NotFound(_("No such photo."))
    name = {"thumbnail": photo.thumbnail_name, "screen": photo.screen_name,
            "original": photo.original_name}[size]
    content_type = photo.content_type if size == "original" else "image/jpeg"
    extension = name.rsplit(".", 1)[-1]
    return PhotoFile(files.read(name), content_type,
                     f"photo-{photo.pk}-{photo.view}-{size}.{extension}")


# --- changes --------------------------------------------------------------------------------

def withdraw_scope(actor: Actor, patient_id: int | str, scope: str,
                   reason: str) -> ScopeWithdrawal:
    """The patient takes back one use of their photos (shown to them, teaching, marketing);
    from this moment no page, export or sheet uses their photos for it."""
    reason = (reason or "").strip()
    with transaction.atomic():
        patient = access_patient(actor, patient_id, permission=Permission.WRITE_CLINICAL,
                                 action="photo.scope_withdraw",
                                 detail={"scope": scope, "reason": reason})
        if scope == Scope.CLINICAL_RECORD:
            raise ServiceError("withdraw_whole_consent", _(
                "The clinical record is the photo consent itself: to withdraw it, record "
                "the withdrawal of the whole photo consent."), field="scope")
        if scope not in Scope.values:
            raise ServiceError("scope_invalid", _("Choose a use to withdraw."), field="scope")
        if not reason:
            raise ServiceError("reason_required", _("Give the reason the patient gave."),
                               field="reason")
        in_force = uses_in_force(patient.pk)
        if in_force.consent is None or scope not in in_force.uses:
            raise Conflict("scope_not_in_force", _(
                "This use is not in force for the patient's photos (already withdrawn, or "
                "never agreed)."))
        return ScopeWithdrawal.objects.create(
            clinic_id=patient.clinic_id, patient=patient, consent=in_force.consent,
            scope=scope, reason=reason, recorded_by=actor.user)


Point = tuple[float, float]


def mark_eyes(actor: Actor, photo_id: int | str, right: Point, left: Point) -> Photo:
    """A clinician marks the two eye centres (0–1 of the screen copy) of a photo in which no
    face was found, for aligning it and hiding the eyes."""
    with transaction.atomic():
        photo = access_record(actor, Photo, photo_id, permission=Permission.WRITE_CLINICAL,
                              action="photo.mark_eyes",
                              detail={"right": list(right), "left": list(left)})
        for x, y in (right, left):
            if not (0 <= x <= 1 and 0 <= y <= 1):
                raise ServiceError("eyes_outside", _("Mark both eyes inside the photo."))
        if abs(right[0] - left[0]) + abs(right[1] - left[1]) < 0.01:
            raise ServiceError("eyes_together", _("Mark the two eyes apart from each other."))
        photo.eyes = [[round(right[0], 5), round(right[1], 5)],
                      [round(left[0], 5), round(left[1], 5)]]
        photo.eyes_marked_by = actor.user
        photo.save(update_fields=["eyes", "eyes_marked_by"])
        return photo


def retention_years(clinic_id: int) -> int:
    setting = PhotoSettings.objects.filter(clinic_id=clinic_id).first()
    return setting.retention_years if setting is not None else PhotoSettings().retention_years


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def retention_end(photo: Photo) -> dt.date:
    """The day the clinic's record-keeping period ends for a photo: that many years after
    the patient's last treatment or check-in (or the photo, if later)."""
    zone = ZoneInfo(photo.clinic.time_zone)
    last = [photo.taken_at.astimezone(zone).date()]
    treated = TreatmentSession.objects.filter(
        patient_id=photo.patient_id, status=SessionStatus.SIGNED).aggregate(
        last=Max("performed_on"))["last"]
    checked = CheckIn.objects.filter(patient_id=photo.patient_id).aggregate(
        last=Max("submitted_at"))["last"]
    if treated is not None:
        last.append(treated)
    if checked is not None:
        last.append(checked.astimezone(zone).date())
    return _add_years(max(last), retention_years(photo.clinic_id))


def _delete_refusal(actor: Actor, photo: Photo, keep_until: dt.date) -> str | None:
    """Why ``actor`` may not delete ``photo`` now, or None when they may."""
    if not actor.can(Permission.WRITE_CLINICAL):
        return _("Only clinical staff may delete photos.")
    if clock.now() - photo.uploaded_at <= MISTAKE_WINDOW:
        return None  # taken or sent by mistake: clinical staff may remove it the same day
    today = clock.now().astimezone(ZoneInfo(photo.clinic.time_zone)).date()
    if today >= keep_until:
        return None if actor.can(Permission.MANAGE_CLINIC) else _(
            "The record-keeping period has ended; the clinic's owner may delete it.")
    return _("Kept in the clinical record until %(date)s (the clinic's record-keeping "
             "setting): a photo can be deleted within a day of being added, or once that "
             "period has ended.") % {"date": keep_until.strftime("%d %B %Y").lstrip("0")}


def delete_photo(actor: Actor, photo_id: int | str, reason: str) -> int:
    """Delete a photo and its files (where allowed), audited with what it was; returns the
    patient's id."""
    reason = (reason or "").strip()
    with transaction.atomic():
        photo = access_record(actor, Photo, photo_id, permission=Permission.WRITE_CLINICAL,
                              action="photo.delete_request", related=("clinic",), lock=True)
        refusal = _delete_refusal(actor, photo, retention_end(photo))
        if refusal is not None:
            raise Conflict("photo_kept", refusal)
        if not reason:
            raise ServiceError("reason_required", _("Give the reason for deleting the photo."),
                               field="reason")
        _delete(actor, photo, reason)
        return photo.patient_id


def _delete(actor: Actor, photo: Photo, reason: str) -> None:
    names = photo.file_names
    audit(actor, "photo.delete", patient=photo.patient, obj=photo, detail={
        "reason": reason, "view": photo.view, "taken_at": photo.taken_at.isoformat(),
        "sha256": photo.sha256, "files": names})
    Photo.objects.filter(baseline=photo).update(baseline=None)
    photo.delete()
    # The files go once the row is gone for good; a rolled-back delete keeps them.
    transaction.on_commit(lambda: files.remove(names))


def purge_expired(actor: Actor | None = None, *, clinic_id: int | None = None) -> int:
    """Delete the photos whose record-keeping period has ended (a scheduled job: run by
    ``needlecare photos-purge``). Each deletion is audited; returns how many."""
    actor = actor or Actor()
    count = 0
    candidates = Photo.objects.select_related("clinic", "patient")
    if clinic_id is not None:
        candidates = candidates.filter(clinic_id=clinic_id)
    for photo in candidates.iterator():
        zone = ZoneInfo(photo.clinic.time_zone)
        if clock.now().astimezone(zone).date() < retention_end(photo):
            continue
        with transaction.atomic():
            locked = Photo.objects.select_for_update().filter(pk=photo.pk).first()
            if locked is None:
                continue
            _delete(actor, photo, "record-keeping period ended")
            count += 1
    return count


# --- the patient's rights (called by the rights app, inside its erasure) ---------------------

#: The uses that rest on the patient's consent alone, not on the clinical record: an erasure
#: request takes them back at once, even while the record itself must be kept.
CONSENT_ONLY_USES = (Scope.TEACHING, Scope.MARKETING)


def withdraw_uses_on_erasure(actor: Actor, patient: Patient, reason: str) -> list[str]:
    """Withdraw the consent-only uses still in force for the patient's photos; returns them.
    The caller has checked access and holds the patient's row lock; its own audit row says
    what was withdrawn."""
    in_force = uses_in_force(patient.pk)
    if in_force.consent is None:
        return []
    withdrawn = [str(scope) for scope in CONSENT_ONLY_USES if scope in in_force.uses]
    for scope in withdrawn:
        ScopeWithdrawal.objects.create(
            clinic_id=patient.clinic_id, patient=patient, consent=in_force.consent,
            scope=scope, reason=reason, recorded_by=actor.user)
    return withdrawn


def delete_on_erasure(actor: Actor, patient: Patient, reason: str) -> int:
    """Delete every photo of the patient, whatever the photo record-keeping setting (the
    caller decided that no record need be kept any more); each deletion is audited like any
    other and the files go once the transaction has committed. Returns how many."""
    photos = list(Photo.objects.select_for_update().filter(patient=patient).order_by("-id"))
    for photo in photos:
        _delete(actor, photo, reason)
    return len(photos)


def photo_settings(actor: Actor) -> PhotoSettings:
    require(actor, Permission.MANAGE_CLINIC)
    with transaction.atomic():
        setting, _created = PhotoSettings.objects.get_or_create(clinic_id=actor.clinic_id)
        audit(actor, "photo.settings_view")
        return setting


def update_photo_settings(actor: Actor, retention_years: int) -> PhotoSettings:
    require(actor, Permission.MANAGE_CLINIC)
    if not 1 <= retention_years <= 100:
        raise ServiceError("retention_invalid", _("Give a number of years from 1 to 100."),
                           field="retention_years")
    with transaction.atomic():
        setting, _created = PhotoSettings.objects.get_or_create(clinic_id=actor.clinic_id)
        before = setting.retention_years
        setting.retention_years = retention_years
        setting.save(update_fields=["retention_years"])
        audit(actor, "photo.settings_change",
              detail={"retention_years": [before, retention_years]})
        return setting
