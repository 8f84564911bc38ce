"""The diary's staff pages: today (the front desk's home), the calendars, booking from a free
slot, an appointment and its day, moving and cancelling, booking a plan's sessions.

Every action is a plain form or link (keyboard and no-JavaScript first); htmx only swaps the
calendar when moving between weeks and days, when it is there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.shortcuts import render as django_render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from needlecare.access import Actor, Permission, record_id, require
from needlecare.care import services as care
from needlecare.care.models import PlanStatus, TreatmentPlan, TreatmentSession
from needlecare.diary import calendar, services
from needlecare.diary.forms import BookForm, CancelForm, MoveForm, SessionBookForm
from needlecare.diary.models import Appointment, AppointmentKind
from needlecare.diary.resources import clinic_types, devices, practitioners, rooms
from needlecare.diary.services import TRANSITIONS, BookingRefused, Proposal
from needlecare.errors import ServiceError
from needlecare.page_actions import refusal, show_refusal, submit
from needlecare.patients.access import access_patient, access_record
from needlecare.patients.services import search_patients


def _day(request: HttpRequest, zone: str) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return dt.datetime.now(ZoneInfo(zone)).date()


def _zone(actor: Actor) -> str:
    clinic = getattr(actor.user, "clinic", None)
    return clinic.time_zone if clinic is not None else "UTC"


def render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """Render in the clinic's time zone: the diary shows the clinic's wall clock."""
    with timezone.override(ZoneInfo(_zone(Actor.from_request(request)))):
        return django_render(request, template, context)


def _link_cells(grid: calendar.Grid, mode: str, appointment: Appointment | None = None
                ) -> None:
    """Where each cell leads, built here once rather than by a template tag per cell."""
    book = reverse("diary-book")
    move = reverse("appointment-move", args=[appointment.pk]) if appointment else ""
    for row in grid.rows:
        for cell in row.cells:
            if cell.appointment is not None:
                cell.href = reverse("appointment-detail", args=[cell.appointment.pk]) \
                    if cell.first else ""
                continue
            if not cell.open:
                continue
            start = quote(cell.start.isoformat())
            if mode == "move":
                who = cell.practitioner.pk if cell.practitioner else ""
                cell.href = f"{move}?practitioner={who}&date={grid.day.isoformat()}&start={start}"
            else:
                extra = (f"&practitioner={cell.practitioner.pk}" if cell.practitioner else "") \
                    + (f"&room={cell.room.pk}" if cell.room else "")
                cell.href = f"{book}?start={start}{extra}"
    for row in grid.rows:  # the later cells of an appointment lead to it too
        for cell in row.cells:
            if cell.appointment is not None and not cell.href:
                cell.href = reverse("appointment-detail", args=[cell.appointment.pk])


def _template(request: HttpRequest, full: str, partial: str) -> str:
    # htmx asks for the calendar alone when it swaps it in place.
    return partial if getattr(request, "htmx", False) else full


@login_required
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    day = calendar.today(Actor.from_request(request))
    return render(request, "diary/today.html", {
        "today": day, "transitions": TRANSITIONS, "time_zone": day.clinic.time_zone})


@login_required
@require_GET
def week(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    practitioner = record_id(request.GET.get("practitioner"))
    if request.GET.get("practitioner") in (None, "") or practitioner is None:
        require(actor, Permission.BOOK)
        overview = calendar.clinic_week(actor, _day(request, _zone(actor)))
        return render(request, "diary/clinic_week.html", {"week": overview})
    grid = calendar.practitioner_week(actor, practitioner, _day(request, _zone(actor)))
    _link_cells(grid, "book")
    return render(request, _template(request, "diary/week.html", "diary/_grid.html"), {
        "grid": grid, "mode": "book", "view": "week"})


@login_required
@require_GET
def day(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    by = "room" if request.GET.get("by") == "room" else "practitioner"
    grid = calendar.clinic_day(actor, _day(request, _zone(actor)), by)
    _link_cells(grid, "book")
    return render(request, _template(request, "diary/day.html", "diary/_grid.html"), {
        "grid": grid, "mode": "book", "view": "day"})


# --- booking -----------------------------------------------------------------------------------

def _parse_start(value: str | None, zone: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(zone))


def _patient_choices(actor: Actor, query: str) -> list[Any]:
    if not query.strip():
        return []
    return list(search_patients(actor, query, 1).page.object_list)


@login_required
def book(request: HttpRequest) -> HttpResponse:
    """Book from a free slot: choose the patient (search), then the type and details."""
    actor = Actor.from_request(request)
    require(actor, Permission.BOOK)
    zone = _zone(actor)
    params = request.GET if request.method == "GET" else request.POST
    clinic_id = actor.clinic_id
    assert clinic_id is not None
    patient_id = record_id(params.get("patient"))
    patient = None
    if patient_id is not None:
        with transaction.atomic():
            patient = access_patient(actor, patient_id, permission=Permission.BOOK,
                                     action="appointment.start")
    start = _parse_start(params.get("start"), zone)
    types = [t for t in clinic_types(clinic_id) if t.active]
    staff = practitioners(clinic_id)
    plans = list(TreatmentPlan.objects.filter(patient=patient, status=PlanStatus.ACTIVE)) \
        if patient else []
    initial: dict[str, Any] = {"practitioner": record_id(params.get("practitioner")),
                               "starts_at": start.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
                               if start else None,
                               "type": record_id(params.get("type")),
                               "plan": plans[0].pk if len(plans) == 1 else None}
    form = BookForm(request.POST if request.method == "POST" else None, initial=initial,
                    types=types, staff=staff, plans=plans, rooms=rooms(clinic_id),
                    devices=devices(clinic_id))
    refused: BookingRefused | None = None
    if request.method == "POST" and patient is not None and form.is_valid():
        data = form.cleaned_data
        starts = data["starts_at"]
        if starts.tzinfo is None:
            starts = starts.replace(tzinfo=ZoneInfo(zone))
        kind = next((t for t in types if t.pk == data["type"]), None)
        proposal = Proposal(
            patient_id=patient.pk, type_id=data["type"],
            practitioner_id=data["practitioner"], starts_at=starts,
            room_id=data["room"], device_id=data["device"],
            plan_id=data["plan"] if kind and kind.kind == AppointmentKind.SESSION else None,
            notes=data["notes"])
        try:
            appointment = services.book(actor, proposal,
                                        override_reason=data["override_reason"])
        except BookingRefused as exc:
            refused = exc
            show_refusal(form, exc)
        except ServiceError as exc:
            show_refusal(form, refusal(exc))
        else:
            messages.success(request, _("Booked: %(who)s, %(when)s.") % {
                "who": patient.full_name,
                "when": appointment.starts_at.astimezone(ZoneInfo(zone))
                .strftime("%d/%m/%Y %H:%M")})
            return redirect("appointment-detail", pk=appointment.pk)
    query = request.GET.get("q", "")
    keep = {k: v for k, v in params.items() if k in ("start", "practitioner", "type") and v}
    return render(request, "diary/book.html", {
        "form": form, "patient": patient, "query": query,
        "choices": _patient_choices(actor, query) if patient is None else [],
        "keep": keep, "keep_query": urlencode(keep), "refused": refused,
        "time_zone": zone, "can_override_clinical": actor.can(Permission.WRITE_CLINICAL)})


# --- one appointment -----------------------------------------------------------------------------

def _appointment_page(request: HttpRequest, pk: int, *, cancel_form: CancelForm | None = None,
                      move_form: MoveForm | None = None, refused: BookingRefused | None = None,
                      ) -> HttpResponse:
    actor = Actor.from_request(request)
    with transaction.atomic():
        appointment = access_record(actor, Appointment, pk, permission=Permission.BOOK,
                                    action="appointment.view",
                                    related=("type", "practitioner", "room", "device", "clinic",
                                             "booked_by", "treatment_session"))
    staff = practitioners(appointment.clinic_id)
    zone = ZoneInfo(appointment.clinic.time_zone)
    return render(request, "diary/appointment.html", {
        "appointment": appointment, "patient": appointment.patient,
        "transitions": TRANSITIONS.get(appointment.status, ()),
        "cancel_form": cancel_form or CancelForm(),
        "move_form": move_form or MoveForm(staff=staff, initial={
            "starts_at": appointment.starts_at.astimezone(zone).replace(tzinfo=None),
            "practitioner": appointment.practitioner_id}),
        "refused": refused, "time_zone": appointment.clinic.time_zone,
        "clinical": actor.can(Permission.VIEW_CLINICAL),
        "previsit": getattr(appointment, "previsit", None),
        "presession": getattr(appointment, "presession", None),
    })


@login_required
@require_GET
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _appointment_page(request, pk)


@login_required
@require_POST
def appointment_status(request: HttpRequest, pk: int) -> HttpResponse:
    status = request.POST.get("status", "")
    back = request.POST.get("next") or reverse("appointment-detail", args=[pk])
    if not back.startswith("/"):
        back = reverse("appointment-detail", args=[pk])
    return submit(request, lambda: services.set_status(Actor.from_request(request), pk, status),
                  done=back, back=back, done_message=_("Updated."))


@login_required
@require_POST
def appointment_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: services.confirm(Actor.from_request(request), pk),
                  done=reverse("appointment-detail", args=[pk]),
                  done_message=_("Confirmed: the patient will come."))


@login_required
@require_POST
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    form = CancelForm(request.POST)
    return submit(request, lambda: services.cancel(Actor.from_request(request), pk,
                                                   form.cleaned_data["reason"]),
                  form=form, show_again=lambda: _appointment_page(request, pk,
                                                                 cancel_form=form),
                  done=reverse("appointment-detail", args=[pk]),
                  done_message=_("Cancelled. The patient is told, and the time is offered to "
                                 "the waiting list."))


@login_required
def appointment_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move by choosing a free slot in the practitioner's week (GET), or by the form (POST)."""
    actor = Actor.from_request(request)
    if request.method == "GET":
        with transaction.atomic():
            appointment = access_record(actor, Appointment, pk, permission=Permission.BOOK,
                                        action="appointment.view", related=("type", "clinic"))
        zone = appointment.clinic.time_zone
        practitioner = record_id(request.GET.get("practitioner")) or appointment.practitioner_id
        day = _day(request, zone) if request.GET.get("date") else \
            appointment.starts_at.astimezone(ZoneInfo(zone)).date()
        grid = calendar.practitioner_week(actor, practitioner, day)
        _link_cells(grid, "move", appointment)
        start = _parse_start(request.GET.get("start"), zone)
        form = MoveForm(staff=grid.practitioners, initial={
            "starts_at": (start or appointment.starts_at).astimezone(ZoneInfo(zone))
            .replace(tzinfo=None), "practitioner": practitioner})
        return render(request, _template(request, "diary/move.html", "diary/_grid.html"), {
            "grid": grid, "mode": "move", "view": "week", "appointment": appointment,
            "form": form, "chosen": start})
    with transaction.atomic():
        appointment = access_record(actor, Appointment, pk, permission=Permission.BOOK,
                                    action="appointment.view", related=("clinic",))
    staff = practitioners(appointment.clinic_id)
    form = MoveForm(request.POST, staff=staff)
    if not form.is_valid():
        return _appointment_page(request, pk, move_form=form)
    starts = form.cleaned_data["starts_at"]
    if starts.tzinfo is None:
        starts = starts.replace(tzinfo=ZoneInfo(appointment.clinic.time_zone))
    try:
        services.move(actor, pk, starts, practitioner_id=form.cleaned_data["practitioner"],
                      override_reason=form.cleaned_data["override_reason"])
    except BookingRefused as exc:
        show_refusal(form, exc)
        return _appointment_page(request, pk, move_form=form, refused=exc)
    except ServiceError as exc:
        show_refusal(form, refusal(exc))
        return _appointment_page(request, pk, move_form=form)
    messages.success(request, _("Moved. The patient is told, with an updated calendar file."))
    return redirect("appointment-detail", pk=pk)


