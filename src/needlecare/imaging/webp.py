"""Walk a WebP's RIFF chunks, find where it ends, and drop metadata without re-encoding.

Kept: the image (VP8, VP8L, ALPH), the ICC profile (ICCP) and a new EXIF holding only the
orientation; XMP, the original EXIF and unknown chunks are dropped and the VP8X flags and the
RIFF size rewritten to match.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from needlecare.imaging.container import ContainerError

_KEEP = frozenset({b"VP8 ", b"VP8L", b"ALPH", b"ICCP"})
_FLAG_ICC, _FLAG_ALPHA, _FLAG_EXIF = 0x20, 0x10, 0x08


@dataclass(frozen=True)
class Chunk:
    kind: bytes
    start: int
    end: int  # just after the padding byte, if any


@dataclass(frozen=True)
class Layout:
    chunks: tuple[Chunk, ...]
    end: int

    def has(self, kind: bytes) -> bool:
        return any(c.kind == kind for c in self.chunks)

    def payload(self, data: bytes, kind: bytes) -> bytes | None:
        for chunk in self.chunks:
            if chunk.kind == kind:
                (size,) = struct.unpack_from("<I", data, chunk.start + 4)
                return data[chunk.start + 8:chunk.start + 8 + size]
        return None


def walk(data: bytes) -> Layout:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ContainerError("malformed", "not a WebP file")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + riff_size
    if riff_size % 2 or riff_size < 4:
        raise ContainerError("malformed", "impossible RIFF size")
    if end > len(data):
        raise ContainerError("truncated", "the file is shorter than its RIFF header says")
    chunks = []
    position = 12
    while position < end:
        if position + 8 > end:
            raise ContainerError("malformed", "a chunk header crosses the end of the file")
        kind, size = struct.unpack_from("<4sI", data, position)
        chunk_end = position + 8 + size + (size & 1)
        if chunk_end > end:
            raise ContainerError("truncated", "a chunk crosses the end of the file")
        chunks.append(Chunk(kind, position, chunk_end))
        position = chunk_end
    # Animations keep their frames inside ANMF chunks (and are refused by intake as such).
    if not any(c.kind in {b"VP8 ", b"VP8L", b"ANMF"} for c in chunks):
        raise ContainerError("malformed", "no image data")
    return Layout(tuple(chunks), end)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def strip(data: bytes, layout: Layout, exif_tiff: bytes | None, size: tuple[int, int]) -> bytes:
    """The WebP rebuilt from its kept chunks (see the module docstring).

    ``exif_tiff`` (TIFF-structured, without the ``Exif\\0\\0`` prefix) becomes the only EXIF;
    a simple-format file gains the extended header (VP8X) it needs to carry it, with the canvas
    ``size``.
    """
    kept = [c for c in layout.chunks if c.kind in _KEEP]
    body = b"".join(data[c.start:c.end] for c in kept)
    vp8x = layout.payload(data, b"VP8X")
    if vp8x is not None or exif_tiff is not None:
        flags = _FLAG_ICC if any(c.kind == b"ICCP" for c in kept) else 0
        if vp8x is not None and vp8x[0] & _FLAG_ALPHA:
            flags |= _FLAG_ALPHA
        if exif_tiff is not None:
            flags |= _FLAG_EXIF
            body += _chunk(b"EXIF", exif_tiff)
        if vp8x is not None:
            canvas = vp8x[4:10]
        else:
            width, height = size
            canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        body = _chunk(b"VP8X", bytes([flags, 0, 0, 0]) + canvas) + body
    payload = b"WEBP" + body
    return b"RIFF" + struct.pack("<I", len(payload)) + payload
