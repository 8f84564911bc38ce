"""The recovery chart of a session: each symptom the patient reported, by day, against the
band the protocol expects for that day (``clinical.recovery.expected_course``), drawn by
``charts.symptom_chart`` with its table.

The band comes from the protocol version that triaged the session's check-ins (the latest
one's), so the chart agrees with what triage judged. The photos feature's redness measure is
meant to join this chart as one more series (see the report of issue 12): one chart, not two.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from needlecare.access import Actor, Permission
from needlecare.care.aftercare import signed_session_facts
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.clinical.protocol.loader import (
    Protocol,
    ProtocolError,
    default_protocol,
    protocol_by_version,
)
from needlecare.clinical.recovery import expected_course
from needlecare.clinical.vocabulary import SYMPTOMS
from needlecare.outcomes.charts import BandDay, Chart, Point, symptom_chart
from needlecare.patients.access import access_record
from needlecare.recovery.models import CheckIn

#: The chart shows at least the first two weeks, the days of the daily check-ins.
MIN_DAYS = 14


@dataclass(frozen=True)
class RecoveryChart:
    session: TreatmentSession
    charts: list[Chart]
    checkins: int


def _protocol(label: str | None) -> Protocol:
    if label:
        try:
            return protocol_by_version(label)
        except ProtocolError:
            pass  # a label from a protocol no longer shipped: the default's band instead
    return default_protocol()


def charts_for(session: TreatmentSession, *, for_patient: bool = False) -> RecoveryChart:
    """The charts of a signed session (read through the caller's access check), titled in
    the clinicians' words or, ``for_patient``, in the patient's."""
    if session.status != SessionStatus.SIGNED or session.performed_on is None:
        return RecoveryChart(session=session, charts=[], checkins=0)
    reports = list(CheckIn.objects.filter(session_id=session.pk)
                   .order_by("submitted_at", "id")
                   .values_list("answers", "result__day", "protocol_version"))
    if not reports:
        return RecoveryChart(session=session, charts=[], checkins=0)
    protocol = _protocol(reports[-1][2])
    facts = signed_session_facts(session)
    series: dict[str, dict[int, float]] = {}
    for answers, day, _version in reports:
        if day is None:
            continue
        for code, report in (answers or {}).get("symptoms", {}).items():
            severity = report.get("severity") if isinstance(report, dict) else None
            if isinstance(severity, int) and not isinstance(severity, bool):
                series.setdefault(code, {})[int(day)] = severity
    last_day = max([MIN_DAYS, *(d for days in series.values() for d in days)])
    courses = [expected_course(facts, day, protocol) for day in range(last_day + 1)]
    charts = []
    for code in SYMPTOMS:
        if code not in series:
            continue
        band = []
        for course in courses:
            expectation = course.for_symptom(code) if any(
                s.symptom == code for s in course.symptoms) else None
            high = expectation.max_severity if expectation and expectation.expected else 0
            band.append(BandDay(day=course.day, low=0, high=high))
        points = [Point(day=d, value=v) for d, v in sorted(series[code].items())]
        term = SYMPTOMS[code]
        title = term.patient[:1].upper() + term.patient[1:] if for_patient else term.display
        charts.append(symptom_chart(points, band, title=title,
                                    value_label=_("Severity (0–10)")))
    return RecoveryChart(session=session, charts=charts, checkins=len(reports))


def session_recovery_chart(actor: Actor, session_id: int) -> RecoveryChart:
    """The chart for staff (clinicians and owners) or for the patient of the session."""
    permission = Permission.PATIENT_SELF if actor.link is not None else Permission.VIEW_CLINICAL
    with transaction.atomic():
        session = access_record(actor, TreatmentSession, session_id, permission=permission,
                                action="recovery_chart.view", related=("plan",))
        return charts_for(session, for_patient=actor.link is not None)
