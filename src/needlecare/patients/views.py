"""Patient pages: list and search, register, edit, and the patient's story on one page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from needlecare.access import Actor, Permission, require
from needlecare.errors import ServiceError
from needlecare.page_actions import refusal, show_refusal
from needlecare.patients import services
from needlecare.patients.forms import PatientForm, PatientSearchForm, RegisterPatientForm


def link(name: str, *args: Any, query: dict[str, str] | None = None) -> str | None:
    """The address of a page, or None while the app that serves it is not built yet, so a
    page can offer every link that exists without breaking on the ones that do not."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


@dataclass(frozen=True)
class Action:
    label: str
    url: str


def actions_for(*candidates: tuple[Any, str | None]) -> list[Action]:
    return [Action(str(label), url) for label, url in candidates if url]


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    result = services.search_patients(Actor.from_request(request), query,
                                      request.GET.get("page"))
    return render(request, "patients/patient_list.html", {
        "form": form, "result": result, "page": result.page,
        "query_string": urlencode({"q": result.query}) if result.query else "",
        "can_register": Actor.from_request(request).can(Permission.REGISTER_PATIENT),
    })


@login_required
@require_http_methods(["GET", "POST"])
def patient_new(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.REGISTER_PATIENT)
    duplicates: list[Any] = []
    form = RegisterPatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.register_patient(
                actor, form.details(), confirm_duplicate=form.cleaned_data["register_anyway"])
        except services.PossibleDuplicate as duplicate:
            duplicates = duplicate.matches
            form.add_error(None, duplicate.message)
        except ServiceError as error:
            show_refusal(form, refusal(error))
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": patient})
            return redirect("patient-detail", pk=patient.pk)
    return render(request, "patients/patient_form.html", {
        "form": form, "duplicates": duplicates,
        "ask_to_confirm": bool(duplicates) or bool(form.data.get("register_anyway")),
        "title": _("Register a patient"), "submit": _("Register patient"),
        "cancel_url": reverse("patient-list"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    if request.method == "POST":
        form = PatientForm(request.POST)
        if form.is_valid():
            try:
                patient = services.update_patient(actor, pk, form.details())
            except ServiceError as error:
                show_refusal(form, refusal(error))
            else:
                messages.success(request, _("The details are saved."))
                return redirect("patient-detail", pk=patient.pk)
        else:
            # Refuse strangers before showing anything back, even their own errors.
            services.check_can_edit(actor, pk)
    else:
        patient = services.patient_for_edit(actor, pk)
        form = PatientForm(initial={
            name: getattr(patient, name) for name in PatientForm.base_fields})
    return render(request, "patients/patient_form.html", {
        "form": form, "title": _("Edit patient details"), "submit": _("Save details"),
        "cancel_url": reverse("patient-detail", args=[pk]),
    })
