"""Recovery pages: the patient's phone pages (personal link, no login) and the clinicians'
worklist, escalations and check-ins. Views parse input, call one service and render."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from needlecare import sections
from needlecare.access import Actor, Permission, require
from needlecare.accounts.models import Clinic
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.clinical.vocabulary import RED_FLAGS, SYMPTOMS
from needlecare.errors import ServiceError
from needlecare.page_actions import refusal, submit
from needlecare.recovery import links, services
from needlecare.recovery.access_log import access_log
from needlecare.recovery.advice import patient_advice, patient_reasons, result_protocol
from needlecare.recovery.deadlines import CHECKIN_DAYS
from needlecare.recovery.forms import (
    AcknowledgeForm,
    CheckInForm,
    CloseForm,
    DateOfBirthForm,
    NoteForm,
    RevokeLinkForm,
)
from needlecare.recovery.models import CheckIn, Level, PatientLink
from needlecare.recovery.next_steps import emergency_signs
from needlecare.recovery.results import triage_result
from needlecare.recovery.tokens import (
    LinkState,
    device_is_verified,
    find_link,
    link_state,
    remember_clinic,
    remember_device,
)


def tel_href(number: str) -> str:
    return "tel:" + re.sub(r"[^\d+]", "", number or "")


# --- the patient's phone pages ----------------------------------------------------------------

PatientView = Callable[..., HttpResponse]


def _clinic_context(clinic: Clinic | None) -> dict[str, Any]:
    if clinic is None:
        return {"clinic": None}
    return {"clinic": clinic, "clinic_tel": tel_href(clinic.phone),
            "emergency_tel": tel_href(clinic.emergency_number)}


def patient_page(view: PatientView | None = None, *,
                 verified: bool = True) -> Any:
    """Resolve the token in the address to a usable link, or answer with a page that says
    (in plain words) why it does not work. No response is kept in a cache.

    A page of the patient's data (``verified``, the default) opens only on a device that has
    given the patient's date of birth: any other is sent to the date-of-birth page, so a
    new patient page cannot open data with the link's token alone. Only the date-of-birth
    page itself says ``verified=False``."""

    def decorate(view: PatientView) -> PatientView:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
            link = find_link(token)
            if link is None:
                response = render(request, "recovery/patient_link_unknown.html",
                                  _clinic_context(None), status=404)
            else:
                state = link_state(link)
                if state is LinkState.LOCKED and device_is_verified(request, link):
                    # Wrong dates of birth typed elsewhere lock out new devices only.
                    state = LinkState.USABLE
                if state is not LinkState.USABLE:
                    response = render(request, "recovery/patient_link_closed.html",
                                      {**_clinic_context(link.clinic), "state": state.value,
                                       "locked_until": link.locked_until},
                                      status=403 if state is LinkState.LOCKED else 410)
                elif verified and not device_is_verified(request, link):
                    response = redirect("patient-verify", token=token)
                else:
                    response = view(request, link, token, **kwargs)
                # Whom to call, for the error pages should the database fail later.
                remember_clinic(request, response, link, token)
            response["Cache-Control"] = "no-store, private"
            response["X-Robots-Tag"] = "noindex, nofollow"
            # The site's "same-origin" referrer policy already keeps the token from other
            # sites. "no-referrer" would be worse: browsers then send "Origin: null" with the
            # forms' POSTs, and Django's CSRF check refuses them.
            return response

        return wrapper

    return decorate(view) if view is not None else decorate


def _render_home(request: HttpRequest, link: PatientLink, token: str, form: CheckInForm,
                 error: str | None = None) -> HttpResponse:
    actor = Actor.for_link(link, request)
    today = services.patient_today(actor)
    return render(request, "recovery/patient_home.html", {
        **_clinic_context(link.clinic), "token": token, "today": today, "form": form,
        "error": error,
        "sections": sections.render(sections.Page.PATIENT_HOME, actor, today.patient)})


@require_GET
@patient_page
def patient_home(request: HttpRequest, link: PatientLink, token: str) -> HttpResponse:
    return _render_home(request, link, token, CheckInForm())


@require_GET
@patient_page
def patient_access_log(request: HttpRequest, link: PatientLink, token: str) -> HttpResponse:
    """Who at the clinic opened the patient's record, when and why (last twelve months)."""
    log = access_log(Actor.for_link(link, request), request.GET.get("page"))
    return render(request, "recovery/patient_access_log.html", {
        **_clinic_context(link.clinic), "token": token, "log": log,
        "time_zone": link.clinic.time_zone})


