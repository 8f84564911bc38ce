"""The owner's pages: staff, the clinic's settings; and every user's API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from needlecare import clock
from needlecare.access import Actor, Permission, require
from needlecare.accounts import clinic_settings, services
from needlecare.accounts.forms import (
    ApiTokenForm,
    ClinicSettingsForm,
    ClosureForm,
    StaffCreateForm,
    StaffUpdateForm,
)
from needlecare.accounts.models import Clinic
from needlecare.errors import ServiceError
from needlecare.page_actions import refusal, show_refusal, submit


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    staff = services.list_staff(Actor.from_request(request))
    return render(request, "accounts/staff_list.html", {"staff": staff})


@login_required
@require_http_methods(["GET", "POST"])
def staff_new(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    require(actor, Permission.MANAGE_STAFF)
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.create_staff(actor, form.new_staff())
        except ServiceError as error:
            show_refusal(form, refusal(error))
        else:
            messages.success(request, _("%(name)s can now sign in as “%(username)s”.")
                             % {"name": user, "username": user.username})
            return redirect("staff-list")
    return render(request, "accounts/staff_form.html", {
        "form": form, "title": _("Add a staff member"), "submit": _("Add staff member")})


@login_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    if request.method == "POST":
        form = StaffUpdateForm(request.POST)
        if form.is_valid():
            try:
                updated = services.update_staff(actor, pk, form.changes())
            except ServiceError as error:
                show_refusal(form, refusal(error))
            else:
                if updated.pk == request.user.pk:
                    # Keep the owner signed in after changing their own password.
                    update_session_auth_hash(request, updated)
                messages.success(request, _("The changes to %(name)s are saved.")
                                 % {"name": updated})
                if updated.pk == request.user.pk and updated.role != "owner":
                    return redirect("home")  # no longer allowed on the staff pages
                return redirect("staff-list")
        # Refused or invalid: show the form again (and refuse strangers the page).
        member = services.staff_member(actor, pk)
    else:
        member = services.staff_member(actor, pk)
        form = StaffUpdateForm(initial={
            "first_name": member.first_name, "last_name": member.last_name,
            "email": member.email, "title": member.title, "role": member.role,
            "is_active": member.is_active})
    return render(request, "accounts/staff_form.html", {
        "form": form, "member": member,
        "title": _("Staff member: %(name)s") % {"name": member},
        "submit": _("Save changes")})


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The signed-in staff member's API tokens: issue one (its secret is shown once), or see
    and revoke the others."""
    actor = Actor.from_request(request)
    form = ApiTokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.issue_api_token(actor, request.user.pk, form.cleaned_data["name"],
                                              form.cleaned_data["days"])
        except ServiceError as error:
            form.add_error("name", refusal(error).message)
        else:
            form = ApiTokenForm()
    response = render(request, "accounts/api_tokens.html", {
        "form": form, "issued": issued,
        "tokens": services.list_api_tokens(actor, request.user.pk), "now": clock.now()})
    if issued is not None:
        response["Cache-Control"] = "no-store"  # the secret must not linger in a cache
    return response


@login_required
@require_http_methods(["POST"])
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = services.revoke_api_token(Actor.from_request(request), pk)
    messages.success(request, _("The token “%(name)s” no longer works.") % {"name": token.name})
    return redirect("api-tokens")


# --- the clinic's settings (owners) -----------------------------------------------------------

def _settings_page(request: HttpRequest, form: ClinicSettingsForm,
                   closure_form: ClosureForm | None = None) -> HttpResponse:
    actor = Actor.from_request(request)
    clinic = clinic_settings.clinic_for_settings(actor)
    return render(request, "accounts/clinic_settings.html", {
        "form": form, "clinic": clinic, "closure_form": closure_form or ClosureForm(),
        "closures": clinic_settings.closures(actor),
        "hour_fields": [form[f"hours_{day}"] for day in range(7)]})


@login_required
@require_http_methods(["GET", "POST"])
def clinic_settings_page(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    if request.method == "GET":
        clinic = clinic_settings.clinic_for_settings(actor)
        return _settings_page(request, ClinicSettingsForm(
            initial=ClinicSettingsForm.initial_for(clinic)))
    form = ClinicSettingsForm(request.POST, request.FILES)

    def save() -> object:
        upload = form.cleaned_data.get("logo")
        return clinic_settings.update_clinic_settings(
            actor, form.settings(), logo=upload.read() if upload else None,
            remove_logo=form.cleaned_data["remove_logo"])

    return submit(request, save, form=form, show_again=lambda: _settings_page(request, form),
                  done=reverse("clinic-settings"),
                  done_message=_("The clinic's settings are saved. Patients see them from "
                                 "now on."))


@login_required
@require_POST
def closure_add(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    form = ClosureForm(request.POST)
    clinic = clinic_settings.clinic_for_settings(actor)
    return submit(request, lambda: clinic_settings.add_closure(
        actor, form.cleaned_data["starts_on"], form.cleaned_data["ends_on"],
        form.cleaned_data["reason"]),
        form=form, show_again=lambda: _settings_page(
            request, ClinicSettingsForm(initial=ClinicSettingsForm.initial_for(clinic)), form),
        done=reverse("clinic-settings") + "#closures", done_message=_("Closure added."))


@login_required
@require_POST
def closure_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: clinic_settings.remove_closure(Actor.from_request(request),
                                                                  pk),
                  done=reverse("clinic-settings") + "#closures",
                  done_message=_("Closure removed."))


@require_GET
def clinic_logo(request: HttpRequest, slug: str) -> HttpResponse:
    """The clinic's logo, public (patient pages and messages show it before any sign-in)."""
    clinic = Clinic.objects.filter(slug=slug).only("logo").first()
    if clinic is None or not clinic.logo:
        raise Http404("No logo.")
    with clinic.logo.open("rb") as stored:
        content = stored.read()
    kind = "image/png" if clinic.logo.name.endswith(".png") else "image/jpeg"
    response = HttpResponse(content, content_type=kind)
    # The name changes with the content, so the file can be kept for a day.
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
