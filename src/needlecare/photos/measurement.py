"""From the imaging core's analysis of one photo to what the record keeps: quality, landmarks,
redness, the change from the patient's own baseline of the same view, and — for a photo sent
with a check-in — the photo input to triage.

The measurement itself is the core's (docs/photos.md): colour-managed CIELAB over landmark
regions, never a colour threshold, photos that fail quality never measured. Here:

- every face region is measured, so that a later photo can be compared with this one whatever
  zones its session treated;
- the *baseline* of a photo is the patient's latest pre-treatment ("before") photo of the same
  view that passed quality, taken no later than the day of the photo's session;
- the change is the core's ``change_from_baseline`` over the session's treated zones, against
  an untreated control zone of the same photo when one is visible in both (which cancels a
  change of light), with the protocol's noise floor; the photo's single figure (what triage
  reads) is its largest treated-zone change, so a second zone can only add redness;
- profiles and close-ups are kept and checked for light and focus, never measured (the face
  landmarks need a face).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from needlecare.access import Actor
from needlecare.care.models import SessionZone
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.clinical.redness import PhotoMeasurement
from needlecare.imaging.analysis import PhotoAnalysis
from needlecare.imaging.redness import (
    MEASURABLE_ZONES,
    NOISE_FLOOR_A_STAR,
    RednessReading,
    RegionReading,
    change_from_baseline,
)
from needlecare.photos.models import MEASURED_VIEWS, Moment, Photo
from needlecare.recovery.services import PhotoFindings, add_photo_findings

#: Every face region is measured (a few milliseconds each), in this order.
ZONES = tuple(z for z in ("forehead", "cheeks", "nose", "chin", "perioral", "periorbital")
              if z in MEASURABLE_ZONES)
#: Untreated zones tried as the control region, best first: broad, flat, evenly lit skin.
CONTROL_PREFERENCE = ("forehead", "chin", "nose", "cheeks", "perioral")
#: Quality problems that only mean "no face": not a problem in a view that is never measured.
FACE_PROBLEMS = frozenset({"no_face", "face_too_small"})
#: Bounds of the triage document's a* change (clinical.redness.AStarChange).
A_STAR_LIMIT = 60.0


def apply_analysis(photo: Photo, analysis: PhotoAnalysis) -> None:
    """Copy the core's findings onto ``photo`` (not saved here)."""
    measured_view = photo.view in MEASURED_VIEWS
    problems = [p for p in analysis.quality.problems
                if measured_view or p.code not in FACE_PROBLEMS]
    photo.quality = {"problems": [{"code": p.code, "advice": p.advice} for p in problems],
                     "metrics": {k: round(float(v), 4)
                                 for k, v in analysis.quality.metrics.items()}}
    photo.quality_passed = not problems
    width, height = analysis.image.size
    if analysis.face is not None:
        points = analysis.face.points
        photo.landmarks = [[round(float(px) / width, 5), round(float(py) / height, 5)]
                           for px, py in points]
        right, left = analysis.face.eye_centres()
        photo.eyes = [[round(right[0] / width, 5), round(right[1] / height, 5)],
                      [round(left[0] / width, 5), round(left[1] / height, 5)]]
    else:
        photo.landmarks = None
    # Never measured: a failed photo, a view without a face, or no face found.
    if measured_view and analysis.redness is not None and photo.quality_passed:
        reading = analysis.redness
        photo.redness = {
            "zones": {z: {"a_star": round(r.a_star, 3), "a_star_median": round(r.a_star_median, 3),
                          "l_star": round(r.l_star, 3), "b_star": round(r.b_star, 3),
                          "pixels": r.pixels} for z, r in reading.zones.items()},
            "colour_space": reading.colour_space,
            "profile_assumed": reading.profile_assumed,
        }
    else:
        photo.redness = None