@require_http_methods(["GET", "POST"])
@patient_page(verified=False)
def patient_verify(request: HttpRequest, link: PatientLink, token: str) -> HttpResponse:
    if device_is_verified(request, link):
        return redirect("patient-home", token=token)
    form = DateOfBirthForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        try:
            outcome = links.verify_date_of_birth(Actor.for_link(link, request),
                                                 form.cleaned_data["date_of_birth"])
        except ServiceError as exc:
            refusal(exc)
            outcome = None
        if outcome is None or outcome.locked_until is not None:
            link.refresh_from_db()
            state = link_state(link)
            return render(request, "recovery/patient_link_closed.html",
                          {**_clinic_context(link.clinic), "state": state.value,
                           "locked_until": link.locked_until},
                          status=403 if state is LinkState.LOCKED else 410)
        if outcome.ok:
            response = redirect("patient-home", token=token)
            remember_device(response, link, token)
            return response
        error = _("That date of birth does not match our records. You can try "
                  "%(left)d more times.") % {"left": outcome.attempts_left}
    return render(request, "recovery/patient_verify.html", {
        **_clinic_context(link.clinic), "token": token, "form": form, "error": error})


@require_POST
@patient_page
def patient_checkin(request: HttpRequest, link: PatientLink, token: str) -> HttpResponse:
    form = CheckInForm(request.POST)
    if not form.is_valid():
        return _render_home(request, link, token, form)
    try:
        recorded = services.submit_checkin(Actor.for_link(link, request), form.answers())
    except ServiceError as exc:
        return _render_home(request, link, token, form, error=refusal(exc).message)
    return redirect("patient-checkin-result", token=token, pk=recorded.checkin.pk)


@require_GET
@patient_page
def patient_checkin_result(request: HttpRequest, link: PatientLink, token: str,
                           pk: int) -> HttpResponse:
    actor = Actor.for_link(link, request)
    checkin = services.patient_checkin(actor, pk)
    protocol = result_protocol(checkin.protocol_version)
    return render(request, "recovery/patient_result.html", {
        **_clinic_context(link.clinic), "token": token, "checkin": checkin,
        "level": checkin.level, "next": services.checkin_next_steps(checkin),
        "state": services.escalation_state(checkin.escalation, checkin.submitted_at)
        if checkin.escalation is not None else None,
        "advice": patient_advice(triage_result(checkin), protocol),
        "reasons": patient_reasons(triage_result(checkin)),
        "emergency_signs": emergency_signs(protocol or default_protocol()),
        "sections": sections.render(sections.Page.PATIENT_CHECKIN_RESULT, actor, checkin)})


# --- staff: personal links --------------------------------------------------------------------

def _link_page(request: HttpRequest, patient_pk: int, *, url: str | None = None,
               revoke_form: RevokeLinkForm | None = None) -> HttpResponse:
    actor = Actor.from_request(request)
    status = links.link_status(actor, patient_pk)
    response = render(request, "recovery/patient_link.html", {
        "status": status, "patient": status.patient, "link": status.link,
        "state": status.state.value if status.state else None, "url": url,
        "can_replace": actor.can(Permission.WRITE_CLINICAL),
        "revoke_form": revoke_form or RevokeLinkForm(),
        "time_zone": status.patient.clinic.time_zone})
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
@require_GET
def patient_link(request: HttpRequest, patient_pk: int) -> HttpResponse:
    return _link_page(request, patient_pk)


@login_required
@require_POST
def link_send(request: HttpRequest, patient_pk: int) -> HttpResponse:
    return submit(request, lambda: links.send_link(Actor.from_request(request), patient_pk),
                  done=reverse("patient-link", args=[patient_pk]),
                  done_message=_("The personal link is on its way to the patient, by their "
                                 "usual channel."))


@login_required
@require_POST
def link_replace(request: HttpRequest, patient_pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    try:
        issued = links.replace_link(actor, patient_pk,
                                    confirmed=request.POST.get("confirm") == "yes")
    except ServiceError as exc:
        messages.error(request, refusal(exc).message)
        return redirect("patient-link", patient_pk=patient_pk)
    messages.success(request, _("The old link no longer works. The new one is on its way to "
                                "the patient."))
    # Shown once, to the clinician who made it (for reading out to the patient).
    return _link_page(request, patient_pk, url=issued.url)


@login_required
@require_POST
def link_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    form = RevokeLinkForm(request.POST)
    actor = Actor.from_request(request)
    # Refused roles and strangers are answered before the form is looked at.
    require(actor, Permission.WRITE_CLINICAL)
    link = links.link_for_staff(actor, pk)
    return submit(request, lambda: links.revoke_link(actor, pk, form.cleaned_data["reason"]),
                  form=form, show_again=lambda: _link_page(request, link.patient_id,
                                                           revoke_form=form),
                  done=reverse("patient-link", args=[link.patient_id]),
                  done_message=_("The link no longer opens anything."))


@login_required
@require_POST
def link_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: links.unlock_link(Actor.from_request(request), pk),
                  done=lambda link: redirect("patient-link", patient_pk=link.patient_id),
                  back=reverse("worklist"),
                  done_message=_("Unlocked: the patient can give their date of birth again."))


