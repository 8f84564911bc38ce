"""Forms for the owner's staff pages. Password strength is checked by the service, with
Django's validators and the new user's own details."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from needlecare.accounts.models import Role
from needlecare.accounts.services import (
    API_TOKEN_DEFAULT_DAYS,
    API_TOKEN_LIFETIMES,
    NewStaff,
    StaffChanges,
)


class _StaffDetails(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("Email"), required=False)
    title = forms.CharField(label=_("Professional title"), max_length=80, required=False,
                            help_text=_("For example: Registered nurse, Dermatologist."))
    role = forms.ChoiceField(
        label=_("Role"), choices=Role.choices,
        help_text=_("Front desk registers patients and books sessions. Clinicians also see "
                    "clinical records and sign sessions. Owners also manage staff."))


def _passwords_match(form: forms.Form, first: str, second: str) -> None:
    data = form.cleaned_data
    if data.get(first) and data.get(first) != data.get(second):
        form.add_error(second, _("The two passwords differ."))


class StaffCreateForm(_StaffDetails):
    username = forms.CharField(label=_("Username"), max_length=150,
                               validators=[UnicodeUsernameValidator()],
                               help_text=_("Letters, digits and @ . + - _ only."))
    password = forms.CharField(label=_("Initial password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               help_text=_("At least 10 characters, not a common password."))
    password_again = forms.CharField(
        label=_("Initial password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    field_order = ["username", "first_name", "last_name", "email", "title", "role",
                   "password", "password_again"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        _passwords_match(self, "password", "password_again")
        return cleaned

    def new_staff(self) -> NewStaff:
        data = self.cleaned_data
        return NewStaff(username=data["username"], first_name=data["first_name"],
                        last_name=data["last_name"], email=data["email"], role=data["role"],
                        title=data["title"], password=data["password"])


class StaffUpdateForm(_StaffDetails):
    is_active = forms.BooleanField(
        label=_("Active: may sign in"), required=False,
        help_text=_("Untick to stop this person signing in (their API tokens are revoked). "
                    "Their records stay."))
    new_password = forms.CharField(
        label=_("New password"), strip=False, required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password. Setting one also lifts a "
                    "sign-in lock and revokes their API tokens."))
    new_password_again = forms.CharField(
        label=_("New password again"), strip=False, required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        _passwords_match(self, "new_password", "new_password_again")
        return cleaned

    def changes(self) -> StaffChanges:
        data = self.cleaned_data
        return StaffChanges(first_name=data["first_name"], last_name=data["last_name"],
                            email=data["email"], role=data["role"], title=data["title"],
                            is_active=data["is_active"], new_password=data["new_password"])


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("What will use the token?"), max_length=100,
                           help_text=_("For example “booking system”. You can revoke it "
                                       "at any time."))
    days = forms.TypedChoiceField(
        label=_("Works for"), coerce=int, initial=API_TOKEN_DEFAULT_DAYS, required=False,
        empty_value=API_TOKEN_DEFAULT_DAYS,
        choices=[(d, _("%(days)d days") % {"days": d}) for d in API_TOKEN_LIFETIMES],
        help_text=_("It stops working after this; issue a new one then."))
