"""Files for the photo tests of the web form, the API and the browser: good photos made from a
public-domain portrait (scikit-image's astronaut, via tests/imaging/synthetic.py), a dark one,
and one bad file of every kind the intake refuses. Nothing here is a real patient's photo;
everything is generated when asked for and kept small."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from functools import cache

import numpy as np
from PIL import Image

from needlecare.imaging.landmarks import find_face
from tests.imaging import synthetic


@cache
def portrait_rgb() -> synthetic.RGB8:
    """The portrait at 600×600: big enough for the face checks, small enough to be quick."""
    return np.ascontiguousarray(synthetic.portrait()[::3, ::3].repeat(2, 0).repeat(2, 1))


def exif_with_camera_and_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Synthetica"                   # Make
    exif[0x0110] = "Phone 12"                     # Model
    exif[0x013B] = "Sam Example (owner)"          # Artist: must not be stored
    exif[0xA431] = "SERIAL-123456"                # BodySerialNumber
    details = exif.get_ifd(0x8769)
    details[0x9209] = 0                           # Flash: did not fire
    details[0x829A] = 1 / 120                     # ExposureTime
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 0.0)
    return exif


@cache
def good_jpeg() -> bytes:
    return synthetic.encode(portrait_rgb(), exif=exif_with_camera_and_gps())


@cache
def dark_jpeg() -> bytes:
    dark = (portrait_rgb().astype(np.float32) * 0.18).astype(np.uint8)
    return synthetic.encode(dark)


@cache
def redder_jpeg(delta: float) -> bytes:
    """The portrait with a* raised by ``delta`` over the cheeks (L* and b* unchanged)."""
    rgb = portrait_rgb()
    face = find_face(rgb)
    assert face is not None
    return synthetic.encode(synthetic.shift_a_star(rgb, face, "cheeks", delta))


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))


def _small() -> synthetic.RGB8:
    return np.ascontiguousarray(synthetic.portrait()[::3, ::3])


def _saved(kind: str, image: Image.Image | None = None, **options: object) -> bytes:
    buffer = io.BytesIO()
    (image or Image.fromarray(_small())).save(buffer, kind, **options)
    return buffer.getvalue()


def _zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("payload.txt", "not a photo")
    return archive.getvalue()


def _bomb() -> bytes:
    header = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + _png_chunk(b"IEND", b""))


def _animated() -> bytes:
    frames = [Image.fromarray(_small()), Image.fromarray(_small()[::-1].copy())]
    return _saved("PNG", frames[0], save_all=True, append_images=frames[1:], duration=100)


def bad_files() -> dict[str, tuple[bytes, str]]:
    """One file per refusal: name → (bytes, the intake's refusal code)."""
    jpeg = synthetic.encode(_small())
    return {
        "empty": (b"", "empty"),
        "gif": (_saved("GIF"), "unsupported_format"),
        "pdf": (_saved("PDF"), "unsupported_format"),
        "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                "unsupported_format"),
        "zip-polyglot": (jpeg + _zip(), "polyglot"),
        "trailing-data": (jpeg + b"\x00hidden payload" * 4, "trailing_data"),
        "truncated": (jpeg[:len(jpeg) // 2], "truncated"),
        "bomb": (_bomb(), "too_many_pixels"),
        "too-small": (synthetic.encode(_small()[:100, :100]), "too_small"),
        "animated": (_animated(), "animated"),
        "cmyk": (_saved("JPEG", Image.fromarray(_small()).convert("CMYK")),
                 "unsupported_colour"),
    }