# --- staff: worklist, escalations, check-ins --------------------------------------------------

@login_required
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    listing = services.worklist(Actor.from_request(request))
    return render(request, "recovery/worklist.html", {
        "worklist": listing, "time_zone": listing.time_zone,
        "checkin_days": ", ".join(str(d) for d in CHECKIN_DAYS)})


def _labelled(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    labels = dict(Level.choices)
    return [{**r, "level_label": labels.get(r.get("level", ""), r.get("level", ""))}
            for r in reasons]


def _answers(checkin: CheckIn) -> dict[str, Any]:
    """A check-in's answers with the clinicians' names for the codes."""
    answers = checkin.answers
    symptoms = [{"name": SYMPTOMS[c].display if c in SYMPTOMS else c,
                 "severity": r.get("severity"), "trend": r.get("trend")}
                for c, r in answers.get("symptoms", {}).items()]
    flags = answers.get("red_flags", {})
    yes = [RED_FLAGS[c].display if c in RED_FLAGS else c for c, v in flags.items() if v]
    unanswered = [RED_FLAGS[c].display for c in RED_FLAGS if flags.get(c) is None]
    reasons = _labelled(triage_result(checkin).get("reasons", []))
    return {"checkin": checkin, "symptoms": symptoms, "flags_yes": yes,
            "flags_unanswered": unanswered, "note": answers.get("note", ""),
            "reasons": reasons, "day": checkin.result.get("day")}


def _render_escalation(request: HttpRequest, pk: int, *, note_form: NoteForm | None = None,
                       close_form: CloseForm | None = None,
                       acknowledge_form: AcknowledgeForm | None = None) -> HttpResponse:
    actor = Actor.from_request(request)
    detail = services.escalation_detail(actor, pk)
    return render(request, "recovery/escalation_detail.html", {
        "sections": sections.render(sections.Page.ESCALATION, actor, detail.escalation),
        "detail": detail, "escalation": detail.escalation,
        "reasons": _labelled(detail.escalation.reasons),
        "time_zone": detail.escalation.clinic.time_zone,
        "checkins": [_answers(c) for c in detail.checkins],
        "note_form": note_form or NoteForm(), "close_form": close_form or CloseForm(),
        "acknowledge_form": acknowledge_form or AcknowledgeForm(),
    })


@login_required
@require_GET
def escalation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_escalation(request, pk)


@login_required
@require_POST
def escalation_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    form = AcknowledgeForm(request.POST)
    return submit(request, lambda: services.acknowledge_escalation(
        Actor.from_request(request), pk, form.cleaned_data["note_to_patient"]),
        form=form, show_again=lambda: _render_escalation(request, pk, acknowledge_form=form),
        done=reverse("escalation-detail", args=[pk]),
        done_message=_("Acknowledged. The escalation is yours to follow up."))


@login_required
@require_POST
def escalation_note(request: HttpRequest, pk: int) -> HttpResponse:
    form = NoteForm(request.POST)
    return submit(request, lambda: services.add_escalation_note(
        Actor.from_request(request), pk, form.cleaned_data["text"]),
        form=form, show_again=lambda: _render_escalation(request, pk, note_form=form),
        done=reverse("escalation-detail", args=[pk]), done_message=_("Note added."))


@login_required
@require_POST
def escalation_close(request: HttpRequest, pk: int) -> HttpResponse:
    form = CloseForm(request.POST)
    return submit(request, lambda: services.close_escalation(
        Actor.from_request(request), pk, form.cleaned_data["outcome"],
        form.cleaned_data["note"], form.cleaned_data["note_to_patient"]),
        form=form, show_again=lambda: _render_escalation(request, pk, close_form=form),
        done=reverse("escalation-detail", args=[pk]), done_message=_("Escalation closed."))


@login_required
@require_GET
def checkin_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    checkin = services.checkin_detail(actor, pk)
    return render(request, "recovery/checkin_detail.html", {
        "checkin": checkin, "c": _answers(checkin), "time_zone": checkin.clinic.time_zone,
        "sections": sections.render(sections.Page.CHECKIN, actor, checkin)})