# --- a plan's sessions ----------------------------------------------------------------------

def _session_page(request: HttpRequest, plan_pk: int, form: SessionBookForm | None = None,
                  refused: BookingRefused | None = None) -> HttpResponse:
    actor = Actor.from_request(request)
    overview = care.plan_for_booking(actor, plan_pk)
    plan = overview.plan
    staff = practitioners(plan.clinic_id)
    session_type = next(t for t in clinic_types(plan.clinic_id)
                        if t.kind == AppointmentKind.SESSION)
    chosen = record_id(request.GET.get("practitioner"))
    safe = None
    if plan.status == PlanStatus.ACTIVE:
        safe = services.next_safe_slots(actor, plan.patient_id, session_type.pk,
                                        practitioner_id=chosen, plan_id=plan.pk)
    booked = {a.treatment_session_id: a for a in Appointment.objects.filter(
        plan_id=plan.pk).select_related("practitioner")}
    return render(request, "diary/session_book.html", {
        "overview": overview, "plan": plan, "patient": plan.patient, "safe": safe,
        "appointments": booked, "chosen": chosen, "staff": staff,
        "form": form or SessionBookForm(staff=staff, initial={"practitioner": chosen}),
        "refused": refused, "time_zone": plan.clinic.time_zone if hasattr(plan, "clinic")
        else _zone(actor)})


