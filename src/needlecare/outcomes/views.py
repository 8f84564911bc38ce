"""Pages of the outcomes app: recording outcomes and adverse events, choosing a treatment,
referrals, the clinic's numbers, and the patient's outcome questions on their phone. Views
parse input, call one service and render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from needlecare import clock
from needlecare.access import Actor, Permission, require
from needlecare.accounts.models import Clinic
from needlecare.clinical.vocabulary import FITZPATRICK, INDICATIONS, ZONES
from needlecare.errors import ServiceError
from needlecare.outcomes import choice, numbers, records, referrals
from needlecare.outcomes.course import clinic_today
from needlecare.outcomes.forms import (
    SCAR_LABELS,
    AdverseEventForm,
    ChoiceForm,
    MeasureForm,
    NumbersForm,
    OfferingsForm,
    PatientOutcomeForm,
    ReferralForm,
    ReferralOutcomeForm,
    ScarTypesForm,
    numbers_data,
)
from needlecare.outcomes.models import ReferralStatus
from needlecare.page_actions import refusal, submit
from needlecare.recovery import services as recovery
from needlecare.recovery.models import EscalationStatus, PatientLink
from needlecare.recovery.views import patient_page, tel_href


def _file(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


def _day(value: dt.date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


# --- outcome measures and adverse events (clinicians) -----------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def outcome_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    plan, sessions = records.plan_for_recording(actor, pk)
    available = records.clinician_measures(plan)
    found = records.outcomes()
    key = request.GET.get("measure") or request.POST.get("measure") or ""
    if key not in available:
        return render(request, "outcomes/measure_choose.html", {
            "plan": plan, "patient": plan.patient,
            "measures": [(k, found.measures[k]) for k in available]})
    measure = found.measures[key]
    schedule = found.data.schedule
    points = [(p, schedule[p].label) for p in records.points_for(key)]
    session_choices = [(s.pk, _day(s.performed_on)) for s in sessions]
    initial = {"assessed_on": clinic_today(plan.clinic.time_zone),
               "point": "baseline" if not sessions else points[-1][0]}
    form = MeasureForm(measure, points, session_choices, request.POST or None, initial=initial)

    def show_again() -> HttpResponse:
        return render(request, "outcomes/measure_form.html", {
            "plan": plan, "patient": plan.patient, "measure": measure, "key": key,
            "form": form, "item_fields": [form[f"item_{k}"] for k in form.item_keys]})

    if request.method == "GET":
        return show_again()
    return submit(request, lambda: records.record_outcome(
        actor, plan.pk, measure=key, point=form.cleaned_data["point"],
        assessed_on=form.cleaned_data["assessed_on"], values=form.values(),
        session_id=form.cleaned_data["session"]),
        form=form, show_again=show_again, done=reverse("plan-detail", args=[plan.pk]),
        done_message=_("The outcome measure was recorded."))


@login_required
@require_http_methods(["GET", "POST"])
def adverse_event_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    plan, sessions = records.plan_for_recording(actor, pk)
    choices = [(s.pk, _day(s.performed_on)) for s in sessions]
    initial: dict[str, Any] = {"onset": clinic_today(plan.clinic.time_zone)}
    if sessions:
        initial["session"] = sessions[-1].pk
    form = AdverseEventForm(choices, request.POST or None, initial=initial)

    def show_again() -> HttpResponse:
        return render(request, "outcomes/adverse_event_form.html", {
            "plan": plan, "patient": plan.patient, "form": form, "sessions": sessions})

    if request.method == "GET":
        return show_again()
    return submit(request, lambda: records.record_adverse_event(
        actor, form.cleaned_data["session"], type=form.cleaned_data["type"],
        severity=form.cleaned_data["severity"], onset=form.cleaned_data["onset"],
        resolved=form.cleaned_data["resolved"], note=form.cleaned_data["note"]),
        form=form, show_again=show_again, done=reverse("plan-detail", args=[plan.pk]),
        done_message=_("The adverse event was recorded."))


# --- choosing a treatment ---------------------------------------------------------------------

def _alternatives_page(request: HttpRequest, pk: int, scar_types: list[str],
                       choice_form: ChoiceForm | None = None) -> HttpResponse:
    actor = Actor.from_request(request)
    page = choice.comparison(actor, pk, scar_types)
    options = [(row.option, row.name) for row in page.comparison.rows]
    form = choice_form or ChoiceForm(options, initial={"scar_types": page.scar_types,
                                                       "option": "microneedling"})
    consultation = page.consultation
    intake = consultation.intake or {}
    return render(request, "outcomes/alternatives.html", {
        "page": page, "consultation": consultation, "patient": consultation.patient,
        "comparison": page.comparison, "form": form,
        "scar_form": ScarTypesForm(initial={"scar_types": page.scar_types}),
        "scar_labels": SCAR_LABELS,
        "indications": [INDICATIONS[c].display for c in page.comparison.indications
                        if c in INDICATIONS],
        "zones": [ZONES[z].display for z in page.comparison.zones if z in ZONES],
        "fitzpatrick": FITZPATRICK[str(page.comparison.fitzpatrick)].display
        if page.comparison.fitzpatrick is not None
        and str(page.comparison.fitzpatrick) in FITZPATRICK else None,
        "acne": "acne_scars" in intake.get("indications", []),
        "can_write": actor.can(Permission.WRITE_CLINICAL)})


@login_required
@require_GET
def alternatives(request: HttpRequest, pk: int) -> HttpResponse:
    form = ScarTypesForm(request.GET)
    scar_types = form.cleaned_data["scar_types"] if form.is_valid() else []
    try:
        return _alternatives_page(request, pk, scar_types)
    except ServiceError as exc:
        messages.error(request, refusal(exc).message)
        return redirect("consultation-detail", pk=pk)


@login_required
@require_POST
def alternatives_choose(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.WRITE_CLINICAL)
    page = choice.comparison(actor, pk, request.POST.getlist("scar_types"))
    form = ChoiceForm([(row.option, row.name) for row in page.comparison.rows], request.POST)
    return submit(request, lambda: choice.choose_treatment(
        actor, pk, option=form.cleaned_data["option"], reason=form.cleaned_data["reason"],
        scar_types=form.cleaned_data["scar_types"]),
        form=form, show_again=lambda: _alternatives_page(
            request, pk, page.scar_types, form),
        done=reverse("consultation-alternatives", args=[pk]),
        done_message=_("Your choice and reason were recorded. The patient's copy can be "
                       "printed below."))


@login_required
@require_GET
def choice_copy(request: HttpRequest, pk: int) -> HttpResponse:
    copy = choice.patient_copy(Actor.from_request(request), pk)
    return _file(copy.content, copy.filename, copy.content_type)


@login_required
@require_http_methods(["GET", "POST"])
def offerings(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.MANAGE_CLINIC)
    assert actor.clinic_id is not None
    form = OfferingsForm(request.POST or None,
                         initial={"not_offered": choice.not_offered(actor.clinic_id)})

    def show_again() -> HttpResponse:
        return render(request, "outcomes/offerings.html", {"form": form})

    if request.method == "GET":
        return show_again()
    return submit(request, lambda: choice.set_offerings(actor,
                                                        form.cleaned_data["not_offered"]),
                  form=form, show_again=show_again, done=reverse("clinic-offerings"),
                  done_message=_("Saved. Treatments not offered show as “refer”."))


# --- referrals --------------------------------------------------------------------------------

def _details(form: ReferralForm) -> referrals.ReferralDetails:
    data = form.cleaned_data
    return referrals.ReferralDetails(
        to=data["to"], reason=data["reason"], summary=data["summary"],
        recipient=data["recipient"], reason_detail=data["reason_detail"],
        urgency=data["urgency"])


@login_required
@require_http_methods(["GET", "POST"])
def escalation_referral(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.WRITE_CLINICAL)
    detail = recovery.escalation_detail(actor, pk)
    closing = detail.escalation.status != EscalationStatus.CLOSED
    form = ReferralForm(request.POST or None, closing=closing)

    def show_again() -> HttpResponse:
        return render(request, "outcomes/referral_form.html", {
            "escalation": detail.escalation, "form": form, "closing": closing,
            "time_zone": detail.escalation.clinic.time_zone})

    if request.method == "GET":
        return show_again()
    if closing:
        def call() -> Any:
            return referrals.close_with_referral(
                actor, pk, outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"],
                details=_details(form))
    else:
        def call() -> Any:
            return referrals.refer(actor, pk, _details(form))
    return submit(request, call, form=form, show_again=show_again,
                  done=lambda referral: redirect("referral-detail", pk=referral.pk),
                  done_message=_("The referral was recorded. Download the letter below."))


def _referral_page(request: HttpRequest, pk: int,
                   form: ReferralOutcomeForm | None = None) -> HttpResponse:
    actor = Actor.from_request(request)
    referral = referrals.view_referral(actor, pk)
    return render(request, "outcomes/referral_detail.html", {
        "referral": referral, "patient": referral.patient,
        "time_zone": referral.clinic.time_zone,
        "form": form or ReferralOutcomeForm(
            initial={"outcome_on": clinic_today(referral.clinic.time_zone)}),
        "can_write": actor.can(Permission.WRITE_CLINICAL)})


@login_required
@require_GET
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _referral_page(request, pk)


@login_required
@require_POST
def referral_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReferralOutcomeForm(request.POST)
    return submit(request, lambda: referrals.record_outcome(
        Actor.from_request(request), pk, outcome=form.cleaned_data["outcome"],
        outcome_on=form.cleaned_data["outcome_on"], note=form.cleaned_data["note"]),
        form=form, show_again=lambda: _referral_page(request, pk, form),
        done=reverse("referral-detail", args=[pk]),
        done_message=_("The outcome of the referral was recorded."))


@login_required
@require_GET
def referral_letter(request: HttpRequest, pk: int) -> HttpResponse:
    letter = referrals.referral_letter(Actor.from_request(request), pk)
    return _file(letter.content, letter.filename, letter.content_type)


@login_required
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", ReferralStatus.AWAITING)
    shown = referrals.list_referrals(Actor.from_request(request),
                                     None if status == "all" else status,
                                     request.GET.get("page", 1))
    return render(request, "outcomes/referral_list.html", {
        "page": shown, "status": status, "statuses": ReferralStatus.choices})


# --- the clinic's numbers ---------------------------------------------------------------------

def _numbers_filter(request: HttpRequest, actor: Actor
                    ) -> tuple[NumbersForm, numbers.NumbersFilter | None, Clinic]:
    require(actor, Permission.VIEW_CLINICAL)
    clinic = Clinic.objects.get(pk=actor.clinic_id)
    today = clinic_today(clinic.time_zone)
    default = numbers.default_filter(today)
    people = numbers.practitioner_choices(clinic.pk)
    form = NumbersForm(people, numbers_data(request.GET, default.start, default.end))
    if not form.is_valid():
        return form, None, clinic
    return form, numbers.NumbersFilter(start=form.cleaned_data["start"],
                                       end=form.cleaned_data["end"],
                                       practitioner_id=form.cleaned_data["practitioner"]), clinic


@login_required
@require_GET
def numbers_page(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    form, numbers_filter, clinic = _numbers_filter(request, actor)
    found = None
    if numbers_filter is not None:
        try:
            found = numbers.clinic_numbers(actor, numbers_filter)
        except ServiceError as exc:
            form.add_error(refusal(exc).field if exc.field in form.fields else None,
                           exc.message)
    charts = numbers.charts(found) if found is not None else None
    return render(request, "outcomes/numbers.html", {
        "form": form, "numbers": found, "charts": charts, "time_zone": clinic.time_zone,
        "csv_query": numbers_filter.query() if numbers_filter else ""})


@login_required
@require_GET
def numbers_csv(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    _form, numbers_filter, _clinic = _numbers_filter(request, actor)
    if numbers_filter is None:
        messages.error(request, _("Choose a valid range first."))
        return redirect("numbers")
    try:
        found = numbers.clinic_numbers(actor, numbers_filter)
    except ServiceError as exc:
        messages.error(request, refusal(exc).message)
        return redirect("numbers")
    name = f"clinic-numbers-{numbers_filter.start:%Y-%m-%d}-to-{numbers_filter.end:%Y-%m-%d}.csv"
    return _file(numbers.as_csv(found).encode("utf-8"), name, "text/csv; charset=utf-8")


@login_required
@require_GET
def numbers_records(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    _form, numbers_filter, _clinic = _numbers_filter(request, actor)
    if numbers_filter is None:
        messages.error(request, _("Choose a valid range first."))
        return redirect("numbers")
    try:
        page = numbers.records(actor, numbers_filter, request.GET.get("metric", ""),
                               request.GET.get("key", ""), request.GET.get("page", 1))
    except ServiceError as exc:
        messages.error(request, refusal(exc).message)
        return redirect(reverse("numbers") + "?" + numbers_filter.query())
    return render(request, "outcomes/numbers_records.html", {
        "records": page, "time_zone": page.time_zone,
        "back": reverse("numbers") + "?" + numbers_filter.query(),
        "title": numbers.metric_title(page.metric, page.key)})


# --- the patient's outcome questions ----------------------------------------------------------

def _patient_context(link: PatientLink) -> dict[str, Any]:
    clinic = link.clinic
    return {"clinic": clinic, "clinic_tel": tel_href(clinic.phone),
            "emergency_tel": tel_href(clinic.emergency_number)}


@require_http_methods(["GET", "POST"])
@patient_page
def patient_outcomes(request: HttpRequest, link: PatientLink, token: str,
                     pk: int) -> HttpResponse:
    actor = Actor.for_link(link, request)
    invitation = records.open_invitation(actor, pk)
    state = records.invitation_state(invitation, clinic_today(invitation.clinic.time_zone))
    form = PatientOutcomeForm(invitation.measures, request.POST or None)
    error = None
    if request.method == "POST" and state == "open" and form.is_valid():
        try:
            records.answer_invitation(actor, pk, form.answers())
        except ServiceError as exc:
            error = refusal(exc).message
        else:
            return redirect("patient-outcomes-thanks", token=token, pk=pk)
    return render(request, "outcomes/patient_outcomes.html", {
        **_patient_context(link), "token": token, "invitation": invitation, "state": state,
        "form": form, "error": error,
        "intro": records.outcomes().data.schedule[invitation.point].patient
        if invitation.point in records.outcomes().data.schedule else ""})


@require_GET
@patient_page
def patient_outcomes_thanks(request: HttpRequest, link: PatientLink, token: str,
                            pk: int) -> HttpResponse:
    invitation = records.open_invitation(Actor.for_link(link, request), pk)
    return render(request, "outcomes/patient_outcomes_thanks.html", {
        **_patient_context(link), "token": token, "invitation": invitation,
        "now": clock.now()})
