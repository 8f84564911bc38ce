"""Signing in: the second-factor gate, and the audit rows of sign-ins, failed sign-ins,
lock-outs and sign-outs.

After the password (Django's ``LoginView``, throttled by django-axes), a member who has a
second factor is signed in but not yet *verified* (django-otp's ``user.is_verified()``): until
they give a code or a passkey on the second-step page, ``SecondFactorGate`` sends every page
there, and the API sees no session at all. A member whose clinic requires two-factor sign-in
and who has no factor yet may only set one up. Members of a clinic that does not require it,
without a factor (the demo's staff), sign in with the password alone.

The receivers below listen to Django's and django-axes' sign-in signals: the only way to see
every sign-in, whatever view or backend performed it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from needlecare import clock
from needlecare.access import Actor, audit, client_ip
from needlecare.accounts import factors
from needlecare.accounts.models import User
from needlecare.audit.models import AuditEvent

#: Pages a member may open before giving their second factor.
VERIFY_ROUTES = frozenset({
    "login", "logout", "signin-verify",
    "otp_webauthn:credential-authentication-begin",
    "otp_webauthn:credential-authentication-complete", "otp_webauthn:js-i18n-catalog",
})
#: Pages a member whose clinic requires a second factor may open before setting one up.
ENROL_ROUTES = frozenset({
    "login", "logout", "account-security", "account-totp", "account-recovery-codes",
    "password-change", "otp_webauthn:credential-registration-begin",
    "otp_webauthn:credential-registration-complete", "otp_webauthn:js-i18n-catalog",
})


class SecondFactorGate:
    """Holds a signed-in member at the second-factor step (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view: Any, args: Any,
                     kwargs: Any) -> HttpResponse | None:
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        due = second_factor_due(request, user)
        if due is None:
            return None
        match = request.resolver_match
        route = match.view_name if match is not None else ""
        if route in (VERIFY_ROUTES if due == "verify" else ENROL_ROUTES):
            return None
        if match is not None and "api" in match.namespaces:
            # Half a sign-in opens nothing on the API: it answers as to a stranger.
            request.user = AnonymousUser()
            return None
        target = reverse("signin-verify" if due == "verify" else "account-security")
        return redirect_to_login(request.get_full_path() if request.method == "GET" else "/",
                                 target)


#: Where the session keeps what its member must still do, and since when (see below).
DUE_KEY = "needlecare_second_factor"
#: How long that answer is trusted before it is asked of the database again: an owner who
#: starts requiring two-factor sign-in reaches members already signed in within this time.
DUE_SECONDS = 300


def second_factor_due(request: HttpRequest, user: Any, *, fresh: bool = False) -> str | None:
    """``factors.second_factor_due``, kept in the session for DUE_SECONDS, so that a member
    who has no factor (and needs none) does not cost each page a query."""
    now = clock.now().timestamp()
    kept = request.session.get(DUE_KEY) if hasattr(request, "session") else None
    if (not fresh and isinstance(kept, dict) and kept.get("user") == user.pk
            and now - float(kept.get("at", 0)) < DUE_SECONDS):
        due: str | None = kept.get("due")
        return due
    due = factors.second_factor_due(user)
    if hasattr(request, "session"):
        request.session[DUE_KEY] = {"user": user.pk, "due": due, "at": now}
    return due


def signed_in_actor(request: HttpRequest | None, user: Any) -> Actor:
    return Actor(user=user, ip_address=client_ip(request) if request is not None else None)


def _method(user: Any) -> str:
    backend = getattr(user, "backend", "") or ""
    return "passkey" if backend.endswith("WebAuthnBackend") else "password"


def audit_anonymous(request: HttpRequest | None, action: str, user: User | None,
               detail: dict[str, Any]) -> None:
    AuditEvent.objects.create(
        clinic_id=user.clinic_id if user is not None else None,
        actor_kind=AuditEvent.ActorKind.ANONYMOUS, action=action,
        object_type=User._meta.label_lower if user is not None else "",
        object_id=str(user.pk) if user is not None else "",
        ip_address=client_ip(request) if request is not None else None, detail=detail)


@receiver(user_logged_in, dispatch_uid="needlecare.audit.login")
def audit_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit(signed_in_actor(request, user), "auth.login", obj=user,
          detail={"method": _method(user)})
    if request is not None:
        second_factor_due(request, user, fresh=True)


@receiver(user_logged_out, dispatch_uid="needlecare.audit.logout")
def audit_sign_out(sender: Any, request: HttpRequest | None, user: Any,
                   **kwargs: Any) -> None:
    if user is not None and getattr(user, "pk", None):
        audit(signed_in_actor(request, user), "auth.logout", obj=user)


@receiver(user_login_failed, dispatch_uid="needlecare.audit.login_failed")
def audit_failed_sign_in(sender: Any, credentials: dict[str, Any],
                         request: HttpRequest | None = None, **kwargs: Any) -> None:
    # The name typed is kept only when it is a member's: people type passwords into the
    # username field, and the trail must not keep those.
    username = str(credentials.get("username") or "")
    user = User.objects.filter(username=username).first() if username else None
    audit_anonymous(request, "auth.login_failed", user,
               {"username": user.username} if user is not None else {"username_known": False})


@receiver(user_locked_out, dispatch_uid="needlecare.audit.locked_out")
def audit_lock_out(sender: Any, request: HttpRequest | None, username: str | None = None,
                   ip_address: str | None = None, **kwargs: Any) -> None:
    user = User.objects.filter(username=username).first() if username else None
    audit_anonymous(request, "auth.locked_out", user,
               {"username": user.username} if user is not None else {"username_known": False})