def _reading(stored: dict[str, Any], zones: tuple[str, ...], control: str | None
             ) -> RednessReading:
    def region(zone: str) -> RegionReading:
        values = stored["zones"][zone]
        return RegionReading(zone, values["a_star"], values["a_star_median"], values["l_star"],
                             values["b_star"], values["pixels"])

    return RednessReading({z: region(z) for z in zones if z in stored["zones"]},
                          region(control) if control else None, stored["colour_space"],
                          stored["profile_assumed"])


def noise_floor() -> float:
    model = default_protocol().data.photo_redness
    return model.noise_floor_a if model is not None else NOISE_FLOOR_A_STAR


def _session_end(photo: Photo) -> dt.datetime | None:
    session = photo.session
    if session is None or session.performed_on is None:
        return None
    zone = ZoneInfo(photo.clinic.time_zone)
    return dt.datetime.combine(session.performed_on + dt.timedelta(days=1), dt.time(0),
                               tzinfo=zone)


def find_baseline(photo: Photo) -> Photo | None:
    """The patient's latest measured "before" photo of the same view, taken no later than
    the day of the photo's session (the skin before that treatment)."""
    until = _session_end(photo)
    if until is None or photo.moment == Moment.BEFORE:
        return None
    return (Photo.objects.filter(patient_id=photo.patient_id, view=photo.view,
                                 moment=Moment.BEFORE, quality_passed=True,
                                 redness__isnull=False, taken_at__lt=until)
            .exclude(pk=photo.pk).order_by("-taken_at", "-id").first())


def measure_change(photo: Photo) -> None:
    """The change from the baseline over the session's treated zones (not saved here)."""
    photo.baseline = None
    photo.redness_change = None
    photo.a_star_change = None
    photo.noise_floor = None
    if not photo.redness or photo.session_id is None:
        return
    baseline = find_baseline(photo)
    if baseline is None or not baseline.redness:
        return
    treated = tuple(z for z in SessionZone.objects.filter(session_id=photo.session_id)
                    .values_list("zone", flat=True) if z in MEASURABLE_ZONES)
    both = set(photo.redness["zones"]) & set(baseline.redness["zones"])
    treated = tuple(z for z in treated if z in both)
    if not treated:
        return
    control = next((z for z in CONTROL_PREFERENCE if z not in treated and z in both), None)
    floor = noise_floor()
    changes = change_from_baseline(_reading(photo.redness, treated, control),
                                   _reading(baseline.redness, treated, control), floor)
    photo.baseline = baseline
    photo.noise_floor = floor
    photo.redness_change = {
        "control": control,
        "zones": {z: {"delta": round(c.delta_a_star, 2),
                      "against_control": (round(c.delta_against_control, 2)
                                          if c.delta_against_control is not None else None),
                      "is_change": c.is_change} for z, c in changes.items()},
    }
    worst = max((c.delta_against_control if c.delta_against_control is not None
                 else c.delta_a_star) for c in changes.values())
    photo.a_star_change = round(max(-A_STAR_LIMIT, min(A_STAR_LIMIT, worst)), 2)


def photo_rules() -> frozenset[str]:
    """The triage rules that read photos (their reasons are what photos add)."""
    return frozenset(key for key, rule in default_protocol().data.triage.rules.items()
                     if rule.kind == "photo_redness")


def triage_photos(photo: Photo) -> list[PhotoMeasurement]:
    """The session's measured check-in photos up to this photo's check-in day, as the
    triage document takes them."""
    assert photo.checkin is not None
    last_day = photo.checkin.result.get("day", photo.day)
    rows = (Photo.objects.filter(session_id=photo.session_id, checkin__isnull=False,
                                 a_star_change__isnull=False, day__isnull=False,
                                 day__gte=0, day__lte=last_day)
            .values_list("day", "a_star_change"))
    return [PhotoMeasurement(day=day, a_star_change=float(change), quality_ok=True)
            for day, change in rows]


def feed_triage(actor: Actor, photo: Photo) -> PhotoFindings | None:
    """A measured check-in photo goes into triage with the session's earlier ones."""
    if photo.checkin_id is None or photo.a_star_change is None:
        return None
    return add_photo_findings(actor, photo.checkin_id, triage_photos(photo))
