"""Read an embedded ICC profile into what the redness measurement needs.

Phones write matrix-shaper RGB profiles (Display P3 on iPhones, sRGB elsewhere; Adobe RGB from
some cameras): three tone curves and three primaries. Read from the profile they give an exact,
float conversion to linear light and to CIE XYZ. Pillow's littlecms binding converts only
8-bit images, which quantises and clips wide-gamut reds to the sRGB gamut, exactly the colours
a redness measurement must not lose; it remains the fallback for table-based (LUT) profiles.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

# The ICC profile connection space white (D50) and the CIE D65 white used for CIELAB here.
PCS_WHITE = np.array([0.9642, 1.0, 0.8249])
D65_WHITE = np.array([0.95047, 1.0, 1.08883])
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614],
                      [-0.7502, 1.7135, 0.0367],
                      [0.0389, -0.0685, 1.0296]])
_SRGB_PRIMARIES_D65 = np.array([[0.4124564, 0.3575761, 0.1804375],
                                [0.2126729, 0.7151522, 0.0721750],
                                [0.0193339, 0.1191920, 0.9503041]])


class ProfileNotUsable(ValueError):
    """The profile is not an RGB matrix-shaper profile (or is malformed)."""


@dataclass(frozen=True)
class ColourSpace:
    """How 8-bit encoded RGB values of one image become linear light and XYZ (D65).

    ``to_linear`` holds one 256-entry table per channel; ``to_xyz`` maps linear RGB to XYZ
    relative to the D65 white (Y of white = 1).
    """

    name: str
    to_linear: npt.NDArray[np.float32]
    to_xyz: npt.NDArray[np.float64]
    assumed: bool = False


def _bradford(source: npt.NDArray[np.float64],
              target: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    cone_source = _BRADFORD @ source
    cone_target = _BRADFORD @ target
    adapted: npt.NDArray[np.float64] = (np.linalg.inv(_BRADFORD)
                                        @ np.diag(cone_target / cone_source) @ _BRADFORD)
    return adapted


def _srgb_decode(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    result: npt.NDArray[np.float64] = np.where(values <= 0.04045, values / 12.92,
                                               ((values + 0.055) / 1.055) ** 2.4)
    return result


def srgb() -> ColourSpace:
    """The sRGB space (IEC 61966-2-1), used when a photo carries no profile."""
    curve = _srgb_decode(np.arange(256) / 255.0).astype(np.float32)
    return ColourSpace("sRGB IEC61966-2.1", np.stack([curve, curve, curve]),
                       _SRGB_PRIMARIES_D65.copy())


def assumed_srgb() -> ColourSpace:
    space = srgb()
    return ColourSpace("sRGB (assumed: no profile)", space.to_linear, space.to_xyz,
                       assumed=True)


def _tag_table(profile: bytes) -> dict[bytes, bytes]:
    if len(profile) < 132 or profile[36:40] != b"acsp":
        raise ProfileNotUsable("not an ICC profile")
    (count,) = struct.unpack_from(">I", profile, 128)
    if count > 200 or 132 + 12 * count > len(profile):
        raise ProfileNotUsable("malformed tag table")
    tags = {}
    for index in range(count):
        signature, offset, size = struct.unpack_from(">4sII", profile, 132 + 12 * index)
        if offset + size > len(profile):
            raise ProfileNotUsable("tag outside the profile")
        tags[signature] = profile[offset:offset + size]
    return tags


def _xyz(tag: bytes) -> npt.NDArray[np.float64]:
    if len(tag) < 20 or tag[:4] != b"XYZ ":
        raise ProfileNotUsable("colorant tag is not XYZ")
    return np.array(struct.unpack_from(">iii", tag, 8), dtype=np.float64) / 65536.0


def _curve(tag: bytes) -> npt.NDArray[np.float64]:
    """Evaluate a tone curve (curveType or parametricCurveType) at the 256 8-bit codes."""
    x = np.arange(256, dtype=np.float64) / 255.0
    kind = tag[:4]
    if kind == b"curv":
        (count,) = struct.unpack_from(">I", tag, 8)
        if count == 0:
            return x
        if count == 1:
            (gamma,) = struct.unpack_from(">H", tag, 12)
            result: npt.NDArray[np.float64] = x ** (gamma / 256.0)
            return result
        if len(tag) < 12 + 2 * count:
            raise ProfileNotUsable("truncated tone curve")
        table = np.frombuffer(tag, dtype=">u2", count=count, offset=12) / 65535.0
        interpolated: npt.NDArray[np.float64] = np.interp(x * (count - 1), np.arange(count),
                                                          table)
        return interpolated
    if kind == b"para":
        (function,) = struct.unpack_from(">H", tag, 8)
        arity = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}.get(function)
        if arity is None or len(tag) < 12 + 4 * arity:
            raise ProfileNotUsable("unknown parametric curve")
        given = [v / 65536.0 for v in struct.unpack_from(f">{arity}i", tag, 12)]
        g, a, b, c, d, e, f = given + [0.0] * (7 - arity)
        if function in {1, 2} and a == 0:
            raise ProfileNotUsable("degenerate parametric curve")
        curve: npt.NDArray[np.float64]
        if function == 0:
            curve = x ** g
        elif function == 1:
            curve = np.where(x >= -b / a, np.maximum(a * x + b, 0) ** g, 0.0)
        elif function == 2:
            curve = np.where(x >= -b / a, np.maximum(a * x + b, 0) ** g + c, c)
        elif function == 3:
            curve = np.where(x >= d, np.maximum(a * x + b, 0) ** g, c * x)
        else:
            curve = np.where(x >= d, np.maximum(a * x + b, 0) ** g + e, c * x + f)
        return curve
    raise ProfileNotUsable("tone curve of an unknown type")


def _description(tags: dict[bytes, bytes]) -> str:
    tag = tags.get(b"desc", b"")
    if tag[:4] == b"desc" and len(tag) >= 12:
        (length,) = struct.unpack_from(">I", tag, 8)
        return tag[12:12 + length].split(b"\0")[0].decode("latin-1", "replace").strip()
    if tag[:4] == b"mluc" and len(tag) >= 28:
        count, _ = struct.unpack_from(">II", tag, 8)
        if count:
            length, offset = struct.unpack_from(">II", tag, 20)
            return tag[offset:offset + length].decode("utf-16-be", "replace").strip()
    return "unnamed profile"


@lru_cache(maxsize=32)
def _space_from_profile(profile: bytes) -> ColourSpace:
    if profile[16:20] != b"RGB " or profile[20:24] != b"XYZ ":
        raise ProfileNotUsable("not an RGB profile with an XYZ connection space")
    tags = _tag_table(profile)
    try:
        colorants = np.column_stack([_xyz(tags[b"rXYZ"]), _xyz(tags[b"gXYZ"]),
                                     _xyz(tags[b"bXYZ"])])
        curves = [_curve(tags[name]) for name in (b"rTRC", b"gTRC", b"bTRC")]
    except KeyError as missing:
        raise ProfileNotUsable(f"not a matrix-shaper profile (no {missing})") from None
    if not np.all(np.isfinite(colorants)) or abs(np.linalg.det(colorants)) < 1e-6:
        raise ProfileNotUsable("degenerate primaries")
    # The colorants are adapted to the D50 connection space; adapt back to D65 (Bradford, as
    # the profiles of D65 displays were built), then scale so the white has Y = 1.
    to_xyz = _bradford(PCS_WHITE, D65_WHITE) @ colorants
    to_xyz = to_xyz / (to_xyz @ np.ones(3))[1]
    to_linear = np.clip(np.stack(curves), 0.0, 1.0).astype(np.float32)
    return ColourSpace(_description(tags), to_linear, to_xyz)


def colour_space(profile: bytes | None) -> ColourSpace:
    """The colour space an embedded profile describes; sRGB, marked as assumed, when absent.

    Raises ProfileNotUsable for profiles that are not RGB matrix-shapers.
    """
    if not profile:
        return assumed_srgb()
    return _space_from_profile(bytes(profile))


def profile_fingerprint(profile: bytes | None) -> str:
    """A short stable identifier of a profile, to tell whether two photos share one."""
    if not profile:
        return "none"
    return hashlib.sha256(profile).hexdigest()[:16]
