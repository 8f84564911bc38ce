"""What the diary books: practitioners (with their working hours as ``hours.Hours``), rooms,
devices, the clinic's appointment types and its diary settings, each read in one query for a
whole clinic so that a calendar page costs the same however many people work there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from needlecare.accounts.models import Clinic, ClinicClosure, Role, User, parse_weekly
from needlecare.diary.models import (
    AppointmentKind,
    AppointmentType,
    Device,
    DiarySettings,
    Room,
    WorkingException,
    WorkingHours,
)
from needlecare.hours import Hours, Interval

#: No appointment, buffers included, lasts longer than this (a type is at most 8 hours with
#: 2 hours of buffers each side): range queries use it as their lower bound, so that an index
#: on the start reads only the days asked about.
LONGEST = dt.timedelta(hours=12)

#: Roles that see patients (the front desk books, never performs).
PRACTITIONER_ROLES = (Role.CLINICIAN, Role.OWNER)

#: The types every clinic starts with (the owner changes lengths and buffers in the diary
#: settings). A session's length covers numbing cream, treatment and aftercare advice.
DEFAULT_TYPES = (
    {"kind": AppointmentKind.CONSULTATION, "name": "Consultation", "duration_minutes": 30,
     "buffer_before_minutes": 0, "buffer_after_minutes": 10, "pre_visit": True,
     "aftercare": False, "needs_device": False},
    {"kind": AppointmentKind.SESSION, "name": "Microneedling session", "duration_minutes": 60,
     "buffer_before_minutes": 0, "buffer_after_minutes": 15, "pre_visit": False,
     "aftercare": True, "needs_device": True},
    {"kind": AppointmentKind.REVIEW, "name": "Review", "duration_minutes": 20,
     "buffer_before_minutes": 0, "buffer_after_minutes": 5, "pre_visit": False,
     "aftercare": False, "needs_device": False},
)


def clinic_types(clinic_id: int) -> list[AppointmentType]:
    """The clinic's appointment types, made with the defaults the first time they are asked
    for (a clinic created before the diary, or since, has them from then on)."""
    types = list(AppointmentType.objects.filter(clinic_id=clinic_id))
    if len(types) < len(DEFAULT_TYPES):
        have = {t.kind for t in types}
        for spec in DEFAULT_TYPES:
            if spec["kind"] in have:
                continue
            try:
                with transaction.atomic():  # a savepoint: another request may make it too
                    AppointmentType.objects.create(
                        clinic_id=clinic_id, roles=list(PRACTITIONER_ROLES),
                        needs_room=True, sends_link=True, **spec)
            except IntegrityError:
                pass
        types = list(AppointmentType.objects.filter(clinic_id=clinic_id))
    return types


def diary_settings(clinic_id: int) -> DiarySettings:
    found = DiarySettings.objects.filter(clinic_id=clinic_id).first()
    return found if found is not None else DiarySettings(clinic_id=clinic_id)


def practitioners(clinic_id: int) -> list[User]:
    return list(User.objects.filter(clinic_id=clinic_id, is_active=True,
                                    role__in=PRACTITIONER_ROLES)
                .order_by("last_name", "first_name", "id"))


def rooms(clinic_id: int) -> list[Room]:
    return list(Room.objects.filter(clinic_id=clinic_id, active=True))


def devices(clinic_id: int) -> list[Device]:
    return list(Device.objects.filter(clinic_id=clinic_id, active=True))


def _days(start: dt.date, end: dt.date) -> Iterable[dt.date]:
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def _intervals(stored: Sequence[Sequence[str]]) -> list[Interval]:
    return parse_weekly({"0": [list(i) for i in stored]}).get(0, [])


@dataclass(frozen=True)
class ClinicHours:
    """The clinic's opening hours and each practitioner's working hours, for dates from
    ``start`` on (closures and exceptions that ended before it are left out)."""

    clinic: Hours
    practitioners: dict[int, Hours]

    def of(self, practitioner_id: int | None) -> Hours | None:
        return self.practitioners.get(practitioner_id) if practitioner_id else None


def clinic_hours(clinic: Clinic, start: dt.date, practitioner_ids: Iterable[int] | None = None
                 ) -> ClinicHours:
    """Three queries whatever the number of practitioners: closures, patterns, exceptions."""
    closures = list(ClinicClosure.objects.filter(clinic=clinic, ends_on__gte=start))
    opening = clinic.hours(closures)
    wanted = None if practitioner_ids is None else list(practitioner_ids)
    patterns = WorkingHours.objects.filter(clinic=clinic)
    exceptions = WorkingException.objects.filter(clinic=clinic, ends_on__gte=start)
    if wanted is not None:
        patterns = patterns.filter(practitioner_id__in=wanted)
        exceptions = exceptions.filter(practitioner_id__in=wanted)
    weekly = {p.practitioner_id: p.weekly for p in patterns}
    away: dict[int, set[dt.date]] = {}
    special: dict[int, dict[dt.date, list[Interval]]] = {}
    for exception in exceptions:
        for day in _days(max(exception.starts_on, start), exception.ends_on):
            if exception.intervals:
                special.setdefault(exception.practitioner_id, {})[day] = _intervals(
                    exception.intervals)
            else:
                away.setdefault(exception.practitioner_id, set()).add(day)
    ids = set(wanted) if wanted is not None else set(weekly) | set(away) | set(special)
    result: dict[int, Hours] = {}
    for pk in ids:
        pattern = parse_weekly(weekly[pk]) if pk in weekly else opening.weekly
        result[pk] = Hours(time_zone=clinic.time_zone, weekly=pattern,
                           # A practitioner never works on a day the clinic is closed.
                           closed_dates=frozenset(away.get(pk, set())) | opening.closed_dates,
                           special_dates=special.get(pk, {}))
    return ClinicHours(clinic=opening, practitioners=result)


def practitioner_hours(hours: ClinicHours, clinic: Clinic, practitioner_id: int) -> Hours:
    """A practitioner's hours, the clinic's when they have no pattern of their own."""
    found = hours.of(practitioner_id)
    if found is not None:
        return found
    return Hours(time_zone=clinic.time_zone, weekly=hours.clinic.weekly,
                 closed_dates=hours.clinic.closed_dates)


def type_label(kind: str) -> str:
    return str(dict(AppointmentKind.choices).get(kind, kind))


def resource_label(resource: str, name: str) -> str:
    return {"practitioner": name, "room": _("Room “%(name)s”") % {"name": name},
            "device": _("Device “%(name)s”") % {"name": name}}[resource]
