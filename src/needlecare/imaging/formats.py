"""Which image format a byte string is, judged by its content alone.

The name and the declared type of an upload are never consulted: both are chosen by the
sender. A format is first recognised by its signature here, then proven by a real decode in
``intake``.
"""

from __future__ import annotations

import enum
import io
import zipfile

from needlecare.imaging.heif import ftyp_brands, is_heif


class ImageFormat(enum.StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    HEIF = "heif"


# Formats a polyglot might also be, with the signature each is recognised by at the start.
_LEADING_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF"), (b"GIF89a", "GIF"), (b"%PDF-", "PDF"), (b"PK\x03\x04", "ZIP"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"BM", "BMP"), (b"\x7fELF", "ELF"),
    (b"Rar!\x1a\x07", "RAR"), (b"7z\xbc\xaf\x27\x1c", "7-Zip"), (b"\x1f\x8b", "gzip"),
    (b"%!PS", "PostScript"), (b"\x00\x00\x01\x00", "ICO"), (b"8BPS", "Photoshop"),
)
# Markup that browsers sniff for; a PDF reader finds "%PDF-" anywhere in the first kilobyte.
_MARKUP = (b"<svg", b"<?xml", b"<!doctype", b"<html", b"<script", b"<?php", b"<body",
           b"<iframe")
# Active content that has no business in the first kilobyte of a photo (XMP packets there
# legitimately hold "<?xpacket" and "<?xml", so those are not on this list).
_ACTIVE = (b"<html", b"<script", b"<?php", b"<body", b"<iframe", b"<!doctype html")


def sniff(data: bytes) -> ImageFormat | None:
    """The accepted image format ``data`` starts like, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageFormat.WEBP
    if is_heif(data):
        return ImageFormat.HEIF
    return None


def describe_other(data: bytes) -> str | None:
    """A plain name for a recognisable non-accepted format (for the refusal message)."""
    head = data[:512].lstrip().lower()
    for signature, name in _LEADING_SIGNATURES:
        if data.startswith(signature):
            return name
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in head:
        return "SVG"
    if any(head.startswith(tag) for tag in _MARKUP):
        return "HTML or XML"
    brands = ftyp_brands(data)
    if brands is not None:
        return "AVIF" if b"avif" in brands[1] or brands[0] in {b"avif", b"avis"} else "video"
    return None


def also_valid_as(data: bytes) -> str | None:
    """Another format ``data`` is also valid as (a polyglot), or None.

    ZIP readers look for their directory at the end of a file and PDF readers for their
    header anywhere in the first kilobyte, so an image can carry either while still decoding
    as an image.
    """
    if zipfile.is_zipfile(io.BytesIO(data)):
        return "ZIP"
    if b"%PDF-" in data[:1024]:
        return "PDF"
    head = data[:1024].lower()
    if any(tag in head for tag in _ACTIVE):
        return "HTML"
    return None
