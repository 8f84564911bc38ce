"""Safe intake: photos identified by content; everything else refused with a code and plain
words, before anything would be stored."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from needlecare.imaging.formats import ImageFormat
from needlecare.imaging.intake import REFUSALS, IntakeLimits, IntakeRefused, accept_image
from tests.imaging import synthetic


def _refusal(data: bytes, limits: IntakeLimits | None = None) -> IntakeRefused:
    with pytest.raises(IntakeRefused) as caught:
        accept_image(data, limits)
    assert caught.value.code in REFUSALS
    assert caught.value.message
    assert "{" not in caught.value.message
    return caught.value


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))


@pytest.fixture(scope="module")
def small_photo() -> np.ndarray:
    return np.ascontiguousarray(synthetic.portrait()[::3, ::3])  # 300×300


# --- what is accepted ---------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "expected"), [
    ("JPEG", ImageFormat.JPEG), ("PNG", ImageFormat.PNG), ("WEBP", ImageFormat.WEBP),
    ("HEIF", ImageFormat.HEIF)])
def test_each_photo_format_is_accepted_by_content(small_photo: np.ndarray, kind: str,
                                                  expected: ImageFormat) -> None:
    accepted = accept_image(synthetic.encode(small_photo, kind))
    assert accepted.received_format is expected
    assert (accepted.width, accepted.height) == (300, 300)
    # HEIC is kept as a JPEG that every browser can show; the others keep their format.
    assert accepted.stored_format is (ImageFormat.JPEG if kind == "HEIF" else expected)
    stored = Image.open(io.BytesIO(accepted.data))
    assert stored.size == (300, 300)
    assert accepted.content_type.startswith("image/")


def test_a_progressive_jpeg_with_restart_markers_is_accepted(small_photo: np.ndarray) -> None:
    data = synthetic.encode(small_photo, progressive=True)
    accepted = accept_image(data)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))),
                          np.asarray(Image.open(io.BytesIO(accepted.data))))


# --- what is refused ----------------------------------------------------------------------

def test_empty_and_oversized_files_are_refused(small_photo: np.ndarray) -> None:
    assert _refusal(b"").code == "empty"
    data = synthetic.encode(small_photo)
    refused = _refusal(data, IntakeLimits(max_bytes=len(data) - 1))
    assert refused.code == "too_large_file"
    assert "MB" in refused.message


@pytest.mark.parametrize(("kind", "named"), [
    ("GIF", "GIF"), ("TIFF", "TIFF"), ("BMP", "BMP"), ("PDF", "PDF")])
def test_other_image_and_document_formats_are_refused_whatever_their_name(
        small_photo: np.ndarray, kind: str, named: str) -> None:
    # Intake never sees a name or a declared type: a GIF called photo.jpg is still a GIF.
    buffer = io.BytesIO()
    Image.fromarray(small_photo).save(buffer, kind)
    refused = _refusal(buffer.getvalue())
    assert refused.code == "unsupported_format"
    assert named in refused.message


@pytest.mark.parametrize("markup", [
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
    b"<!DOCTYPE html><html><body>hello</body></html>",
], ids=["svg", "svg-xml", "html"])
def test_markup_is_refused(markup: bytes) -> None:
    assert _refusal(markup).code == "unsupported_format"


def test_avif_is_refused(small_photo: np.ndarray) -> None:
    avif = (struct.pack(">I", 24) + b"ftypavif" + bytes(4) + b"avifmif1") + bytes(64)
    refused = _refusal(avif)
    assert refused.code == "unsupported_format"
    assert "AVIF" in refused.message


def test_jpeg_with_a_zip_appended_is_a_polyglot(small_photo: np.ndarray) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("payload.txt", "not a photo")
    polyglot = synthetic.encode(small_photo) + archive.getvalue()
    assert zipfile.is_zipfile(io.BytesIO(polyglot))
    refused = _refusal(polyglot)
    assert refused.code == "polyglot"
    assert "ZIP" in refused.message


def _with_segment(jpeg: bytes, marker: int, payload: bytes) -> bytes:
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def test_a_zip_hidden_inside_a_jpeg_comment_is_a_polyglot(small_photo: np.ndarray) -> None:
    # The ZIP's end record sits in a comment near the end and claims the rest of the file as
    # its own comment, so ZIP readers open it while JPEG decoders show the picture.
    jpeg = synthetic.encode(small_photo)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("a.txt", "x")
    zip_bytes = bytearray(archive.getvalue())
    tail = 2  # the EOI marker after the comment segment
    zip_bytes[-2:] = struct.pack("<H", tail)
    # Offsets inside the ZIP are relative to the file start: place it right after SOI.
    comment = bytes([0xFF, 0xFE]) + struct.pack(">H", len(zip_bytes) + 2)
    body = jpeg[2:-2]
    polyglot_head = b"\xff\xd8" + body
    offset = len(polyglot_head) + len(comment)
    directory_offset = struct.unpack_from("<I", zip_bytes, len(zip_bytes) - 6)[0]
    struct.pack_into("<I", zip_bytes, len(zip_bytes) - 6, directory_offset + offset)
    entry = zip_bytes.find(b"PK\x01\x02")
    struct.pack_into("<I", zip_bytes, entry + 42, offset)
    polyglot = polyglot_head + comment + bytes(zip_bytes) + b"\xff\xd9"
    assert zipfile.is_zipfile(io.BytesIO(polyglot))
    assert _refusal(polyglot).code == "polyglot"


def test_a_jpeg_that_is_also_a_pdf_is_a_polyglot(small_photo: np.ndarray) -> None:
    polyglot = _with_segment(synthetic.encode(small_photo), 0xFE,
                             b"%PDF-1.7\n1 0 obj<<>>endobj\n")
    assert _refusal(polyglot).code == "polyglot"


def test_script_in_a_jpeg_comment_is_refused(small_photo: np.ndarray) -> None:
    polyglot = _with_segment(synthetic.encode(small_photo), 0xFE, b"<?php system($_GET[1]); ?>")
    assert _refusal(polyglot).code == "polyglot"


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_data_after_the_image_end_is_refused(small_photo: np.ndarray, kind: str) -> None:
    refused = _refusal(synthetic.encode(small_photo, kind) + b"\x00hidden payload" * 4)
    assert refused.code == "trailing_data"


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP", "HEIF"])
@pytest.mark.parametrize("keep", [0.3, 0.9, 0.999])
def test_truncated_files_are_refused(small_photo: np.ndarray, kind: str, keep: float) -> None:
    data = synthetic.encode(small_photo, kind)
    refused = _refusal(data[:int(len(data) * keep)])
    assert refused.code in {"truncated", "malformed"}
    if kind in {"JPEG", "PNG", "WEBP"}:
        assert refused.code == "truncated"


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    # A 40 000 × 40 000 PNG (1.6 gigapixels, ~5 GB decoded) in a few hundred bytes.
    header = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 2, 0, 0, 0)
    compressed = zlib.compress(b"\x00" * 4096)
    bomb = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", compressed) + _png_chunk(b"IEND", b""))
    assert len(bomb) < 1000
    assert _refusal(bomb).code == "too_many_pixels"


def test_images_over_the_pixel_limit_are_refused(small_photo: np.ndarray) -> None:
    data = synthetic.encode(small_photo)
    refused = _refusal(data, IntakeLimits(max_pixels=299 * 300))
    assert refused.code == "too_many_pixels"
    wide = Image.new("L", (9000, 9000))
    buffer = io.BytesIO()
    wide.save(buffer, "JPEG", quality=50)
    assert _refusal(buffer.getvalue()).code == "too_many_pixels"  # 81 MP > 50 MP default


def test_tiny_images_are_refused(small_photo: np.ndarray) -> None:
    assert _refusal(synthetic.encode(small_photo[:100, :100])).code == "too_small"


def test_animations_are_refused(small_photo: np.ndarray) -> None:
    frames = [Image.fromarray(small_photo), Image.fromarray(small_photo[::-1].copy())]
    for kind in ("PNG", "WEBP"):
        buffer = io.BytesIO()
        frames[0].save(buffer, kind, save_all=True, append_images=frames[1:], duration=100)
        assert _refusal(buffer.getvalue()).code == "animated", kind


def test_cmyk_jpeg_is_refused(small_photo: np.ndarray) -> None:
    buffer = io.BytesIO()
    Image.fromarray(small_photo).convert("CMYK").save(buffer, "JPEG")
    assert _refusal(buffer.getvalue()).code == "unsupported_colour"


def test_corrupted_pixel_data_is_refused(small_photo: np.ndarray) -> None:
    data = bytearray(synthetic.encode(small_photo, "PNG"))
    data[len(data) // 2] ^= 0xFF  # breaks the chunk's checksum
    assert _refusal(bytes(data)).code == "malformed"


@settings(max_examples=300)
@given(st.binary(max_size=4096))
def test_any_byte_string_is_accepted_or_refused_never_crashes(data: bytes) -> None:
    code = None
    try:
        accept_image(data)
    except IntakeRefused as refused:
        code = refused.code
    assert code is None or code in REFUSALS


_SEED_JPEG = synthetic.encode(np.full((256, 256, 3), 128, np.uint8))
_SEED_PNG = synthetic.encode(np.full((256, 256, 3), 128, np.uint8), "PNG")


@settings(max_examples=200)
@given(st.sampled_from([_SEED_JPEG, _SEED_PNG]),
       st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
       st.integers(0, 10_000))
def test_damaged_photos_are_accepted_or_refused_never_crash(
        seed: bytes, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(seed)
    for position, value in flips:
        data[position % len(data)] = value
    code = None
    try:
        accepted = accept_image(bytes(data[:len(data) - cut % 64]))
    except IntakeRefused as refused:
        code = refused.code
    else:
        Image.open(io.BytesIO(accepted.data)).load()  # what is accepted always decodes
    assert code is None or code in REFUSALS
