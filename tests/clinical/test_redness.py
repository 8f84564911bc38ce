"""Redness on photos: the expected band by day and depth, and the persistent-redness input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from needlecare.clinical.protocol.loader import default_protocol, protocol_by_version
from needlecare.clinical.redness import (
    PhotoMeasurement,
    expected_redness,
    persistent_photo_redness,
    redness_course,
)
from needlecare.clinical.session import SessionFacts
from needlecare.clinical.triage import CheckIn, triage
from needlecare.clinical.vocabulary import RED_FLAGS, Level

SESSION_DAY = dt.date(2026, 11, 20)
VISIBLE_ERYTHEMA_A = 2.5  # COLIPA: a change in a* from which redness is visible


def session(depth: float = 1.5, device: str = "pen") -> SessionFacts:
    return SessionFacts(date=SESSION_DAY, deepest_depth_mm=depth, zones=["cheeks"],
                        fitzpatrick=3, device=device)


def photo(day: int, change: float, ok: bool = True) -> dict[str, Any]:
    return {"day": day, "a_star_change": change, "quality_ok": ok}


def checkin(day: int, photos: list[dict[str, Any]], depth: float = 1.5,
            **answers: Any) -> CheckIn:
    reported = dt.datetime.combine(SESSION_DAY + dt.timedelta(days=day), dt.time(19, 0))
    return CheckIn.model_validate({
        "session": session(depth).model_dump(mode="json", by_alias=True),
        "reported_at": reported.isoformat(),
        "symptoms": answers.get("symptoms", {}),
        "red_flags": {**dict.fromkeys(RED_FLAGS, False), **answers.get("flags", {})},
        "photos": photos,
    })


def rules(result: Any) -> set[str]:
    return {r.rule for r in result.reasons if r.level is not Level.EXPECTED}


# --- the expected band -----------------------------------------------------------------------

@pytest.mark.parametrize(("depth", "band", "resolved_by_day"), [
    (0.5, "shallow", 2),  # reference §3.1: ≤ 0.5 mm resolved by 48 h
    (1.5, "medium", 3),  # 0.75–1.5 mm by 72 h
    (2.5, "deep", 5),  # ≥ 2.0 mm by 3–5 days
])
def test_the_band_falls_to_visible_erythema_when_the_reference_expects_redness_gone(
        depth: float, band: str, resolved_by_day: int) -> None:
    before = expected_redness(session(depth), resolved_by_day - 1)
    on_the_day = expected_redness(session(depth), resolved_by_day)
    assert on_the_day.depth_band == band
    assert before.expected_max_a > VISIBLE_ERYTHEMA_A
    assert on_the_day.expected_max_a == pytest.approx(VISIBLE_ERYTHEMA_A, abs=0.05)


def test_deeper_sessions_are_expected_redder_and_for_longer() -> None:
    for day in range(0, 15):
        shallow, medium, deep = (expected_redness(session(d), day).expected_max_a
                                 for d in (0.5, 1.5, 2.5))
        assert shallow <= medium <= deep


def test_the_band_only_ever_falls() -> None:
    course = redness_course(session(2.0), 28)
    assert [b.day for b in course] == list(range(29))
    tops = [b.expected_max_a for b in course]
    assert tops == sorted(tops, reverse=True)
    assert tops[0] == 10.0


def test_the_flag_line_is_the_band_plus_the_margin_and_the_noise_floor_is_three() -> None:
    band = expected_redness(session(1.5), 8)
    assert band.noise_floor_a == 3.0
    assert band.flag_from_a == pytest.approx(band.expected_max_a + 3.0, abs=0.01)
    assert band.flags_from_day == 8
    assert band.basis == "clinic_policy"
    assert {s.key for s in band.sources} >= {"sasaki2019", "colipa_erythema"}


def test_rf_sessions_use_the_shallow_band() -> None:
    assert expected_redness(session(2.0, device="rf"), 0).depth_band == "shallow"


def test_a_protocol_without_a_photo_model_says_so() -> None:
    with pytest.raises(ValueError, match=r"microneedling-2026\.1 has no expected redness"):
        expected_redness(session(), 3, protocol_by_version("microneedling-2026.1"))


# --- persistent redness on photos --------------------------------------------------------------

PHOTO_VIGNETTES: list[tuple[str, list[dict[str, Any]], bool]] = [
    ("two photo check-ins after day 7, both clearly red", [photo(8, 5.0), photo(10, 4.5)], True),
    ("only one photo after the fading window", [photo(10, 8.0)], False),
    ("one of the two is still inside the fading window", [photo(6, 9.0), photo(9, 6.0)], False),
    ("above the band but by less than the margin", [photo(8, 3.2), photo(10, 3.1)], False),
    ("the latest photo shows the redness has settled",
     [photo(8, 6.0), photo(10, 6.0), photo(12, 0.5)], False),
    ("a photo that failed the quality checks is left out",
     [photo(8, 6.0), photo(9, 0.0, ok=False), photo(10, 6.0)], True),
    ("two views on one day are one photo check-in", [photo(9, 6.0), photo(9, 7.0)], False),
    ("on one day the reddest view counts",
     [photo(8, 1.0), photo(8, 5.0), photo(11, 4.0)], True),
    ("no usable photos", [photo(8, 9.0, ok=False), photo(10, 9.0, ok=False)], False),
]


@pytest.mark.parametrize(("photos", "flags"), [v[1:] for v in PHOTO_VIGNETTES],
                         ids=[v[0] for v in PHOTO_VIGNETTES])
def test_persistent_redness_on_photos(photos: list[dict[str, Any]], flags: bool) -> None:
    day = max(p["day"] for p in photos)
    result = triage(checkin(day, photos))
    assert ("persistent_photo_redness" in rules(result)) is flags
    assert result.level is (Level.CONTACT_CLINIC if flags else Level.EXPECTED)


def test_the_finding_names_the_photo_days_and_thresholds() -> None:
    found = persistent_photo_redness(
        session(1.5), [PhotoMeasurement.model_validate(p) for p in (photo(8, 5), photo(10, 4))])
    assert found is not None
    assert found.days == [8, 10]
    assert found.a_star_changes == [5.0, 4.0]
    assert found.flag_from_a == [pytest.approx(3.37, abs=0.01), pytest.approx(3.17, abs=0.01)]


def test_the_photo_reason_is_clinic_policy_at_contact_clinic() -> None:
    result = triage(checkin(10, [photo(8, 6.0), photo(10, 6.0)]))
    (reason,) = [r for r in result.reasons if r.rule == "persistent_photo_redness"]
    assert reason.level is Level.CONTACT_CLINIC
    assert reason.basis == "clinic_policy"
    assert reason.subject is None
    assert not reason.assumed
    assert "photos" in reason.patient


def test_photos_never_lower_what_the_answers_set() -> None:
    answers = {"flags": {"pus_or_yellow_crusts": True}}
    calm_photos = [photo(8, 0.0), photo(10, 0.0)]
    assert triage(checkin(10, [], **answers)).level is Level.URGENT
    assert triage(checkin(10, calm_photos, **answers)).level is Level.URGENT


def test_a_photo_after_the_check_in_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"photos.0.day 12 is after this check-in"):
        checkin(10, [photo(12, 1.0)])


@pytest.mark.parametrize("bad", [
    {"day": 8, "a_star_change": True, "quality_ok": True},
    {"day": 8, "a_star_change": "5", "quality_ok": True},
    {"day": -1, "a_star_change": 1.0, "quality_ok": True},
    {"day": 8, "a_star_change": 1.0},
    {"day": 8, "a_star_change": 1.0, "quality_ok": True, "colour": "red"},
])
def test_a_malformed_photo_measurement_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        checkin(10, [bad])


def test_the_thresholds_live_in_the_protocol() -> None:
    model = default_protocol().data.photo_redness
    assert model is not None
    assert (model.noise_floor_a, model.flag_margin_a, model.consecutive_photos) == (3.0, 3.0, 2)
    assert set(model.curves) == set(default_protocol().data.recovery.depth_bands)
