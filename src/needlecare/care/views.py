"""Clinic-side pages. Each view parses input with a form, calls one service and redirects, or
re-renders the form with its errors. Reads go through read services (they audit the access);
on a refused write the page is read again to show the form with the message."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needlecare import clock, sections
from needlecare.access import Actor, Permission, require
from needlecare.care import consent_texts, services
from needlecare.care.aftercare import aftercare_document
from needlecare.care.answers import intake_answers
from needlecare.care.forms import (
    ZONES_PREFIX,
    AddendumForm,
    ChartForm,
    ConsentForm,
    IntakeForm,
    LotSearchForm,
    OverrideForm,
    PlanEditForm,
    PlanForm,
    ReasonForm,
    chart_data,
    zone_formset,
)
from needlecare.care.models import ConsentKind, SessionStatus, TreatmentSession, Verdict
from needlecare.care.precautions import Precaution, precautions_of, records_from
from needlecare.clinical import vocabulary as vocab
from needlecare.errors import ServiceError
from needlecare.page_actions import refusal, show_refusal, submit

# --- consultation ------------------------------------------------------------------------------


@login_required
def consultation_new(request: HttpRequest, patient_pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    form = IntakeForm(request.POST or None)

    def show_again() -> HttpResponse:
        patient = services.patient_for_clinical_work(actor, patient_pk, "consultation.start")
        return render(request, "care/consultation_form.html", {"patient": patient,
                                                               "form": form})

    if request.method != "POST":
        return show_again()
    return submit(request, lambda: services.record_consultation(actor, patient_pk,
                                                               form.intake_answers()),
                  form=form, show_again=show_again,
                  done=lambda c: redirect("consultation-detail", pk=c.pk))


def _consultation_page(request: HttpRequest, pk: int, override_form: OverrideForm | None = None
                       ) -> HttpResponse:
    actor = Actor.from_request(request)
    consultation = services.view_consultation(actor, pk)
    return render(request, "care/consultation_detail.html", {
        "consultation": consultation, "patient": consultation.patient,
        "result": consultation.result, "intake": consultation.intake,
        "answers": intake_answers(consultation.intake),
        "precautions": precautions_of(consultation.result),
        "override_form": override_form or OverrideForm(),
        "can_write": actor.can(Permission.WRITE_CLINICAL),
        "sections": sections.render(sections.Page.CONSULTATION, actor, consultation),
    })


@login_required
def consultation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _consultation_page(request, pk)


@login_required
@require_POST
def consultation_override(request: HttpRequest, pk: int) -> HttpResponse:
    form = OverrideForm(request.POST)
    return submit(request, lambda: services.override_screening(
        Actor.from_request(request), pk, form.cleaned_data["verdict"],
        form.cleaned_data["reason"]),
        form=form, show_again=lambda: _consultation_page(request, pk, form),
        done=reverse("consultation-detail", args=[pk]),
        done_message=_("Your verdict was recorded beside the screening's."))


# --- consent -----------------------------------------------------------------------------------


def _consent_kind(request: HttpRequest) -> str:
    kind = request.GET.get("kind", ConsentKind.TREATMENT)
    if kind not in ConsentKind.values:
        raise Http404("No such kind of consent.")
    return kind


@login_required
def consent_new(request: HttpRequest, patient_pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    kind = _consent_kind(request)
    form = ConsentForm(request.POST or None, kind=kind)

    def show_again() -> HttpResponse:
        patient = services.patient_for_clinical_work(actor, patient_pk, "consent.start")
        return render(request, "care/consent_form.html", {
            "patient": patient, "form": form, "kind": kind,
            "text": consent_texts.current(kind)})

    if request.method != "POST":
        return show_again()
    return submit(request, lambda: services.sign_consent(
        actor, patient_pk, kind=kind, signed_name=form.cleaned_data["signed_name"],
        understood=form.cleaned_data["understood"],
        photo_uses=form.cleaned_data.get("photo_uses", []),
        user_agent=request.META.get("HTTP_USER_AGENT", "")),
        form=form, show_again=show_again, done_message=_("Consent signed. Thank you."),
        done=lambda consent: redirect("consent-detail", pk=consent.pk))


def _consent_page(request: HttpRequest, pk: int, withdraw_form: ReasonForm | None = None
                  ) -> HttpResponse:
    actor = Actor.from_request(request)
    consent = services.view_consent(actor, pk)
    return render(request, "care/consent_detail.html", {
        "consent": consent, "patient": consent.patient,
        "photo_uses": [consent_texts.PHOTO_USES.get(u, u) for u in consent.photo_uses],
        "withdraw_form": withdraw_form or ReasonForm(),
        "can_write": actor.can(Permission.WRITE_CLINICAL),
    })


@login_required
def consent_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _consent_page(request, pk)


@login_required
@require_POST
def consent_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    return submit(request, lambda: services.withdraw_consent(
        Actor.from_request(request), pk, form.cleaned_data["reason"]),
        form=form, show_again=lambda: _consent_page(request, pk, form),
        done=reverse("consent-detail", args=[pk]),
        done_message=_("The withdrawal of consent was recorded."))


# --- treatment plan ----------------------------------------------------------------------------


@login_required
def plan_new(request: HttpRequest, consultation_pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    refused: ServiceError | None = None
    if request.method == "POST":
        posted = PlanForm(request.POST)
        if posted.is_valid():
            try:
                treatment_plan = services.create_plan(actor, consultation_pk,
                                                      posted.cleaned_data["indications"],
                                                      posted.cleaned_data["zones"])
            except ServiceError as exc:
                refused = refusal(exc)
            else:
                return redirect("plan-detail", pk=treatment_plan.pk)
    consultation = services.consultation_for_plan(actor, consultation_pk)
    # Bound to the consultation's intake, the form offers only the zones it screened.
    form = PlanForm(request.POST if request.method == "POST" else None,
                    intake=consultation.intake)
    if form.is_bound:
        form.is_valid()
    if refused is not None:
        show_refusal(form, refused)
    return render(request, "care/plan_form.html", {
        "consultation": consultation, "patient": consultation.patient, "form": form,
        "verdict": consultation.effective_verdict,
        "not_suitable": consultation.effective_verdict == Verdict.NOT_SUITABLE,
    })


def _plan_page(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    overview = services.view_plan(actor, pk)
    return render(request, "care/plan_detail.html", {
        "overview": overview, "plan": overview.plan, "patient": overview.plan.patient,
        "generated": overview.plan.generated,
        "precautions": precautions_of(overview.plan.consultation.result),
        "edits": overview.plan.edits.select_related("by"),
        "sections": sections.render(sections.Page.PLAN, actor, overview.plan),
    })


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _plan_page(request, pk)


@login_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    # The form's depth fields follow the plan's zones, so the plan is read first.
    treatment_plan = services.plan_for_edit(actor, pk)
    form = PlanEditForm(request.POST or None, plan=treatment_plan)

    def show_again() -> HttpResponse:
        return render(request, "care/plan_edit.html", {
            "plan": treatment_plan, "patient": treatment_plan.patient, "form": form})

    if request.method != "POST":
        return show_again()
    return submit(request, lambda: services.edit_plan(actor, pk, **form.changes()),
                  form=form, show_again=show_again, done=reverse("plan-detail", args=[pk]),
                  done_message=_("The plan was changed; the change is in its history."))


# --- sessions ----------------------------------------------------------------------------------


def _chart_defaults(session: TreatmentSession) -> dict[str, Any]:
    """What a new chart starts with: today's date, and the device chosen at the
    consultation (the practitioner changes either when they differ)."""
    defaults: dict[str, Any] = {}
    if session.performed_on is None:
        defaults["performed_on"] = clock.localdate()
    if not session.device:
        device = (session.plan.consultation.intake or {}).get("device")
        if device in vocab.DEVICES:
            defaults["device"] = device
    return defaults


def _chart_forms(session: TreatmentSession, data: Any = None) -> tuple[ChartForm, Any]:
    form = ChartForm(data, clinic_id=session.clinic_id,
                     precautions=services.session_precautions(session),
                     initial=None if data is not None else {
                         **ChartForm.initial_for(session), **_chart_defaults(session),
                         "practitioner": session.practitioner_id or None})
    return form, zone_formset(session, data)


def _session_page(request: HttpRequest, pk: int, *, data: Any = None,
                  problems: list[str] | None = None, addendum_form: AddendumForm | None = None,
                  cancel_form: ReasonForm | None = None, extra_error: str = "",
                  ) -> HttpResponse:
    actor = Actor.from_request(request)
    if not actor.can(Permission.VIEW_CLINICAL):
        # Front desk: the booking, never the chart.
        session = services.view_booking(actor, pk)
        return render(request, "care/session_booking.html", {
            "session": session, "patient": session.patient,
            "cancel_form": cancel_form or ReasonForm(), "extra_error": extra_error})
    session = services.view_session(actor, pk)
    context: dict[str, Any] = {
        "session": session, "patient": session.patient, "plan": session.plan,
        "problems": problems or [], "extra_error": extra_error,
        "addendum_form": addendum_form or AddendumForm(),
        "cancel_form": cancel_form or ReasonForm(),
        "can_sign": actor.can(Permission.SIGN),
        "zones": list(session.zones.all()),
    }
    if session.status == SessionStatus.BOOKED:
        form, formset = _chart_forms(session, data)
        if data is not None:
            form.is_valid()
            formset.is_valid()
        elif session.practitioner_id is None:
            form.initial["practitioner"] = actor.user.pk if actor.user else None
        context.update(form=form, formset=formset,
                       depth_ranges=session.plan.depth_ranges,
                       products=vocab.PRODUCTS)
    else:
        recorded = records_from(session.precautions)
        record = getattr(session, "aftercare", None)
        context.update(addenda=session.addenda.select_related("by"),
                       aftercare=record,
                       aftercare_plan=aftercare_document(session, record)[0] if record else None,
                       products=vocab.PRODUCTS,
                       precautions=[(p, recorded.get(p.key))
                                    for p in precautions_of(session.plan.consultation.result)])
    context["sections"] = sections.render(sections.Page.SESSION_DETAIL, actor, session)
    return render(request, "care/session_detail.html", context)


_PRECAUTION_FIELD = re.compile(r"precaution_([a-z0-9_]{1,64}?)(?:_note)?")


def _posted_precautions(request: HttpRequest) -> list[Precaution]:
    """The precautions the posted chart records (the service checks that they are the
    screening's; the page shown again names them properly)."""
    keys = dict.fromkeys(match.group(1) for name in request.POST
                         if (match := _PRECAUTION_FIELD.fullmatch(name)))
    return [Precaution(key=key, about=key, text="") for key in keys]


def _parse_chart(request: HttpRequest) -> tuple[ChartForm, Any, bool]:
    actor = Actor.from_request(request)
    form = ChartForm(request.POST, clinic_id=actor.clinic_id,
                     precautions=_posted_precautions(request))
    # Every zone parses here; the plan's zones are checked when the session is signed.
    formset = zone_formset(None, request.POST, zones=list(vocab.ZONES))
    valid = form.is_valid() & formset.is_valid()
    return form, formset, valid


def _require(request: HttpRequest, permission: Permission) -> None:
    # Checked before parsing, so that a refused role gets 403 whatever it posted.
    require(Actor.from_request(request), permission)


@login_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "POST":
        _require(request, Permission.WRITE_CLINICAL)
        form, formset, valid = _parse_chart(request)
        if valid:
            try:
                services.save_chart(Actor.from_request(request), pk, chart_data(form, formset))
            except ServiceError as exc:
                return _session_page(request, pk, data=request.POST,
                                     extra_error=refusal(exc).message)
            messages.success(request, _("Draft saved. The session is still booked."))
            return redirect("session-detail", pk=pk)
        return _session_page(request, pk, data=request.POST)
    return _session_page(request, pk)


@login_required
@require_POST
def session_sign(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Permission.SIGN)
    chart = None
    data = None
    if f"{ZONES_PREFIX}-TOTAL_FORMS" in request.POST:
        # Signed straight from the chart form: save what was typed, then sign, in one go.
        data = request.POST
        form, formset, valid = _parse_chart(request)
        if not valid:
            return _session_page(request, pk, data=data)
        chart = chart_data(form, formset)
    try:
        services.sign_session(Actor.from_request(request), pk, chart)
    except services.SignRefused as exc:
        return _session_page(request, pk, data=data, problems=exc.problems)
    except ServiceError as exc:
        return _session_page(request, pk, data=data, extra_error=refusal(exc).message)
    messages.success(request, _("Session signed. The patient's aftercare plan is ready."))
    return redirect("session-detail", pk=pk)


@login_required
@require_POST
def session_addendum(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Permission.WRITE_CLINICAL)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.add_addendum(Actor.from_request(request), pk, form.cleaned_data["text"])
        except ServiceError as exc:
            # Shown above the page: the addendum form is not there while it is booked.
            return _session_page(request, pk, addendum_form=form,
                                 extra_error=refusal(exc).message)
        else:
            messages.success(request, _("Addendum added."))
            return redirect("session-detail", pk=pk)
    return _session_page(request, pk, addendum_form=form)


# --- lot search --------------------------------------------------------------------------------


@login_required
def lot_search(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.VIEW_CLINICAL)
    form = LotSearchForm(request.GET if "lot" in request.GET else None)
    results = None
    if form.is_bound and form.is_valid():
        try:
            results = services.search_lots(actor, form.cleaned_data["lot"])
        except ServiceError as exc:
            show_refusal(form, refusal(exc))
    return render(request, "care/lot_search.html", {"form": form, "results": results})
