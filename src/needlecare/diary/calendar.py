"""What the calendar pages show: a practitioner's week, the clinic's day (a column per
practitioner or room), the clinic's week, and the front desk's "today".

Each is read in a fixed number of queries however many practitioners and appointments there
are (the practitioners, their hours, the settings, the appointments of the range with their
patients and types), and audited as one look at the diary. The grids are plain data: a row
per diary step, a cell per practitioner (or room) and time, each with the words a screen
reader says for it (practitioner or room, day, time, free or taken).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.access import Actor, Permission, audit, require
from needlecare.accounts.models import Clinic, User
from needlecare.diary.models import HOLDING, Appointment, AppointmentStatus, Room
from needlecare.diary.resources import (
    LONGEST,
    clinic_hours,
    diary_settings,
    practitioner_hours,
    practitioners,
    rooms,
)
from needlecare.errors import NotFound, ServiceError
from needlecare.hours import Hours


@dataclass
class Cell:
    start: dt.datetime
    #: The practitioner of the column (a room column books with any practitioner).
    practitioner: User | None
    room: Room | None
    label: str
    appointment: Appointment | None = None
    #: The appointment starts in this cell (later cells of it continue it).
    first: bool = False
    open: bool = False
    #: Where the cell leads (set by the page: book here, move here, open the appointment).
    href: str = ""

    @property
    def free(self) -> bool:
        return self.open and self.appointment is None


@dataclass
class Row:
    time: dt.time
    cells: list[Cell]


@dataclass
class Column:
    title: str
    day: dt.date
    practitioner: User | None = None
    room: Room | None = None


@dataclass
class Grid:
    clinic: Clinic
    columns: list[Column]
    rows: list[Row]
    step_minutes: int
    day: dt.date
    previous: dt.date
    following: dt.date
    practitioners: list[User] = field(default_factory=list)
    practitioner: User | None = None
    by: str = "practitioner"


def _audit(actor: Actor, detail: dict[str, Any]) -> None:
    """The look at the diary, audited in a transaction of its own: the pages only read, and
    on SQLite a transaction around the reads would hold the write lock while they run."""
    with transaction.atomic():
        audit(actor, "diary.view", detail=detail)


def _clinic(actor: Actor) -> Clinic:
    require(actor, Permission.BOOK)
    user = actor.user
    clinic = getattr(user, "clinic", None)
    if clinic is None:
        raise NotFound(_("No clinic."))
    return clinic


def _day_label(day: dt.date) -> str:
    return formats.date_format(day, "l j F")


def _span(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end


def _times(hour_sets: Sequence[tuple[Hours, dt.date]], zone: ZoneInfo, step: int
           ) -> list[dt.time]:
    """The diary's rows: every step from the earliest opening to the latest closing of the
    days shown (08:00–18:00 when nobody works)."""
    first, last = None, None
    for hours, day in hour_sets:
        for opens, closes in hours.intervals_on(day):
            start = opens.astimezone(zone)
            minutes = start.hour * 60 + start.minute
            end_local = closes.astimezone(zone)
            end = (24 * 60 if end_local.date() > day
                   else end_local.hour * 60 + end_local.minute)
            first = minutes if first is None else min(first, minutes)
            last = end if last is None else max(last, end)
    if first is None or last is None:
        first, last = 8 * 60, 18 * 60
    first -= first % step
    return [dt.time(m // 60, m % 60) for m in range(first, last, step)]


def _appointments(clinic: Clinic, start: dt.datetime, end: dt.datetime,
                  practitioner_id: int | None = None) -> list[Appointment]:
    # The lower bound on the start keeps the index range to the days shown: no appointment
    # lasts longer than LONGEST.
    found = (Appointment.objects.filter(clinic_id=clinic.pk, starts_at__lt=end,
                                        starts_at__gte=start - LONGEST, ends_at__gt=start)
             .exclude(status=AppointmentStatus.CANCELLED)
             .select_related("patient", "type", "room", "practitioner")
             .order_by("starts_at", "id"))
    if practitioner_id is not None:
        found = found.filter(practitioner_id=practitioner_id)
    return list(found)


def _slot_label(who: str, day_label: str, at: dt.time, appointment: Appointment | None,
                open_: bool) -> str:
    base = f"{who}, {day_label}, {at:%H:%M}"
    if appointment is not None:
        return _("%(base)s, taken: %(patient)s, %(type)s") % {
            "base": base, "patient": appointment.patient.full_name,
            "type": appointment.type.name}
    return _("%(base)s, free") % {"base": base} if open_ else \
        _("%(base)s, not working") % {"base": base}


def _fill(grid_rows: list[Row], columns: list[Column], zone: ZoneInfo, step: dt.timedelta,
          hours_of: Any, busy_of: Any) -> None:
    """One cell per (row, column): open when the column's hours hold the step, with the
    appointment that covers it if any."""
    spans = []
    for column in columns:
        hours: Hours | None = hours_of(column)
        spans.append(hours.intervals_on(column.day) if hours is not None else [])
    busy = [busy_of(column) for column in columns]
    # Formatting a date the locale's way is slow: once per column, not once per cell.
    day_labels = [_day_label(column.day) for column in columns]
    whos = [str(column.practitioner) if column.practitioner else
            _("Room %(name)s") % {"name": column.room.name} if column.room else ""
            for column in columns]
    for row in grid_rows:
        for n, column in enumerate(columns):
            start = dt.datetime.combine(column.day, row.time, tzinfo=zone)
            open_ = any(opens <= start < closes for opens, closes in spans[n])
            appointment = None
            first = False
            for candidate in busy[n]:
                if candidate.starts_at <= start < candidate.ends_at or (
                        start <= candidate.starts_at < start + step):
                    appointment = candidate
                    first = start <= candidate.starts_at < start + step
                    break
            row.cells.append(Cell(start=start, practitioner=column.practitioner,
                                  room=column.room,
                                  label=_slot_label(whos[n], day_labels[n], row.time,
                                                    appointment, open_),
                                  appointment=appointment, first=first, open=open_))


def practitioner_week(actor: Actor, practitioner_id: int | None, day: dt.date) -> Grid:
    """One practitioner's week (Monday to Sunday), a column per day."""
    clinic = _clinic(actor)
    staff = practitioners(clinic.pk)
    practitioner = next((p for p in staff if p.pk == practitioner_id), None) or (
        staff[0] if staff else None)
    zone = ZoneInfo(clinic.time_zone)
    monday = day - dt.timedelta(days=day.weekday())
    days = [monday + dt.timedelta(days=n) for n in range(7)]
    step = diary_settings(clinic.pk).slot_minutes
    hours = clinic_hours(clinic, monday - dt.timedelta(days=1),
                         [practitioner.pk] if practitioner else [])
    theirs = practitioner_hours(hours, clinic, practitioner.pk) if practitioner else None
    start, end = _span(monday, zone)[0], _span(days[-1], zone)[1]
    booked = _appointments(clinic, start, end, practitioner.pk) if practitioner else []
    _audit(actor, {"view": "practitioner_week",
                   "practitioner": practitioner.pk if practitioner else None,
                   "from": monday.isoformat()})
    columns = [Column(title=_day_label(d), day=d, practitioner=practitioner) for d in days]
    by_day: dict[dt.date, list[Appointment]] = {}
    for appointment in booked:
        by_day.setdefault(appointment.starts_at.astimezone(zone).date(), []).append(appointment)
    rows = [Row(t, []) for t in _times([(theirs, d) for d in days] if theirs else [], zone,
                                       step)]
    _fill(rows, columns, zone, dt.timedelta(minutes=step), lambda c: theirs,
          lambda c: by_day.get(c.day, []))
    return Grid(clinic=clinic, columns=columns, rows=rows, step_minutes=step, day=monday,
                previous=monday - dt.timedelta(days=7), following=monday + dt.timedelta(days=7),
                practitioners=staff, practitioner=practitioner)


