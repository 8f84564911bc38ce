"""The clinic's own settings, which the owner keeps: contact details, opening hours and
closures, the out-of-hours service and emergency number, the call-back promise, the logo.

Patients read these in every page, message and PDF after a check-in, so they are validated
here (the form checks them too; the API may not): a closing time before the opening time, an
unknown time zone or an empty phone number is refused with a clear message. Every change
leaves one audit row with the old and new value of each field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.dates import WEEKDAYS as WEEKDAY_NAMES
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from needlecare import clock
from needlecare.access import Actor, Permission, audit, record_id, require
from needlecare.accounts.countries import COUNTRIES, emergency_number_for
from needlecare.accounts.models import Clinic, ClinicClosure, parse_time
from needlecare.errors import NotFound, ServiceError

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_SIDE = 4000
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class ClinicSettings:
    name: str
    phone: str
    email: str
    address: str
    country: str
    time_zone: str
    #: Open intervals by weekday (Monday = 0) as ("HH:MM", "HH:MM"); "24:00" is midnight.
    opening_hours: Mapping[int, Sequence[tuple[str, str]]]
    urgent_callback_hours: int
    emergency_number: str
    out_of_hours_name: str
    out_of_hours_phone: str
    link_inactivity_days: int


def parse_intervals(text: str) -> list[tuple[str, str]]:
    """"09:00–13:00, 14:00–17:30" as [("09:00", "13:00"), ("14:00", "17:30")]; empty is
    closed. Raises ValueError with a message for the person typing it."""
    intervals: list[tuple[str, str]] = []
    for part in [p for p in re.split(r"[,;]", text) if p.strip()]:
        match = _INTERVAL.match(part)
        if match is None:
            raise ValueError(_("Write each opening as 09:00–13:00, separated by commas."))
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(_("%(text)s is not a time of day.") % {"text": part.strip()})
        opens, closes = f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"
        if closes != "24:00" and closes <= opens:
            raise ValueError(_("%(opens)s–%(closes)s: the closing time is not after the "
                               "opening time.") % {"closes": closes, "opens": opens})
        intervals.append((opens, closes))
    intervals.sort()
    for (_o1, c1), (o2, _c2) in itertools.pairwise(intervals):
        if o2 < c1:
            raise ValueError(_("The openings overlap; write each time once."))
    return intervals


def format_intervals(intervals: Sequence[Sequence[str]]) -> str:
    return ", ".join(f"{opens}–{closes}" for opens, closes in intervals)


def opening_hours_text(stored: Mapping[str, Sequence[Sequence[str]]]) -> list[str]:
    """``Clinic.opening_hours`` in words for patients, days with the same hours together:
    ["Monday to Friday 09:00–17:30", "Saturday 10:00–13:00"]."""
    runs: list[tuple[int, int, str]] = []
    for day in range(7):
        hours = format_intervals(stored.get(str(day)) or [])
        if hours and runs and runs[-1][1] == day - 1 and runs[-1][2] == hours:
            runs[-1] = (runs[-1][0], day, hours)
        elif hours:
            runs.append((day, day, hours))
    lines = []
    for first, last, hours in runs:
        days = str(WEEKDAY_NAMES[first]) if first == last else _(
            "%(first)s to %(last)s") % {"first": WEEKDAY_NAMES[first],
                                        "last": WEEKDAY_NAMES[last]}
        lines.append(f"{days} {hours}")
    return lines


def _check(settings: ClinicSettings) -> dict[str, Any]:
    name = settings.name.strip()
    if not name:
        raise ServiceError("name_required", _("Give the clinic's name."), field="name")
    phone = settings.phone.strip()
    if not re.search(r"\d{3}", phone):
        raise ServiceError("phone_required", _("Give the phone number patients call."),
                           field="phone")
    if settings.country not in COUNTRIES:
        raise ServiceError("country_invalid", _("Choose a country from the list."),
                           field="country")
    try:
        ZoneInfo(settings.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError("time_zone_invalid", _("%(zone)s is not a time zone we know; "
                                                  "choose one from the list.")
                           % {"zone": settings.time_zone}, field="time_zone") from None
    hours: dict[str, list[list[str]]] = {}
    for day, intervals in settings.opening_hours.items():
        for opens, closes in intervals:
            if not (closes == "24:00" or parse_time(opens) < parse_time(closes)):
                raise ServiceError("hours_invalid", _("%(day)s: %(opens)s–%(closes)s: the "
                                                      "closing time is not after the opening "
                                                      "time.")
                                   % {"day": _(WEEKDAYS[day]), "closes": closes,
                                      "opens": opens}, field=f"hours_{day}")
        if intervals:
            hours[str(day)] = [list(i) for i in intervals]
    if not 1 <= settings.urgent_callback_hours <= 24:
        raise ServiceError("callback_invalid", _("The call-back promise must be 1 to 24 hours."),
                           field="urgent_callback_hours")
    if not 30 <= settings.link_inactivity_days <= 3650:
        raise ServiceError("inactivity_invalid", _("Choose 30 to 3,650 days."),
                           field="link_inactivity_days")
    emergency = settings.emergency_number.strip() or emergency_number_for(settings.country)
    if not re.fullmatch(r"[0-9]{2,6}", emergency):
        raise ServiceError("emergency_invalid", _("The emergency number is 2 to 6 digits, "
                                                  "for example 999, 112 or 911."),
                           field="emergency_number")
    if settings.out_of_hours_name.strip() and not settings.out_of_hours_phone.strip():
        raise ServiceError("out_of_hours_phone", _("Give the out-of-hours service's number."),
                           field="out_of_hours_phone")
    return {**asdict(settings), "name": name, "phone": phone, "opening_hours": hours,
            "emergency_number": emergency, "address": settings.address.strip(),
            "out_of_hours_name": settings.out_of_hours_name.strip(),
            "out_of_hours_phone": settings.out_of_hours_phone.strip()}


def check_logo(content: bytes) -> str:
    """The file extension of an acceptable logo (PNG or JPEG, checked by its content, not its
    name), or a refusal."""
    if len(content) > LOGO_MAX_BYTES:
        raise ServiceError("logo_too_large", _("The logo may be at most 1 MB."), field="logo")
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        kind = None
        width = height = 0
    if kind not in ("PNG", "JPEG"):
        raise ServiceError("logo_format", _("The logo must be a PNG or JPEG image."),
                           field="logo")
    if max(width, height) > LOGO_MAX_SIDE:
        raise ServiceError("logo_too_large", _("The logo may be at most %(n)d pixels wide "
                                               "and high.") % {"n": LOGO_MAX_SIDE},
                           field="logo")
    return "png" if kind == "PNG" else "jpg"


def clinic_for_settings(actor: Actor) -> Clinic:
    require(actor, Permission.MANAGE_CLINIC)
    return Clinic.objects.get(pk=actor.clinic_id)


def _value(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | dict | list | None) \
        else str(value)


def update_clinic_settings(actor: Actor, settings: ClinicSettings, *,
                           logo: bytes | None = None, remove_logo: bool = False) -> Clinic:
    """Save the clinic's settings (and a new logo, or remove the old one)."""
    require(actor, Permission.MANAGE_CLINIC)
    values = _check(settings)
    extension = check_logo(logo) if logo is not None else None
    with transaction.atomic():
        clinic = Clinic.objects.select_for_update().get(pk=actor.clinic_id)
        changed = {name: [_value(getattr(clinic, name)), _value(value)]
                   for name, value in values.items() if getattr(clinic, name) != value}
        for name, value in values.items():
            setattr(clinic, name, value)
        if extension is not None and logo is not None:
            digest = hashlib.sha256(logo).hexdigest()[:16]
            clinic.logo.save(f"{clinic.slug}-{digest}.{extension}", ContentFile(logo),
                             save=False)
            changed["logo"] = ["", clinic.logo.name]
        elif remove_logo and clinic.logo:
            changed["logo"] = [clinic.logo.name, ""]
            clinic.logo = ""
        clinic.save()
        audit(actor, "clinic.settings", obj=clinic, detail={"changed": changed})
    return clinic


