"""Referral for complications: recorded when an escalation is dealt with, given to the
patient's dermatologist or doctor as a letter (PDF), and tracked until its outcome is recorded.

Closing an escalation is recovery's service (``recovery.services.close_escalation``);
``close_with_referral`` calls it and records the referral in the same transaction, so either
both happen or neither. ``refer`` records a referral for an escalation already closed.

The letter holds the session (device, cartridge and product lots, zones and depths), the
patient's check-ins with their dates and answers, the triage reasons, the escalation's notes,
adverse events and the clinician's summary. Other features add their own part of the letter
through ``register_letter_section`` (the photos feature: the photos of the session and its
check-ins).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.access import Actor, Permission, audit, require
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.clinical.vocabulary import PRODUCTS, RED_FLAGS, SYMPTOMS, ZONES
from needlecare.documents.pdf import render_pdf
from needlecare.errors import Conflict, ServiceError
from needlecare.outcomes.course import clinic_today
from needlecare.outcomes.models import (
    AdverseEvent,
    Referral,
    ReferralOutcome,
    ReferralReason,
    ReferralStatus,
    ReferralTo,
    Urgency,
)
from needlecare.patients.access import access_record
from needlecare.recovery import services as recovery
from needlecare.recovery.models import CheckIn, Escalation, EscalationStatus, Level
from needlecare.recovery.results import triage_result

MIN_SUMMARY = 20


@dataclass(frozen=True)
class ReferralDetails:
    to: str
    reason: str
    summary: str
    recipient: str = ""
    reason_detail: str = ""
    urgency: str = "routine"


def _check(details: ReferralDetails) -> ReferralDetails:
    """Refuse before anything is written (closing included)."""
    if details.to not in ReferralTo.values:
        raise ServiceError("to_required", _("Choose whom the patient is referred to."),
                           field="to")
    if details.reason not in ReferralReason.values:
        raise ServiceError("reason_required", _("Choose the reason for the referral."),
                           field="reason")
    if details.urgency not in Urgency.values:
        raise ServiceError("urgency_invalid", _("Choose how urgent the referral is."),
                           field="urgency")
    summary = " ".join(details.summary.split())
    if len(summary) < MIN_SUMMARY:
        raise ServiceError("summary_required", _(
            "Write your summary for the letter (at least %(n)d characters).")
            % {"n": MIN_SUMMARY}, field="summary")
    if details.reason == ReferralReason.OTHER and not details.reason_detail.strip():
        raise ServiceError("reason_detail_required", _(
            "Say what the reason is when it is \"Other\"."), field="reason_detail")
    return ReferralDetails(to=details.to, reason=details.reason,
                           summary=details.summary.strip(),
                           recipient=details.recipient.strip()[:300],
                           reason_detail=details.reason_detail.strip(),
                           urgency=details.urgency)


def _create(actor: Actor, escalation: Escalation, details: ReferralDetails) -> Referral:
    referral = Referral.objects.create(
        clinic_id=escalation.clinic_id, patient_id=escalation.patient_id,
        escalation=escalation, session_id=escalation.session_id, to=details.to,
        recipient=details.recipient, reason=details.reason,
        reason_detail=details.reason_detail, urgency=details.urgency,
        summary=details.summary, created_by=actor.user)
    audit(actor, "referral.create", patient=escalation.patient, obj=referral,
          detail={"to": details.to, "reason": details.reason, "urgency": details.urgency,
                  "escalation": escalation.pk})
    return referral


def close_with_referral(actor: Actor, escalation_id: int | str, *, outcome: str, note: str,
                        details: ReferralDetails) -> Referral:
    """Close the escalation with ``outcome`` (recovery's service) and record the referral,
    in one transaction."""
    details = _check(details)
    with transaction.atomic():
        escalation = recovery.close_escalation(actor, escalation_id, outcome, note)
        escalation = Escalation.objects.select_related("patient").get(pk=escalation.pk)
        return _create(actor, escalation, details)


def refer(actor: Actor, escalation_id: int | str, details: ReferralDetails) -> Referral:
    """A referral for an escalation that is already closed."""
    details = _check(details)
    with transaction.atomic():
        escalation = access_record(actor, Escalation, escalation_id,
                                   permission=Permission.WRITE_CLINICAL,
                                   action="escalation.refer")
        if escalation.status != EscalationStatus.CLOSED:
            raise Conflict("not_closed", _(
                "Close the escalation with the referral (the form above)."))
        return _create(actor, escalation, details)


def record_outcome(actor: Actor, referral_id: int | str, *, outcome: str, outcome_on: dt.date,
                   note: str = "") -> Referral:
    """What came of the referral: it is then no longer awaited."""
    note = (note or "").strip()
    with transaction.atomic():
        referral = access_record(actor, Referral, referral_id,
                                 permission=Permission.WRITE_CLINICAL,
                                 action="referral.outcome", related=("clinic",),
                                 detail={"outcome": outcome}, lock=True)
        if outcome not in ReferralOutcome.values:
            raise ServiceError("outcome_required", _("Choose what came of the referral."),
                               field="outcome")
        if outcome_on > clinic_today(referral.clinic.time_zone):
            raise ServiceError("outcome_in_future", _("The date cannot be in the future."),
                               field="outcome_on")
        if outcome_on < referral.created_at.astimezone(
                ZoneInfo(referral.clinic.time_zone)).date():
            raise ServiceError("outcome_before_referral", _(
                "The date cannot be before the referral."), field="outcome_on")
        if outcome == ReferralOutcome.OTHER and not note:
            raise ServiceError("note_required", _("Say what happened."), field="note")
        changed = Referral.objects.filter(pk=referral.pk, status=ReferralStatus.AWAITING
                                          ).update(status=ReferralStatus.DONE, outcome=outcome,
                                                   outcome_note=note, outcome_on=outcome_on,
                                                   outcome_recorded_by=actor.user,
                                                   outcome_recorded_at=clock.now())
        if not changed:
            raise Conflict("outcome_recorded", _("The outcome of this referral is recorded "
                                                 "already."))
        referral.refresh_from_db()
        return referral


def view_referral(actor: Actor, referral_id: int | str) -> Referral:
    with transaction.atomic():
        return access_record(actor, Referral, referral_id, permission=Permission.VIEW_CLINICAL,
                             action="referral.view",
                             related=("clinic", "escalation", "created_by",
                                      "outcome_recorded_by"))


REFERRALS_PAGE_SIZE = 50


def list_referrals(actor: Actor, status: str | None = "awaiting",
                   page: int | str | None = 1) -> Page:
    """The clinic's referrals, those still awaited first by age."""
    require(actor, Permission.VIEW_CLINICAL)
    if status is not None and status not in ReferralStatus.values:
        raise ServiceError("status_invalid", _("Choose awaiting or done."), field="status")
    with transaction.atomic():
        referrals = Referral.objects.filter(clinic_id=actor.clinic_id).select_related(
            "patient", "created_by")
        if status is not None:
            referrals = referrals.filter(status=status)
        shown = Paginator(referrals.order_by("status", "created_at", "id"),
                          REFERRALS_PAGE_SIZE).get_page(page)
        audit(actor, "referral.list", detail={"status": status, "page": shown.number,
                                              "referrals": [r.pk for r in shown.object_list]})
    return shown


# --- the letter ---------------------------------------------------------------------------------

#: Other features' parts of the letter: each returns a template and its context, or None.
LetterSection = Callable[[Referral], tuple[str, dict[str, Any]] | None]
_letter_sections: dict[str, LetterSection] = {}


def register_letter_section(name: str, section: LetterSection) -> None:
    """Add a part to every referral letter (from an ``AppConfig.ready()``), e.g. the photos
    of the session and its check-ins, rendered after the check-ins."""
    _letter_sections[name] = section


def _display(table: Any, code: str) -> str:
    term = table.get(code)
    return term.display if term is not None else code


def _checkin_rows(checkins: list[CheckIn]) -> list[dict[str, Any]]:
    levels = dict(Level.choices)
    rows = []
    for c in checkins:
        answers = c.answers or {}
        symptoms = [f"{_display(SYMPTOMS, code)} {r.get('severity', '?')}/10"
                    + (f" ({r['trend']})" if r.get("trend") else "")
                    for code, r in answers.get("symptoms", {}).items() if isinstance(r, dict)]
        flags = [_display(RED_FLAGS, code) for code, yes in answers.get("red_flags", {}).items()
                 if yes]
        rows.append({"at": c.submitted_at, "day": (c.result or {}).get("day"),
                     "level": levels.get(c.level, c.level), "symptoms": symptoms,
                     "flags": flags, "note": answers.get("note", ""),
                     "reasons": [r.get("clinician", "") for r in triage_result(c).get(
                         "reasons", []) if r.get("level") != Level.EXPECTED]})
    return rows


def _letter_context(referral: Referral) -> dict[str, Any]:
    escalation = referral.escalation
    session = TreatmentSession.objects.select_related("plan", "practitioner").get(
        pk=referral.session_id)
    course = list(TreatmentSession.objects.filter(plan_id=session.plan_id,
                                                  status=SessionStatus.SIGNED)
                  .select_related("practitioner").prefetch_related("zones")
                  .order_by("performed_on", "id"))
    checkins = list(CheckIn.objects.filter(session_id=session.pk).order_by("submitted_at",
                                                                            "id"))
    sections = [part for part in (section(referral) for section in _letter_sections.values())
                if part is not None]
    return {
        "clinic": referral.clinic, "patient": referral.patient, "referral": referral,
        "escalation": escalation, "session": session,
        "zones": [{"zone": _display(ZONES, z.zone), "depth": z.depth_mm, "passes": z.passes,
                   "reason": z.depth_reason} for z in session.zones.all()],
        "products": [{"name": p.get("name") or _display(PRODUCTS, p.get("code", "")),
                      "lot": p.get("lot", "")} for p in session.products],
        "course": [{"date": s.performed_on, "practitioner": s.practitioner,
                    "lot": s.cartridge_lot,
                    "zones": ", ".join(f"{_display(ZONES, z.zone)} {z.depth_mm} mm"
                                       for z in s.zones.all())} for s in course],
        "checkins": _checkin_rows(checkins),
        "reasons": [r.get("clinician", "") for r in escalation.reasons],
        "notes": list(escalation.notes.select_related("by")),
        "adverse_events": list(AdverseEvent.objects.filter(session_id=session.pk)),
        "letter_sections": sections,
        "level": dict(Level.choices).get(escalation.level, escalation.level),
        "written_on": clinic_today(referral.clinic.time_zone),
    }


@dataclass(frozen=True)
class Letter:
    content: bytes
    filename: str
    content_type: str = "application/pdf"


def referral_letter(actor: Actor, referral_id: int | str) -> Letter:
    """The referral letter as a PDF. Read (audited) in one transaction, rendered outside any
    (a PDF takes a few hundred milliseconds: SQLite's write lock is not held meanwhile), and
    its fingerprint kept on the referral in a second."""
    with transaction.atomic():
        referral = access_record(actor, Referral, referral_id,
                                 permission=Permission.VIEW_CLINICAL, action="referral.letter",
                                 related=("clinic", "escalation", "created_by"))
        context = _letter_context(referral)
    with timezone.override(ZoneInfo(referral.clinic.time_zone)):
        content = render_pdf("outcomes/referral_letter.html", context)
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(letter_sha256=digest)
        audit(actor, "referral.letter_issued", patient=referral.patient, obj=referral,
              detail={"sha256": digest})
    name = slugify(referral.patient.full_name) or "patient"
    day = referral.created_at.astimezone(ZoneInfo(referral.clinic.time_zone)).date()
    return Letter(content=content, filename=f"referral-{name}-{day:%Y-%m-%d}.pdf")
