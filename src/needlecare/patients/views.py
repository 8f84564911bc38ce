"""Patient pages: list and search, register, edit, and the patient's story on one page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from needlecare.access import Actor, Permission, require
from needlecare.errors import ServiceError
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


def _actions(*candidates: tuple[Any, str | None]) -> list[Action]:
    return [Action(str(label), url) for label, url in candidates if url]


def show_service_error(form: forms.Form, error: ServiceError) -> None:
    """Put a service's refusal next to the field it is about, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


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
            show_service_error(form, error)
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
                show_service_error(form, error)
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


# Where each kind of timeline entry is shown in full, and which record's id it takes.
_DETAIL_PAGES = {
    "consultation": ("consultation-detail", "pk"),
    "consent": ("consent-detail", "pk"),
    "consent_withdrawn": ("consent-detail", "pk"),
    "plan": ("plan-detail", "pk"),
    "session": ("session-detail", "pk"),
    "aftercare": ("session-detail", "session_id"),
    "checkin": ("checkin-detail", "pk"),
    "escalation": ("escalation-detail", "pk"),
}
_PLANNABLE = {"suitable", "suitable_with_precautions"}


@login_required
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    record = services.patient_record(actor, pk)
    patient = record.patient
    for entry in record.entries:
        if record.clinical:
            name, attribute = _DETAIL_PAGES[entry.kind]
            entry.url = link(name, getattr(entry.record, attribute))
        if entry.kind == "consultation" and actor.can(Permission.WRITE_CLINICAL) \
                and entry.record.effective_verdict in _PLANNABLE:
            entry.actions = _actions((_("Create a treatment plan"),
                                      link("plan-new", entry.record.pk)))
        if entry.kind == "plan" and entry.record.status == "active" \
                and actor.can(Permission.BOOK):
            entry.actions = _actions((_("Book a session"), link("session-book", entry.record.pk)))

    clinical_write = actor.can(Permission.WRITE_CLINICAL)
    actions = _actions(
        (_("Edit details"),
         link("patient-edit", patient.pk) if actor.can(Permission.REGISTER_PATIENT) else None),
        (_("Start a consultation"),
         link("consultation-new", patient.pk) if clinical_write else None),
        (_("Record treatment consent"),
         link("consent-new", patient.pk, query={"kind": "treatment"})
         if clinical_write else None),
        (_("Record photo consent"),
         link("consent-new", patient.pk, query={"kind": "photos"}) if clinical_write else None),
    )
    if actor.can(Permission.BOOK):
        many = len(record.active_plans) > 1
        actions += _actions(*(
            (_("Book a session (plan of %(date)s)")
             % {"date": date_format(timezone.localtime(plan.created_at), "j F Y")}
             if many else _("Book a session"), link("session-book", plan.pk))
            for plan in record.active_plans))
    return render(request, "patients/patient_detail.html", {
        "record": record, "patient": patient, "entries": record.entries,
        "clinical": record.clinical, "actions": actions,
    })
