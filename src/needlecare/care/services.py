"""Clinic-side services: consultation and screening, consent, treatment plans and sessions.

Each service runs in one transaction, reaches the patient through the access layer inside it
(so its audit row commits or rolls back with the change), checks its business rules and raises
``ServiceError`` before writing anything. Clinical results are stored as JSON snapshots with the
protocol version that produced them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from pydantic import ValidationError

from needlecare import clock, names
from needlecare.access import Actor, Permission, audit, require
from needlecare.access import changes as changed_fields
from needlecare.accounts.models import Role, User
from needlecare.care import consent_texts
from needlecare.care.aftercare import protocol_label, record_aftercare
from needlecare.care.models import (
    Consent,
    ConsentKind,
    Consultation,
    PlanEdit,
    PlanStatus,
    SessionAddendum,
    SessionStatus,
    SessionZone,
    TreatmentPlan,
    TreatmentSession,
    Verdict,
)
from needlecare.care.precautions import Precaution, precautions_of, records_from
from needlecare.care.rules import (
    MAX_DEPTH_MM,
    ChartData,
    SigningFacts,
    ZoneRow,
    check_chart_shape,
    sign_problems,
)
from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.planning import intake_facts, plan
from needlecare.clinical.screening import Intake, ScreeningResult, screen
from needlecare.errors import Conflict, ServiceError
from needlecare.events import ConsentWithdrawn, SessionSigned, emit
from needlecare.patients.access import access_patient, access_record, record_changes
from needlecare.patients.models import Patient

MIN_OVERRIDE_REASON = 10


class SignRefused(ServiceError):
    """A session that cannot be signed yet, with every problem found (not only the first)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("sign_refused", _("This session cannot be signed yet: %(problems)s")
                         % {"problems": "; ".join(problems)})
        self.problems = problems


def _normalise(text: str) -> str:
    # A typed signature is identifying text: stored as seen (needlecare.names).
    return names.normalise(text)


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _lock(model: Any, pk: int) -> Any:
    # SQLite's IMMEDIATE transactions already serialise writers; on PostgreSQL this row lock
    # keeps a concurrent request from acting on a state we have just checked.
    return model._default_manager.select_for_update().get(pk=pk)


# --- consultation and screening ----------------------------------------------------------------


def patient_for_clinical_work(actor: Actor, patient_id: int | str, action: str) -> Patient:
    """The patient, for a page that starts clinical work (a new consultation or consent)."""
    with transaction.atomic():
        return access_patient(actor, patient_id, permission=Permission.WRITE_CLINICAL,
                              action=action)


def record_consultation(actor: Actor, patient_id: int | str,
                        answers: Mapping[str, Any]) -> Consultation:
    """Screen an intake (``needlecare.intake/1`` without the date of birth, which comes from the
    patient record) and store the intake and the result as a consultation."""
    with transaction.atomic():
        patient = access_patient(actor, patient_id, permission=Permission.WRITE_CLINICAL,
                                 action="consultation.create")
        try:
            intake = Intake.model_validate({**answers, "date_of_birth": patient.date_of_birth})
        except ValidationError as exc:
            raise ServiceError("invalid_intake", _validation_message(exc)) from None
        result = screen(intake)
        return Consultation.objects.create(
            clinic_id=patient.clinic_id, patient=patient, created_by=actor.user,
            intake=intake.model_dump(mode="json", by_alias=True),
            result=result.model_dump(mode="json", by_alias=True),
            protocol_version=protocol_label(result.protocol.name, result.protocol.version),
            verdict=result.verdict.value, defer_until=result.defer_until,
        )


def view_consultation(actor: Actor, consultation_id: int | str) -> Consultation:
    with transaction.atomic():
        return access_record(actor, Consultation, consultation_id,
                             action="consultation.view", related=("created_by", "overridden_by"))


