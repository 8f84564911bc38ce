"""Derivatives: upright sRGB JPEG copies for looking at, made once."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageCms

from needlecare.imaging.derivatives import make_derivatives
from needlecare.imaging.intake import accept_image
from tests.imaging import synthetic

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _without_date(profile: bytes) -> bytes:
    """An ICC profile without its header's creation time (bytes 24-35): LittleCMS stamps the
    moment a profile is made, and the module's and this test's were made at different times."""
    return profile[:24] + profile[36:]


def test_thumbnail_and_screen_copies_are_upright_srgb_jpegs() -> None:
    wide = np.zeros((1200, 4000, 3), np.uint8)
    wide[:, :2000] = (200, 40, 40)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown a quarter turn clockwise: upright it is portrait
    stored = accept_image(synthetic.encode(wide, exif=exif)).data
    copies = {d.name: d for d in make_derivatives(stored)}
    assert set(copies) == {"thumbnail", "screen"}
    for copy in copies.values():
        image = Image.open(io.BytesIO(copy.data))
        assert image.format == "JPEG"
        assert image.height > image.width  # orientation applied
        assert (image.width, image.height) == (copy.width, copy.height)
        assert _without_date(image.info["icc_profile"]) == _without_date(SRGB)
        assert not image.getexif()
    assert max(copies["thumbnail"].width, copies["thumbnail"].height) == 320
    assert 1024 < max(copies["screen"].width, copies["screen"].height) <= 2048


def test_display_p3_colours_are_converted_to_srgb_for_the_copies() -> None:
    srgb_red = np.zeros((400, 400, 3), np.uint8)
    srgb_red[:] = (200, 60, 50)
    p3 = synthetic.srgb_to_display_p3(srgb_red)
    assert abs(int(p3[0, 0, 0]) - 200) > 5  # the stored codes differ from the sRGB ones
    stored = accept_image(synthetic.encode(p3, icc=synthetic.display_p3_profile(),
                                           quality=100, subsampling=0)).data
    thumbnail = make_derivatives(stored)[-1]
    pixel = np.asarray(Image.open(io.BytesIO(thumbnail.data)))[100, 100].astype(int)
    assert np.abs(pixel - np.array([200, 60, 50])).max() <= 4


def test_the_upload_pipeline_measures_what_a_fresh_decode_measures() -> None:
    from needlecare.imaging.analysis import analyse_photo
    from needlecare.imaging.upload import process_upload

    big = np.ascontiguousarray(np.kron(synthetic.portrait(), np.ones((3, 3, 1), np.uint8)))
    processed = process_upload(synthetic.encode(big, icc=synthetic.display_p3_profile()))
    assert processed.analysis is not None
    assert processed.analysis.redness is not None, processed.analysis.quality.codes
    fresh = analyse_photo(processed.accepted.data).redness
    assert fresh is not None
    for zone, reading in processed.analysis.redness.zones.items():
        assert abs(reading.a_star - fresh.zones[zone].a_star) < 0.3, zone
    assert {d.name for d in processed.derivatives} == {"thumbnail", "screen"}
    # The preview was not changed by making the derivatives or measuring.
    assert processed.accepted.preview is not None
    assert max(processed.accepted.preview.size) == 1350
