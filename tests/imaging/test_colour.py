"""Colour management: the embedded profile decides how pixels become CIELAB."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms
from skimage import color

from needlecare.imaging.analysis import analyse_photo
from needlecare.imaging.colour import decode_for_measurement, lab_from_rgb8
from needlecare.imaging.icc import ProfileNotUsable, colour_space
from needlecare.imaging.intake import accept_image
from tests.imaging import synthetic

ZONES = ("forehead", "cheeks", "nose", "chin")
SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _random_colours(count: int = 4000) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (count, 3), dtype=np.uint8)


def test_srgb_profile_gives_the_same_lab_as_scikit_image() -> None:
    pixels = _random_colours()
    ours = lab_from_rgb8(pixels, colour_space(SRGB_PROFILE))
    reference = color.rgb2lab(pixels[None].astype(np.float64) / 255.0)[0]
    assert np.abs(ours - reference).max() < 0.05


def test_no_profile_is_read_as_srgb_and_marked_assumed() -> None:
    space = colour_space(None)
    assert space.assumed
    assert np.abs(space.to_xyz - colour_space(SRGB_PROFILE).to_xyz).max() < 1e-3


@pytest.mark.parametrize(("profile", "to_xyz"), [
    (synthetic.display_p3_profile(), synthetic.P3_TO_XYZ),
    (synthetic.adobe_rgb_profile(), synthetic.ADOBE_TO_XYZ),
], ids=["display-p3", "adobe-rgb"])
def test_wide_gamut_profiles_are_read_exactly(profile: bytes, to_xyz: np.ndarray) -> None:
    space = colour_space(profile)
    assert not space.assumed
    assert np.abs(space.to_xyz - to_xyz).max() < 2e-4


@pytest.mark.parametrize("profile", [synthetic.display_p3_profile(),
                                     synthetic.adobe_rgb_profile()],
                         ids=["display-p3", "adobe-rgb"])
def test_conversion_agrees_with_littlecms(profile: bytes) -> None:
    # littlecms converts in 8 bits and clips to the sRGB gamut: compare on in-gamut colours.
    pixels = np.random.default_rng(3).integers(40, 216, (2000, 3), dtype=np.uint8)
    image = Image.fromarray(pixels[None])
    srgb = ImageCms.profileToProfile(image, ImageCms.ImageCmsProfile(io.BytesIO(profile)),
                                     ImageCms.ImageCmsProfile(io.BytesIO(SRGB_PROFILE)),
                                     outputMode="RGB")
    assert srgb is not None
    reference = color.rgb2lab(np.asarray(srgb)[0].astype(np.float64) / 255.0)
    ours = lab_from_rgb8(pixels, colour_space(profile))
    in_gamut = (np.asarray(srgb)[0] > 2).all(axis=1) & (np.asarray(srgb)[0] < 253).all(axis=1)
    # One 8-bit step of the littlecms output is worth up to ~1 a* unit.
    assert np.abs(ours - reference)[in_gamut].mean() < 0.5
    assert np.abs(ours - reference)[in_gamut].max() < 2.0


def test_a_profile_that_is_not_rgb_matrix_shaper_is_refused() -> None:
    lab_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    with pytest.raises(ProfileNotUsable):
        colour_space(lab_profile)
    with pytest.raises(ProfileNotUsable):
        colour_space(b"not a profile at all" * 10)


@pytest.fixture(scope="module")
def encodings(portrait: synthetic.RGB8) -> dict[str, bytes]:
    p3 = synthetic.srgb_to_display_p3(portrait)
    files = {
        "srgb-jpeg": synthetic.encode(portrait, icc=SRGB_PROFILE),
        "p3-jpeg": synthetic.encode(p3, icc=synthetic.display_p3_profile()),
        "adobe-jpeg": synthetic.encode(synthetic.srgb_to_adobe(portrait),
                                       icc=synthetic.adobe_rgb_profile()),
        "p3-heic": synthetic.encode(p3, "HEIF", icc=synthetic.display_p3_profile(),
                                    quality=92),
    }
    # Every file goes through the real intake path first (the HEIC becomes a JPEG there).
    return {name: accept_image(data).data for name, data in files.items()}


def test_the_same_face_reads_the_same_a_star_in_every_encoding(
        encodings: dict[str, bytes]) -> None:
    readings = {name: analyse_photo(data, ZONES) for name, data in encodings.items()}
    for name, analysis in readings.items():
        assert analysis.redness is not None, (name, analysis.quality.codes)
    reference = readings["srgb-jpeg"].redness
    assert reference is not None
    for name, analysis in readings.items():
        assert analysis.redness is not None
        for zone in ZONES:
            difference = analysis.redness.zones[zone].a_star - reference.zones[zone].a_star
            assert abs(difference) <= 1.0, (name, zone, difference)


def test_display_p3_read_as_srgb_under_reads_redness(encodings: dict[str, bytes]) -> None:
    managed = decode_for_measurement(encodings["p3-jpeg"])
    naive = colour_space(None)
    face_pixels = managed.rgb[300:500, 300:600].reshape(-1, 3)
    right = lab_from_rgb8(face_pixels, managed.space)[:, 1].mean()
    wrong = lab_from_rgb8(face_pixels, naive)[:, 1].mean()
    # imaging.md §2.1: P3 read as sRGB loses 2–4.4 a* units on skin.
    assert right - wrong > 1.5
