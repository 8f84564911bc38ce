"""The owner's pages for a patient's rights, reached from the patient's page: export the
record (a confirmation page, then the zip file) and erase it (a page that says what will be
erased and what kept, and asks for the patient's name)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from needlecare.access import Actor, Permission
from needlecare.page_actions import submit
from needlecare.patients.access import access_patient
from needlecare.rights import services
from needlecare.rights.forms import EraseForm


def _zip(export: services.RecordExport) -> HttpResponse:
    response = HttpResponse(export.content, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(True, export.filename)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def record_export(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    if request.method == "POST":
        return submit(request, lambda: services.export_record(actor, pk), done=_zip,
                      back=reverse("patient-record-export", args=[pk]))
    patient = access_patient(actor, pk, permission=Permission.PATIENT_RIGHTS,
                             action="patient.export_page")
    return render(request, "rights/export.html", {"patient": patient})


@login_required
@require_http_methods(["GET", "POST"])
def record_erase(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    form = EraseForm(request.POST or None)

    def show_again() -> HttpResponse:
        preview = services.erasure_preview(actor, pk)
        return render(request, "rights/erase.html", {
            "form": form, "preview": preview, "patient": preview.patient})

    if request.method == "GET":
        return show_again()

    return submit(request, lambda: services.erase_record(
        actor, pk, confirm_name=form.cleaned_data["confirm_name"]),
        done=reverse("patient-detail", args=[pk]), form=form, show_again=show_again,
        done_message=_("Erasure done. The patient's page shows what was kept."))
