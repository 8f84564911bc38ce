"""Decode a photo at reduced scale and convert its pixels to CIELAB (D65) through its profile.

Region statistics do not need 12 megapixels: a JPEG decoded at 1/4 scale in the DCT domain
(Pillow's ``draft``) gives region means within 0.05 a* of the full image at a fraction of the
cost (imaging.md §5). Only the pixels of the measured regions are converted to Lab, in float,
from the 8-bit codes through the profile's own tone curves and primaries.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageCms, ImageOps

from needlecare.imaging import heif
from needlecare.imaging.icc import (
    D65_WHITE,
    ColourSpace,
    ProfileNotUsable,
    colour_space,
    profile_fingerprint,
    srgb,
)

# The long side the measurement works at: enough for a face of ~300 px in a phone photo.
MEASUREMENT_LONG_SIDE = 1000

_DELTA = 6.0 / 29.0
_CHANNEL_OFFSETS = np.array([0, 256, 512], dtype=np.intp)


@dataclass(frozen=True)
class MeasurementImage:
    """An upright 8-bit RGB image at measurement scale with its colour space."""

    rgb: npt.NDArray[np.uint8]
    space: ColourSpace
    profile_id: str
    original_size: tuple[int, int]
    # True when a table-based profile had to go through littlecms' 8-bit conversion to sRGB.
    converted_8bit: bool = False

    @property
    def size(self) -> tuple[int, int]:
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


def lab_from_rgb8(pixels: npt.NDArray[np.uint8], space: ColourSpace) -> npt.NDArray[np.float32]:
    """CIELAB (D65) of an (N, 3) array of 8-bit encoded RGB values in ``space``."""
    # One gather through the three tables laid end to end, and the white folded into the
    # matrix: this runs once per region on every measurement.
    linear = space.to_linear.reshape(-1)[pixels.astype(np.intp) + _CHANNEL_OFFSETS]
    to_relative_xyz = (space.to_xyz / D65_WHITE[:, None]).T.astype(np.float32)
    xyz = linear @ to_relative_xyz
    f = np.cbrt(np.maximum(xyz, 0.0))
    small = xyz <= _DELTA ** 3
    f[small] = xyz[small] / (3 * _DELTA ** 2) + 4.0 / 29.0
    lab = np.empty_like(f)
    lab[:, 0] = 116.0 * f[:, 1] - 16.0
    lab[:, 1] = 500.0 * (f[:, 0] - f[:, 1])
    lab[:, 2] = 200.0 * (f[:, 1] - f[:, 2])
    result: npt.NDArray[np.float32] = lab.astype(np.float32, copy=False)
    return result


def _open(data: bytes) -> Image.Image:
    if heif.is_heif(data):
        return heif.open_image(data)
    return Image.open(io.BytesIO(data))


def decode_for_measurement(data: bytes, *,
                           long_side: int = MEASUREMENT_LONG_SIDE) -> MeasurementImage:
    """Decode ``data`` upright, at about ``long_side`` pixels on its long side (never less
    unless the photo is smaller), with the colour space of its embedded profile.

    The file must already have passed intake; decoding errors propagate as Pillow's.
    """
    image = _open(data)
    original = image.size
    factor = max(1, max(original) // long_side)
    if image.format == "JPEG" and factor > 1:
        # DCT-domain scaling: libjpeg decodes at 1/2, 1/4 or 1/8 directly.
        image.draft("RGB", (original[0] // factor, original[1] // factor))
    return measurement_image(image, original, long_side=long_side)


def measurement_image(image: Image.Image, original_size: tuple[int, int], *,
                      long_side: int = MEASUREMENT_LONG_SIDE) -> MeasurementImage:
    """The measurement image of an already decoded photo (``image`` is not modified), e.g. the
    preview intake decoded; ``original_size`` is the size of the stored photo."""
    profile = image.info.get("icc_profile")
    if max(image.size) >= 2 * long_side:
        # Box-filter reduction: a new, small image carrying the same metadata.
        working = image.reduce(max(image.size) // long_side)
    else:
        working = image.copy()
    ImageOps.exif_transpose(working, in_place=True)
    if working.mode != "RGB":
        working = working.convert("RGB")
    converted = False
    try:
        space = colour_space(profile)
    except ProfileNotUsable:
        # A table-based profile: littlecms converts it to sRGB, in 8 bits.
        source = ImageCms.ImageCmsProfile(io.BytesIO(bytes(profile or b"")))
        target = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        converted_image = ImageCms.profileToProfile(working, source, target, outputMode="RGB")
        if converted_image is not None:
            working = converted_image
        space, converted = srgb(), True
    rgb = np.asarray(working, dtype=np.uint8)
    return MeasurementImage(rgb, space, profile_fingerprint(profile), original_size, converted)