def override_screening(actor: Actor, consultation_id: int | str, verdict: str,
                       reason: str) -> Consultation:
    """Record a clinician's different verdict beside the screening's own, which is kept."""
    reason = reason.strip()
    with transaction.atomic():
        consultation = access_record(
            actor, Consultation, consultation_id, permission=Permission.WRITE_CLINICAL,
            action="screening.override",
            detail=lambda c: {"screening_verdict": c.verdict, "old_verdict":
                              c.override_verdict or c.verdict, "new_verdict": verdict,
                              "reason": reason})
        old = consultation.override_verdict or consultation.verdict
        # The locked re-read checks that nobody changed the verdict since it was read.
        consultation = _lock(Consultation, consultation.pk)
        if consultation.effective_verdict != old:
            raise Conflict("changed", _("The verdict changed meanwhile; reload the page."))
        if verdict not in Verdict.values:
            raise ServiceError("invalid_verdict", _("Choose a verdict from the list."),
                               field="verdict")
        if verdict == old:
            raise ServiceError("same_verdict", _("The verdict is already %(verdict)s; choose a "
                                                 "different one.")
                               % {"verdict": Verdict(verdict).label}, field="verdict")
        if len(_normalise(reason)) < MIN_OVERRIDE_REASON:
            raise ServiceError("reason_required", _("Write the reason for the different "
                                                    "verdict (at least %(n)d characters).")
                               % {"n": MIN_OVERRIDE_REASON}, field="reason")
        consultation.override_verdict = verdict
        consultation.override_reason = reason
        consultation.overridden_by = actor.user
        consultation.overridden_at = clock.now()
        consultation.save(update_fields=["override_verdict", "override_reason",
                                         "overridden_by", "overridden_at"])
        return consultation


# --- consent -----------------------------------------------------------------------------------


def sign_consent(actor: Actor, patient_id: int | str, *, kind: str, signed_name: str,
                 understood: bool, photo_uses: Sequence[str] = (),
                 user_agent: str = "") -> Consent:
    """The patient signs the current text of ``kind``; the signed-in clinician witnesses."""
    with transaction.atomic():
        patient = access_patient(actor, patient_id, permission=Permission.WRITE_CLINICAL,
                                 action="consent.sign", detail={"kind": kind})
        if kind not in ConsentKind.values:
            raise ServiceError("invalid_kind", _("Unknown kind of consent."))
        text = consent_texts.current(kind)
        if _normalise(signed_name).casefold() != _normalise(patient.full_name).casefold():
            raise ServiceError("name_mismatch", _("Type your full name exactly as the clinic "
                                                  "has it: %(name)s.")
                               % {"name": patient.full_name}, field="signed_name")
        if not understood:
            raise ServiceError("not_understood", _("Tick the box to confirm you have read and "
                                                   "understood the text."), field="understood")
        uses: list[str] = []
        if kind == ConsentKind.PHOTOS:
            unknown = [u for u in photo_uses if u not in consent_texts.PHOTO_USES]
            if unknown or "clinical_record" not in photo_uses:
                raise ServiceError("photo_uses", _("Photographs are always kept in the "
                                                   "clinical record: tick it to agree to "
                                                   "photographs."), field="photo_uses")
            uses = [u for u in consent_texts.PHOTO_USES if u in photo_uses]
        elif photo_uses:
            raise ServiceError("photo_uses", _("Photo uses belong on the photo consent."),
                               field="photo_uses")
        return Consent.objects.create(
            clinic_id=patient.clinic_id, patient=patient, kind=kind,
            text_version=text.version, text=text.text, photo_uses=uses,
            signed_name=_normalise(signed_name), signed_at=clock.now(),
            signed_ip=actor.ip_address, signed_user_agent=user_agent[:400],
            witnessed_by=actor.user,
        )


def view_consent(actor: Actor, consent_id: int | str) -> Consent:
    with transaction.atomic():
        return access_record(actor, Consent, consent_id, action="consent.view",
                             related=("witnessed_by", "withdrawal_recorded_by"))


