"""The patient's chart: their whole story on one page, across care and recovery.

It sits above the care and recovery apps it reads (and below the web pages and the API that
show it), so that the patients app stays a low layer that every other app may use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from needlecare import clock
from needlecare.access import Actor, Permission
from needlecare.care.answers import allergies_reported
from needlecare.care.models import (
    AftercareRecord,
    Consent,
    ConsentKind,
    Consultation,
    SessionStatus,
    TreatmentPlan,
    TreatmentSession,
)
from needlecare.care.precautions import Precaution, precautions_of
from needlecare.clinical.vocabulary import INDICATIONS, ZONES
from needlecare.patients.access import access_patient
from needlecare.patients.models import Patient
from needlecare.recovery.models import CheckIn, Escalation, EscalationStatus


@dataclass
class TimelineEntry:
    """One thing that happened to the patient. ``record`` is the model row it shows."""

    kind: str
    at: dt.datetime
    record: Any
    summary: str = ""
    overdue: bool = False
    # Set by the view, which knows the pages.
    url: str | None = None
    actions: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class ConsentState:
    kind: str
    #: "valid", "withdrawn" or "none".
    state: str
    consent: Consent | None


@dataclass
class Alerts:
    """The header of the patient's page: what a clinician must see before anything else.
    Allergies, precautions and escalations are clinical (None for front desk); the consent
    state is administrative."""

    consents: list[ConsentState]
    #: Allergies the latest consultation reports; [] none reported; None not asked (or not
    #: for this role).
    allergies: list[str] | None = None
    #: The latest screening's precautions, each naming what it is about.
    precautions: list[Precaution] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    #: A consultation exists (so "allergies not asked" means something).
    screened: bool = False


@dataclass
class PatientRecord:
    patient: Patient
    # False for front desk: the entries hold appointments and consent status only.
    clinical: bool
    entries: list[TimelineEntry]
    active_plans: list[TreatmentPlan]
    now: dt.datetime
    alerts: Alerts | None = None

    @property
    def age(self) -> int:
        born, today = self.patient.date_of_birth, timezone.localdate(self.now)
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


_KIND_ORDER = {"escalation": 7, "checkin": 6, "aftercare": 5, "session": 4, "plan": 3,
               "consent_withdrawn": 2, "consent": 1, "consultation": 0}


def _display(terms: Any, code: str) -> str:
    term = terms.get(code)
    return term.display if term is not None else code


def _depth_summary(session: TreatmentSession) -> str:
    return "; ".join(
        str(_("%(zone)s %(depth)s mm, %(passes)s passes") % {
            "zone": _display(ZONES, z.zone), "depth": z.depth_mm, "passes": z.passes})
        for z in session.zones.all())


def _plan_summary(plan: TreatmentPlan, signed: int, clinical: bool) -> str:
    counts = str(_("%(signed)s of %(planned)s sessions done, every %(days)s days") % {
        "signed": signed, "planned": plan.sessions_planned, "days": plan.interval_days})
    if not clinical:
        return counts
    what = ", ".join(_display(INDICATIONS, c) for c in plan.indications)
    where = ", ".join(_display(ZONES, z) for z in plan.zones)
    return f"{what} · {where} · {counts}"


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def patient_record(actor: Actor, patient_id: int | str) -> PatientRecord:
    """The patient and their whole story, newest first, as the actor may see it.

    Runs a fixed number of queries however long the story is: one per kind of record."""
    now = clock.now()
    with transaction.atomic():
        patient = access_patient(actor, patient_id)
        clinical = actor.can(Permission.VIEW_CLINICAL)
        entries: list[TimelineEntry] = []

        for consent in Consent.objects.filter(patient=patient).select_related("witnessed_by"):
            entries.append(TimelineEntry("consent", consent.signed_at, consent))
            if consent.withdrawn_at is not None:
                entries.append(TimelineEntry("consent_withdrawn", consent.withdrawn_at,
                                             consent))

        sessions = TreatmentSession.objects.filter(patient=patient)
        if clinical:
            sessions = sessions.select_related("practitioner").prefetch_related("zones")
        sessions_by_plan: dict[int, list[TreatmentSession]] = {}
        for session in sessions:
            sessions_by_plan.setdefault(session.plan_id, []).append(session)
            entries.append(TimelineEntry(
                "session", session.scheduled_for, session,
                summary=_depth_summary(session)
                if clinical and session.status == SessionStatus.SIGNED else ""))

        plans = list(TreatmentPlan.objects.filter(patient=patient))
        for plan in plans:
            signed = sum(1 for s in sessions_by_plan.get(plan.pk, [])
                         if s.status == SessionStatus.SIGNED)
            entries.append(TimelineEntry("plan", plan.created_at, plan,
                                         summary=_plan_summary(plan, signed, clinical)))

        if clinical:
            consultations = Consultation.objects.filter(patient=patient).select_related(
                "created_by", "overridden_by")
            entries.extend(TimelineEntry("consultation", c.created_at, c) for c in consultations)
            aftercare = AftercareRecord.objects.filter(session__patient=patient).select_related(
                "session")
            entries.extend(TimelineEntry("aftercare", a.created_at, a) for a in aftercare)
            checkins = CheckIn.objects.filter(patient=patient).select_related("session")
            entries.extend(TimelineEntry("checkin", c.submitted_at, c) for c in checkins)
            escalations = Escalation.objects.filter(patient=patient)
            entries.extend(TimelineEntry("escalation", e.opened_at, e,
                                         overdue=e.is_overdue(now))
                           for e in escalations)

    entries.sort(key=lambda e: (e.at, _KIND_ORDER[e.kind], e.record.pk), reverse=True)
    active = [p for p in plans if p.status == "active"]
    return PatientRecord(patient=patient, clinical=clinical, entries=entries,
                         active_plans=active, now=now, alerts=_alerts(entries, clinical))


def _alerts(entries: list[TimelineEntry], clinical: bool) -> Alerts:
    """From the records the timeline read already (no query of its own)."""
    consents: list[ConsentState] = []
    for kind, label in ConsentKind.choices:
        latest = next((e.record for e in entries
                       if e.kind == "consent" and e.record.kind == kind), None)
        state = "none" if latest is None else "withdrawn" if latest.withdrawn_at else "valid"
        consents.append(ConsentState(kind=str(label), state=state, consent=latest))
    alerts = Alerts(consents=consents)
    if not clinical:
        return alerts
    consultation = next((e.record for e in entries if e.kind == "consultation"), None)
    if consultation is not None:
        alerts.screened = True
        alerts.allergies = allergies_reported(consultation.intake)
        alerts.precautions = precautions_of(consultation.result)
    alerts.escalations = sorted(
        (e.record for e in entries if e.kind == "escalation"
         and e.record.status != EscalationStatus.CLOSED), key=lambda e: e.deadline)
    return alerts
