"""The desk's other diary pages: the waiting list, online requests, the owner's diary
settings, and the clinician's review of a patient's pre-visit answers."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.shortcuts import render as django_render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from needlecare import clock
from needlecare.access import Actor, Permission, audit, record_id, require
from needlecare.accounts.clinic_settings import WEEKDAYS, format_intervals
from needlecare.accounts.models import Role
from needlecare.care.forms import IntakeForm
from needlecare.diary import previsit as previsits
from needlecare.diary import requests, services, setup
from needlecare.diary.forms import WaitlistForm
from needlecare.diary.models import (
    AppointmentKind,
    Device,
    Room,
    WaitlistEntry,
    WaitlistStatus,
    WorkingException,
    WorkingHours,
)
from needlecare.diary.resources import clinic_types, diary_settings, practitioners
from needlecare.errors import ServiceError
from needlecare.page_actions import refusal, show_refusal, submit
from needlecare.patients.access import access_patient


def render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    clinic = getattr(request.user, "clinic", None)
    with timezone.override(ZoneInfo(clinic.time_zone if clinic else "UTC")):
        return django_render(request, template, context)


# --- waiting list ---------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def waitlist(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.BOOK)
    clinic_id = actor.clinic_id
    assert clinic_id is not None
    patient_id = record_id(request.GET.get("patient") or request.POST.get("patient"))
    patient = None
    if patient_id is not None:
        with transaction.atomic():
            patient = access_patient(actor, patient_id, permission=Permission.BOOK,
                                     action="waitlist.start")
    form = WaitlistForm(request.POST if request.method == "POST" else None,
                        types=clinic_types(clinic_id), staff=practitioners(clinic_id))
    if request.method == "POST" and patient is not None and form.is_valid():
        try:
            services.join_waitlist(actor, patient.pk, form.cleaned_data["type"],
                                   practitioner_id=form.cleaned_data["practitioner"],
                                   note=form.cleaned_data["note"])
        except ServiceError as exc:
            show_refusal(form, refusal(exc))
        else:
            messages.success(request, _("On the waiting list: a cancelled slot of this type "
                                        "will be offered to them."))
            return redirect("diary-waitlist")
    with transaction.atomic():
        entries = list(WaitlistEntry.objects.filter(clinic_id=clinic_id,
                                                    status=WaitlistStatus.WAITING)
                       .select_related("patient", "type", "practitioner"))
        audit(actor, "waitlist.view", detail={"entries": [e.pk for e in entries]})
    return render(request, "diary/waitlist.html", {"entries": entries, "form": form,
                                                   "patient": patient})


@login_required
@require_POST
def waitlist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: services.leave_waitlist(Actor.from_request(request), pk),
                  done=reverse("diary-waitlist"), done_message=_("Taken off the waiting list."))


# --- online requests ------------------------------------------------------------------------

@login_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    return render(request, "diary/requests.html", {
        "requests": requests.pending(Actor.from_request(request))})


class RegisterForm(forms.Form):
    date_of_birth = forms.DateField(label=gettext_lazy("Date of birth"), required=False,
                                    widget=forms.DateInput(attrs={"type": "date"}))


@login_required
@require_GET
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    found = requests.view_request(Actor.from_request(request), pk)
    return render(request, "diary/request.html", {
        "view": found, "booking": found.request, "register_form": RegisterForm(
            initial={"date_of_birth": found.request.date_of_birth})})


def _book_consultation(patient_id: int, clinic_id: int) -> str:
    kind = next(t for t in clinic_types(clinic_id) if t.kind == AppointmentKind.CONSULTATION)
    return reverse("diary-book") + f"?patient={patient_id}&type={kind.pk}"


@login_required
@require_POST
def request_action(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    action = request.POST.get("action")
    back = reverse("diary-request", args=[pk])
    try:
        if action == "match":
            patient = requests.match(actor, pk, request.POST.get("patient", ""))
        elif action == "register":
            form = RegisterForm(request.POST)
            born = form.cleaned_data["date_of_birth"] if form.is_valid() else None
            patient = requests.register(actor, pk, born)
        elif action == "decline":
            requests.decline(actor, pk)
            messages.success(request, _("Declined."))
            return redirect("diary-requests")
        else:
            requests.view_request(actor, pk)  # a stranger's request is "not found"
            return redirect(back)
    except ServiceError as exc:
        messages.error(request, refusal(exc).message)
        return redirect(back)
    messages.success(request, _("Now book their consultation."))
    return redirect(_book_consultation(patient.pk, patient.clinic_id))


# --- settings -------------------------------------------------------------------------------

class TypeForm(forms.Form):
    duration = forms.IntegerField(label=gettext_lazy("Length (minutes)"), min_value=5,
                                  max_value=480)
    buffer_before = forms.IntegerField(label=gettext_lazy("Buffer before"), min_value=0,
                                       max_value=120)
    buffer_after = forms.IntegerField(label=gettext_lazy("Buffer after"), min_value=0,
                                      max_value=120)
    roles = forms.MultipleChoiceField(label=gettext_lazy("Performed by"),
                                      widget=forms.CheckboxSelectMultiple,
                                      choices=[c for c in Role.choices
                                               if c[0] != Role.FRONT_DESK])
    pre_visit = forms.BooleanField(label=gettext_lazy("Send the pre-visit forms"),
                                   required=False)
    active = forms.BooleanField(label=gettext_lazy("Offered"), required=False)


class ExceptionForm(forms.Form):
    practitioner = forms.TypedChoiceField(label=gettext_lazy("Practitioner"), coerce=int)
    starts_on = forms.DateField(label=gettext_lazy("From"),
                                widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=gettext_lazy("Until (inclusive)"),
                              widget=forms.DateInput(attrs={"type": "date"}))
    hours = forms.CharField(label=gettext_lazy("Hours on those days (empty: away)"),
                            required=False, help_text=gettext_lazy("For example 09:00–13:00"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=120)


class DiarySettingsForm(forms.Form):
    slot_minutes = forms.TypedChoiceField(label=gettext_lazy("Diary rows"), coerce=int,
                                          choices=[(m, f"{m} min") for m in (5, 10, 15, 20, 30,
                                                                             60)])
    cancel_notice_hours = forms.IntegerField(
        label=gettext_lazy("Patients may cancel or move online until (hours before)"),
        min_value=0, max_value=168)
    public_requests = forms.BooleanField(
        label=gettext_lazy("New patients may ask for a consultation online"), required=False)
    requests_per_hour = forms.IntegerField(
        label=gettext_lazy("Online requests accepted per hour from one address"),
        min_value=1, max_value=100)


def _settings_page(request: HttpRequest, actor: Actor, **forms_: Any) -> HttpResponse:
    clinic_id = actor.clinic_id
    assert clinic_id is not None
    staff = practitioners(clinic_id)
    current = diary_settings(clinic_id)
    patterns = {h.practitioner_id: h.weekly for h in WorkingHours.objects.filter(
        clinic_id=clinic_id)}
    hours_rows = [(p, [(n, WEEKDAYS[n], format_intervals(patterns.get(p.pk, {}).get(str(n),
                                                                                    [])))
                       for n in range(7)]) for p in staff]
    exception_form = forms_.get("exception_form") or ExceptionForm()
    exception_form.fields["practitioner"].choices = [(p.pk, str(p)) for p in staff]
    return render(request, "diary/settings.html", {
        "rooms": Room.objects.filter(clinic_id=clinic_id, active=True),
        "devices": Device.objects.filter(clinic_id=clinic_id, active=True),
        "types": [(t, forms_.get(f"type_{t.pk}") or TypeForm(prefix=f"t{t.pk}", initial={
            "duration": t.duration_minutes, "buffer_before": t.buffer_before_minutes,
            "buffer_after": t.buffer_after_minutes, "roles": t.roles,
            "pre_visit": t.pre_visit, "active": t.active})) for t in clinic_types(clinic_id)],
        "hours_rows": hours_rows,
        "exceptions": WorkingException.objects.filter(
            clinic_id=clinic_id, ends_on__gte=clock.localdate()).select_related("practitioner"),
        "exception_form": exception_form,
        "settings_form": forms_.get("settings_form") or DiarySettingsForm(initial={
            "slot_minutes": current.slot_minutes,
            "cancel_notice_hours": current.cancel_notice_hours,
            "public_requests": current.public_requests,
            "requests_per_hour": current.requests_per_hour}),
        "public_url": reverse("public-booking", args=[request.user.clinic.slug]),
    })


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.MANAGE_CLINIC)
    if request.method == "GET":
        return _settings_page(request, actor)
    action = request.POST.get("action", "")
    back = reverse("diary-settings")
    try:
        if action in ("room", "device"):
            setup.add_resource(actor, Room if action == "room" else Device,
                               request.POST.get("name", ""))
        elif action in ("retire_room", "retire_device"):
            setup.retire_resource(actor, Room if action == "retire_room" else Device,
                                  record_id(request.POST.get("pk")) or 0)
        elif action.startswith("type_"):
            type_id = record_id(action.removeprefix("type_")) or 0
            form = TypeForm(request.POST, prefix=f"t{type_id}")
            if not form.is_valid():
                return _settings_page(request, actor, **{f"type_{type_id}": form})
            data = form.cleaned_data
            setup.update_type(actor, type_id, duration=data["duration"],
                              buffer_before=data["buffer_before"],
                              buffer_after=data["buffer_after"], pre_visit=data["pre_visit"],
                              active=data["active"], roles=data["roles"])
        elif action == "hours":
            setup.set_weekly_hours(actor, record_id(request.POST.get("practitioner")) or 0,
                                   {n: request.POST.get(f"day_{n}", "") for n in range(7)})
        elif action == "exception":
            form = ExceptionForm(request.POST)
            form.fields["practitioner"].choices = [
                (p.pk, str(p)) for p in practitioners(actor.clinic_id or 0)]
            if not form.is_valid():
                return _settings_page(request, actor, exception_form=form)
            data = form.cleaned_data
            setup.add_exception(actor, data["practitioner"], data["starts_on"], data["ends_on"],
                                data["hours"], data["reason"])
        elif action == "remove_exception":
            setup.remove_exception(actor, record_id(request.POST.get("pk")) or 0)
        elif action == "settings":
            form = DiarySettingsForm(request.POST)
            if not form.is_valid():
                return _settings_page(request, actor, settings_form=form)
            setup.update_settings(actor, **form.cleaned_data)
    except ServiceError as exc:
        messages.error(request, refusal(exc).message)
        return redirect(back)
    messages.success(request, _("Saved."))
    return redirect(back)


# --- pre-visit answers, at the visit --------------------------------------------------------

def _review_page(request: HttpRequest, pk: int, form: IntakeForm | None = None) -> HttpResponse:
    actor = Actor.from_request(request)
    found = previsits.for_review(actor, pk)
    zone = ZoneInfo(found.clinic.time_zone)
    initial, answered = previsits.initial_for_consultation(
        found.answers, today=dt.datetime.now(zone).date())
    form = form or IntakeForm(initial=initial)
    return render(request, "diary/previsit_review.html", {
        "previsit": found, "patient": found.patient, "form": form, "answered": answered,
        "signatures": list(found.signatures.select_related("consent", "countersigned_by")),
        "steps": previsits.STEPS})


@login_required
@require_http_methods(["GET", "POST"])
def previsit_review(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "GET":
        return _review_page(request, pk)
    form = IntakeForm(request.POST)
    return submit(request, lambda: previsits.confirm(Actor.from_request(request), pk,
                                                     form.intake_answers()),
                  form=form, show_again=lambda: _review_page(request, pk, form),
                  done=lambda p: redirect("consultation-detail", pk=p.consultation_id),
                  done_message=_("Confirmed and screened."))


@login_required
@require_POST
def previsit_countersign(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: previsits.countersign(
        Actor.from_request(request), pk, request.META.get("HTTP_USER_AGENT", "")),
        done=lambda consent: redirect("consent-detail", pk=consent.pk),
        back=request.POST.get("back") if str(request.POST.get("back", "")).startswith("/")
        else reverse("diary-today"),
        done_message=_("Counter-signed: the consent is recorded, witnessed by you."))