def withdraw_consent(actor: Actor, consent_id: int | str, reason: str) -> Consent:
    """Record that the patient withdrew a consent; the signed text itself is never changed."""
    reason = reason.strip()
    with transaction.atomic():
        consent = access_record(actor, Consent, consent_id, permission=Permission.WRITE_CLINICAL,
                                action="consent.withdraw", detail={"reason": reason})
        if not reason:
            raise ServiceError("reason_required", _("Give the reason the patient gave."),
                               field="reason")
        now = clock.now()
        # Compare-and-set: only a consent that is still valid can be withdrawn, once.
        updated = Consent.objects.filter(pk=consent.pk, withdrawn_at__isnull=True).update(
            withdrawn_at=now, withdrawn_reason=reason, withdrawal_recorded_by=actor.user)
        if not updated:
            raise Conflict("already_withdrawn", _("This consent was already withdrawn."))
        consent.refresh_from_db()
        emit(ConsentWithdrawn(clinic_id=consent.clinic_id, patient_id=consent.patient_id,
                              consent_id=consent.pk, kind=consent.kind))
        return consent


def valid_treatment_consent(patient_id: int) -> Consent | None:
    """The patient's most recent signed, not withdrawn, treatment consent."""
    return (Consent.objects.filter(patient_id=patient_id, kind=ConsentKind.TREATMENT,
                                   withdrawn_at__isnull=True, signed_at__lte=clock.now())
            .order_by("-signed_at", "-id").first())


# --- treatment plan ----------------------------------------------------------------------------


def _stored_screening(consultation: Consultation) -> ScreeningResult:
    screening = ScreeningResult.model_validate(consultation.result)
    effective = consultation.effective_verdict
    if effective != screening.verdict.value:
        # A clinician's override wins: plan as if the screening had given that verdict. An
        # override away from "defer" also lifts the deferral's dates and conditions.
        verdict = vocab.Verdict(effective)
        update: dict[str, Any] = {"verdict": verdict}
        if verdict is not vocab.Verdict.DEFER:
            update.update(defer_until=None, resolve_when=[])
        screening = screening.model_copy(update=update)
    return screening


def consultation_for_plan(actor: Actor, consultation_id: int | str) -> Consultation:
    """The consultation a plan is about to be made from (for the plan form)."""
    with transaction.atomic():
        return access_record(actor, Consultation, consultation_id,
                             permission=Permission.WRITE_CLINICAL, action="consultation.view")


def create_plan(actor: Actor, consultation_id: int | str, indications: Sequence[str],
                zones: Sequence[str]) -> TreatmentPlan:
    with transaction.atomic():
        consultation = access_record(actor, Consultation, consultation_id,
                                     permission=Permission.WRITE_CLINICAL, action="plan.create")
        verdict = consultation.effective_verdict
        if verdict == Verdict.NOT_SUITABLE:
            raise ServiceError("not_suitable", _("The screening verdict is \"not suitable\": "
                                                 "no treatment plan can be made."))
        intake = Intake.model_validate(consultation.intake)
        if intake.fitzpatrick is None:
            raise ServiceError("no_skin_type", _("The consultation has no Fitzpatrick skin "
                                                 "type; record a new consultation."))
        unscreened = [z for z in zones if intake.zones and z not in intake.zones]
        if unscreened:
            names = ", ".join(vocab.ZONES[z].display if z in vocab.ZONES else z
                              for z in unscreened)
            raise ServiceError("zone_not_screened", _("These zones were not screened in this "
                                                      "consultation: %(zones)s. Record a new "
                                                      "consultation to add them.")
                               % {"zones": names}, field="zones")
        try:
            generated = plan(indications, zones, intake.fitzpatrick,
                             _stored_screening(consultation),
                             facts_present=intake_facts(intake))
        except ValueError as exc:
            raise ServiceError("plan_invalid", str(exc)) from None
        return TreatmentPlan.objects.create(
            clinic_id=consultation.clinic_id, patient_id=consultation.patient_id,
            consultation=consultation, created_by=actor.user, indications=list(indications),
            zones=[z.zone for z in generated.zones], fitzpatrick=intake.fitzpatrick,
            generated=generated.model_dump(mode="json", by_alias=True),
            protocol_version=protocol_label(generated.protocol.name,
                                             generated.protocol.version),
            sessions_planned=generated.sessions.sessions_max,
            interval_days=generated.sessions.interval_days,
            depth_ranges={z.zone: [z.min_mm, z.max_mm] for z in generated.zones},
        )


