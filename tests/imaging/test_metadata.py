"""Stripping: what is stored keeps the pixels, the orientation and the colour profile, and
loses GPS, serial numbers, owner names, XMP, IPTC and comments. Camera facts are returned."""

from __future__ import annotations

import datetime as dt
import io
import struct

import numpy as np
import pytest
from PIL import Image

from needlecare.imaging import jpeg
from needlecare.imaging.intake import accept_image
from tests.imaging import synthetic

SECRETS = (b"SN-0042-SECRET", b"Jane Q. Owner", b"51 deg", b"xmp-secret", b"iptc-secret",
           b"comment-secret", b"Maker-note-secret")
ORIENTATION, MAKE, MODEL, ARTIST, MAKER_NOTE = 0x0112, 0x010F, 0x0110, 0x013B, 0x927C
EXIF_IFD, GPS_IFD = 0x8769, 0x8825


def _exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "Apple"
    exif[MODEL] = "iPhone 15 Pro"
    exif[ARTIST] = "Jane Q. Owner"
    details = exif.get_ifd(EXIF_IFD)
    details[0x9003] = "2026:03:14 09:26:53"   # DateTimeOriginal
    details[0x9011] = "+01:00"                # OffsetTimeOriginal
    details[0x829A] = 1 / 120                 # ExposureTime
    details[0x829D] = 1.8                     # FNumber
    details[0x8827] = 64                      # ISO
    details[0x9209] = 0x19                    # Flash fired, auto
    details[0xA403] = 0                       # auto white balance
    details[0xA431] = "SN-0042-SECRET"        # BodySerialNumber
    details[MAKER_NOTE] = b"Maker-note-secret"
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2] = "N", (51.0, 30.0, 26.0)
    gps[29] = "51 deg"
    return exif


def _insert(data: bytes, marker: int, payload: bytes) -> bytes:
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + segment + data[2:]


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return np.ascontiguousarray(synthetic.portrait()[::2, ::2])


