"""Safe intake of an uploaded photo: identify it by content, refuse what is not a clean single
photo, keep only orientation and colour profile, and describe it.

Nothing here trusts the file name or the declared content type. Every refusal is an
``IntakeRefused`` with a machine-readable ``code`` and a message in plain words for the person
who sent the file; nothing about a refused file should be stored.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageCms

from needlecare.imaging import heif, jpeg, png, webp
from needlecare.imaging.camera import (
    CameraFacts,
    camera_facts,
    orientation,
    orientation_only_exif,
)
from needlecare.imaging.container import ContainerError
from needlecare.imaging.derivatives import draft_for_preview
from needlecare.imaging.formats import ImageFormat, also_valid_as, describe_other, sniff

# HEIF photos are stored as JPEG (see ``_heif_to_jpeg``): high quality, no chroma subsampling.
HEIF_STORE_QUALITY = 95

REFUSALS: dict[str, str] = {
    "empty": "The file is empty.",
    "too_large_file": "The file is too large (over {limit}). Send the photo as taken by the "
                      "phone, not a scan or an edited copy.",
    "unsupported_format": "This is not a photo we can take ({what}). Send a JPEG, PNG, HEIC "
                          "or WebP photo.",
    "polyglot": "The file is a photo and also something else ({what}). For safety it is not "
                "accepted; send the photo straight from the camera.",
    "trailing_data": "The file has extra data after the picture. For safety it is not "
                     "accepted; send the photo straight from the camera.",
    "truncated": "The file is incomplete (the upload may have been cut off). Please try "
                 "again.",
    "malformed": "The file is damaged and cannot be read as a photo.",
    "too_many_pixels": "The picture is too large ({pixels} megapixels; the limit is {limit}).",
    "too_small": "The picture is too small to be useful ({width}×{height} pixels).",
    "animated": "This is an animation, not a single photo.",
    "unsupported_colour": "The photo uses a colour format we cannot read ({mode}).",
}


class IntakeRefused(ValueError):
    """The upload is refused; ``code`` is a key of ``REFUSALS``."""

    def __init__(self, code: str, **details: object) -> None:
        self.code = code
        self.details = details
        self.message = REFUSALS[code].format(**details)
        super().__init__(self.message)


@dataclass(frozen=True)
class IntakeLimits:
    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 50_000_000
    min_side: int = 200


@dataclass(frozen=True)
class AcceptedImage:
    """A photo that passed intake, with the bytes to store and the facts to record."""

    received_format: ImageFormat
    stored_format: ImageFormat
    data: bytes
    width: int   # of the stored pixels, before orientation is applied
    height: int
    orientation: int  # EXIF orientation kept in the stored file (1 = as stored)
    icc_profile: bytes | None
    camera: CameraFacts = field(default_factory=CameraFacts)
    # The pixels as intake decoded them (a JPEG at the preview scale, orientation not applied),
    # for making derivatives and measuring without decoding the stored file again.
    preview: Image.Image | None = field(default=None, compare=False, repr=False)

    @property
    def content_type(self) -> str:
        return {ImageFormat.JPEG: "image/jpeg", ImageFormat.PNG: "image/png",
                ImageFormat.WEBP: "image/webp", ImageFormat.HEIF: "image/heif"}[
                    self.stored_format]

    @property
    def extension(self) -> str:
        return {ImageFormat.JPEG: "jpg", ImageFormat.PNG: "png", ImageFormat.WEBP: "webp",
                ImageFormat.HEIF: "heic"}[self.stored_format]

    @property
    def upright_size(self) -> tuple[int, int]:
        if self.orientation in {5, 6, 7, 8}:
            return self.height, self.width
        return self.width, self.height

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.0f}"


def _check_structure(data: bytes, kind: ImageFormat) -> object:
    """Walk the container; refuse data after the image's end and broken structures."""
    try:
        if kind is ImageFormat.JPEG:
            layout = jpeg.walk(data)
            if layout.end < len(data) and not jpeg.trailing_images_only(data, layout):
                raise IntakeRefused("trailing_data")
            return layout
        if kind is ImageFormat.PNG:
            png_layout = png.walk(data)
            if png_layout.end < len(data):
                raise IntakeRefused("trailing_data")
            if png_layout.has(b"acTL"):
                raise IntakeRefused("animated")
            return png_layout
        if kind is ImageFormat.WEBP:
            webp_layout = webp.walk(data)
            if webp_layout.end < len(data):
                raise IntakeRefused("trailing_data")
            if webp_layout.has(b"ANIM") or webp_layout.has(b"ANMF"):
                raise IntakeRefused("animated")
            return webp_layout
        if heif.top_level_end(data) < len(data):
            raise IntakeRefused("trailing_data")
        return None
    except ContainerError as error:
        raise IntakeRefused(error.code) from error


