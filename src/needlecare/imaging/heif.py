"""HEIC/HEIF (iPhone photos) through pillow-heif.

libheif applies the HEIF rotation and mirror properties when it decodes, so the pixels come out
upright and the EXIF orientation it hands over is reset to 1.
"""

from __future__ import annotations

import io
import struct

import pillow_heif
from PIL import Image

from needlecare.imaging.container import ContainerError

# Brands of still HEIF images coded with HEVC (ISO/IEC 23008-12). AVIF ("avif", "avis") and
# image sequences other than Apple's bursts are not accepted.
HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"})


def ftyp_brands(data: bytes) -> tuple[bytes, frozenset[bytes]] | None:
    """The major brand and the compatible brands of an ISO-BMFF file, or None."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    (size,) = struct.unpack_from(">I", data, 0)
    if size < 16 or size > min(len(data), 4096) or size % 4:
        return None
    major = data[8:12]
    compatible = frozenset(data[i:i + 4] for i in range(16, size, 4))
    return major, compatible


# Boxes that may stand at the top level of a HEIF file (ISO/IEC 14496-12, 23008-12).
_TOP_LEVEL_BOXES = frozenset({b"ftyp", b"meta", b"mdat", b"moov", b"free", b"skip", b"uuid",
                              b"moof", b"mfra", b"styp", b"sidx", b"pdin", b"jumb", b"idat",
                              b"etyp", b"mini"})


def top_level_end(data: bytes) -> int:
    """The offset where the last top-level box ends.

    Bytes that do not start a known top-level box are data after the image (the offset where
    they start is returned); a known box that runs past the end of the file means the file was
    cut off (ContainerError).
    """
    position = 0
    while position < len(data):
        if position + 8 > len(data):
            raise ContainerError("truncated", "the file ends inside a box header")
        size, kind = struct.unpack_from(">I4s", data, position)
        if kind not in _TOP_LEVEL_BOXES:
            return position
        if size == 1:
            if position + 16 > len(data):
                raise ContainerError("truncated", "the file ends inside a box header")
            (size,) = struct.unpack_from(">Q", data, position + 8)
        elif size == 0:  # the last box runs to the end of the file
            return len(data)
        if size < 8:
            raise ContainerError("malformed", "impossible box size")
        if position + size > len(data):
            raise ContainerError("truncated", "the file ends inside a box")
        position += size
    return position


def is_heif(data: bytes) -> bool:
    brands = ftyp_brands(data)
    if brands is None:
        return False
    major, compatible = brands
    if b"avif" in compatible or major in {b"avif", b"avis"}:
        return False
    return major in HEIF_BRANDS or bool(compatible & {b"heic", b"heix"})


def open_heif(data: bytes) -> pillow_heif.HeifFile:
    """The HEIF file, its primary image not decoded yet (size and metadata are read)."""
    return pillow_heif.open_heif(io.BytesIO(data), convert_hdr_to_8bit=True)


def open_image(data: bytes) -> Image.Image:
    image = open_heif(data).to_pillow()
    image.format = "HEIF"
    return image
