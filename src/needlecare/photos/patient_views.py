"""The patient's photo pages (personal link): adding a photo after a check-in, their photos and
their before/after sheet.

The photo step is a page of its own, reached from the check-in result: the check-in has been
sent and triaged before any photo is taken, so it never waits on one, and photos stay
optional. The photo is checked at once: a photo that is too dark, blurred or badly framed is
kept (marked, never measured) and the patient is told in plain words how to take it again.
Every answer carries ``no-store`` (recovery's ``patient_page``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from needlecare.access import Actor
from needlecare.errors import ServiceError
from needlecare.page_actions import refusal, submit
from needlecare.photos import exports, framing, measurement, services
from needlecare.photos.forms import PatientPhotoForm
from needlecare.photos.models import PhotoView
from needlecare.photos.views import image_response, read_upload
from needlecare.recovery.models import PatientLink
from needlecare.recovery.services import patient_checkin
from needlecare.recovery.views import patient_page, tel_href

#: Advice on light and framing, shown before every photo (imaging.md §6: the same light each
#: time matters as much as the measurement).
LIGHT_ADVICE = [
    _("Face a window in daylight; turn off the flash and any coloured lamps."),
    _("No make-up, and wipe off any balm or cream first."),
    _("Hold the phone at arm's length, level with your face, and keep your face inside the "
      "outline."),
    _("Take it in the same place as your earlier photos if you can."),
]


def _clinic(link: PatientLink) -> dict[str, object]:
    """What the patient pages' header shows: the clinic's name and phone."""
    clinic = link.clinic
    return {"clinic": clinic, "clinic_tel": tel_href(clinic.phone),
            "emergency_tel": tel_href(clinic.emergency_number)}


def _page(request: HttpRequest, link: PatientLink, token: str, checkin_id: int, *,
          form: PatientPhotoForm | None = None, error: str = "") -> HttpResponse:
    actor = Actor.for_link(link, request)
    checkin = patient_checkin(actor, checkin_id)
    # The check-in's own read is the page's audit row; its photos come with it.
    listing = services.own_listing_for_page(actor, checkin.patient, checkin_id=checkin.pk)
    view = (form.data.get("view") if form is not None and form.is_bound else None) \
        or request.GET.get("view") or PhotoView.FRONT
    if view not in PhotoView.values:
        view = PhotoView.FRONT
    escalation = checkin.escalation
    photo_reasons = list(dict.fromkeys(
        r["patient"] for r in (escalation.reasons if escalation is not None else [])
        if r.get("rule") in measurement.photo_rules()))
    shown = request.GET.get("photo")
    latest = next((p for p in listing.photos if str(p.photo.pk) == shown), None)
    return render(request, "photos/patient_add.html", {
        **_clinic(link), "token": token, "checkin": checkin,
        "form": form or PatientPhotoForm(initial={"view": view}), "error": error,
        "listing": listing, "latest": latest, "advice": LIGHT_ADVICE,
        "guide": framing.guide(link.patient_id, str(view)),
        "can_add": listing.in_force.allows_new_photos, "photo_reasons": photo_reasons,
    })


@require_http_methods(["GET", "POST"])
@patient_page
def add_photo(request: HttpRequest, link: PatientLink, token: str, pk: int) -> HttpResponse:
    if request.method == "GET":
        return _page(request, link, token, pk)
    form = PatientPhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, link, token, pk, form=form)
    actor = Actor.for_link(link, request)
    try:
        upload = read_upload(form.cleaned_data["photo"], form.cleaned_data["view"], "", "")
        added = services.add_checkin_photo(actor, pk, upload)
    except ServiceError as exc:
        return _page(request, link, token, pk, form=form, error=refusal(exc).message)
    query = f"?photo={added.photo.pk}&view={added.photo.view}"
    return redirect(reverse("patient-checkin-photos", args=[token, pk]) + query)


@require_GET
@patient_page
def photo_file(request: HttpRequest, link: PatientLink, token: str, pk: int,
               size: str) -> HttpResponse:
    found = services.photo_file(Actor.for_link(link, request), pk, size)
    return image_response(found.content, found.content_type)


@require_GET
@patient_page
def sheet(request: HttpRequest, link: PatientLink, token: str) -> HttpResponse:
    actor = Actor.for_link(link, request)
    before, after = request.GET.get("before", ""), request.GET.get("after", "")
    return submit(request, lambda: exports.before_after_sheet(actor, before, after, "patient"),
                  done=lambda made: image_response(made[0], "application/pdf", made[1],
                                                   download=True),
                  back=reverse("patient-home", args=[token]))