def _open(data: bytes, kind: ImageFormat, limits: IntakeLimits) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = heif.open_image(data) if kind is ImageFormat.HEIF else Image.open(
                io.BytesIO(data), formats=[kind.name])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        # Pillow's own guard (beyond ~89 MP) fires while reading the header.
        found = re.search(r"\((\d+) pixels\)", str(error))
        pixels = _megapixels(int(found.group(1))) if found else "too many"
        raise IntakeRefused("too_many_pixels", pixels=pixels,
                            limit=_megapixels(limits.max_pixels)) from error
    except (OSError, ValueError, SyntaxError, RuntimeError) as error:
        raise IntakeRefused("malformed") from error
    return image


def _check_pixels(image: Image.Image, limits: IntakeLimits) -> None:
    width, height = image.size
    if width * height > limits.max_pixels:
        raise IntakeRefused("too_many_pixels", pixels=_megapixels(width * height),
                            limit=_megapixels(limits.max_pixels))
    if min(width, height) < limits.min_side:
        raise IntakeRefused("too_small", width=width, height=height)
    if getattr(image, "n_frames", 1) > 1 and image.format != "HEIF":
        raise IntakeRefused("animated")
    if image.mode not in {"RGB", "RGBA", "L", "LA", "P", "I;16", "I", "1"}:
        raise IntakeRefused("unsupported_colour", mode=image.mode)


def _decode(image: Image.Image) -> None:
    """Decode every byte of pixel data, so a damaged or cut-off file is refused now. A JPEG is
    decoded at the preview scale: libjpeg still reads every Huffman-coded block, and the
    derivatives and the measurement can start from these pixels instead of decoding again."""
    try:
        draft_for_preview(image)
        image.load()
    except OSError as error:
        code = "truncated" if "truncated" in str(error).lower() else "malformed"
        raise IntakeRefused(code) from error
    except (ValueError, SyntaxError, MemoryError, RuntimeError) as error:
        raise IntakeRefused("malformed") from error


def _heif_to_jpeg(image: Image.Image, profile: bytes | None) -> bytes:
    """HEIF photos are stored as JPEG: browsers other than Safari cannot show HEIC, and its
    metadata lives in item boxes whose offsets would all have to be rewritten to drop it.
    libheif has already applied the rotation, so the JPEG is upright (orientation 1)."""
    rgb = image.convert("RGB")
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=HEIF_STORE_QUALITY, subsampling=0,
             icc_profile=profile or None)
    return out.getvalue()


def accept_image(data: bytes, limits: IntakeLimits | None = None) -> AcceptedImage:
    """Accept ``data`` as a photo or raise ``IntakeRefused``.

    The returned bytes hold the same pixels (JPEG, PNG and WebP are not re-encoded; HEIF is
    stored as a high-quality JPEG), the orientation and the ICC profile, and nothing else.
    """
    limits = limits or IntakeLimits()
    if not data:
        raise IntakeRefused("empty")
    if len(data) > limits.max_bytes:
        raise IntakeRefused("too_large_file", limit=f"{limits.max_bytes // (1024 * 1024)} MB")
    kind = sniff(data)
    if kind is None:
        raise IntakeRefused("unsupported_format", what=describe_other(data) or "unknown type")
    other = also_valid_as(data)
    if other is not None:
        raise IntakeRefused("polyglot", what=other)
    layout = _check_structure(data, kind)
    image = _open(data, kind, limits)
    _check_pixels(image, limits)
    exif = image.getexif()
    facts = camera_facts(exif)
    turn = orientation(exif)
    width, height = image.size
    _decode(image)
    profile = image.info.get("icc_profile") or None
    if profile is not None:
        try:
            ImageCms.ImageCmsProfile(io.BytesIO(profile))
        except (OSError, ImageCms.PyCMSError):
            profile = None  # an unreadable profile is dropped, and the photo read as sRGB
    stored_kind = kind
    exif_block = orientation_only_exif(turn)
    if isinstance(layout, jpeg.Layout):
        stored = jpeg.strip(data, layout, exif_block)
    elif isinstance(layout, png.Layout):
        stored = png.strip(data, layout, exif_block[6:] if exif_block else None)
    elif isinstance(layout, webp.Layout):
        stored = webp.strip(data, layout, exif_block[6:] if exif_block else None,
                            (width, height))
    else:
        stored, stored_kind, turn = _heif_to_jpeg(image, profile), ImageFormat.JPEG, 1
    # Defence in depth: what is stored must itself be a clean file of the stored format.
    if sniff(stored) is not stored_kind or also_valid_as(stored) is not None:
        raise IntakeRefused("malformed")
    return AcceptedImage(kind, stored_kind, stored, width, height, turn, profile, facts, image)
