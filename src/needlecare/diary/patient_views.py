"""The patient's diary pages, through their personal link (after the date-of-birth step, like
every page of theirs): upcoming appointments, confirm, cancel within the clinic's notice
period, rebook into safe slots, medicines before a session, a slot offered from the waiting
list, and the pre-visit forms (intake in steps, consent signed ahead). No page here shows a
screening verdict."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.shortcuts import render as django_render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from needlecare import clock
from needlecare.access import Actor, Permission, record_id
from needlecare.care import consent_texts
from needlecare.diary import previsit as previsits
from needlecare.diary import services
from needlecare.diary.models import UPCOMING, Appointment, WaitlistEntry
from needlecare.diary.patient_forms import (
    MedicationsForm,
    ProceduresForm,
    SignForm,
    step_form,
)
from needlecare.diary.resources import diary_settings
from needlecare.diary.services import BookingRefused
from needlecare.errors import ServiceError
from needlecare.page_actions import refusal
from needlecare.patients.access import access_patient, access_record
from needlecare.recovery.models import PatientLink
from needlecare.recovery.views import patient_page, tel_href


def _clinic_context(link: PatientLink) -> dict[str, Any]:
    clinic = link.clinic
    return {"clinic": clinic, "clinic_tel": tel_href(clinic.phone),
            "emergency_tel": tel_href(clinic.emergency_number)}


def render(request: HttpRequest, link: PatientLink, template: str,
           context: dict[str, Any]) -> HttpResponse:
    with timezone.override(ZoneInfo(link.clinic.time_zone)):
        return django_render(request, template, {**_clinic_context(link), **context})


def _actor(request: HttpRequest, link: PatientLink) -> Actor:
    return Actor.for_link(link, request)


@require_GET
@patient_page
def appointments(request: HttpRequest, link: PatientLink, token: str) -> HttpResponse:
    actor = _actor(request, link)
    with transaction.atomic():
        patient = access_patient(actor, link.patient_id, permission=Permission.PATIENT_SELF,
                                 action="appointment.list")
        now = clock.now()
        upcoming = list(Appointment.objects.filter(
            patient=patient, status__in=UPCOMING, starts_at__gte=now)
            .select_related("type", "practitioner").order_by("starts_at"))
    notice = diary_settings(link.clinic_id).cancel_notice_hours
    for appointment in upcoming:
        appointment.can_change = appointment.starts_at - now >= dt.timedelta(hours=notice)
    return render(request, link, "diary/patient/appointments.html", {
        "token": token, "appointments": upcoming, "notice_hours": notice})


def _back(token: str) -> str:
    return reverse("patient-appointments", args=[token])


@require_POST
@patient_page
def confirm(request: HttpRequest, link: PatientLink, token: str, pk: int) -> HttpResponse:
    try:
        services.confirm(_actor(request, link), pk)
    except ServiceError as exc:
        messages.error(request, refusal(exc).message)
    else:
        messages.success(request, _("Thank you: we look forward to seeing you."))
    return redirect(_back(token))


@require_POST
@patient_page
def cancel(request: HttpRequest, link: PatientLink, token: str, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "").strip() or _("Cancelled by the patient online.")
    try:
        services.cancel(_actor(request, link), pk, reason)
    except ServiceError as exc:
        messages.error(request, refusal(exc).message)
    else:
        messages.success(request, _("Your appointment is cancelled."))
    return redirect(_back(token))


@require_http_methods(["GET", "POST"])
@patient_page
def rebook(request: HttpRequest, link: PatientLink, token: str, pk: int) -> HttpResponse:
    """Choose another time among the safe slots; the appointment moves there."""
    actor = _actor(request, link)
    error = None
    if request.method == "POST":
        start = _start(request.POST.get("start"))
        practitioner = record_id(request.POST.get("practitioner"))
        if start is None:
            error = _("Choose one of the times.")
        else:
            try:
                services.move(actor, pk, start, practitioner_id=practitioner)
            except BookingRefused as exc:
                error = exc.message
            except ServiceError as exc:
                error = refusal(exc).message
            else:
                messages.success(request, _("Your appointment has moved. We have sent you the "
                                            "new time."))
                return redirect(_back(token))
    with transaction.atomic():
        appointment = access_record(actor, Appointment, pk, permission=Permission.PATIENT_SELF,
                                    action="appointment.view", related=("type", "practitioner"))
    found = services.next_safe_slots(actor, appointment.patient_id, appointment.type_id,
                                     plan_id=appointment.plan_id, count=8)
    return render(request, link, "diary/patient/rebook.html", {
        "token": token, "appointment": appointment, "found": found, "error": error})


def _start(value: str | None) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return moment if moment.tzinfo else None


@require_http_methods(["GET", "POST"])
@patient_page
def before_session(request: HttpRequest, link: PatientLink, token: str, pk: int
                   ) -> HttpResponse:
    actor = _actor(request, link)
    appointment, stored, update = previsits.before_session_form_data(actor, pk)
    data = request.POST if request.method == "POST" else None
    medicines = MedicationsForm(data, stored=stored.get("medications"), prefix="m")
    treatments = ProceduresForm(data, stored=stored.get("procedures"), prefix="p")
    error = None
    if data is not None and medicines.is_valid() & treatments.is_valid():
        try:
            previsits.submit_before_session(actor, pk, {**medicines.answers(),
                                                        **treatments.answers()})
        except ServiceError as exc:
            error = refusal(exc).message
        else:
            messages.success(request, _("Thank you. Your clinician will see this before your "
                                        "session."))
            return redirect(_back(token))
    return render(request, link, "diary/patient/before_session.html", {
        "token": token, "appointment": appointment, "medicines": medicines,
        "treatments": treatments, "update": update, "error": error})


@require_http_methods(["GET", "POST"])
@patient_page
def offer(request: HttpRequest, link: PatientLink, token: str, pk: int) -> HttpResponse:
    actor = _actor(request, link)
    start = _start(request.POST.get("start") if request.method == "POST"
                   else request.GET.get("start"))
    error = None
    if request.method == "POST" and start is not None:
        try:
            appointment = services.book_offer(actor, pk, start)
        except ServiceError as exc:
            error = refusal(exc).message
        else:
            messages.success(request, _("It is yours. We have sent you the details."))
            return redirect(reverse("patient-appointments", args=[token])
                            + f"#appointment-{appointment.pk}")
    with transaction.atomic():
        entry = access_record(actor, WaitlistEntry, pk, permission=Permission.PATIENT_SELF,
                              action="waitlist.view_offer", related=("type",))
    return render(request, link, "diary/patient/offer.html", {
        "token": token, "entry": entry, "start": start, "error": error})


# --- pre-visit forms ----------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@patient_page
def previsit(request: HttpRequest, link: PatientLink, token: str, pk: int) -> HttpResponse:
    """One step of the intake (``?step=``; the first not done by default), saved on "Next"."""
    actor = _actor(request, link)
    found = previsits.for_appointment(actor, pk)
    keys = list(previsits.STEP_KEYS)
    key = request.GET.get("step") or next((k for k in keys if k not in found.steps_done),
                                          previsits.CONSENT_STEP)
    if key == previsits.CONSENT_STEP:
        return redirect("patient-previsit-consent", token=token, pk=pk)
    if key not in keys:
        key = keys[0]
    form = step_form(key, request.POST if request.method == "POST" else None, found.answers)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            previsits.save_step(actor, found.pk, key, form.answers())
        except ServiceError as exc:
            error = refusal(exc).message
        else:
            following = keys.index(key) + 1
            target = keys[following] if following < len(keys) else previsits.CONSENT_STEP
            if request.POST.get("go") == "back" and keys.index(key) > 0:
                target = keys[keys.index(key) - 1]
            return redirect(reverse("patient-previsit", args=[token, pk]) + f"?step={target}")
    number = keys.index(key) + 1
    return render(request, link, "diary/patient/previsit_step.html", {
        "token": token, "previsit": found, "form": form, "step": previsits.step_of(key),
        "number": number, "total": len(keys) + 1, "error": error,
        "progress": [k in found.steps_done for k in [*keys, previsits.CONSENT_STEP]],
        "previous": keys[number - 2] if number > 1 else None})


@require_http_methods(["GET", "POST"])
@patient_page
def previsit_consent(request: HttpRequest, link: PatientLink, token: str, pk: int
                     ) -> HttpResponse:
    actor = _actor(request, link)
    found = previsits.for_appointment(actor, pk)
    form = SignForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            previsits.sign_ahead(actor, found.pk, strokes=form.cleaned_data["strokes"],
                                 typed_name=form.cleaned_data["typed_name"],
                                 understood=form.cleaned_data["understood"],
                                 user_agent=request.META.get("HTTP_USER_AGENT", ""))
        except ServiceError as exc:
            error = refusal(exc).message
        else:
            messages.success(request, _("Thank you: your answers and your signature are with "
                                        "the clinic. They will go through them with you at "
                                        "your visit."))
            return redirect(_back(token))
    keys = [*previsits.STEP_KEYS, previsits.CONSENT_STEP]
    return render(request, link, "diary/patient/previsit_consent.html", {
        "token": token, "previsit": found, "form": form, "error": error,
        "text": consent_texts.current("treatment"), "number": len(keys), "total": len(keys),
        "progress": [k in found.steps_done for k in keys],
        "signed": found.signatures.exists()})
