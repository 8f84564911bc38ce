"""The access layer's primitives: who is asking (``Actor``), what each role may do
(``Permission``), and the audit row every access leaves (``audit``).

They sit below every app (accounts included) so that any service can use them. The record
lookups that check an actor against a patient (``access_patient``, ``access_record``) live with
the patient model they read, in ``needlecare.patients.access``. A record of another clinic is
"not found", so its existence is not revealed; a role without the permission is "forbidden".
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from needlecare.audit import refusals
from needlecare.audit.models import AuditEvent
from needlecare.errors import Forbidden, ServiceError


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
    # The patient's rights over their record: export it, erase or anonymise it (owners).
    PATIENT_RIGHTS = "patient_rights"
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
                                     Permission.EDIT_ARTICLES,
                                     Permission.PATIENT_RIGHTS}),
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


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs
                 if cidr.strip())


def _address(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client, as the audit trail and the sign-in lock (django-axes, through
    ``AXES_CLIENT_IP_CALLABLE``) see it.

    The connection's own address, unless it comes from a trusted proxy
    (``NEEDLECARE_TRUSTED_PROXIES``): then ``X-Forwarded-For`` is read from the right, past
    every trusted proxy, and the first address that is not one is the client. Addresses to
    its left were written by the client itself and are never believed."""
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    trusted = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if not trusted or not any(remote in net for net in trusted):
        return str(remote)
    client = remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # written by a proxy we trust, yet unreadable: keep the last good hop
        client = address
        if not any(address in net for net in trusted):
            break
    return str(client)


def _target(wanted: type[models.Model] | models.Model | str | None) -> str:
    if wanted is None:
        return ""
    if isinstance(wanted, str):
        return wanted
    return wanted._meta.label_lower


def refuse(actor: Actor, error: ServiceError, *,
           wanted: type[models.Model] | models.Model | str | None = None,
           wanted_id: object = None, patient: models.Model | None = None,
           permission: Permission | None = None) -> ServiceError:
    """Note an access refusal in the audit trail and return ``error`` to raise.

    The row is written after the refused request's transaction has rolled back
    (``audit.refusals``). ``patient`` is named only when the actor's clinic holds them: a
    record of another clinic is recorded by its type and id alone."""
    detail: dict[str, Any] = {"refusal": error.kind.value}
    if permission is not None:
        detail["permission"] = permission.value
    if wanted is not None:
        detail["wanted"] = _target(wanted)
    if wanted_id is not None:
        detail["wanted_id"] = str(wanted_id)[:64]
    if patient is not None and getattr(patient, "clinic_id", None) != actor.clinic_id:
        patient = None
    refusals.note(AuditEvent(
        clinic_id=actor.clinic_id, actor=actor.user, actor_kind=actor.kind,
        actor_role=actor.user.role if actor.user is not None else "",
        action=refusals.ACTION, patient=patient, ip_address=actor.ip_address, detail=detail))
    return error


def require(actor: Actor, permission: Permission, *,
            wanted: type[models.Model] | models.Model | str | None = None,
            wanted_id: object = None, patient: models.Model | None = None) -> None:
    if not actor.can(permission):
        raise refuse(actor, AccessDenied(f"{actor.kind} may not {permission.value}"),
                     wanted=wanted, wanted_id=wanted_id, patient=patient,
                     permission=permission)


def audit(actor: Actor, action: str, *, patient: models.Model | None = None,
          obj: models.Model | None = None, detail: dict[str, Any] | None = None,
          clinic_id: int | None = None) -> AuditEvent:
    """Write one audit row. Call it inside the transaction that does the work.

    The row's clinic is the actor's, else the patient's, else ``clinic_id``: the worker and
    the public pages act for no clinic of their own, and the clinic's owner must still find
    what they did in the clinic's trail."""
    return AuditEvent.objects.create(
        clinic_id=actor.clinic_id or getattr(patient, "clinic_id", None) or clinic_id,
        actor=actor.user,
        actor_kind=actor.kind,
        actor_role=actor.user.role if actor.user is not None else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        patient=patient,
        ip_address=actor.ip_address,
        detail=detail or {},
    )


def changes(before: Mapping[str, Any], after: Mapping[str, Any], *,
            clinical_text: Collection[str] = ()) -> dict[str, dict[str, Any]]:
    """The fields whose value differs, each with its old and new value, for an audit row's
    ``changes``. Fields named in ``clinical_text`` are marked, so that the trail shows them
    only to a reader who may see clinical records (others see their hash)."""
    changed: dict[str, dict[str, Any]] = {}
    for name, new in after.items():
        old = before.get(name)
        if old != new:
            change: dict[str, Any] = {"old": _plain(old), "new": _plain(new)}
            if name in clinical_text:
                change["clinical_text"] = True
            changed[name] = change
    return changed


def _plain(value: Any) -> Any:
    """A value as JSON holds it (dates and decimals as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


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
