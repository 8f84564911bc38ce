"""Pages of signing in beyond the password: the second step (a code or a passkey), the
passkey ceremonies (django-otp-webauthn's views, audited), changing one's password, and
resetting a forgotten one by email (Django's own views: the link is single-use, since it is
made from the password it replaces, and expires after PASSWORD_RESET_TIMEOUT)."""

from __future__ import annotations

from typing import Any

from axes.utils import reset as reset_login_failures
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp_webauthn import views as passkey_views

from needlecare.access import audit
from needlecare.accounts import factors
from needlecare.accounts.models import User
from needlecare.accounts.services import revoke_all_api_tokens
from needlecare.accounts.signin import audit_anonymous, signed_in_actor


def _next(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return wanted
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=40, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text",
                                      "autocapitalize": "off", "spellcheck": "false"}),
        help_text=_("The six-digit code your authenticator app shows now, or one of your "
                    "recovery codes."))


@never_cache
@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, a recovery code, or a passkey."""
    user = request.user
    if user.is_verified() or not factors.has_second_factor(user):
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = factors.check_code(user, form.cleaned_data["code"])
        actor = signed_in_actor(request, user)
        if check.device is not None:
            request.session.cycle_key()  # the session is worth more now: a new key
            otp_login(request, check.device)
            audit(actor, "auth.second_factor", obj=user, detail={"factor": check.factor})
            if check.factor == "recovery_code":
                messages.warning(request, _(
                    "You used a recovery code; it will not work again. Make new codes on "
                    "your account page if you are running out."))
            return redirect(_next(request))
        audit(actor, "auth.second_factor_failed", obj=user,
              detail={"throttled": factors.throttled(check)})
        if factors.throttled(check) and check.wait_until is not None:
            form.add_error("code", _("Too many wrong codes. Wait a few seconds and try "
                                     "again."))
        else:
            form.add_error("code", _("That code did not work. Check the app shows this "
                                     "account, and type the code shown now."))
    mine = factors.factors_of(user)
    return render(request, "accounts/signin_verify.html", {
        "form": form, "factors": mine, "next": _next(request)})


# --- passkeys: django-otp-webauthn's ceremonies, with audit rows --------------------------------

class PasskeyRegistrationComplete(passkey_views.CompleteCredentialRegistrationView):
    def post(self, *args: Any, **kwargs: Any) -> Any:
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            audit(signed_in_actor(self.request, self.request.user), "auth.factor_added",
                  obj=self.request.user, detail={"factor": "passkey"})
        return response


class PasskeyAuthenticationComplete(passkey_views.CompleteCredentialAuthenticationView):
    def complete_auth(self, device: Any) -> Any:
        signed_in = self.request.user.is_authenticated
        result = super().complete_auth(device)
        if signed_in:
            # A second step (a passwordless sign-in has its "auth.login" row already).
            audit(signed_in_actor(self.request, device.user), "auth.second_factor",
                  obj=device.user, detail={"factor": "passkey"})
        return result

    def handle_exception(self, exc: Exception) -> Any:
        user = self.request.user
        if user.is_authenticated:
            audit(signed_in_actor(self.request, user), "auth.second_factor_failed", obj=user,
                  detail={"factor": "passkey", "code": getattr(exc, "code", "")})
        else:
            audit_anonymous(self.request, "auth.login_failed", None,
                       {"method": "passkey", "code": getattr(exc, "code", "")})
        return super().handle_exception(exc)


# --- passwords ----------------------------------------------------------------------------------

class PasswordChange(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("account-security")

    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            audit(signed_in_actor(self.request, self.request.user), "auth.password_changed",
                  obj=self.request.user)
        messages.success(self.request, _("Your password is changed."))
        return response


class AuditedPasswordResetForm(PasswordResetForm):
    """Django's form, which mails only active members with that address (and says the same
    whether or not one exists); each mail sent is in the audit trail."""

    def send_mail(self, subject_template_name: str, email_template_name: str,
                  context: dict[str, Any], from_email: str | None, to_email: str,
                  html_email_template_name: str | None = None) -> None:
        super().send_mail(subject_template_name, email_template_name, context, from_email,
                          to_email, html_email_template_name)
        user = context["user"]
        audit_anonymous(self._request, "auth.password_reset_sent", user, {})

    def save(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        self._request = request
        super().save(*args, request=request, **kwargs)


class PasswordReset(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    form_class = AuditedPasswordResetForm
    success_url = reverse_lazy("password-reset-sent")

    def form_valid(self, form: Any) -> HttpResponse:
        # The link points at the deployment's public address, never at the Host header.
        self.extra_email_context = {"public_url": settings.PUBLIC_BASE_URL.rstrip("/")}
        return super().form_valid(form)


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-done")

    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            user: User = form.user
            revoked = revoke_all_api_tokens(user)
            audit_anonymous(self.request, "auth.password_reset", user,
                       {"api_tokens_revoked": revoked})
        reset_login_failures(username=user.username)
        return response