@pytest.fixture(scope="module")
def tagged_jpeg(photo: np.ndarray) -> bytes:
    data = synthetic.encode(photo, exif=_exif(), icc=synthetic.display_p3_profile())
    data = _insert(data, 0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>xmp-secret</x:xmpmeta>")
    data = _insert(data, 0xED, b"Photoshop 3.0\08BIM\x04\x04iptc-secret")
    return _insert(data, 0xFE, b"comment-secret")


def _entropy_coded(data: bytes) -> bytes:
    layout = jpeg.walk(data)
    return b"".join(data[p.start:p.end] for p in layout.pieces if p.marker is None)


def test_jpeg_metadata_is_stripped_and_pixels_untouched(tagged_jpeg: bytes) -> None:
    assert all(secret in tagged_jpeg for secret in SECRETS)
    stored = accept_image(tagged_jpeg).data
    for secret in SECRETS:
        assert secret not in stored, secret
    # Not re-encoded: the compressed scan data are the same bytes, the pixels the same values.
    assert _entropy_coded(stored) == _entropy_coded(tagged_jpeg)
    before = np.asarray(Image.open(io.BytesIO(tagged_jpeg)))
    after = np.asarray(Image.open(io.BytesIO(stored)))
    assert np.array_equal(before, after)


def test_jpeg_keeps_orientation_and_icc_profile_only(tagged_jpeg: bytes) -> None:
    accepted = accept_image(tagged_jpeg)
    stored = Image.open(io.BytesIO(accepted.data))
    assert stored.info["icc_profile"] == synthetic.display_p3_profile()
    exif = stored.getexif()
    assert dict(exif) == {ORIENTATION: 6}
    assert not exif.get_ifd(GPS_IFD)
    assert not exif.get_ifd(EXIF_IFD)
    assert accepted.orientation == 6
    assert accepted.upright_size == (accepted.height, accepted.width)
    assert accepted.icc_profile == synthetic.display_p3_profile()


def test_camera_facts_are_returned_not_kept(tagged_jpeg: bytes) -> None:
    facts = accept_image(tagged_jpeg).camera
    assert facts.make == "Apple"
    assert facts.model == "iPhone 15 Pro"
    assert facts.flash_fired is True
    assert facts.exposure_time_s == pytest.approx(1 / 120)
    assert facts.f_number == pytest.approx(1.8)
    assert facts.iso == 64
    assert facts.white_balance == "auto"
    assert facts.captured_at == dt.datetime(2026, 3, 14, 9, 26, 53,
                                            tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert "serial" not in str(facts.as_dict()).lower()


def test_a_jpeg_without_metadata_gains_none(photo: np.ndarray) -> None:
    data = synthetic.encode(photo)
    accepted = accept_image(data)
    assert accepted.orientation == 1
    assert not Image.open(io.BytesIO(accepted.data)).getexif()


@pytest.mark.filterwarnings("ignore:Image appears to be a malformed MPO file")
def test_camera_secondary_images_after_the_jpeg_are_dropped(photo: np.ndarray) -> None:
    # iPhones append gain maps and depth maps as further JPEGs, declared in an MPF segment.
    main = _insert(synthetic.encode(photo), 0xE2, b"MPF\0" + bytes(16))
    gain_map = synthetic.encode(np.ascontiguousarray(photo[::4, ::4]))
    accepted = accept_image(main + gain_map)
    assert len(accepted.data) < len(main)
    assert b"MPF\0" not in accepted.data
    assert jpeg.walk(accepted.data).end == len(accepted.data)


def test_png_text_and_exif_are_stripped_losslessly(photo: np.ndarray) -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Q. Owner")
    info.add_itxt("XML:com.adobe.xmp", "xmp-secret")
    data = synthetic.encode(photo, "PNG", icc=synthetic.display_p3_profile(), exif=_exif(3),
                            pnginfo=info)
    assert b"Jane Q. Owner" in data
    assert b"SN-0042-SECRET" in data
    stored = accept_image(data).data
    for secret in SECRETS:
        assert secret not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.info["icc_profile"] == synthetic.display_p3_profile()
    assert dict(image.getexif()) == {ORIENTATION: 3}
    assert np.array_equal(np.asarray(image), photo)


@pytest.mark.parametrize("lossless", [True, False])
def test_webp_metadata_is_stripped_without_re_encoding(photo: np.ndarray,
                                                       lossless: bool) -> None:
    data = synthetic.encode(photo, "WEBP", icc=synthetic.display_p3_profile(), exif=_exif(8),
                            xmp=b"<x:xmpmeta>xmp-secret</x:xmpmeta>", lossless=lossless)
    assert b"SN-0042-SECRET" in data
    assert b"xmp-secret" in data
    stored = accept_image(data).data
    for secret in SECRETS:
        assert secret not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.info["icc_profile"] == synthetic.display_p3_profile()
    assert dict(image.getexif()) == {ORIENTATION: 8}
    assert np.array_equal(np.asarray(image), np.asarray(Image.open(io.BytesIO(data))))


def test_a_simple_webp_gains_the_header_its_orientation_needs(photo: np.ndarray) -> None:
    # A WebP that carried only EXIF: the stored copy keeps the orientation in a new EXIF.
    data = synthetic.encode(photo, "WEBP", exif=_exif(6))
    image = Image.open(io.BytesIO(accept_image(data).data))
    assert dict(image.getexif()) == {ORIENTATION: 6}
    assert image.size == (photo.shape[1], photo.shape[0])


def test_heic_is_stored_upright_as_jpeg_with_its_profile_and_no_metadata(
        photo: np.ndarray) -> None:
    data = synthetic.encode(photo, "HEIF", icc=synthetic.display_p3_profile(), exif=_exif(6))
    accepted = accept_image(data)
    assert accepted.camera.model == "iPhone 15 Pro"
    stored = Image.open(io.BytesIO(accepted.data))
    assert stored.format == "JPEG"
    assert stored.info["icc_profile"] == synthetic.display_p3_profile()
    assert not stored.getexif()
    for secret in SECRETS:
        assert secret not in accepted.data
    # libheif turned the pixels (orientation 6: a quarter turn clockwise to show upright).
    assert stored.size == (photo.shape[0], photo.shape[1])
    assert accepted.orientation == 1
