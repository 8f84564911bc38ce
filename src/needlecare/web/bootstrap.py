"""The first owner of a clinic: the one account that no owner can create.

Used by ``needlecare createadmin`` and by the demo loader. Everything after it (staff,
patients, care) goes through the apps' services as that owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from needlecare.accounts.models import Clinic, Role, User
from needlecare.audit.models import AuditEvent
from needlecare.errors import Conflict, ServiceError


@dataclass(frozen=True)
class NewOwner:
    clinic_name: str
    clinic_phone: str
    username: str
    password: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    title: str = ""


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "clinic"
    slug, n = base, 1
    while Clinic.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _system_audit(clinic: Clinic, action: str, obj: Clinic | User, detail: dict[str, str]
                  ) -> None:
    AuditEvent.objects.create(clinic=clinic, actor=None, actor_kind=AuditEvent.ActorKind.SYSTEM,
                              action=action, object_type=obj._meta.label_lower,
                              object_id=str(obj.pk), detail=detail)


def create_owner(new: NewOwner) -> User:
    """Create an owner, and their clinic unless one of that name exists. Refusals come first."""
    with transaction.atomic():
        username = new.username.strip()
        clinic_name = " ".join(new.clinic_name.split())
        if not username:
            raise ServiceError("required", str(_("Enter a username.")), field="username")
        if User.objects.filter(username__iexact=username).exists():
            raise Conflict("username_taken", str(_("That username is taken.")),
                               field="username")
        if not clinic_name:
            raise ServiceError("required", str(_("Enter the clinic's name.")), field="clinic")
        clinic = Clinic.objects.filter(name__iexact=clinic_name).first()
        if clinic is None and not new.clinic_phone.strip():
            raise ServiceError("required", str(_(
                "Enter the phone number patients call (a new clinic needs one).")),
                field="phone")
        user = User(username=username, first_name=new.first_name.strip(),
                    last_name=new.last_name.strip(), email=new.email.strip(),
                    title=new.title.strip(), role=Role.OWNER)
        try:
            validate_password(new.password, user=user)
        except ValidationError as error:
            raise ServiceError("password_weak", " ".join(error.messages),
                               field="password") from None
        if clinic is None:
            clinic = Clinic.objects.create(name=clinic_name, slug=_unique_slug(clinic_name),
                                           phone=new.clinic_phone.strip())
            _system_audit(clinic, "clinic.create", clinic, {"name": clinic.name})
        user.clinic = clinic
        user.set_password(new.password)
        user.save()
        _system_audit(clinic, "staff.create", user,
                      {"username": user.username, "role": user.role})
    return user
