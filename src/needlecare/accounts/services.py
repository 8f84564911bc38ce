"""Staff management: owners add staff, change their role, deactivate them, reset passwords
and second factors, and decide whether the clinic requires two-factor sign-in; API tokens for
the programs staff use (issued and revoked by their owner or by the user).

Refusals (a taken username, a weak password, an owner locking the clinic out of its own staff
pages) are raised before anything is written. Every change writes one audit row.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from axes.utils import reset as reset_login_failures
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from needlecare import clock, names
from needlecare.access import (
    AccessDenied,
    Actor,
    Permission,
    audit,
    changes,
    hash_token,
    record_id,
    refuse,
    require,
)
from needlecare.accounts import factors
from needlecare.accounts.models import ApiToken, Clinic, Role, User
from needlecare.errors import Conflict, NotFound, ServiceError


@dataclass(frozen=True)
class NewStaff:
    username: str
    first_name: str
    last_name: str
    email: str
    role: str
    password: str
    title: str = ""


@dataclass(frozen=True)
class StaffChanges:
    first_name: str
    last_name: str
    email: str
    role: str
    is_active: bool
    title: str = ""
    # Empty: keep the current password.
    new_password: str = ""


def list_staff(actor: Actor) -> list[User]:
    """The actor's clinic's staff, active first, by name."""
    require(actor, Permission.MANAGE_STAFF)
    return list(User.objects.filter(clinic_id=actor.clinic_id)
                .order_by("-is_active", "last_name", "first_name", "id"))


def staff_member(actor: Actor, user_id: int | str) -> User:
    """One member of the actor's clinic's staff; another clinic's is "not found"."""
    require(actor, Permission.MANAGE_STAFF, wanted=User, wanted_id=user_id)
    try:
        return User.objects.get(pk=record_id(user_id), clinic_id=actor.clinic_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise refuse(actor, NotFound("No such staff member."), wanted=User,
                     wanted_id=user_id) from None


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ServiceError("role_invalid", str(_("Choose a role.")), field="role")


def _check_password(password: str, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise ServiceError("password_weak", " ".join(error.messages), field=field) from None


def create_staff(actor: Actor, new: NewStaff) -> User:
    with transaction.atomic():
        require(actor, Permission.MANAGE_STAFF)
        username = new.username.strip()
        _check_role(new.role)
        if not username:
            raise ServiceError("required", str(_("Enter a username.")), field="username")
        if User.objects.filter(username__iexact=username).exists():
            raise Conflict("username_taken", str(_(
                "That username is taken. Choose another.")), field="username")
        user = User(username=username, first_name=names.normalise(new.first_name),
                    last_name=names.normalise(new.last_name), email=new.email.strip(),
                    role=new.role, title=new.title.strip(), clinic_id=actor.clinic_id)
        _check_password(new.password, user, "password")
        user.set_password(new.password)
        user.save()
        audit(actor, "staff.create", obj=user,
              detail={"username": user.username, "role": user.role})
    return user


def update_staff(actor: Actor, user_id: int | str, wanted: StaffChanges) -> User:
    """Change a member's details, role or password. Setting their password or deactivating
    them also revokes every API token of theirs (a token outlives neither)."""
    with transaction.atomic():
        require(actor, Permission.MANAGE_STAFF, wanted=User, wanted_id=user_id)
        _check_role(wanted.role)
        try:
            user = User.objects.select_for_update().get(pk=record_id(user_id),
                                                        clinic_id=actor.clinic_id)
        except (User.DoesNotExist, ValueError, TypeError):
            raise refuse(actor, NotFound("No such staff member."), wanted=User,
                         wanted_id=user_id) from None
        is_self = actor.user is not None and user.pk == actor.user.pk
        if is_self and not wanted.is_active:
            raise ServiceError("deactivate_self", str(_(
                "You cannot deactivate your own account. Ask another owner.")),
                field="is_active")
        stops_owning = user.role == Role.OWNER and user.is_active and (
            wanted.role != Role.OWNER or not wanted.is_active)
        if stops_owning:
            # Lock every active owner, so two owners demoting each other at once cannot both
            # succeed and leave the clinic with none.
            owners = list(User.objects.select_for_update()
                          .filter(clinic_id=actor.clinic_id, role=Role.OWNER, is_active=True)
                          .values_list("pk", flat=True))
            if set(owners) <= {user.pk}:
                raise Conflict("last_owner", str(_(
                    "This is the clinic's only owner. Make someone else an owner first.")),
                    field="role" if wanted.role != Role.OWNER else "is_active")
        if wanted.new_password:
            _check_password(wanted.new_password, user, "new_password")

        values = {"first_name": names.normalise(wanted.first_name),
                  "last_name": names.normalise(wanted.last_name), "email": wanted.email.strip(),
                  "title": wanted.title.strip(), "role": wanted.role,
                  "is_active": wanted.is_active}
        changed = changes({name: getattr(user, name) for name in values}, values)
        for name, change in changed.items():
            setattr(user, name, change["new"])
        if wanted.new_password:
            user.set_password(wanted.new_password)
            # A reset is what the locked-out page tells people to ask for: it unlocks too.
            reset_login_failures(username=user.username)
        user.save()
        revoked = (revoke_all_api_tokens(user)
                   if wanted.new_password or not user.is_active else 0)
        audit(actor, "staff.update", obj=user, detail={
            "changes": changed, "password_reset": bool(wanted.new_password),
            "api_tokens_revoked": revoked})
    return user



# --- API tokens ---------------------------------------------------------------------------

#: Tokens start with this, so a leaked one is recognisable and never confused with the token of
#: a patient's personal link.
API_TOKEN_PREFIX = "ncapi_"
API_TOKEN_NAME_MAX = 100
# Writing "last used" on every request would turn each API read into a write.
_LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
#: How long a token may work, chosen when it is issued (days).
API_TOKEN_LIFETIMES = (30, 90, 180, 365)
API_TOKEN_DEFAULT_DAYS = 90


@dataclass(frozen=True)
class IssuedApiToken:
    token: ApiToken
    #: The token itself. It exists only here: the database keeps its hash.
    secret: str


def _token_holder(actor: Actor, user_id: int | str) -> User:
    """The staff member whose tokens the actor manages: an owner any of the clinic's staff,
    anyone else only themself. Another clinic's staff are "not found"."""
    if actor.user is None or not actor.permissions:
        raise refuse(actor, AccessDenied("only staff manage API tokens"), wanted=ApiToken)
    try:
        user = User.objects.get(pk=record_id(user_id), clinic_id=actor.clinic_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise refuse(actor, NotFound("No such staff member."), wanted=User,
                     wanted_id=user_id) from None
    if user.pk != actor.user.pk and not actor.can(Permission.MANAGE_STAFF):
        raise refuse(actor, AccessDenied("only owners manage other staff members' API tokens"),
                     wanted=User, wanted_id=user.pk, permission=Permission.MANAGE_STAFF)
    return user


def issue_api_token(actor: Actor, user_id: int | str, name: str,
                    days: int = API_TOKEN_DEFAULT_DAYS) -> IssuedApiToken:
    """A new API token for a staff member, working for ``days`` (one of
    ``API_TOKEN_LIFETIMES``). The secret is returned once and never stored."""
    name = " ".join((name or "").split())
    with transaction.atomic():
        user = _token_holder(actor, user_id)
        if not name:
            raise ServiceError("required", str(_("Name the token after what will use it.")),
                               field="name")
        if len(name) > API_TOKEN_NAME_MAX:
            raise ServiceError("too_long", str(_(
                "Keep the name under %(max)s characters.") % {"max": API_TOKEN_NAME_MAX}),
                field="name")
        if days not in API_TOKEN_LIFETIMES:
            raise ServiceError("lifetime_invalid", str(_("Choose how long the token works.")),
                               field="days")
        if not user.is_active:
            raise Conflict("user_inactive", str(_(
                "This staff member is deactivated; their tokens would not work.")))
        secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = clock.now()
        token = ApiToken.objects.create(user=user, name=name, token_hash=hash_token(secret),
                                        created_at=now,
                                        expires_at=now + dt.timedelta(days=days))
        audit(actor, "api_token.issue", obj=token, detail={
            "user": user.pk, "name": name, "expires_at": token.expires_at.isoformat()})
    return IssuedApiToken(token=token, secret=secret)


def list_api_tokens(actor: Actor, user_id: int | str) -> list[ApiToken]:
    """A staff member's tokens, newest first (revoked ones included, marked)."""
    user = _token_holder(actor, user_id)
    return list(ApiToken.objects.filter(user=user))


def revoke_api_token(actor: Actor, token_id: int | str) -> ApiToken:
    """Stop a token working. Revoking a revoked token changes nothing."""
    with transaction.atomic():
        try:
            token = ApiToken.objects.get(pk=record_id(token_id), user__clinic_id=actor.clinic_id)
        except (ApiToken.DoesNotExist, ValueError, TypeError):
            raise refuse(actor, NotFound("No such API token."), wanted=ApiToken,
                         wanted_id=token_id) from None
        _token_holder(actor, token.user_id)
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=clock.now())
        audit(actor, "api_token.revoke", obj=token,
              detail={"user": token.user_id, "already_revoked": not changed})
        token.refresh_from_db()
    return token


def revoke_all_api_tokens(user: User) -> int:
    """Revoke every working token of ``user`` (inside the caller's audited transaction);
    returns how many."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=clock.now())


def api_token_user(secret: str) -> User | None:
    """The staff member an API token acts for, or None: an unknown, expired or revoked token,
    or one of a deactivated user or a user without a clinic, opens nothing."""
    if not secret.startswith(API_TOKEN_PREFIX) or len(secret) > 200:
        return None
    now = clock.now()
    token = (ApiToken.objects.select_related("user", "user__clinic")
             .filter(token_hash=hash_token(secret), revoked_at__isnull=True,
                     expires_at__gt=now).first())
    if token is None or not token.user.is_active or token.user.clinic_id is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- two-factor sign-in: the owner's part ------------------------------------------------------

def reset_factors(actor: Actor, user_id: int | str) -> int:
    """Remove every second factor of a member (a lost phone or security key): they sign in
    with their password alone, or are asked to set up a factor if the clinic requires one.
    Returns how many factors were removed."""
    with transaction.atomic():
        user = staff_member(actor, user_id)
        removed = factors.remove_all(user)
        audit(actor, "staff.factors_reset", obj=user, detail={"removed": removed})
    return sum(removed.values())


def set_two_factor_required(actor: Actor, required: bool) -> Clinic:
    """Whether every staff member of the actor's clinic must give a second factor."""
    with transaction.atomic():
        require(actor, Permission.MANAGE_STAFF, wanted=Clinic, wanted_id=actor.clinic_id)
        clinic = Clinic.objects.select_for_update().get(pk=actor.clinic_id)
        changed = changes({"require_two_factor": clinic.require_two_factor},
                          {"require_two_factor": required})
        if changed:
            clinic.require_two_factor = required
            clinic.save(update_fields=["require_two_factor"])
        audit(actor, "clinic.security", obj=clinic, detail={"changes": changed})
    return clinic


def two_factor_overview(actor: Actor) -> list[tuple[User, factors.Factors]]:
    """Each member of the clinic with the second factors they have (for the owner)."""
    staff = list_staff(actor)
    return [(member, factors.factors_of(member)) for member in staff]
