"""Walk a JPEG's segments, find where the image ends, and drop metadata without re-encoding.

The entropy-coded scans are copied byte for byte; only marker segments are chosen. What is
kept: the frame, tables and scans, APP0 JFIF, APP14 Adobe (it says how to decode the colour
channels), the ICC profile (APP2 ICC_PROFILE, all chunks) and a new minimal EXIF holding only
the orientation. Everything else (EXIF with GPS, serial numbers and owner names, XMP, IPTC,
comments, maker notes, MPF secondary images, C2PA/JUMBF) is left out.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from needlecare.imaging.container import ContainerError

SOI = b"\xff\xd8"
EOI = 0xD9
SOS = 0xDA
APP0, APP1, APP2, APP14, COM = 0xE0, 0xE1, 0xE2, 0xEE, 0xFE
# The next marker inside entropy-coded data: 0xFF followed by a byte that is neither a stuffed
# zero, a restart marker nor another 0xFF (fill bytes before a marker stay with the data).
# Written without a repetition: "\xff+" makes the search twenty times slower.
_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


@dataclass(frozen=True)
class Piece:
    """A marker segment (``marker`` set) or an entropy-coded run (``marker`` None)."""

    marker: int | None
    start: int
    end: int


@dataclass(frozen=True)
class Layout:
    pieces: tuple[Piece, ...]
    end: int  # offset just after EOI

    def segments(self, data: bytes, marker: int) -> list[bytes]:
        """Payloads (after the length field) of the segments with this marker."""
        return [data[p.start + 4:p.end] for p in self.pieces if p.marker == marker]


def walk(data: bytes, start: int = 0) -> Layout:
    """The segments of the JPEG stream beginning at ``start``, up to and including EOI."""
    if data[start:start + 2] != SOI:
        raise ContainerError("malformed", "not a JPEG stream")
    pieces: list[Piece] = []
    position = start + 2
    size = len(data)
    while True:
        if position + 2 > size:
            raise ContainerError("truncated", "the image ends before its end marker")
        if data[position] != 0xFF:
            raise ContainerError("malformed", f"expected a marker at byte {position}")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == EOI:
            return Layout(tuple(pieces), position + 2)
        if 0xD0 <= marker <= 0xD7 or marker in {0x01, 0xD8}:
            raise ContainerError("malformed", f"unexpected marker 0x{marker:02X}")
        if position + 4 > size:
            raise ContainerError("truncated", "the image ends inside a segment header")
        (length,) = struct.unpack_from(">H", data, position + 2)
        end = position + 2 + length
        if length < 2 or end > size:
            raise ContainerError("truncated", "the image ends inside a segment")
        pieces.append(Piece(marker, position, end))
        position = end
        if marker == SOS:
            found = _NEXT_MARKER.search(data, position)
            if found is None:
                raise ContainerError("truncated", "the image ends inside its pixel data")
            marker_at = found.start()
            pieces.append(Piece(None, position, marker_at))
            position = marker_at


def _is_app(payload: bytes, prefix: bytes) -> bool:
    return payload.startswith(prefix)


def has_mpf(data: bytes, layout: Layout) -> bool:
    return any(_is_app(p, b"MPF\0") for p in layout.segments(data, APP2))


def trailing_images_only(data: bytes, layout: Layout) -> bool:
    """True when everything after the main image is further complete JPEG images declared by
    the camera's Multi-Picture Format segment (iPhone gain maps, depth maps, previews)."""
    if not has_mpf(data, layout):
        return False
    position = layout.end
    while position < len(data):
        try:
            position = walk(data, position).end
        except ContainerError:
            return False
    return True


def icc_profile(data: bytes, layout: Layout) -> bytes | None:
    """The ICC profile reassembled from its APP2 chunks, in sequence order."""
    chunks = []
    for payload in layout.segments(data, APP2):
        if payload.startswith(b"ICC_PROFILE\0") and len(payload) >= 14:
            chunks.append((payload[12], payload[14:]))
    if not chunks:
        return None
    return b"".join(chunk for _, chunk in sorted(chunks, key=lambda c: c[0]))


def _keep(marker: int | None, payload: bytes) -> bool:
    if marker is None:
        return True
    if marker == APP0:
        return payload.startswith(b"JFIF\0")
    if marker == APP2:
        return payload.startswith(b"ICC_PROFILE\0")
    if marker == APP14:
        return payload.startswith(b"Adobe")
    # Other application segments and comments carry metadata, never pixels.
    return not (0xE0 <= marker <= 0xEF or marker == COM)


def _segment(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise ValueError("segment too long")
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def strip(data: bytes, layout: Layout, exif: bytes | None) -> bytes:
    """The JPEG rebuilt from the kept pieces of ``layout``.

    ``exif`` (``b"Exif\\0\\0"`` + TIFF, e.g. only the orientation) goes where the first
    original EXIF was, or right after JFIF when there was none.
    """
    out = [SOI]
    placed = exif is None
    for piece in layout.pieces:
        payload = data[piece.start + 4:piece.end] if piece.marker is not None else b""
        if not placed and piece.marker == APP1 and payload.startswith(b"Exif\0"):
            out.append(_segment(APP1, exif or b""))
            placed = True
            continue
        if not placed and (piece.marker is None or not 0xE0 <= piece.marker <= 0xEF):
            out.append(_segment(APP1, exif or b""))
            placed = True
        if _keep(piece.marker, payload):
            out.append(data[piece.start:piece.end])
    out.append(b"\xff\xd9")
    return b"".join(out)
