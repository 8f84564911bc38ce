"""The access layer's primitives: who is asking (``Actor``), what each role may do
(``Permission``), and the audit row every access leaves (``audit``).

They sit below every app (accounts included) so that any service can use them. The record
lookups that check an actor against a patient (``access_patient``, ``access_record``) live with
the patient model they read, in ``needlecare.patients.access``. A record of another clinic is
"not found", so its existence is not revealed; a role without the permission is "forbidden".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from django.db import models
from django.http import HttpRequest

from needlecare.audit.models import AuditEvent
from needlecare.errors import Forbidden


class StaffUser(Protocol):
    """What the access layer reads of a staff user (``accounts.models.User``)."""

    pk: Any
    clinic_id: int | None
    role: str
    is_active: bool


class PersonalLink(Protocol):
    """What the access layer reads of a patient's personal link (``recovery`` owns it)."""

    pk: Any
    clinic_id: int
    patient_id: int


class Permission(StrEnum):
    VIEW_DEMOGRAPHICS = "view_demographics"
    REGISTER_PATIENT = "register_patient"
    BOOK = "book"
    VIEW_CLINICAL = "view_clinical"
    WRITE_CLINICAL = "write_clinical"
    SIGN = "sign"
    MANAGE_STAFF = "manage_staff"
    MANAGE_CLINIC = "manage_clinic"
    #: Write articles and newsletters, publish them (the "editor"): owners, and any staff
    #: member an owner marks as an editor.
    EDIT_ARTICLES = "edit_articles"
    #: Review an article's clinical content before patients read it.
    REVIEW_ARTICLES = "review_articles"
    # A patient acting through their own personal link.
    PATIENT_SELF = "patient_self"


_FRONT_DESK = {Permission.VIEW_DEMOGRAPHICS, Permission.REGISTER_PATIENT, Permission.BOOK}
_CLINICIAN = _FRONT_DESK | {Permission.VIEW_CLINICAL, Permission.WRITE_CLINICAL,
                            Permission.SIGN, Permission.REVIEW_ARTICLES}
# Keyed by accounts.models.Role values (plain strings: Django's choices are untyped here).
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "front_desk": frozenset(_FRONT_DESK),
    "clinician": frozenset(_CLINICIAN),
    # Owners of small clinics are usually practitioners too.
    "owner": frozenset(_CLINICIAN | {Permission.MANAGE_STAFF, Permission.MANAGE_CLINIC,
                                     Permission.EDIT_ARTICLES}),
}


class AccessDenied(Forbidden):
    """The actor is known but may not do this."""


@dataclass(frozen=True)
class Actor:
    """Who is asking: a staff user, or a patient holding a personal link."""

    user: StaffUser | None = None
    link: PersonalLink | None = None
    ip_address: str | None = None

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        user = request.user if request.user.is_authenticated else None
        return cls(user=user, ip_address=client_ip(request))

    @classmethod
    def for_link(cls, link: PersonalLink, request: HttpRequest | None = None) -> Actor:
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
            granted = ROLE_PERMISSIONS.get(self.user.role, frozenset())
            # An owner may make any staff member an editor (accounts.User.is_editor).
            if getattr(self.user, "is_editor", False):
                granted = granted | {Permission.EDIT_ARTICLES}
            return granted
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


def audit(actor: Actor, action: str, *, patient: models.Model | None = None,
          obj: models.Model | None = None, detail: dict[str, Any] | None = None) -> AuditEvent:
    """Write one audit row. Call it inside the transaction that does the work."""
    return AuditEvent.objects.create(
        clinic_id=actor.clinic_id if actor.clinic_id else getattr(patient, "clinic_id", None),
        actor=actor.user,
        actor_kind=actor.kind,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        patient=patient,
        ip_address=actor.ip_address,
        detail=detail or {},
    )


def record_id(value: object) -> int | None:
    """A record id from a URL, form or API value, or None when it cannot be one."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return None
    # Larger ids overflow the database's integer columns (an error, not "not found").
    return number if 0 < number < 2**63 else None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
