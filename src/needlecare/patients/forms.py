"""Forms that parse what the front desk types. The rules (date ranges, duplicates, which
contact details a channel needs) live in the services, which report them back to the form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from needlecare.patients.models import Channel
from needlecare.patients.services import PatientDetails

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class PatientForm(forms.Form):
    given_name = forms.CharField(label=_("First name"), max_length=100,
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    family_name = forms.CharField(label=_("Last name"), max_length=100,
                                  widget=forms.TextInput(attrs={"autocomplete": "off"}))
    date_of_birth = forms.DateField(
        label=_("Date of birth"), input_formats=DATE_INPUT_FORMATS,
        help_text=_("Day/month/year, for example 17/05/1990."),
        error_messages={"invalid": _("Enter the date of birth as day/month/year, "
                                     "for example 17/05/1990.")},
        # A text box, not a date picker: pickers are slow for dates decades ago.
        widget=forms.DateInput(attrs={"autocomplete": "off"}, format="%d/%m/%Y"))
    phone = forms.CharField(label=_("Mobile phone"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"type": "tel",
                                                          "autocomplete": "off"}))
    email = forms.EmailField(label=_("Email"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    preferred_channel = forms.ChoiceField(label=_("How the patient wants messages"),
                                          choices=Channel.choices, initial=Channel.SMS)
    # Messaging (issue 4): nothing is sent without the patient's agreement.
    messages_opt_in = forms.BooleanField(
        label=_("The patient agrees to receive messages: aftercare, check-in invitations and "
                "reminders, and appointment reminders"), required=False)

    def details(self) -> PatientDetails:
        data = self.cleaned_data
        return PatientDetails(given_name=data["given_name"], family_name=data["family_name"],
                              date_of_birth=data["date_of_birth"], phone=data["phone"],
                              email=data["email"],
                              preferred_channel=data["preferred_channel"],
                              messages_opt_in=data["messages_opt_in"])


class RegisterPatientForm(PatientForm):
    # Shown only after the service found a patient with the same name and date of birth.
    register_anyway = forms.BooleanField(
        label=_("Register anyway: this is a different person"), required=False)


class PatientSearchForm(forms.Form):
    q = forms.CharField(label=_("Name, date of birth or phone number"), required=False,
                        max_length=100,
                        widget=forms.TextInput(attrs={"type": "search"}))