def clinic_day(actor: Actor, day: dt.date, by: str = "practitioner") -> Grid:
    """The clinic's day, a column per practitioner (or per room)."""
    clinic = _clinic(actor)
    staff = practitioners(clinic.pk)
    zone = ZoneInfo(clinic.time_zone)
    step = diary_settings(clinic.pk).slot_minutes
    hours = clinic_hours(clinic, day - dt.timedelta(days=1), [p.pk for p in staff])
    booked = _appointments(clinic, *_span(day, zone))
    room_list = rooms(clinic.pk) if by == "room" else []
    _audit(actor, {"view": f"clinic_day_by_{by}", "day": day.isoformat()})
    if by == "room":
        columns = [Column(title=r.name, day=day, room=r) for r in room_list]
        rows = [Row(t, []) for t in _times([(hours.clinic, day)], zone, step)]
        _fill(rows, columns, zone, dt.timedelta(minutes=step), lambda c: hours.clinic,
              lambda c: [a for a in booked if a.room_id == c.room.pk])
    else:
        columns = [Column(title=str(p), day=day, practitioner=p) for p in staff]
        theirs = {p.pk: practitioner_hours(hours, clinic, p.pk) for p in staff}
        rows = [Row(t, []) for t in _times([(h, day) for h in theirs.values()], zone, step)]
        _fill(rows, columns, zone, dt.timedelta(minutes=step), lambda c: theirs[c.practitioner.pk],
              lambda c: [a for a in booked if a.practitioner_id == c.practitioner.pk])
    return Grid(clinic=clinic, columns=columns, rows=rows, step_minutes=step, day=day,
                previous=day - dt.timedelta(days=1), following=day + dt.timedelta(days=1),
                practitioners=staff, by=by)