@dataclass
class PlanOverview:
    plan: TreatmentPlan
    sessions: list[TreatmentSession]
    sessions_done: int
    sessions_left: int
    last_signed_on: dt.date | None
    next_eligible: dt.date | None
    zones: list[dict[str, Any]] = field(default_factory=list)


def _last_signed_on(plan_id: int, excluding: int | None = None) -> dt.date | None:
    signed = TreatmentSession.objects.filter(plan_id=plan_id, status=SessionStatus.SIGNED,
                                             performed_on__isnull=False)
    if excluding is not None:
        signed = signed.exclude(pk=excluding)
    last = signed.order_by("-performed_on").values_list("performed_on", flat=True).first()
    return last


def _overview(treatment_plan: TreatmentPlan) -> PlanOverview:
    sessions = list(treatment_plan.sessions.select_related("practitioner").order_by(
        "scheduled_for", "id"))
    signed = [s for s in sessions if s.status == SessionStatus.SIGNED and s.performed_on]
    last = max((s.performed_on for s in signed), default=None)
    if last is not None:
        next_eligible = last + dt.timedelta(days=treatment_plan.interval_days)
    else:
        earliest = (treatment_plan.generated or {}).get("earliest_start")
        next_eligible = dt.date.fromisoformat(earliest) if earliest else None
    generated_zones = {z["zone"]: z for z in (treatment_plan.generated or {}).get("zones", [])}
    zones = [{"zone": zone, "min_mm": rng[0], "max_mm": rng[1],
              "generated": generated_zones.get(zone)}
             for zone, rng in treatment_plan.depth_ranges.items()]
    return PlanOverview(
        plan=treatment_plan, sessions=sessions, sessions_done=len(signed),
        sessions_left=max(treatment_plan.sessions_planned - len(signed), 0),
        last_signed_on=last, next_eligible=next_eligible, zones=zones,
    )


def view_plan(actor: Actor, plan_id: int | str) -> PlanOverview:
    with transaction.atomic():
        treatment_plan = access_record(actor, TreatmentPlan, plan_id, action="plan.view",
                                       related=("consultation", "created_by"))
        return _overview(treatment_plan)


def plan_for_booking(actor: Actor, plan_id: int | str) -> PlanOverview:
    """What the booking page shows: dates and counts, nothing clinical."""
    with transaction.atomic():
        treatment_plan = access_record(actor, TreatmentPlan, plan_id,
                                       permission=Permission.BOOK, action="plan.view_booking")
        return _overview(treatment_plan)


def plan_for_edit(actor: Actor, plan_id: int | str) -> TreatmentPlan:
    """The plan, for the page that changes it."""
    with transaction.atomic():
        return access_record(actor, TreatmentPlan, plan_id,
                             permission=Permission.WRITE_CLINICAL, action="plan.view")


