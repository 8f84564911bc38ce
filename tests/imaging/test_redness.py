"""Redness: a known change of a* in a landmark region is recovered through the real intake
path (JPEG encoding included); the noise floor and the baseline comparison behave."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from needlecare.imaging.analysis import analyse_photo
from needlecare.imaging.intake import accept_image
from needlecare.imaging.landmarks import Face
from needlecare.imaging.quality import QualityReport
from needlecare.imaging.redness import (
    NOISE_FLOOR_A_STAR,
    ExpectedCourse,
    NotMeasurable,
    RednessReading,
    RegionReading,
    ZoneChange,
    change_from_baseline,
    measure,
)
from tests.imaging import synthetic


def _through_intake(rgb: synthetic.RGB8) -> bytes:
    return accept_image(synthetic.encode(rgb, exif=None)).data


@pytest.fixture(scope="module")
def baseline_reading(portrait: synthetic.RGB8) -> RednessReading:
    analysis = analyse_photo(_through_intake(portrait), ("cheeks", "chin"), control="forehead")
    assert analysis.redness is not None
    return analysis.redness


@pytest.mark.parametrize(("zone", "delta"), [("cheeks", 4.0), ("cheeks", 10.0),
                                             ("chin", 6.0), ("cheeks", -4.0), ("chin", 2.0)])
def test_a_known_shift_of_a_star_is_recovered_within_half_a_unit(
        portrait: synthetic.RGB8, portrait_face: Face, baseline_reading: RednessReading,
        zone: str, delta: float) -> None:
    shifted = synthetic.shift_a_star(portrait, portrait_face, zone, delta)
    analysis = analyse_photo(_through_intake(shifted), ("cheeks", "chin"), control="forehead")
    assert analysis.redness is not None, analysis.quality.codes
    changes = change_from_baseline(analysis.redness, baseline_reading)
    assert changes[zone].delta_a_star == pytest.approx(delta, abs=0.5)
    assert changes[zone].delta_against_control == pytest.approx(delta, abs=0.5)
    untouched = "chin" if zone == "cheeks" else "cheeks"
    assert abs(changes[untouched].delta_a_star) < 0.5
    assert changes[zone].is_change is (abs(delta) >= NOISE_FLOOR_A_STAR)
    assert not changes[untouched].is_change


def test_very_red_skin_is_measured_not_cut_away(portrait: synthetic.RGB8, portrait_face: Face,
                                                baseline_reading: RednessReading) -> None:
    # A skin-colour threshold would drop these pixels as "not skin" and read less redness.
    shifted = synthetic.shift_a_star(portrait, portrait_face, "cheeks", 25.0)
    analysis = analyse_photo(_through_intake(shifted), ("cheeks", "chin"), control="forehead")
    assert analysis.redness is not None
    reading = analysis.redness.zones["cheeks"]
    assert reading.a_star - baseline_reading.zones["cheeks"].a_star == pytest.approx(25.0,
                                                                                     abs=1.0)
    assert reading.pixels >= 0.9 * baseline_reading.zones["cheeks"].pixels


def test_a_change_of_light_is_cancelled_by_the_control_region(
        portrait: synthetic.RGB8, baseline_reading: RednessReading) -> None:
    # Warmer light raises a* everywhere; the treated zone against the untreated forehead
    # does not move.
    linear = synthetic.srgb_decode(portrait.astype(np.float64) / 255.0)
    warmer = synthetic.to_quantised(synthetic.srgb_encode(linear * np.array([1.06, 1.0, 0.94])))
    analysis = analyse_photo(_through_intake(warmer), ("cheeks", "chin"), control="forehead")
    assert analysis.redness is not None
    change = change_from_baseline(analysis.redness, baseline_reading)["cheeks"]
    assert change.delta_a_star > 1.0
    assert change.delta_against_control is not None
    assert abs(change.delta_against_control) < abs(change.delta_a_star) / 2


def test_a_photo_that_failed_quality_is_never_measured(portrait: synthetic.RGB8,
                                                       portrait_face: Face) -> None:
    from needlecare.imaging.colour import decode_for_measurement
    from needlecare.imaging.quality import Problem

    image = decode_for_measurement(synthetic.encode(portrait))
    failed = QualityReport((Problem("blurred", "…"),))
    with pytest.raises(NotMeasurable, match="blurred"):
        measure(image, portrait_face, failed, ["cheeks"])


def test_zones_without_a_region_and_treated_controls_are_refused(
        portrait: synthetic.RGB8, portrait_face: Face) -> None:
    from needlecare.imaging.colour import decode_for_measurement

    image = decode_for_measurement(synthetic.encode(portrait))
    passed = QualityReport(())
    with pytest.raises(NotMeasurable, match="neck"):
        measure(image, portrait_face, passed, ["neck"])
    with pytest.raises(NotMeasurable, match="untreated"):
        measure(image, portrait_face, passed, ["cheeks"], control="cheeks")


def _reading(a_star: float, control: float | None) -> RednessReading:
    region = RegionReading("cheeks", a_star, a_star, 60.0, 15.0, 1000)
    control_region = (RegionReading("forehead", control, control, 60.0, 15.0, 1000)
                      if control is not None else None)
    return RednessReading({"cheeks": region}, control_region, "sRGB", False)


@given(st.floats(-20, 20), st.floats(5, 20), st.floats(-5, 5))
def test_a_change_counts_only_beyond_the_noise_floor(delta: float, base: float,
                                                     light: float) -> None:
    # The same light shift on treated and control cancels; only the treated change counts.
    change = change_from_baseline(_reading(base + delta + light, 10.0 + light),
                                  _reading(base, 10.0))["cheeks"]
    assert change.delta_against_control == pytest.approx(delta, abs=1e-9)
    assert change.is_change is (abs(delta) >= NOISE_FLOOR_A_STAR)


def test_without_a_control_the_raw_change_is_judged() -> None:
    change = change_from_baseline(_reading(14.0, None), _reading(10.0, None))["cheeks"]
    assert change == ZoneChange("cheeks", 4.0, None, NOISE_FLOOR_A_STAR)
    assert change.is_change


def test_the_expected_course_decays_towards_its_plateau() -> None:
    course = ExpectedCourse(amplitude=8.0, tau_days=1.5, plateau=0.5)
    assert course.at(0) == pytest.approx(8.5)
    assert course.at(1.5) == pytest.approx(8.0 / np.e + 0.5)
    assert course.at(30) == pytest.approx(0.5, abs=1e-6)
    assert course.excess(4.0, 7) == pytest.approx(4.0 - course.at(7))
    with pytest.raises(ValueError, match="negative"):
        course.at(-1)