@login_required
def session_book(request: HttpRequest, plan_pk: int) -> HttpResponse:
    """Book a session of a plan: one of the next safe slots, a time of your own, or the whole
    course at its interval."""
    actor = Actor.from_request(request)
    if request.method != "POST":
        return _session_page(request, plan_pk)
    require(actor, Permission.BOOK)
    clinic_id = actor.clinic_id
    staff = practitioners(clinic_id) if clinic_id else []
    form = SessionBookForm(request.POST, staff=staff)
    if not form.is_valid():
        return _session_page(request, plan_pk, form)
    data = form.cleaned_data
    starts = data["starts_at"]
    if starts.tzinfo is None:
        starts = starts.replace(tzinfo=ZoneInfo(_zone(actor)))
    try:
        if data["whole_course"]:
            booked = services.book_course(actor, plan_pk, starts,
                                          practitioner_id=data["practitioner"],
                                          override_reason=data["override_reason"])
        else:
            booked = [services.book_session(actor, plan_pk, data["practitioner"], starts,
                                            override_reason=data["override_reason"])]
    except BookingRefused as exc:
        show_refusal(form, exc)
        return _session_page(request, plan_pk, form, exc)
    except ServiceError as exc:
        show_refusal(form, refusal(exc))
        return _session_page(request, plan_pk, form)
    messages.success(request, _("Session booked.") if len(booked) == 1 else
                     _("%(n)d sessions booked.") % {"n": len(booked)})
    session = booked[0].treatment_session_id
    return redirect("session-detail", pk=session) if session else redirect(
        "appointment-detail", pk=booked[0].pk)


@login_required
@require_POST
def session_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a session's booking (its appointment) from the session page."""
    actor = Actor.from_request(request)
    require(actor, Permission.BOOK)
    back = reverse("session-detail", args=[pk])
    try:
        # The service checks the record before the reason, so a stranger finds nothing.
        services.cancel_session_booking(actor, pk, request.POST.get("reason", "")[:500])
    except ServiceError as exc:
        messages.error(request, refusal(exc).message)
        return redirect(back)
    messages.success(request, _("Session cancelled."))
    return redirect(back)


def session_appointment(session: TreatmentSession) -> Appointment | None:
    return Appointment.objects.filter(treatment_session=session).first()