def edit_plan(actor: Actor, plan_id: int | str, *, reason: str,
              sessions_planned: int | None = None, interval_days: int | None = None,
              depth_ranges: Mapping[str, Sequence[float | Decimal]] | None = None,
              ) -> TreatmentPlan:
    """Change the course or a zone's depth range; every change is kept as a PlanEdit with the
    reason, and the generated plan is kept as it was."""
    reason = reason.strip()
    with transaction.atomic():
        requested = {"sessions_planned": sessions_planned, "interval_days": interval_days,
                     "depth_ranges": {z: [str(v) for v in r]
                                      for z, r in (depth_ranges or {}).items()}}
        # The access row carries the request; the PlanEdit rows keep each old and new value.
        opened = access_record(actor, TreatmentPlan, plan_id,
                               permission=Permission.WRITE_CLINICAL, action="plan.edit",
                               detail={"requested": requested, "reason": reason})
        treatment_plan = _lock(TreatmentPlan, opened.pk)
        if treatment_plan.status != PlanStatus.ACTIVE:
            raise Conflict("plan_not_active", _("Only an active plan can be changed."))
        changes: list[tuple[str, Any, Any]] = []
        if sessions_planned is not None and sessions_planned != treatment_plan.sessions_planned:
            if not 1 <= sessions_planned <= 20:
                raise ServiceError("invalid_sessions", _("Plan between 1 and 20 sessions."),
                                   field="sessions_planned")
            changes.append(("sessions_planned", treatment_plan.sessions_planned,
                            sessions_planned))
        if interval_days is not None and interval_days != treatment_plan.interval_days:
            if not 1 <= interval_days <= 365:
                raise ServiceError("invalid_interval", _("The interval must be 1 to 365 days."),
                                   field="interval_days")
            changes.append(("interval_days", treatment_plan.interval_days, interval_days))
        new_ranges = dict(treatment_plan.depth_ranges)
        for zone, rng in (depth_ranges or {}).items():
            if zone not in treatment_plan.depth_ranges:
                raise ServiceError("zone_not_in_plan", _("%(zone)s is not in this plan.")
                                   % {"zone": zone})
            low, high = (float(Decimal(str(v))) for v in rng)
            if not 0 < low <= high <= float(MAX_DEPTH_MM):
                raise ServiceError("invalid_range", _("A depth range needs 0 < minimum ≤ "
                                                      "maximum ≤ %(max)s mm.")
                                   % {"max": MAX_DEPTH_MM}, field=f"max_{zone}")
            old = [float(v) for v in treatment_plan.depth_ranges[zone]]
            if [low, high] != old:
                changes.append((f"depth_ranges.{zone}", old, [low, high]))
                new_ranges[zone] = [low, high]
        if not changes:
            raise ServiceError("no_change", _("Nothing was changed."))
        if len(_normalise(reason)) < MIN_OVERRIDE_REASON:
            raise ServiceError("reason_required", _("Write the reason for the change (at least "
                                                    "%(n)d characters).")
                               % {"n": MIN_OVERRIDE_REASON}, field="reason")
        record_changes(opened, {name: {"old": old_value, "new": new_value}
                                for name, old_value, new_value in changes})
        for name, old_value, new_value in changes:
            PlanEdit.objects.create(plan=treatment_plan, field=name, old_value=old_value,
                                    new_value=new_value, reason=reason, by=actor.user)
            if name == "sessions_planned":
                treatment_plan.sessions_planned = new_value
            elif name == "interval_days":
                treatment_plan.interval_days = new_value
        treatment_plan.depth_ranges = new_ranges
        treatment_plan.save(update_fields=["sessions_planned", "interval_days", "depth_ranges"])
        return treatment_plan


# --- sessions ----------------------------------------------------------------------------------


def open_booked_session(plan_id: int, scheduled_for: dt.datetime, booked_by: Any
                        ) -> TreatmentSession:
    """The session record of a treatment booked in the clinic's diary (``needlecare.diary``),
    which books it: called inside the diary's transaction, after its access check and its
    booking rules. The plan must be active."""
    treatment_plan = _lock(TreatmentPlan, plan_id)
    if treatment_plan.status != PlanStatus.ACTIVE:
        raise Conflict("plan_not_active", _("This plan is %(status)s: sessions can only "
                                                "be booked on an active plan.")
                           % {"status": treatment_plan.get_status_display().lower()})
    return TreatmentSession.objects.create(
        clinic_id=treatment_plan.clinic_id, patient_id=treatment_plan.patient_id,
        plan=treatment_plan, scheduled_for=scheduled_for, booked_by=booked_by)


def move_booked_session(session_id: int, scheduled_for: dt.datetime) -> None:
    """The diary moved the session's appointment (inside its transaction)."""
    updated = TreatmentSession.objects.filter(
        pk=session_id, status=SessionStatus.BOOKED).update(scheduled_for=scheduled_for)
    if not updated:
        raise Conflict("not_booked", _("Only a booked session can be moved."))


def cancel_booked_session(session_id: int, reason: str) -> None:
    """The diary cancelled the session's appointment, or the patient did not come (inside its
    transaction). A signed session stays as it is."""
    TreatmentSession.objects.filter(pk=session_id, status=SessionStatus.BOOKED).update(
        status=SessionStatus.CANCELLED, cancelled_reason=reason)


def view_session(actor: Actor, session_id: int | str) -> TreatmentSession:
    """The whole session record (chart included), for clinicians."""
    with transaction.atomic():
        return access_record(actor, TreatmentSession, session_id, action="session.view",
                             related=("plan__consultation", "practitioner", "signed_by",
                                      "booked_by", "consent"))


