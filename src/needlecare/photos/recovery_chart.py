"""The recovery chart of one session: redness measured on photos and the patient's symptom
scores by day, against the expected course, drawn by ``needlecare.course_chart``.

Two pictures: redness on photos (change in a* from the baseline photo) over the protocol's
expected band, and the symptom scores (0–10) the patient reported over the highest severity
still expected that day. Each comes with its text table. For the patient the same pictures
carry no numbers, and sentences in plain words say how their photos compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from needlecare.care.aftercare import signed_session_facts
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.clinical.recovery import expected_course
from needlecare.clinical.redness import expected_redness
from needlecare.clinical.vocabulary import SYMPTOMS
from needlecare.course_chart import Band, Series, Table, chart_svg, chart_table
from needlecare.photos.models import Photo
from needlecare.recovery.models import CheckIn

#: The chart runs to at least this day, so a young course still shows the band's fall.
MIN_LAST_DAY = 10
#: At most this many symptoms are drawn (the ones reported most often); the table has all.
MAX_SYMPTOM_LINES = 5


@dataclass
class Picture:
    svg: SafeString
    table: Table


@dataclass
class RecoveryChart:
    session: TreatmentSession
    redness: Picture | None
    symptoms: Picture | None
    #: For the patient: one sentence per photo day, no numbers.
    plain_words: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.redness is None and self.symptoms is None


def _redness_points(session: TreatmentSession) -> list[tuple[int, float]]:
    # Several photos on one day are read at their reddest, as triage reads them.
    worst: dict[int, float] = {}
    for day, change in (Photo.objects.filter(session=session, a_star_change__isnull=False,
                                             day__isnull=False, day__gte=0)
                        .values_list("day", "a_star_change")):
        worst[day] = max(worst.get(day, change), change)
    return sorted(worst.items())


def _symptom_series(session: TreatmentSession) -> tuple[dict[str, dict[int, int]], int]:
    latest: dict[int, dict[str, Any]] = {}
    for checkin in CheckIn.objects.filter(session=session).order_by("submitted_at", "id"):
        day = checkin.result.get("day")
        if isinstance(day, int) and day >= 0:
            latest[day] = checkin.answers.get("symptoms", {})
    scores: dict[str, dict[int, int]] = {}
    for day, symptoms in latest.items():
        for code, answer in symptoms.items():
            severity = answer.get("severity") if isinstance(answer, dict) else None
            if isinstance(severity, int):
                scores.setdefault(code, {})[day] = severity
    return scores, max(latest, default=0)


def _plain_words(points: list[tuple[int, float]], flags: dict[int, float],
                 tops: dict[int, float]) -> list[str]:
    words = []
    for day, change in points:
        if change >= flags[day]:
            text = _("Day %(day)d: your photo shows more redness than we expect at this "
                     "stage. A clinician will look at it.")
        elif change > tops[day]:
            text = _("Day %(day)d: your photo shows a little more redness than usual at this "
                     "stage. Keep following your aftercare, and check in again tomorrow.")
        else:
            text = _("Day %(day)d: your photo shows redness within what we expect at this "
                     "stage.")
        words.append(text % {"day": day})
    return words


def recovery_chart(session: TreatmentSession, *, for_patient: bool = False) -> RecoveryChart:
    """The chart of a signed session (the caller has checked access to it)."""
    if session.status != SessionStatus.SIGNED or session.performed_on is None:
        return RecoveryChart(session, None, None)
    facts = signed_session_facts(session)
    protocol = default_protocol()
    points = _redness_points(session)
    scores, last_checkin_day = _symptom_series(session)
    last_day = max([MIN_LAST_DAY, last_checkin_day, *(d for d, _ in points)])
    prefix = f"recovery-{session.pk}-{'patient' if for_patient else 'staff'}"
    redness = None
    tops: dict[int, float] = {}
    flags: dict[int, float] = {}
    if protocol.data.photo_redness is not None:
        bands = [expected_redness(facts, day, protocol) for day in range(last_day + 1)]
        tops = {b.day: b.expected_max_a for b in bands}
        flags = {b.day: b.flag_from_a for b in bands}
        if points:
            band = Band(_("Expected redness"), [(b.day, 0.0, b.expected_max_a) for b in bands])
            series = [Series(_("Redness on photos"), points)]
            if for_patient:
                svg = chart_svg(series, band, title=_("Redness on your photos"),
                                description=_("Your photos' redness by day, against the "
                                              "redness we expect while your skin heals."),
                                y_label=_("Redness"), x_label=_("Days after your treatment"),
                                last_day=last_day, numbers=False, high_words=_("more red"),
                                low_words=_("as before treatment"), id_prefix=prefix + "-r")
            else:
                svg = chart_svg(series, band, title=_("Redness on photos"),
                                description=_("Change in a* from the baseline photo by day "
                                              "after the session, with the expected band."),
                                y_label=_("Change in a*"), x_label=_("Days after the session"),
                                last_day=last_day, id_prefix=prefix + "-r")
            table = chart_table(series, band, day_header=_("Day"),
                                band_headers=(_("Expected from"), _("Expected up to")))
            redness = Picture(mark_safe(svg), table)  # course_chart escapes every text
    symptoms = None
    if scores:
        shown = sorted(scores, key=lambda c: (-len(scores[c]), c))
        course = {day: expected_course(facts, day, protocol) for day in range(last_day + 1)}
        band = Band(_("Highest severity expected"), [
            (day, 0.0, float(max((s.max_severity for s in course[day].symptoms
                                  if s.symptom in scores), default=0)))
            for day in range(last_day + 1)])
        series = [Series(SYMPTOMS[c].patient if for_patient and c in SYMPTOMS
                         else (SYMPTOMS[c].display if c in SYMPTOMS else c),
                         sorted(scores[c].items())) for c in shown]
        svg = chart_svg(series[:MAX_SYMPTOM_LINES], band,
                        title=_("How your skin felt") if for_patient else _("Symptom scores"),
                        description=_("Symptom scores from the check-ins by day, against the "
                                      "highest severity expected."),
                        y_label=_("How strong") if for_patient else _("Severity (0–10)"),
                        x_label=(_("Days after your treatment") if for_patient
                                 else _("Days after the session")),
                        last_day=last_day, y_range=(0.0, 10.0), numbers=not for_patient,
                        high_words=_("strong"), low_words=_("none"), id_prefix=prefix + "-s")
        table = chart_table(series, band, day_header=_("Day"),
                            band_headers=None if for_patient else (
                                _("Expected from"), _("Expected up to")))
        symptoms = Picture(mark_safe(svg), table)  # course_chart escapes every text
    words = _plain_words(points, flags, tops) if for_patient and flags else []
    return RecoveryChart(session, redness, symptoms, words)
