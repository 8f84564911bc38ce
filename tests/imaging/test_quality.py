"""Quality checks: a blurred, dark, blown-out, distant or colour-cast copy is refused for
measurement, with advice in plain words; the good photo passes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from needlecare.imaging.analysis import analyse_photo
from needlecare.imaging.quality import ADVICE
from tests.imaging import synthetic


def _relit(rgb: synthetic.RGB8, gain: np.ndarray | float) -> synthetic.RGB8:
    linear = synthetic.srgb_decode(rgb.astype(np.float64) / 255.0) * gain
    return synthetic.to_quantised(synthetic.srgb_encode(linear))


def test_the_good_photo_passes_and_is_measured(portrait: synthetic.RGB8) -> None:
    analysis = analyse_photo(synthetic.encode(portrait))
    assert analysis.quality.passed, analysis.quality.codes
    assert analysis.redness is not None


BAD_COPIES = {
    "blurred": lambda p: cv2.GaussianBlur(p, (0, 0), 3),
    "too_dark": lambda p: _relit(p, 0.08),
    "too_bright": lambda p: _relit(p, 3.0),
    "colour_cast": lambda p: _relit(p, np.array([1.0, 0.62, 0.30])),  # tungsten-like light
    "face_too_small": lambda p: cv2.copyMakeBorder(
        cv2.resize(p, (540, 540), interpolation=cv2.INTER_AREA), 180, 180, 180, 180,
        cv2.BORDER_CONSTANT, value=(150, 150, 150)),
    "no_colour": lambda p: np.repeat(cv2.cvtColor(p, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2),
}


@pytest.mark.parametrize("problem", sorted(BAD_COPIES))
def test_a_bad_copy_is_refused_for_measurement_with_advice(portrait: synthetic.RGB8,
                                                           problem: str) -> None:
    copy = np.ascontiguousarray(BAD_COPIES[problem](portrait))
    analysis = analyse_photo(synthetic.encode(copy))
    assert problem in analysis.quality.codes
    assert not analysis.quality.passed
    assert analysis.redness is None  # never measured
    advice = [p.advice for p in analysis.quality.problems if p.code == problem]
    assert advice == [ADVICE[problem]]


def test_the_dark_photo_is_told_to_face_a_window(portrait: synthetic.RGB8) -> None:
    analysis = analyse_photo(synthetic.encode(_relit(portrait, 0.08)))
    assert any("face a window" in p.advice for p in analysis.quality.problems)


def test_no_face_is_refused(portrait: synthetic.RGB8) -> None:
    wall = np.ascontiguousarray(cv2.GaussianBlur(portrait[650:900, 0:250], (0, 0), 2))
    analysis = analyse_photo(synthetic.encode(cv2.resize(wall, (900, 900))))
    assert "no_face" in analysis.quality.codes
    assert analysis.redness is None


def test_mildly_dim_or_slightly_soft_photos_still_pass(portrait: synthetic.RGB8) -> None:
    # The checks refuse what cannot be measured, not every imperfect photo.
    for copy in (_relit(portrait, 0.4), cv2.GaussianBlur(portrait, (0, 0), 0.8),
                 _relit(portrait, np.array([1.0, 0.9, 0.8]))):
        analysis = analyse_photo(synthetic.encode(np.ascontiguousarray(copy)))
        assert analysis.quality.passed, analysis.quality.metrics