def view_booking(actor: Actor, session_id: int | str) -> TreatmentSession:
    """A session as the front desk sees it. Callers show only the booking fields."""
    with transaction.atomic():
        return access_record(actor, TreatmentSession, session_id, permission=Permission.BOOK,
                             action="session.view_booking", related=("booked_by",))


_CHART_FIELDS = ("performed_on", "practitioner_id", "device", "device_model", "cartridge_lot",
                 "cartridge_expiry", "anaesthetic", "anaesthetic_minutes", "endpoint_reached",
                 "immediate_reaction", "notes", "interval_reason")


def session_precautions(session: TreatmentSession) -> list[Precaution]:
    """The precautions the screening behind the session's plan asked for."""
    return precautions_of(session.plan.consultation.result)


def _check_chart_shape(session: TreatmentSession, chart: ChartData) -> None:
    practitioners = set(User.objects.filter(
        clinic_id=session.clinic_id, is_active=True, role__in=[Role.CLINICIAN, Role.OWNER],
    ).values_list("pk", flat=True)) if chart.practitioner_id is not None else set()
    check_chart_shape(chart, today=clock.localdate(), practitioner_ids=practitioners,
                      text_limits={name: TreatmentSession._meta.get_field(name).max_length
                                   for name in ("device_model", "cartridge_lot", "anaesthetic",
                                                "endpoint_reached")},
                      precaution_keys={p.key for p in session_precautions(session)}
                      if chart.precautions else ())


#: The chart's free text: the audit trail shows it only to readers who may see clinical records.
_CHART_TEXT = ("endpoint_reached", "immediate_reaction", "notes", "interval_reason", "zones")


def _chart_values(session: TreatmentSession) -> dict[str, Any]:
    values = {name: getattr(session, name) for name in _CHART_FIELDS}
    values["products"] = session.products
    values["zones"] = [{"zone": z.zone, "depth_mm": str(z.depth_mm), "passes": z.passes,
                        "depth_reason": z.depth_reason}
                       for z in session.zones.order_by("zone", "id")]
    return values


def _write_chart(session: TreatmentSession, chart: ChartData) -> dict[str, dict[str, Any]]:
    """Write the chart; returns each field's old and new value for the audit row."""
    before = _chart_values(session)
    for name in _CHART_FIELDS:
        setattr(session, name, getattr(chart, name))
    session.products = [{"code": p["code"], "name": p.get("name", ""), "lot": p.get("lot", "")}
                        for p in chart.products]
    session.precautions = {key: {"status": record.status, "note": record.note.strip()}
                           for key, record in chart.precautions.items()
                           if record.status or record.note.strip()}
    session.save()
    session.zones.all().delete()
    SessionZone.objects.bulk_create([
        SessionZone(session=session, zone=row.zone, depth_mm=row.depth_mm, passes=row.passes,
                    depth_reason=row.depth_reason) for row in chart.zones])
    return changed_fields(before, _chart_values(session), clinical_text=_CHART_TEXT)


def _editable_session(actor: Actor, session_id: int | str, permission: Permission,
                      action: str, detail: dict[str, Any] | None = None) -> TreatmentSession:
    opened = access_record(actor, TreatmentSession, session_id, permission=permission,
                           action=action, detail=detail)
    session = _lock(TreatmentSession, opened.pk)
    session._access_row = opened._access_row  # for record_changes
    if session.status == SessionStatus.SIGNED:
        raise Conflict("signed", _("This session is signed and can no longer be changed; "
                                       "add an addendum instead."))
    if session.status == SessionStatus.CANCELLED:
        raise Conflict("cancelled", _("This session was cancelled."))
    return session


def save_chart(actor: Actor, session_id: int | str, chart: ChartData) -> TreatmentSession:
    """Save the chart as a draft; the session stays booked."""
    with transaction.atomic():
        session = _editable_session(actor, session_id, Permission.WRITE_CLINICAL,
                                    "session.chart")
        _check_chart_shape(session, chart)
        record_changes(session, _write_chart(session, chart))
        return session


