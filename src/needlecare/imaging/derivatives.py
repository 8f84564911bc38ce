"""Thumbnail and screen-size copies of a stored photo, made once at intake.

They are converted to sRGB and carry the sRGB profile: PDFs (WeasyPrint), e-mail clients and
some browsers' image decoders ignore embedded profiles, and a Display P3 copy read as sRGB
looks washed out. They are upright (orientation applied) and have no other metadata. They are
for looking at, never for measuring: measurement always reads the stored original.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageCms, ImageOps

from needlecare.imaging import heif

# The screen copy is what a JPEG decodes to at 1/2, 1/4 or 1/8 scale (between 1025 and 2048
# pixels on the long side for any photo larger than that): DCT-domain scaling costs nothing,
# while resampling 12 megapixels to an arbitrary size costs more than the rest of the intake.
SIZES: dict[str, int] = {"thumbnail": 320, "screen": 2048}
PREVIEW_LONG_SIDE = max(SIZES.values())
QUALITY = 85

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_SRGB_BYTES = _SRGB.tobytes()


@dataclass(frozen=True)
class Derivative:
    name: str
    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


@lru_cache(maxsize=16)
def _transform_to_srgb(profile: bytes) -> ImageCms.ImageCmsTransform:
    # Building a transform costs more than applying it to a small image; phones repeat profiles.
    source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
    return ImageCms.buildTransform(source, _SRGB, "RGB", "RGB")


def _to_srgb(image: Image.Image, profile: bytes | None) -> Image.Image:
    if not profile or profile == _SRGB_BYTES:
        return image
    try:
        transform = _transform_to_srgb(bytes(profile))
    except (OSError, ImageCms.PyCMSError):
        return image  # an unreadable profile: shown as sRGB, as browsers would
    ImageCms.applyTransform(image, transform, inPlace=True)
    return image


def draft_for_preview(image: Image.Image, largest: int = PREVIEW_LONG_SIDE) -> None:
    """Ask a JPEG to decode at the smallest DCT scale whose long side is still over half of
    ``largest`` (a no-op for other formats and for small photos)."""
    if image.format == "JPEG" and max(image.size) > largest:
        ratio = (largest // 2 + 1) / max(image.size)
        image.draft(image.mode if image.mode in {"L", "CMYK"} else "RGB",
                    (round(image.width * ratio), round(image.height * ratio)))


def make_derivatives(data: bytes, sizes: dict[str, int] | None = None,
                     decoded: Image.Image | None = None) -> list[Derivative]:
    """JPEG copies of a stored photo whose long side is at most each of ``sizes``.

    ``decoded`` is the photo already decoded (at least as large as the largest size, e.g. the
    preview intake made), to skip decoding ``data`` again; it is not modified.
    """
    sizes = sizes or SIZES
    largest = max(sizes.values())
    if decoded is not None:
        image = decoded.copy()
    else:
        image = heif.open_image(data) if heif.is_heif(data) else Image.open(io.BytesIO(data))
        draft_for_preview(image, largest)
    profile = image.info.get("icc_profile")
    ImageOps.exif_transpose(image, in_place=True)
    if image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((largest, largest), Image.Resampling.BICUBIC, reducing_gap=2.0)
    image = _to_srgb(image, profile)
    out = []
    for name, side in sorted(sizes.items(), key=lambda item: -item[1]):
        copy = image.copy()
        copy.thumbnail((side, side), Image.Resampling.BICUBIC, reducing_gap=2.0)
        buffer = io.BytesIO()
        copy.save(buffer, "JPEG", quality=QUALITY, icc_profile=_SRGB_BYTES, optimize=False)
        out.append(Derivative(name, buffer.getvalue(), copy.width, copy.height))
        image = copy  # each smaller size from the previous one
    return out