def closures(actor: Actor) -> list[ClinicClosure]:
    """The clinic's closures from a week ago on (the past ones matter no more)."""
    require(actor, Permission.MANAGE_CLINIC)
    since = clock.localdate() - dt.timedelta(days=7)
    return list(ClinicClosure.objects.filter(clinic_id=actor.clinic_id, ends_on__gte=since))


def add_closure(actor: Actor, starts_on: dt.date, ends_on: dt.date,
                reason: str) -> ClinicClosure:
    require(actor, Permission.MANAGE_CLINIC)
    reason = reason.strip()
    if ends_on < starts_on:
        raise ServiceError("closure_dates", _("The closure ends before it starts."),
                           field="ends_on")
    if (ends_on - starts_on).days > 366:
        raise ServiceError("closure_dates", _("A closure may last at most a year."),
                           field="ends_on")
    if not reason:
        raise ServiceError("reason_required", _("Say why the clinic is closed."),
                           field="reason")
    with transaction.atomic():
        closure = ClinicClosure.objects.create(clinic_id=actor.clinic_id, starts_on=starts_on,
                                               ends_on=ends_on, reason=reason)
        audit(actor, "clinic.closure_add", obj=closure,
              detail={"from": starts_on.isoformat(), "until": ends_on.isoformat(),
                      "reason": reason})
    return closure


def remove_closure(actor: Actor, closure_id: int | str) -> None:
    require(actor, Permission.MANAGE_CLINIC)
    with transaction.atomic():
        closure = ClinicClosure.objects.filter(pk=record_id(closure_id),
                                               clinic_id=actor.clinic_id).first()
        if closure is None:
            raise NotFound(_("No such closure."))
        audit(actor, "clinic.closure_remove", obj=closure,
              detail={"from": closure.starts_on.isoformat(),
                      "until": closure.ends_on.isoformat(), "reason": closure.reason})
        closure.delete()