def _sign_problems(session: TreatmentSession) -> list[str]:
    return sign_problems(SigningFacts(
        performed_on=session.performed_on, device=session.device,
        cartridge_lot=session.cartridge_lot, cartridge_expiry=session.cartridge_expiry,
        endpoint_reached=session.endpoint_reached, interval_reason=session.interval_reason,
        zones=[ZoneRow(z.zone, z.depth_mm, z.passes, z.depth_reason)
               for z in session.zones.all()],
        depth_ranges=session.plan.depth_ranges, interval_days=session.plan.interval_days,
        last_signed_on=_last_signed_on(session.plan_id, excluding=session.pk),
        has_valid_consent=valid_treatment_consent(session.patient_id) is not None,
        today=clock.localdate(), precautions=session_precautions(session),
        precautions_recorded=records_from(session.precautions)))


def sign_session(actor: Actor, session_id: int | str, chart: ChartData | None = None
                 ) -> TreatmentSession:
    """Sign a booked session (saving ``chart`` first when given) and create the patient's
    aftercare plan, all in one transaction. Refused with every problem listed."""
    with transaction.atomic():
        session = _editable_session(actor, session_id, Permission.SIGN, "session.sign")
        if chart is not None:
            _check_chart_shape(session, chart)
            record_changes(session, _write_chart(session, chart))
        session = TreatmentSession.objects.select_related("plan").get(pk=session.pk)
        problems = _sign_problems(session)
        if problems:
            raise SignRefused(problems)
        now = clock.now()
        consent = valid_treatment_consent(session.patient_id)
        updated = TreatmentSession.objects.filter(
            pk=session.pk, status=SessionStatus.BOOKED).update(
            status=SessionStatus.SIGNED, signed_at=now, signed_by=actor.user, consent=consent,
            practitioner=session.practitioner or actor.user)
        if not updated:
            raise Conflict("changed", _("The session changed meanwhile; reload the page."))
        session.refresh_from_db()
        record_aftercare(session)
        emit(SessionSigned(clinic_id=session.clinic_id, patient_id=session.patient_id,
                           session_id=session.pk, plan_id=session.plan_id))
        return session


def add_addendum(actor: Actor, session_id: int | str, text: str) -> SessionAddendum:
    text = text.strip()
    with transaction.atomic():
        session = access_record(actor, TreatmentSession, session_id,
                                permission=Permission.WRITE_CLINICAL, action="session.addendum")
        if session.status != SessionStatus.SIGNED:
            raise Conflict("not_signed", _("Addenda are for signed sessions; edit the chart "
                                               "while the session is booked."))
        if not text:
            raise ServiceError("text_required", _("Write the addendum."), field="text")
        return SessionAddendum.objects.create(session=session, text=text, by=actor.user)


# --- lot search --------------------------------------------------------------------------------


def search_lots(actor: Actor, lot: str) -> list[TreatmentSession]:
    """Every signed session of the actor's clinic that used ``lot`` as its cartridge lot or a
    product lot (exact, case-insensitive), audited as one search."""
    lot = lot.strip()
    with transaction.atomic():
        require(actor, Permission.VIEW_CLINICAL)
        if not lot:
            raise ServiceError("lot_required", _("Enter a lot number."), field="lot")
        # JSON text may hold the lot escaped (non-ASCII as \\uXXXX): search both spellings,
        # then keep only exact matches.
        escaped = json.dumps(lot)[1:-1]
        candidates = (
            TreatmentSession.objects
            .filter(clinic_id=actor.clinic_id, status=SessionStatus.SIGNED)
            .annotate(products_text=Cast("products", TextField()))
            .filter(Q(cartridge_lot__iexact=lot) | Q(products_text__icontains=lot)
                    | Q(products_text__icontains=escaped))
            .select_related("patient", "practitioner")
            .order_by("-performed_on", "-id")
        )
        wanted = lot.casefold()
        matches = [s for s in candidates
                   if s.cartridge_lot.strip().casefold() == wanted
                   or any(str(p.get("lot", "")).strip().casefold() == wanted
                          for p in s.products)]
        audit(actor, "session.lot_search",
              detail={"lot": lot, "matches": len(matches),
                      "sessions": [s.pk for s in matches]})
        return matches

