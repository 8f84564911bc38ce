"""The staff's photo pages: a patient's photos by view, adding photos, one photo (with who saw
it), comparing two, the teaching and marketing sets, before/after sheets, and the setting.

Photos are answered only here, through the services (access layer, audit); never from a media
URL. Images and sheets carry ``private, no-store``: a clinic computer's cache keeps nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from needlecare.access import Actor, Permission, require
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.errors import ServiceError
from needlecare.page_actions import refusal, submit
from needlecare.photos import compare as comparing
from needlecare.photos import exports, measurement, services
from needlecare.photos.forms import (
    DeleteForm,
    SettingsForm,
    UploadForm,
    UploadRows,
)
from needlecare.photos.models import PhotoView, Scope
from needlecare.photos.scopes import labels


def image_response(content: bytes, content_type: str, filename: str | None = None,
                   *, download: bool = False) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if filename:
        response["Content-Disposition"] = content_disposition_header(download, filename)
    return response


def read_upload(file: UploadedFile | None, view: str, zone: str,
                label: str) -> services.Upload:
    """The bytes of an uploaded file, refusing one over the size limit before reading it."""
    if file is None:
        raise ServiceError("no_photos", _("Choose at least one photo."), field="photos")
    if file.size is not None and file.size > services.intake_limits().max_bytes:
        raise services.too_large(label)
    return services.Upload(file.read(), view, zone, label)


# --- a patient's photos -------------------------------------------------------------------------

def _session_choices(patient_id: int) -> list[tuple[str, str]]:
    sessions = (TreatmentSession.objects.filter(patient_id=patient_id)
                .exclude(status=SessionStatus.CANCELLED).order_by("-scheduled_for", "-id"))
    return [(str(s.pk), f"{(s.performed_on or s.scheduled_for.date()):%d %b %Y} · "
             f"{s.get_status_display()}") for s in sessions]


def _photos_page(request: HttpRequest, pk: int, *, form: UploadForm | None = None,
                 rows: Any = None) -> HttpResponse:
    actor = Actor.from_request(request)
    listing = services.patient_photos(actor, pk)
    session = request.GET.get("session", "")
    form = form or UploadForm(sessions=_session_choices(listing.patient.pk),
                              initial={"session": session})
    rows = rows or UploadRows(prefix="rows")
    return render(request, "photos/patient_photos.html", {
        "patient": listing.patient, "listing": listing, "form": form, "rows": rows,
        "uses": labels(listing.in_force.ordered()),
        "can_write": actor.can(Permission.WRITE_CLINICAL), "views": dict(PhotoView.choices),
    })


@login_required
@require_GET
def patient_photos(request: HttpRequest, pk: int) -> HttpResponse:
    return _photos_page(request, pk)


@login_required
@require_POST
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.WRITE_CLINICAL)
    form = UploadForm(request.POST, sessions=_session_choices(pk))
    rows = UploadRows(request.POST, request.FILES, prefix="rows")
    if not (form.is_valid() and rows.is_valid()):
        return _photos_page(request, pk, form=form, rows=rows)
    try:
        uploads = [read_upload(row.cleaned_data["photo"], row.cleaned_data["view"],
                               row.cleaned_data.get("zone", ""),
                               _("Photo %(n)d (%(name)s)") % {
                                   "n": index + 1, "name": row.cleaned_data["photo"].name})
                   for index, row in enumerate(rows.forms)
                   if row.cleaned_data.get("photo") is not None]
        photos = services.upload_photos(actor, pk, uploads,
                                        session_id=form.cleaned_data["session"] or None,
                                        moment=form.cleaned_data["moment"])
    except ServiceError as exc:
        form.add_error(None, refusal(exc).message)
        return _photos_page(request, pk, form=form, rows=rows)
    messages.success(request, _("%(n)d photos added. Their quality and redness are being "
                                "checked.") % {"n": len(photos)} if len(photos) != 1 else
                     _("Photo added. Its quality and redness are being checked."))
    return redirect("patient-photos", pk=pk)


# --- one photo --------------------------------------------------------------------------------

def _detail_page(request: HttpRequest, pk: int, *, delete_form: DeleteForm | None = None
                 ) -> HttpResponse:
    actor = Actor.from_request(request)
    detail = services.photo_detail(actor, pk)
    photo = detail.photo
    same_view = [p for p in services.patient_photos(actor, photo.patient_id).by_view.get(
        photo.view, []) if p.photo.pk != photo.pk]
    escalation = photo.checkin.escalation if photo.checkin is not None else None
    triage_reasons = [r["clinician"] for r in (escalation.reasons if escalation else [])
                      if r.get("rule") in measurement.photo_rules()]
    return render(request, "photos/photo_detail.html", {
        "detail": detail, "photo": photo, "patient": photo.patient,
        "scopes": labels(detail.scopes), "recorded_scopes": labels(photo.scopes),
        "teaching": Scope.TEACHING in detail.scopes, "same_view": same_view,
        "delete_form": delete_form or DeleteForm(),
        "can_write": actor.can(Permission.WRITE_CLINICAL),
        "time_zone": photo.clinic.time_zone, "escalation": escalation,
        "triage_reasons": triage_reasons,
    })


@login_required
@require_GET
def photo_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, pk)


@login_required
@require_GET
def photo_file(request: HttpRequest, pk: int, size: str) -> HttpResponse:
    found = services.photo_file(Actor.from_request(request), pk, size)
    return image_response(found.content, found.content_type, found.filename,
                          download=size == "original")


@login_required
@require_POST
def photo_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    form = DeleteForm(request.POST)
    return submit(request, lambda: services.delete_photo(actor, pk,
                                                         form.cleaned_data["reason"]),
                  form=form, show_again=lambda: _detail_page(request, pk, delete_form=form),
                  done=lambda patient_id: redirect("patient-photos", pk=patient_id),
                  done_message=_("The photo and its files were deleted."))


@login_required
@require_http_methods(["GET", "POST"])
def mark_eyes(request: HttpRequest, pk: int) -> HttpResponse:
    """Two clicks on the photo (an image button sends where it was clicked, no script
    needed): first the patient's right eye (on the left of the picture), then the left."""
    actor = Actor.from_request(request)
    require(actor, Permission.WRITE_CLINICAL)
    detail = services.photo_detail(actor, pk)
    photo = detail.photo
    first = request.POST.get("first", "") if request.method == "POST" else ""
    error = ""
    if request.method == "POST" and "spot.x" in request.POST:
        try:
            point = (float(request.POST["spot.x"]) / photo.screen_width,
                     float(request.POST["spot.y"]) / photo.screen_height)
        except (TypeError, ValueError, ZeroDivisionError):
            point = None
        if point is not None and not first:
            first = f"{point[0]:.5f},{point[1]:.5f}"
        elif point is not None:
            try:
                right = tuple(float(v) for v in first.split(","))
                services.mark_eyes(actor, pk, (right[0], right[1]), point)
            except (ValueError, IndexError):
                error = _("Start again: click the patient's right eye first.")
                first = ""
            except ServiceError as exc:
                error = refusal(exc).message
                first = ""
            else:
                messages.success(request, _("Eyes marked: the photo can now be aligned and "
                                            "its eyes hidden."))
                return redirect("photo-detail", pk=pk)
    return render(request, "photos/mark_eyes.html", {
        "photo": photo, "patient": photo.patient, "first": first, "error": error})


