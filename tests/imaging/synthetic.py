"""Synthetic test images: a public-domain portrait (scikit-image's astronaut, NASA) in
several encodings and colour spaces, with known changes made to it. No real patient photo is
used anywhere; large images are generated here, never committed."""

from __future__ import annotations

import io
import struct
from functools import cache

import cv2
import numpy as np
import numpy.typing as npt
import pillow_heif
from PIL import Image
from skimage import color, data

from needlecare.imaging.landmarks import Face, polygon_mask

RGB8 = npt.NDArray[np.uint8]

# Bradford adaptation and the D50 white of the ICC connection space.
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367],
                      [0.0389, -0.0685, 1.0296]])
D50 = np.array([0.9642, 1.0, 0.8249])
D65 = np.array([0.95047, 1.0, 1.08883])
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
# Linear Display P3 → linear sRGB (imaging.md §2.1), both D65.
P3_TO_SRGB = np.array([[1.224802, -0.224911, -0.000048], [-0.041928, 1.042030, -0.000003],
                       [-0.019609, -0.078632, 1.098315]])


def rgb_to_xyz_matrix(primaries: list[tuple[float, float]],
                      white: tuple[float, float]) -> npt.NDArray[np.float64]:
    """The RGB → XYZ matrix of a space given its xy primaries and white (white Y = 1)."""
    xyz = np.array([[x / y, 1.0, (1 - x - y) / y] for x, y in primaries]).T
    wx, wy = white
    scale = np.linalg.solve(xyz, np.array([wx / wy, 1.0, (1 - wx - wy) / wy]))
    return np.asarray(xyz @ np.diag(scale), dtype=np.float64)


P3_TO_XYZ = rgb_to_xyz_matrix([(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)],
                              (0.3127, 0.3290))
ADOBE_TO_XYZ = rgb_to_xyz_matrix([(0.64, 0.33), (0.21, 0.71), (0.15, 0.06)], (0.3127, 0.3290))
ADOBE_GAMMA = 563 / 256  # 2.19921875, as Adobe RGB (1998) profiles store it


def _bradford(source: npt.NDArray[np.float64],
              target: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    ratio = np.diag((_BRADFORD @ target) / (_BRADFORD @ source))
    result: npt.NDArray[np.float64] = np.linalg.inv(_BRADFORD) @ ratio @ _BRADFORD
    return result


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(xyz: npt.NDArray[np.float64]) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(_s15(v) for v in xyz)


def _mluc(text: str) -> bytes:
    encoded = text.encode("utf-16-be")
    return (b"mluc" + bytes(4) + struct.pack(">II", 1, 12) + b"enUS"
            + struct.pack(">II", len(encoded), 28) + encoded)


def build_icc(description: str, to_xyz_d65: npt.NDArray[np.float64], curve: bytes) -> bytes:
    """A version 4 RGB matrix-shaper display profile, as phones and cameras embed them."""
    adapt = _bradford(D65, D50)
    colorants = adapt @ to_xyz_d65
    tags: list[tuple[bytes, bytes]] = [
        (b"desc", _mluc(description)),
        (b"cprt", _mluc("No copyright, test profile")),
        (b"wtpt", _xyz_tag(D50)),
        (b"rXYZ", _xyz_tag(colorants[:, 0])),
        (b"gXYZ", _xyz_tag(colorants[:, 1])),
        (b"bXYZ", _xyz_tag(colorants[:, 2])),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
        (b"chad", b"sf32" + bytes(4) + b"".join(_s15(v) for v in adapt.flatten())),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, payload in tags:
        padded = payload + bytes(-len(payload) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(payload))
        body += padded
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"lcms" + bytes([4, 0x30, 0, 0]) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2026, 1, 1, 0, 0, 0) + b"acsp" + b"APPL" + bytes(4)
              + bytes(8) + bytes(8) + struct.pack(">I", 0)
              + b"".join(_s15(v) for v in D50) + b"lcms" + bytes(16) + bytes(28))
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


