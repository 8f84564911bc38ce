"""Landmarks, regions, alignment of two photos, and hiding the eyes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from needlecare.clinical.vocabulary import ZONES
from needlecare.imaging import alignment
from needlecare.imaging.anonymise import eye_bar, hide_eyes
from needlecare.imaging.colour import decode_for_measurement, lab_from_rgb8
from needlecare.imaging.landmarks import (
    LEFT_EYE,
    REGION_POINTS,
    RIGHT_EYE,
    Face,
    find_face,
    polygon_mask,
)
from tests.imaging import synthetic


def test_the_face_is_found_with_its_eyes_where_they_are(portrait_face: Face) -> None:
    assert portrait_face.points.shape == (468, 2)
    (rx, ry), (lx, ly) = portrait_face.eye_centres()
    # In the 900-pixel portrait the astronaut's eyes are near (312, 306) and (441, 312).
    assert 285 < rx < 340
    assert 280 < ry < 335
    assert 415 < lx < 470
    assert 285 < ly < 340
    assert 200 < portrait_face.width < 400


def test_no_face_is_found_in_a_landscape() -> None:
    rng = np.random.default_rng(1)
    landscape = cv2.GaussianBlur(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8), (0, 0), 9)
    assert find_face(landscape) is None


def test_every_region_is_a_zone_of_the_vocabulary() -> None:
    assert set(REGION_POINTS) <= set(ZONES)


@pytest.mark.parametrize("zone", sorted(REGION_POINTS))
def test_regions_lie_on_skin_inside_the_face(portrait: synthetic.RGB8, portrait_face: Face,
                                            zone: str) -> None:
    mask = polygon_mask(portrait_face.regions(zone), portrait_face.image_size, erode_px=4)
    assert mask.sum() > 500
    assert not (mask & ~portrait_face.face_mask()).any()
    lab = lab_from_rgb8(portrait[mask], decode_for_measurement(synthetic.encode(portrait)).space)
    # Skin: light and reddish-yellow; hair, eyes, teeth and background are not.
    assert np.median(lab[:, 0]) > 50
    assert np.median(lab[:, 1]) > 4
    assert np.median(lab[:, 2]) > 8


def _similarity(angle_degrees: float, scale: float, shift: tuple[float, float],
                centre: tuple[float, float]) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D(centre, angle_degrees, scale)
    matrix[:, 2] += shift
    return matrix


def test_landmark_alignment_undoes_a_known_similarity(portrait: synthetic.RGB8,
                                                      portrait_face: Face) -> None:
    truth = _similarity(8.0, 0.85, (30.0, -20.0), (450.0, 450.0))
    moved = cv2.warpAffine(portrait, truth, (900, 900), borderMode=cv2.BORDER_REFLECT)
    moved_face = find_face(moved)
    assert moved_face is not None
    recovered = alignment.from_faces(moved_face, portrait_face)
    # Moving the moved photo back puts every landmark within ~1.5 % of the face width.
    back = alignment.apply(recovered, moved_face.points)
    error = np.linalg.norm(back - portrait_face.points, axis=1)
    assert np.median(error) < 0.015 * portrait_face.width
    aligned = alignment.warp(moved, recovered, (900, 900))
    centre = (slice(250, 650), slice(300, 600))
    difference = np.abs(aligned[centre].astype(int) - portrait[centre].astype(int)).mean()
    assert difference < 12


def test_two_point_alignment_maps_the_eyes_exactly() -> None:
    moving = ((100.0, 200.0), (180.0, 190.0))
    reference = ((400.0, 300.0), (540.0, 305.0))
    matrix = alignment.from_eye_centres(moving, reference)
    mapped = alignment.apply(matrix, np.array(moving, dtype=np.float32))
    assert np.allclose(mapped, reference, atol=1e-6)
    # A similarity: no shear, the same scale on both axes.
    a, b = matrix[0, 0], matrix[1, 0]
    assert matrix[0, 1] == pytest.approx(-b)
    assert matrix[1, 1] == pytest.approx(a)
    with pytest.raises(ValueError, match="apart"):
        alignment.from_eye_centres(((5.0, 5.0), (5.0, 5.0)), reference)


def test_manual_alignment_matches_landmark_alignment(portrait: synthetic.RGB8,
                                                     portrait_face: Face) -> None:
    truth = _similarity(-5.0, 1.1, (-25.0, 15.0), (450.0, 450.0))
    moved = cv2.warpAffine(portrait, truth, (900, 900), borderMode=cv2.BORDER_REFLECT)
    moved_eyes = alignment.apply(truth, np.array(portrait_face.eye_centres(), np.float32))
    eyes = ((float(moved_eyes[0, 0]), float(moved_eyes[0, 1])),
            (float(moved_eyes[1, 0]), float(moved_eyes[1, 1])))
    manual = alignment.from_eye_centres(eyes, portrait_face.eye_centres())
    back = alignment.apply(manual, alignment.apply(truth, portrait_face.points).astype(np.float32))
    assert np.abs(back - portrait_face.points).max() < 0.5
    assert moved.shape == portrait.shape


@pytest.mark.parametrize("style", ["bar", "blur"])
def test_hiding_the_eyes_covers_both_eyes_and_nothing_far_from_them(
        portrait: synthetic.RGB8, portrait_face: Face, style: str) -> None:
    eyes = portrait_face.eye_centres()
    hidden = hide_eyes(portrait, eyes, portrait_face, style=style)  # type: ignore[arg-type]
    bar = polygon_mask([eye_bar(eyes, portrait_face)], portrait_face.image_size)
    eye_mask = polygon_mask([portrait_face.polygon(RIGHT_EYE), portrait_face.polygon(LEFT_EYE)],
                            portrait_face.image_size)
    assert (eye_mask <= bar).all()  # every eye pixel is under the bar
    changed = np.abs(hidden.astype(int) - portrait.astype(int)).sum(axis=2) > 0
    assert not (changed & ~bar).any()
    if style == "bar":
        assert (hidden[eye_mask] == 0).all()
    else:
        # Heavily blurred: the eye's detail (its variance) is mostly gone.
        assert hidden[eye_mask].std() < 0.5 * portrait[eye_mask].std()


def test_hiding_the_eyes_from_two_clicked_points(portrait: synthetic.RGB8) -> None:
    eyes = ((312.0, 306.0), (441.0, 312.0))
    hidden = hide_eyes(portrait, eyes)
    assert (hidden[306, 312] == 0).all()
    assert (hidden[312, 441] == 0).all()
    assert (hidden[700, 450] == portrait[700, 450]).all()
