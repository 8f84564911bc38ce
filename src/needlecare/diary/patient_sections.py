"""The diary's sections of the shared patient pages (``needlecare.sections``): upcoming
appointments (order 20) and pre-visit forms (order 30) on the patient's phone home page, and
the appointments on the staff's patient page. The page has checked the actor already."""

from __future__ import annotations

from typing import Any

from needlecare import clock
from needlecare.access import Actor, Permission
from needlecare.diary.models import HOLDING, UPCOMING, Appointment, PreVisit


def patient_appointments(actor: Actor, patient: Any) -> dict[str, Any] | None:
    upcoming = list(Appointment.objects.filter(
        patient_id=patient.pk, status__in=UPCOMING, starts_at__gte=clock.now())
        .select_related("type", "practitioner", "clinic").order_by("starts_at")[:10])
    if not upcoming:
        return None
    return {"appointments": upcoming}


def patient_previsit(actor: Actor, patient: Any) -> dict[str, Any] | None:
    waiting = list(PreVisit.objects.filter(
        patient_id=patient.pk, completed_at__isnull=True, appointment__status__in=UPCOMING,
        appointment__starts_at__gte=clock.now()).select_related("appointment"))
    if not waiting:
        return None
    return {"previsits": waiting}


def chart_appointments(actor: Actor, patient: Any) -> dict[str, Any] | None:
    if not actor.can(Permission.BOOK):
        return None
    now = clock.now()
    rows = list(Appointment.objects.filter(patient_id=patient.pk)
                .select_related("type", "practitioner", "room")
                .order_by("-starts_at")[:20])
    return {"upcoming": sorted((a for a in rows if a.status in UPCOMING and a.starts_at >= now),
                               key=lambda a: a.starts_at),
            "earlier": [a for a in rows if not (a.status in UPCOMING and a.starts_at >= now)],
            "holding": HOLDING, "patient": patient}
