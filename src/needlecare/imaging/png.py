"""Walk a PNG's chunks, find where it ends, and drop metadata chunks without re-encoding.

Kept: the image chunks, transparency, the colour information (iCCP, sRGB, gAMA, cHRM, cICP,
sBIT), the pixel density, and a new eXIf holding only the orientation. Dropped: text (tEXt,
zTXt, iTXt), time, the original eXIf and every other ancillary chunk.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from needlecare.imaging.container import ContainerError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_KEEP = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"iCCP", b"sRGB", b"gAMA",
                   b"cHRM", b"cICP", b"sBIT", b"pHYs"})


@dataclass(frozen=True)
class Chunk:
    kind: bytes
    start: int
    end: int  # just after the CRC


@dataclass(frozen=True)
class Layout:
    chunks: tuple[Chunk, ...]
    end: int

    def has(self, kind: bytes) -> bool:
        return any(c.kind == kind for c in self.chunks)


def walk(data: bytes) -> Layout:
    if not data.startswith(SIGNATURE):
        raise ContainerError("malformed", "not a PNG file")
    chunks = []
    position = len(SIGNATURE)
    while True:
        if position + 12 > len(data):
            raise ContainerError("truncated", "the image ends before its end chunk")
        length, kind = struct.unpack_from(">I4s", data, position)
        end = position + 12 + length
        if end > len(data):
            raise ContainerError("truncated", "the image ends inside a chunk")
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(data[position + 4:end - 4]) != crc:
            raise ContainerError("malformed", f"chunk {kind!r} fails its checksum")
        chunks.append(Chunk(kind, position, end))
        position = end
        if kind == b"IEND":
            return Layout(tuple(chunks), end)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload)))


def strip(data: bytes, layout: Layout, exif_tiff: bytes | None) -> bytes:
    """The PNG rebuilt from its kept chunks; ``exif_tiff`` (a TIFF-structured EXIF block
    without the ``Exif\\0\\0`` prefix) becomes the only eXIf chunk, before the image data."""
    out = [SIGNATURE]
    for chunk in layout.chunks:
        if chunk.kind == b"IDAT" and exif_tiff is not None:
            out.append(_chunk(b"eXIf", exif_tiff))
            exif_tiff = None
        if chunk.kind in _KEEP:
            out.append(data[chunk.start:chunk.end])
    return b"".join(out)
