"""The photos' part of a session's recovery chart: redness measured on photos (change in a*
from the baseline photo) by day, over the protocol's expected band, drawn by
``needlecare.course_chart`` with its text table. For the patient the same picture carries no
numbers, and sentences in plain words say how their photos compare. The symptom scores the
patient reported are the outcomes app's recovery chart (its page sections), not drawn here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from needlecare.care.aftercare import signed_session_facts
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.clinical.redness import expected_redness
from needlecare.course_chart import Band, Series, Table, chart_svg, chart_table
from needlecare.photos.models import Photo
from needlecare.recovery.models import CheckIn

#: The chart runs to at least this day, so a young course still shows the band's fall.
MIN_LAST_DAY = 10


@dataclass
class Picture:
    svg: SafeString
    table: Table


@dataclass
class RecoveryChart:
    session: TreatmentSession
    redness: Picture | None
    #: For the patient: one sentence per photo day, no numbers.
    plain_words: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.redness is None


def _redness_points(session: TreatmentSession) -> list[tuple[int, float]]:
    # Several photos on one day are read at their reddest, as triage reads them.
    worst: dict[int, float] = {}
    for day, change in (Photo.objects.filter(session=session, a_star_change__isnull=False,
                                             day__isnull=False, day__gte=0)
                        .values_list("day", "a_star_change")):
        worst[day] = max(worst.get(day, change), change)
    return sorted(worst.items())


def _last_checkin_day(session: TreatmentSession) -> int:
    """The chart runs at least to the latest day the patient checked in."""
    days = [d for d in CheckIn.objects.filter(session=session)
            .values_list("result__day", flat=True) if isinstance(d, int) and d >= 0]
    return max(days, default=0)


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
        return RecoveryChart(session, None)
    facts = signed_session_facts(session)
    protocol = default_protocol()
    points = _redness_points(session)
    last_checkin_day = _last_checkin_day(session)
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
    words = _plain_words(points, flags, tops) if for_patient and flags else []
    return RecoveryChart(session, redness, words)
