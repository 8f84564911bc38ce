"""The camera facts of a photo, read from its EXIF before the EXIF is dropped.

They are kept on the photo record, not in the stored file, so that two photos can be judged
comparable (same phone, flash or not, similar exposure). Serial numbers, GPS, owner and
software fields are never read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from PIL import Image

_MAKE, _MODEL, _ORIENTATION, _EXIF_IFD = 0x010F, 0x0110, 0x0112, 0x8769
_EXPOSURE_TIME, _F_NUMBER, _ISO = 0x829A, 0x829D, 0x8827
_DATETIME_ORIGINAL, _OFFSET_ORIGINAL, _FLASH, _WHITE_BALANCE = 0x9003, 0x9011, 0x9209, 0xA403


@dataclass(frozen=True)
class CameraFacts:
    make: str | None = None
    model: str | None = None
    flash_fired: bool | None = None
    exposure_time_s: float | None = None
    f_number: float | None = None
    iso: int | None = None
    white_balance: str | None = None  # "auto" or "manual"
    # Local time as the camera recorded it, with its offset when the camera wrote one.
    captured_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        facts = asdict(self)
        if self.captured_at is not None:
            facts["captured_at"] = self.captured_at.isoformat()
        return facts


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = value.replace("\0", "").strip()
    return cleaned[:64] or None


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]  # IFDRational, int or float
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if number == number and number >= 0 else None  # not NaN


def _captured_at(stamp: object, offset: object) -> dt.datetime | None:
    text = _text(stamp)
    if text is None:
        return None
    try:
        moment = dt.datetime.strptime(text, "%Y:%m:%d %H:%M:%S")  # noqa: DTZ007 - camera local time
    except ValueError:
        return None
    offset_text = _text(offset)
    if offset_text:
        try:
            zone = dt.datetime.strptime(offset_text, "%z").tzinfo
        except ValueError:
            zone = None
        if zone is not None:
            moment = moment.replace(tzinfo=zone)
    return moment


def camera_facts(exif: Image.Exif) -> CameraFacts:
    details = exif.get_ifd(_EXIF_IFD)
    flash = details.get(_FLASH)
    white_balance = details.get(_WHITE_BALANCE)
    iso = details.get(_ISO)
    if isinstance(iso, tuple):
        iso = iso[0] if iso else None
    return CameraFacts(
        make=_text(exif.get(_MAKE)),
        model=_text(exif.get(_MODEL)),
        flash_fired=bool(flash & 1) if isinstance(flash, int) else None,
        exposure_time_s=_number(details.get(_EXPOSURE_TIME)),
        f_number=_number(details.get(_F_NUMBER)),
        iso=int(iso) if isinstance(iso, int) else None,
        white_balance={0: "auto", 1: "manual"}.get(white_balance)
        if isinstance(white_balance, int) else None,
        captured_at=_captured_at(details.get(_DATETIME_ORIGINAL),
                                 details.get(_OFFSET_ORIGINAL)),
    )


def orientation(exif: Image.Exif) -> int:
    value = exif.get(_ORIENTATION, 1)
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def orientation_only_exif(value: int) -> bytes | None:
    """A minimal EXIF block (``Exif\\0\\0`` + TIFF) holding only the orientation, or None
    for the default orientation, which needs no EXIF at all."""
    if value == 1:
        return None
    exif = Image.Exif()
    exif[_ORIENTATION] = value
    return exif.tobytes()
