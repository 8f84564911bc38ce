"""The owner's staff pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from needlecare import clock
from needlecare.access import Actor, Permission, require
from needlecare.accounts import services
from needlecare.accounts.forms import ApiTokenForm, StaffCreateForm, StaffUpdateForm
from needlecare.errors import ServiceError
from needlecare.page_actions import refusal, show_refusal


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