@dataclass
class WeekRow:
    practitioner: User
    days: list[tuple[dt.date, bool, list[Appointment]]]


@dataclass
class ClinicWeek:
    clinic: Clinic
    days: list[dt.date]
    rows: list[WeekRow]
    previous: dt.date
    following: dt.date


def clinic_week(actor: Actor, day: dt.date) -> ClinicWeek:
    """The clinic's week: a row per practitioner, a cell per day with its appointments."""
    clinic = _clinic(actor)
    staff = practitioners(clinic.pk)
    zone = ZoneInfo(clinic.time_zone)
    monday = day - dt.timedelta(days=day.weekday())
    days = [monday + dt.timedelta(days=n) for n in range(7)]
    hours = clinic_hours(clinic, monday - dt.timedelta(days=1), [p.pk for p in staff])
    booked = _appointments(clinic, _span(monday, zone)[0], _span(days[-1], zone)[1])
    _audit(actor, {"view": "clinic_week", "from": monday.isoformat()})
    cells: dict[tuple[int | None, dt.date], list[Appointment]] = {}
    for appointment in booked:
        key = (appointment.practitioner_id, appointment.starts_at.astimezone(zone).date())
        cells.setdefault(key, []).append(appointment)
    rows = []
    for practitioner in staff:
        theirs = practitioner_hours(hours, clinic, practitioner.pk)
        rows.append(WeekRow(practitioner, [(d, theirs.is_working_day(d),
                                            cells.get((practitioner.pk, d), []))
                                           for d in days]))
    return ClinicWeek(clinic=clinic, days=days, rows=rows,
                      previous=monday - dt.timedelta(days=7),
                      following=monday + dt.timedelta(days=7))


@dataclass
class Today:
    clinic: Clinic
    now: dt.datetime
    day: dt.date
    appointments: list[Appointment]

    @property
    def late(self) -> list[Appointment]:
        return [a for a in self.appointments if a.is_late]

    @property
    def arrived(self) -> list[Appointment]:
        return [a for a in self.appointments if a.status == AppointmentStatus.ARRIVED]

    @property
    def in_rooms(self) -> list[Appointment]:
        return [a for a in self.appointments if a.status == AppointmentStatus.IN_PROGRESS]

    @property
    def still_to_come(self) -> list[Appointment]:
        return [a for a in self.appointments
                if a.is_upcoming and a.starts_at >= self.now]


def today(actor: Actor) -> Today:
    """The front desk's home: today's appointments, who is late, who has arrived, who is in
    which room."""
    clinic = _clinic(actor)
    now = clock.now()
    zone = ZoneInfo(clinic.time_zone)
    day = now.astimezone(zone).date()
    booked = [a for a in _appointments(clinic, *_span(day, zone))
              if a.status in (*HOLDING, AppointmentStatus.NO_SHOW)]
    _audit(actor, {"view": "today", "day": day.isoformat()})
    return Today(clinic=clinic, now=now, day=day, appointments=booked)


def appointments_between(actor: Actor, day: dt.date, days: int = 1, *,
                         practitioner_id: int | None = None) -> list[Appointment]:
    """Every appointment (cancelled ones too) starting on ``days`` days from ``day``."""
    if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
        raise ServiceError("day_invalid", _("Choose a day this century."), field="day")
    clinic = _clinic(actor)
    zone = ZoneInfo(clinic.time_zone)
    start = _span(day, zone)[0]
    end = _span(day + dt.timedelta(days=days - 1), zone)[1]
    found = (Appointment.objects.filter(clinic_id=clinic.pk, starts_at__gte=start,
                                        starts_at__lt=end)
             .select_related("patient", "type", "practitioner").order_by("starts_at", "id"))
    if practitioner_id is not None:
        found = found.filter(practitioner_id=practitioner_id)
    appointments = list(found)
    _audit(actor, {"view": "list", "day": day.isoformat(), "days": days,
                   "appointments": [a.pk for a in appointments]})
    return appointments
