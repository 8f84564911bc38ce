"""Forms for the owner's staff pages. Password strength is checked by the service, with
Django's validators and the new user's own details."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from needlecare.accounts import countries
from needlecare.accounts.clinic_settings import (
    WEEKDAYS,
    ClinicSettings,
    format_intervals,
    parse_intervals,
)
from needlecare.accounts.models import Clinic, Role
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
        # The least privileged role unless the owner chooses more.
        label=_("Role"), choices=Role.choices, initial=Role.FRONT_DESK,
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


class ClinicSettingsForm(forms.Form):
    """The owner's settings page. Hours are typed per weekday ("09:00–13:00, 14:00–17:30"),
    which works on any device without JavaScript."""

    name = forms.CharField(label=_("Clinic name"), max_length=200)
    phone = forms.CharField(label=_("Phone number patients call"), max_length=40)
    email = forms.EmailField(label=_("Clinic email"), required=False)
    address = forms.CharField(label=_("Address"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("At most 500 characters."))
    country = forms.ChoiceField(label=_("Country"), choices=countries.choices())
    time_zone = forms.ChoiceField(label=_("Time zone"),
                                  choices=[(z, z) for z in sorted(available_timezones())])
    urgent_callback_hours = forms.IntegerField(
        label=_("Call-back promise for urgent reports (hours of opening time)"),
        min_value=1, max_value=24,
        help_text=_("While the clinic is open, an urgent check-in is called back within this "
                    "many hours, and no later than the next opening."))
    emergency_number = forms.CharField(
        label=_("Emergency number"), max_length=6, required=False,
        help_text=_("Leave empty for the country's (999 in the United Kingdom, 112 in the "
                    "European Union, 911 in North America, 000 in Australia)."))
    out_of_hours_name = forms.CharField(
        label=_("Out-of-hours service"), max_length=120, required=False,
        help_text=_("Whom patients call when the clinic is closed and they cannot wait, for "
                    "example “NHS 111”."))
    out_of_hours_phone = forms.CharField(label=_("Out-of-hours phone number"), max_length=40,
                                         required=False)
    link_inactivity_days = forms.IntegerField(
        label=_("A patient's personal link stops working after this many days unused"),
        min_value=30, max_value=3650)
    logo = forms.FileField(label=_("Logo (PNG or JPEG, at most 1 MB)"), required=False)
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day, name in enumerate(WEEKDAYS):
            self.fields[f"hours_{day}"] = forms.CharField(
                label=_(name), required=False, max_length=100,
                help_text=_("For example 09:00–13:00, 14:00–17:30; empty when closed."))

    @classmethod
    def initial_for(cls, clinic: Clinic) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(clinic, name) for name in (
            "name", "phone", "email", "address", "country", "time_zone",
            "urgent_callback_hours", "emergency_number", "out_of_hours_name",
            "out_of_hours_phone", "link_inactivity_days")}
        for day in range(7):
            initial[f"hours_{day}"] = format_intervals(clinic.opening_hours.get(str(day), []))
        return initial

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        hours: dict[int, list[tuple[str, str]]] = {}
        for day in range(7):
            try:
                hours[day] = parse_intervals(cleaned.get(f"hours_{day}", "") or "")
            except ValueError as exc:
                self.add_error(f"hours_{day}", str(exc))
        cleaned["opening_hours"] = hours
        return cleaned

    def settings(self) -> ClinicSettings:
        data = self.cleaned_data
        return ClinicSettings(
            name=data["name"], phone=data["phone"], email=data["email"],
            address=data["address"], country=data["country"], time_zone=data["time_zone"],
            opening_hours=data["opening_hours"],
            urgent_callback_hours=data["urgent_callback_hours"],
            emergency_number=data["emergency_number"],
            out_of_hours_name=data["out_of_hours_name"],
            out_of_hours_phone=data["out_of_hours_phone"],
            link_inactivity_days=data["link_inactivity_days"])


class ClosureForm(forms.Form):
    starts_on = forms.DateField(label=_("Closed from"),
                                widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until (inclusive)"),
                              widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=120,
                             help_text=_("For example “Christmas Day” or “Staff training”."))
