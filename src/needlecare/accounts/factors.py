"""Second factors of a staff member's sign-in: an authenticator app (TOTP), passkeys
(WebAuthn) and one-time recovery codes, kept as django-otp devices.

The devices are django-otp's (``TOTPDevice``, ``StaticDevice`` with its tokens) and
django-otp-webauthn's (``WebAuthnCredential``); this module holds what the pages need around
them: which factors a member has, setting one up and confirming it, the recovery codes, and
checking a code at sign-in, each change audited as the member (or the owner who resets them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from needlecare import clock
from needlecare.access import Actor, audit
from needlecare.accounts.models import User

RECOVERY_CODES = 10
RECOVERY_DEVICE_NAME = "recovery codes"
TOTP_DEVICE_NAME = "authenticator app"


@dataclass
class Factors:
    totp: list[TOTPDevice] = field(default_factory=list)
    passkeys: list[WebAuthnCredential] = field(default_factory=list)
    recovery_codes_left: int = 0

    @property
    def any(self) -> bool:
        """Whether the member has a factor that asks for something they hold."""
        return bool(self.totp or self.passkeys)

    @property
    def names(self) -> list[str]:
        return [*(["authenticator app"] if self.totp else []),
                *(["passkey"] if self.passkeys else [])]


def factors_of(user: Any) -> Factors:
    static = StaticDevice.objects.filter(user=user, confirmed=True)
    return Factors(
        totp=list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id")),
        passkeys=list(WebAuthnCredential.objects.filter(user=user, confirmed=True)
                      .order_by("created_at", "id")),
        recovery_codes_left=StaticToken.objects.filter(device__in=static).count())


def has_second_factor(user: Any) -> bool:
    return (TOTPDevice.objects.filter(user=user, confirmed=True).exists()
            or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists())


def second_factor_due(user: Any) -> str | None:
    """What a signed-in member who has not given a second factor in this session must do:
    "verify" (they have one), "enrol" (their clinic requires one and they have none), or
    None (nothing: no factor, and none required). One query."""
    found = (User.objects.filter(pk=user.pk)
             .annotate(has_totp=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"),
                                                                 confirmed=True)),
                       has_passkey=Exists(WebAuthnCredential.objects.filter(
                           user=OuterRef("pk"), confirmed=True)))
             .values("has_totp", "has_passkey", "clinic__require_two_factor").first())
    if found is None:
        return None
    if found["has_totp"] or found["has_passkey"]:
        return "verify"
    return "enrol" if found["clinic__require_two_factor"] else None


# --- the authenticator app --------------------------------------------------------------------

def pending_totp(user: Any) -> TOTPDevice:
    """The authenticator-app secret being set up (made once, kept until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME,
                                               confirmed=False)


def confirm_totp(actor: Actor, user: Any, code: str) -> TOTPDevice | None:
    """Confirm the pending secret with a code from the app; None when the code is wrong."""
    with transaction.atomic():
        device = (TOTPDevice.objects.select_for_update()
                  .filter(user=user, confirmed=False).order_by("-id").first())
        if device is None or not device.verify_token(_digits(code)):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        audit(actor, "auth.factor_added", obj=user, detail={"factor": "totp"})
    return device


def _digits(code: str) -> str:
    return "".join((code or "").split())


# --- recovery codes ---------------------------------------------------------------------------

def new_recovery_codes(actor: Actor, user: Any) -> list[str]:
    """Replace the member's recovery codes with new ones; returned once, never shown again."""
    with transaction.atomic():
        device, _created = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True})
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _n in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
        audit(actor, "auth.recovery_codes_made", obj=user, detail={"count": len(codes)})
    return codes


# --- removing ---------------------------------------------------------------------------------

def remove_factor(actor: Actor, user: Any, kind: str, pk: int) -> bool:
    """Remove one of the member's own factors. Removing the last one also removes the
    recovery codes (they stand in for a factor). False when there is no such factor."""
    models: dict[str, Any] = {"totp": TOTPDevice, "passkey": WebAuthnCredential}
    model = models.get(kind)
    if model is None:
        return False
    with transaction.atomic():
        removed, _detail = model.objects.filter(user=user, pk=pk).delete()
        if not removed:
            return False
        if not has_second_factor(user):
            StaticDevice.objects.filter(user=user).delete()
        audit(actor, "auth.factor_removed", obj=user, detail={"factor": kind})
    return True


def remove_all(user: Any) -> dict[str, int]:
    """Remove every factor of ``user`` (the owner's reset; the caller audits it)."""
    removed: dict[str, int] = {}
    for kind, model in (("totp", TOTPDevice), ("passkey", WebAuthnCredential),
                        ("recovery_codes", StaticDevice)):
        devices = model.objects.filter(user=user)
        count = devices.count()
        if count:
            devices.delete()  # (a device's tokens and attestation go with it)
            removed[kind] = count
    return removed


# --- signing in ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class CodeCheck:
    device: Any | None
    factor: str = ""
    #: When a code may be tried again after too many wrong ones (django-otp's throttling).
    wait_until: dt.datetime | None = None


def check_code(user: Any, code: str) -> CodeCheck:
    """Check a code from the authenticator app, or a recovery code (used up when it works).
    Each device slows down after a wrong code (1, 2, 4, 8… seconds)."""
    code = _digits(code)
    wait: dt.datetime | None = None
    with transaction.atomic():
        candidates: list[tuple[str, Any]] = [
            *(("totp", d) for d in TOTPDevice.objects.select_for_update()
              .filter(user=user, confirmed=True)),
            *(("recovery_code", d) for d in StaticDevice.objects.select_for_update()
              .filter(user=user, confirmed=True)),
        ]
        # A six-digit code is the app's; anything else can only be a recovery code.
        kinds = {"totp"} if code.isdigit() and len(code) == 6 else {"recovery_code"}
        for factor, device in candidates:
            if factor not in kinds:
                continue
            allowed, why = device.verify_is_allowed()
            if not allowed:
                until = (why or {}).get("locked_until")
                wait = max(wait, until) if wait and until else (until or wait)
                continue
            if device.verify_token(code.lower() if factor == "recovery_code" else code):
                return CodeCheck(device=device, factor=factor)
    return CodeCheck(device=None, wait_until=wait)


def throttled(check: CodeCheck) -> bool:
    return check.wait_until is not None and check.wait_until > clock.now()
