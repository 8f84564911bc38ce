"""The owner's diary settings: rooms, devices, appointment types, practitioners' weekly hours
and dated exceptions, and the diary's own settings. Every change leaves an audit row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from needlecare.access import Actor, Permission, audit, refuse, require
from needlecare.accounts.clinic_settings import parse_intervals
from needlecare.accounts.models import Role, User
from needlecare.diary.models import (
    AppointmentType,
    Device,
    DiarySettings,
    Room,
    WorkingException,
    WorkingHours,
)
from needlecare.diary.resources import clinic_types
from needlecare.errors import Conflict, NotFound, ServiceError


def _clinic_id(actor: Actor) -> int:
    require(actor, Permission.MANAGE_CLINIC)
    assert actor.clinic_id is not None
    return actor.clinic_id


def add_resource(actor: Actor, model: type[Room] | type[Device], name: str) -> Any:
    name = " ".join(name.split())
    with transaction.atomic():
        clinic_id = _clinic_id(actor)
        if not name:
            raise ServiceError("name_required", _("Give it a name."), field="name")
        existing = model.objects.filter(clinic_id=clinic_id, name=name).first()
        if existing is not None:
            if existing.active:
                raise Conflict("exists", _("There is one with that name already."))
            model.objects.filter(pk=existing.pk).update(active=True)
            item = existing
        else:
            try:
                with transaction.atomic():
                    item = model.objects.create(clinic_id=clinic_id, name=name[:80])
            except IntegrityError:
                raise Conflict("exists", _("There is one with that name already.")) from None
        audit(actor, f"diary.{model._meta.model_name}_add", obj=item, detail={"name": name})
        return item


def retire_resource(actor: Actor, model: type[Room] | type[Device], pk: int) -> None:
    """Stop offering a room or device (its past appointments keep it)."""
    with transaction.atomic():
        clinic_id = _clinic_id(actor)
        item = model.objects.filter(pk=pk, clinic_id=clinic_id).first()
        if item is None:
            raise refuse(actor, NotFound(_("Not found.")), wanted=model, wanted_id=pk)
        model.objects.filter(pk=pk).update(active=False)
        audit(actor, f"diary.{model._meta.model_name}_retire", obj=item)


def update_type(actor: Actor, type_id: int, *, duration: int, buffer_before: int,
                buffer_after: int, pre_visit: bool, active: bool, roles: Sequence[str]
                ) -> AppointmentType:
    with transaction.atomic():
        clinic_id = _clinic_id(actor)
        kind = next((t for t in clinic_types(clinic_id) if t.pk == type_id), None)
        if kind is None:
            raise refuse(actor, NotFound(_("Not found.")), wanted=AppointmentType,
                         wanted_id=type_id)
        if not 5 <= duration <= 480 or not 0 <= buffer_before <= 120 \
                or not 0 <= buffer_after <= 120:
            raise ServiceError("length_invalid", _("A length of 5 to 480 minutes, buffers of 0 "
                                                   "to 120."), field="duration")
        allowed = [r for r in roles if r in (Role.CLINICIAN, Role.OWNER)]
        if not allowed:
            raise ServiceError("roles_required", _("Choose who performs it."), field="roles")
        old = {"duration": kind.duration_minutes, "before": kind.buffer_before_minutes,
               "after": kind.buffer_after_minutes, "pre_visit": kind.pre_visit,
               "active": kind.active, "roles": kind.roles}
        kind.duration_minutes, kind.buffer_before_minutes = duration, buffer_before
        kind.buffer_after_minutes, kind.pre_visit, kind.active = buffer_after, pre_visit, active
        kind.roles = allowed
        kind.save()
        audit(actor, "diary.type_change", obj=kind, detail={"old": old, "new": {
            "duration": duration, "before": buffer_before, "after": buffer_after,
            "pre_visit": pre_visit, "active": active, "roles": allowed}})
        return kind


def _practitioner(clinic_id: int, pk: int) -> User:
    user = User.objects.filter(pk=pk, clinic_id=clinic_id,
                               role__in=[Role.CLINICIAN, Role.OWNER]).first()
    if user is None:
        raise NotFound(_("No such practitioner."))
    return user


def set_weekly_hours(actor: Actor, practitioner_id: int, days: Mapping[int, str]
                     ) -> WorkingHours | None:
    """A practitioner's week as text per weekday ("09:00–13:00, 14:00–17:30"); every day
    empty means "the clinic's opening hours" (the pattern is removed)."""
    with transaction.atomic():
        clinic_id = _clinic_id(actor)
        practitioner = _practitioner(clinic_id, practitioner_id)
        weekly: dict[str, list[list[str]]] = {}
        for day, text in days.items():
            try:
                intervals = parse_intervals(text)
            except ValueError as exc:
                raise ServiceError("hours_invalid", str(exc), field=f"day_{day}") from None
            if intervals:
                weekly[str(day)] = [list(i) for i in intervals]
        audit(actor, "diary.hours_change", obj=practitioner, detail={"weekly": weekly})
        if not weekly:
            WorkingHours.objects.filter(practitioner=practitioner).delete()
            return None
        hours, _created = WorkingHours.objects.update_or_create(
            practitioner=practitioner, defaults={"clinic_id": clinic_id, "weekly": weekly})
        return hours


def add_exception(actor: Actor, practitioner_id: int, starts_on: dt.date, ends_on: dt.date,
                  hours: str, reason: str) -> WorkingException:
    """Away (no hours) or other hours on the days from ``starts_on`` to ``ends_on``."""
    with transaction.atomic():
        clinic_id = _clinic_id(actor)
        practitioner = _practitioner(clinic_id, practitioner_id)
        if ends_on < starts_on:
            raise ServiceError("dates_invalid", _("The last day is before the first."),
                               field="ends_on")
        if (ends_on - starts_on).days > 366:
            raise ServiceError("dates_invalid", _("At most a year at a time."), field="ends_on")
        try:
            intervals = parse_intervals(hours)
        except ValueError as exc:
            raise ServiceError("hours_invalid", str(exc), field="hours") from None
        reason = " ".join(reason.split())
        if not reason:
            raise ServiceError("reason_required", _("Say why (leave, training, extra "
                                                    "clinic…)."), field="reason")
        exception = WorkingException.objects.create(
            clinic_id=clinic_id, practitioner=practitioner, starts_on=starts_on,
            ends_on=ends_on, intervals=[list(i) for i in intervals], reason=reason[:120])
        audit(actor, "diary.exception_add", obj=exception, detail={
            "practitioner": practitioner.pk, "from": starts_on.isoformat(),
            "until": ends_on.isoformat(), "hours": exception.intervals, "reason": reason})
        return exception


def remove_exception(actor: Actor, pk: int) -> None:
    with transaction.atomic():
        clinic_id = _clinic_id(actor)
        exception = WorkingException.objects.filter(pk=pk, clinic_id=clinic_id).first()
        if exception is None:
            raise refuse(actor, NotFound(_("Not found.")), wanted=WorkingException,
                         wanted_id=pk)
        audit(actor, "diary.exception_remove", obj=exception)
        exception.delete()


def update_settings(actor: Actor, *, slot_minutes: int, cancel_notice_hours: int,
                    public_requests: bool, requests_per_hour: int) -> DiarySettings:
    with transaction.atomic():
        clinic_id = _clinic_id(actor)
        if slot_minutes not in (5, 10, 15, 20, 30, 60):
            raise ServiceError("slot_invalid", _("Choose 5, 10, 15, 20, 30 or 60 minutes."),
                               field="slot_minutes")
        if not 0 <= cancel_notice_hours <= 168:
            raise ServiceError("notice_invalid", _("0 to 168 hours."),
                               field="cancel_notice_hours")
        if not 1 <= requests_per_hour <= 100:
            raise ServiceError("limit_invalid", _("1 to 100 an hour."),
                               field="requests_per_hour")
        found, _created = DiarySettings.objects.update_or_create(clinic_id=clinic_id, defaults={
            "slot_minutes": slot_minutes, "cancel_notice_hours": cancel_notice_hours,
            "public_requests": public_requests, "requests_per_hour": requests_per_hour})
        audit(actor, "diary.settings_change", obj=found, detail={
            "slot_minutes": slot_minutes, "cancel_notice_hours": cancel_notice_hours,
            "public_requests": public_requests, "requests_per_hour": requests_per_hour})
        return found