@cache
def display_p3_profile() -> bytes:
    # The sRGB tone curve as parametric function 3, as Apple's Display P3 profile has it.
    curve = (b"para" + bytes(4) + struct.pack(">HH", 3, 0) + _s15(2.4) + _s15(1 / 1.055)
             + _s15(0.055 / 1.055) + _s15(1 / 12.92) + _s15(0.04045))
    return build_icc("Display P3 (test)", P3_TO_XYZ, curve)


@cache
def adobe_rgb_profile() -> bytes:
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, 563) + bytes(2)
    return build_icc("Adobe RGB compatible (test)", ADOBE_TO_XYZ, curve)


def srgb_decode(rgb: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    result: npt.NDArray[np.float64] = np.where(rgb <= 0.04045, rgb / 12.92,
                                               ((rgb + 0.055) / 1.055) ** 2.4)
    return result


def srgb_encode(linear: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    linear = np.clip(linear, 0.0, 1.0)
    result: npt.NDArray[np.float64] = np.where(linear <= 0.0031308, linear * 12.92,
                                               1.055 * linear ** (1 / 2.4) - 0.055)
    return result


def to_quantised(values: npt.NDArray[np.float64]) -> RGB8:
    return np.clip(np.round(values * 255), 0, 255).astype(np.uint8)


def srgb_to_display_p3(rgb: RGB8) -> RGB8:
    """The same colours encoded in Display P3 (what an iPhone would store)."""
    linear = srgb_decode(rgb.astype(np.float64) / 255.0)
    p3 = linear @ np.linalg.inv(P3_TO_SRGB).T
    return to_quantised(srgb_encode(p3))


def srgb_to_adobe(rgb: RGB8) -> RGB8:
    linear = srgb_decode(rgb.astype(np.float64) / 255.0)
    adobe = linear @ (np.linalg.inv(ADOBE_TO_XYZ) @ SRGB_TO_XYZ).T
    return to_quantised(np.clip(adobe, 0, 1) ** (1 / ADOBE_GAMMA))


@cache
def portrait() -> RGB8:
    """A frontal portrait the size of a phone photo at measurement scale: the astronaut's head
    and shoulders, enlarged three times, exposed a little darker than the studio original (so
    redder skin does not clip), with a little sensor-like noise."""
    head = data.astronaut()[0:300, 100:400]
    enlarged = cv2.resize(head, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    darker = srgb_encode(srgb_decode(enlarged.astype(np.float64) / 255.0) * 0.7) * 255.0
    noise = np.random.default_rng(20260101).normal(0.0, 2.0, enlarged.shape)
    result = np.clip(np.round(darker + noise), 0, 255).astype(np.uint8)
    result.setflags(write=False)
    return result


def encode(rgb: RGB8, kind: str = "JPEG", *, icc: bytes | None = None,
           exif: Image.Exif | None = None, quality: int = 92, **options: object) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(rgb)
    extra: dict[str, object] = dict(options)
    if icc is not None:
        extra["icc_profile"] = icc
    if exif is not None:
        extra["exif"] = exif
    if kind == "HEIF":
        pillow_heif.from_pillow(image).save(buffer, quality=quality, **extra)
    elif kind == "PNG":
        image.save(buffer, "PNG", **extra)
    else:
        image.save(buffer, kind, quality=quality, **extra)
    return buffer.getvalue()


def shift_a_star(rgb: RGB8, face: Face, zone: str, delta: float, grow_px: int = 12) -> RGB8:
    """``rgb`` with a* raised by ``delta`` over a zone's region (grown a little, so the
    measured, eroded region lies well inside the change), L* and b* unchanged."""
    mask = polygon_mask(face.regions(zone), face.image_size)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow_px + 1,) * 2)
    mask = cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)
    lab = color.rgb2lab(rgb[mask][None, :, :])
    lab[..., 1] += delta
    changed = color.lab2rgb(lab)[0]
    out = rgb.copy()
    out[mask] = to_quantised(changed)
    return out
