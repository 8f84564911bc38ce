"""Every member's own sign-in security page (password, authenticator app, passkeys,
recovery codes) and the owner's two-factor pages (the clinic's requirement, resetting a
member's factors)."""

from __future__ import annotations

import base64

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from needlecare.access import Actor, Permission, require
from needlecare.accounts import factors, services
from needlecare.accounts.signin import second_factor_due
from needlecare.page_actions import submit


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    return response


@never_cache
@login_required
def security(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "accounts/security.html", {
        "factors": factors.factors_of(user),
        "required": bool(user.clinic_id and user.clinic.require_two_factor),
        "due": second_factor_due(request, user, fresh=True) if not user.is_verified() else None})


class TotpConfirmForm(forms.Form):
    code = forms.CharField(label=_("Code from the app"), max_length=12,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric"}))


def _grouped(secret: bytes) -> str:
    text = base64.b32encode(secret).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def _show_codes(request: HttpRequest, codes: list[str], first: bool) -> HttpResponse:
    return _no_store(render(request, "accounts/recovery_codes.html",
                            {"codes": codes, "first": first}))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def totp(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the code (or type the key), then confirm with a code
    from the app. The first factor also makes the recovery codes, shown once."""
    user = request.user
    if factors.factors_of(user).totp:
        messages.info(request, _("Your authenticator app is set up already. Remove it first "
                                 "to set up another."))
        return redirect("account-security")
    device = factors.pending_totp(user)
    form = TotpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        first = not factors.has_second_factor(user)
        actor = Actor.from_request(request)
        confirmed = factors.confirm_totp(actor, user, form.cleaned_data["code"])
        if confirmed is not None:
            if not user.is_verified():
                request.session.cycle_key()
                otp_login(request, confirmed)
            messages.success(request, _("Your authenticator app is set up. You will be asked "
                                        "for a code each time you sign in."))
            if first or not factors.factors_of(user).recovery_codes_left:
                return _show_codes(request, factors.new_recovery_codes(actor, user), True)
            return redirect("account-security")
        form.add_error("code", _("That code did not work. Type the six digits the app "
                                 "shows now."))
    qr = segno.make(device.config_url, error="m").svg_inline(
        scale=4, svgclass="qr", title=str(_("QR code for your authenticator app")))
    return _no_store(render(request, "accounts/totp_setup.html", {
        "form": form, "qr": mark_safe(qr),  # segno's own SVG markup
        "secret": _grouped(device.bin_key)}))


@never_cache
@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not factors.has_second_factor(user):
        messages.error(request, _("Set up an authenticator app or a passkey first: recovery "
                                  "codes stand in for one of those."))
        return redirect("account-security")
    return _show_codes(request, factors.new_recovery_codes(Actor.from_request(request), user),
                       first=False)


@login_required
@require_POST
def remove_factor(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = request.user
    mine = factors.factors_of(user)
    last = len(mine.totp) + len(mine.passkeys) <= 1
    if last and user.clinic_id and user.clinic.require_two_factor:
        messages.error(request, _("Your clinic requires two-factor sign-in: set up another "
                                  "factor before removing this one."))
    elif factors.remove_factor(Actor.from_request(request), user, kind, pk):
        messages.success(request, _("Removed."))
    return redirect("account-security")


# --- the owner's pages ------------------------------------------------------------------------

class ClinicSecurityForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label=_("Require two-factor sign-in for every staff member"), required=False,
        help_text=_("After their password, staff give a code from an authenticator app or "
                    "use a passkey. Anyone without one is asked to set one up when they next "
                    "sign in."))


@login_required
@require_http_methods(["GET", "POST"])
def clinic_security(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.MANAGE_STAFF)
    clinic = request.user.clinic
    form = ClinicSecurityForm(request.POST or None,
                              initial={"require_two_factor": clinic.require_two_factor})
    if request.method == "POST":
        return submit(request, lambda: services.set_two_factor_required(
            actor, form.cleaned_data["require_two_factor"]),
            form=form, show_again=lambda: _render_clinic_security(request, form),
            done="clinic-security", done_message=str(_("Saved.")))
    return _render_clinic_security(request, form)


def _render_clinic_security(request: HttpRequest, form: ClinicSecurityForm) -> HttpResponse:
    overview = services.two_factor_overview(Actor.from_request(request))
    return render(request, "accounts/clinic_security.html", {
        "form": form, "overview": overview})


@login_required
@require_POST
def staff_factors_reset(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    member = services.staff_member(actor, pk)
    if actor.user is not None and member.pk == actor.user.pk:
        messages.error(request, _("Remove your own factors on your account page."))
        return redirect("clinic-security")
    return submit(request, lambda: services.reset_factors(actor, pk),
                  done="clinic-security", back="clinic-security",
                  done_message=str(_("%(name)s's second factors are removed. They sign in "
                                     "with their password and set up a new one.")
                                   % {"name": member}))