# --- comparing --------------------------------------------------------------------------------

@login_required
@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.VIEW_CLINICAL)
    before, after = request.GET.get("before", ""), request.GET.get("after", "")
    if not (before and after):
        messages.error(request, _("Choose two photos of the same view to compare."))
        return redirect("patient-list")
    try:
        comparison = comparing.compare(actor, before, after)
    except ServiceError as exc:
        messages.error(request, refusal(exc).message)
        return redirect("patient-list")
    return render(request, "photos/compare.html", {
        "c": comparison, "patient": comparison.before.patient,
        "patient_sheet": Scope.SHOWN_TO_PATIENT in comparison.before_scopes
        and Scope.SHOWN_TO_PATIENT in comparison.after_scopes,
        "marketing_sheet": Scope.MARKETING in comparison.before_scopes
        and Scope.MARKETING in comparison.after_scopes,
        "mode": "slider" if request.GET.get("mode") == "slider" else "side",
    })


@login_required
@require_GET
def aligned(request: HttpRequest, pk: int, moving: int) -> HttpResponse:
    content = comparing.aligned_image(Actor.from_request(request), pk, moving)
    return image_response(content, "image/jpeg", f"photo-{moving}-aligned-to-{pk}.jpg")


@login_required
@require_GET
def sheet(request: HttpRequest, audience: str) -> HttpResponse:
    actor = Actor.from_request(request)
    before, after = request.GET.get("before", ""), request.GET.get("after", "")
    back = reverse("photo-compare") + f"?before={before}&after={after}"
    return submit(request, lambda: exports.before_after_sheet(actor, before, after, audience),
                  done=lambda made: image_response(made[0], "application/pdf", made[1],
                                                   download=True), back=back)


@login_required
@require_GET
def teaching_copy(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    return submit(request, lambda: exports.teaching_copy(actor, pk),
                  done=lambda content: image_response(
                      content, "image/jpeg", f"teaching-photo-{pk}.jpg", download=True),
                  back=reverse("photo-detail", args=[pk]))


@login_required
@require_GET
def library(request: HttpRequest) -> HttpResponse:
    found = exports.library(Actor.from_request(request), request.GET.get("use", "marketing"))
    return render(request, "photos/library.html", {
        "library": found, "scope_label": Scope(found.scope).label,
        "teaching": found.scope == Scope.TEACHING})


# --- uses and settings ---------------------------------------------------------------------------

@login_required
@require_POST
def withdraw_scope(request: HttpRequest, pk: int) -> HttpResponse:
    # The service checks the patient and the role first, then the values (a missing use or
    # reason is a message on the patient's page).
    actor = Actor.from_request(request)
    scope = request.POST.get("scope", "")
    names = dict(Scope.choices)
    back = reverse("patient-detail", args=[pk]) + "#photos"
    return submit(request, lambda: services.withdraw_scope(
        actor, pk, scope, request.POST.get("reason", "")),
        done=back, done_message=_("Withdrawn: from now on no photo of this patient is used "
                                  "for %(use)s.") % {"use": str(names.get(scope, scope)).lower()})


@login_required
@require_http_methods(["GET", "POST"])
def photo_settings(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    setting = services.photo_settings(actor)
    form = SettingsForm(request.POST or None,
                        initial={"retention_years": setting.retention_years})
    if request.method == "POST":
        return submit(request, lambda: services.update_photo_settings(
            actor, form.cleaned_data["retention_years"]), form=form,
            show_again=lambda: render(request, "photos/settings.html", {"form": form}),
            done=reverse("photo-settings"), done_message=_("Saved."))
    return render(request, "photos/settings.html", {"form": form})
