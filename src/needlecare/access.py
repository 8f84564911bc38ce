"""The one way to reach patient data.

Every view and API endpoint turns its request into an ``Actor`` and calls ``access_patient``
(or a sibling) before touching a patient's records. The check is the clinic (a user of one
clinic never sees another's: a record of another clinic is "not found", so its existence is
not revealed) and the role's permissions. Each access writes an ``AuditEvent`` through
``audit()``, which services call inside the transaction that makes the change.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import Http404, HttpRequest

from needlecare.audit.models import AuditEvent
from needlecare.patients.models import Patient

if TYPE_CHECKING:
    from needlecare.accounts.models import User
    from needlecare.recovery.models import PatientLink


class Permission(StrEnum):
    VIEW_DEMOGRAPHICS = "view_demographics"
    REGISTER_PATIENT = "register_patient"
    BOOK = "book"
    VIEW_CLINICAL = "view_clinical"
    WRITE_CLINICAL = "write_clinical"
    SIGN = "sign"
    MANAGE_STAFF = "manage_staff"
    # A patient acting through their own personal link.
    PATIENT_SELF = "patient_self"


_FRONT_DESK = {Permission.VIEW_DEMOGRAPHICS, Permission.REGISTER_PATIENT, Permission.BOOK}
_CLINICIAN = _FRONT_DESK | {Permission.VIEW_CLINICAL, Permission.WRITE_CLINICAL,
                            Permission.SIGN}
# Keyed by accounts.models.Role values (plain strings: Django's choices are untyped here).
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "front_desk": frozenset(_FRONT_DESK),
    "clinician": frozenset(_CLINICIAN),
    # Owners of small clinics are usually practitioners too.
    "owner": frozenset(_CLINICIAN | {Permission.MANAGE_STAFF}),
}


class AccessDenied(PermissionDenied):
    """The actor is known but may not do this."""


@dataclass(frozen=True)
class Actor:
    """Who is asking: a staff user, or a patient holding a personal link."""

    user: User | None = None
    link: PatientLink | None = None
    ip_address: str | None = None

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        user = request.user if request.user.is_authenticated else None
        return cls(user=user, ip_address=client_ip(request))

    @classmethod
    def for_link(cls, link: PatientLink, request: HttpRequest | None = None) -> Actor:
        return cls(link=link, ip_address=client_ip(request) if request else None)

    @property
    def kind(self) -> str:
        if self.user is not None:
            return "staff"
        if self.link is not None:
            return "patient"
        return "system"

    @property
    def clinic_id(self) -> int | None:
        if self.user is not None:
            return self.user.clinic_id
        if self.link is not None:
            return self.link.clinic_id
        return None

    @property
    def permissions(self) -> frozenset[Permission]:
        if self.user is not None and self.user.is_active and self.user.clinic_id:
            return ROLE_PERMISSIONS.get(self.user.role, frozenset())
        if self.link is not None:
            return frozenset({Permission.PATIENT_SELF})
        return frozenset()

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def require(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise AccessDenied(f"{actor.kind} may not {permission.value}")


def audit(actor: Actor, action: str, *, patient: Patient | None = None,
          obj: models.Model | None = None, detail: dict[str, Any] | None = None) -> AuditEvent:
    """Write one audit row. Call it inside the transaction that does the work."""
    return AuditEvent.objects.create(
        clinic_id=actor.clinic_id if actor.clinic_id else (patient.clinic_id if patient else None),
        actor=actor.user,
        actor_kind=actor.kind,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        patient=patient,
        ip_address=actor.ip_address,
        detail=detail or {},
    )


def _check_patient(actor: Actor, patient: Patient, permission: Permission) -> None:
    if actor.clinic_id is None or patient.clinic_id != actor.clinic_id:
        raise Http404("No such patient.")
    if actor.link is not None and actor.link.patient_id != patient.pk:
        raise Http404("No such patient.")
    require(actor, permission)


def access_patient(actor: Actor, patient_id: int | str, *,
                   permission: Permission = Permission.VIEW_DEMOGRAPHICS,
                   action: str = "patient.view", detail: dict[str, Any] | None = None,
                   ) -> Patient:
    """Return the patient if the actor may act on them, auditing the access.

    Services that change data call this inside their own ``transaction.atomic()`` with the
    action they perform, so the audit row commits or rolls back with the change."""
    try:
        patient = Patient.objects.get(pk=int(patient_id))
    except (Patient.DoesNotExist, ValueError, TypeError):
        raise Http404("No such patient.") from None
    _check_patient(actor, patient, permission)
    # Inside the caller's transaction no savepoint is needed: a failed audit row fails the
    # whole change.
    with transaction.atomic(savepoint=False):
        audit(actor, action, patient=patient, obj=patient, detail=detail)
    return patient


M = TypeVar("M", bound=models.Model)


def access_record(actor: Actor, model: type[M], pk: int | str, *,
                  permission: Permission = Permission.VIEW_CLINICAL,
                  action: str | None = None, related: tuple[str, ...] = (),
                  detail: dict[str, Any] | None = None, lock: bool = False) -> M:
    """Return a record that belongs to a patient (it has ``patient`` and ``clinic``), checked
    the same way as the patient, and audit the access. ``lock`` takes the record's row lock
    (PostgreSQL; SQLite's IMMEDIATE transaction already holds the database's)."""
    records = model._default_manager.select_related("patient", *related)
    if lock:
        records = records.select_for_update(of=("self",))
    try:
        record = records.get(pk=int(pk))
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404("No such record.") from None
    patient: Patient = record.patient
    _check_patient(actor, patient, permission)
    # No savepoint, as in access_patient.
    with transaction.atomic(savepoint=False):
        audit(actor, action or f"{model._meta.model_name}.view", patient=patient, obj=record,
              detail=detail)
    return record


def patients_for(actor: Actor) -> models.QuerySet[Patient]:
    """The patients an actor may list (their clinic's). Callers audit the search itself."""
    require(actor, Permission.VIEW_DEMOGRAPHICS)
    return Patient.objects.filter(clinic_id=actor.clinic_id)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
