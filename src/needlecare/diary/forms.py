"""Forms of the diary's pages. They parse; the booking service decides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needlecare.diary.models import AppointmentStatus

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def _override() -> forms.CharField:
    return forms.CharField(
        label=_("Reason to book past a rule"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only when a rule refused the booking and you mean to book anyway: hours "
                    "(anyone who books), healing rules (clinicians). Kept with the "
                    "appointment."))


class BookForm(forms.Form):
    type = forms.TypedChoiceField(label=_("Appointment type"), coerce=int)
    practitioner = forms.TypedChoiceField(label=_("Practitioner"), coerce=int)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DATETIME,
                                    input_formats=DATETIME_FORMATS)
    plan = forms.TypedChoiceField(label=_("Treatment plan (for a session)"), coerce=int,
                                  required=False, empty_value=None)
    room = forms.TypedChoiceField(label=_("Room"), coerce=int, required=False, empty_value=None)
    device = forms.TypedChoiceField(label=_("Device"), coerce=int, required=False,
                                    empty_value=None)
    notes = forms.CharField(label=_("Note for the diary"), required=False, max_length=300)
    override_reason = _override()

    def __init__(self, *args: Any, types: Any, staff: Any, plans: Any, rooms: Any,
                 devices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [(t.pk, t.name) for t in types]
        self.fields["practitioner"].choices = [(p.pk, str(p)) for p in staff]
        self.fields["plan"].choices = [("", _("— not a session —")),
                                       *[(p.pk, _("Plan of %(date)s") % {
                                           "date": p.created_at.date().isoformat()})
                                         for p in plans]]
        self.fields["room"].choices = [("", _("Any free room")), *[(r.pk, r.name)
                                                                   for r in rooms]]
        self.fields["device"].choices = [("", _("Any free device, if needed")),
                                         *[(d.pk, d.name) for d in devices]]


class MoveForm(forms.Form):
    starts_at = forms.DateTimeField(label=_("New start"), widget=DATETIME,
                                    input_formats=DATETIME_FORMATS)
    practitioner = forms.TypedChoiceField(label=_("Practitioner"), coerce=int)
    override_reason = _override()

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].choices = [(p.pk, str(p)) for p in staff]


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=AppointmentStatus.choices)


class SessionBookForm(forms.Form):
    practitioner = forms.TypedChoiceField(label=_("Practitioner"), coerce=int)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DATETIME,
                                    input_formats=DATETIME_FORMATS)
    whole_course = forms.BooleanField(
        label=_("Book every remaining session of the course, at the plan's interval"),
        required=False)
    override_reason = _override()

    def __init__(self, *args: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].choices = [(p.pk, str(p)) for p in staff]


class WaitlistForm(forms.Form):
    type = forms.TypedChoiceField(label=_("Appointment type"), coerce=int)
    practitioner = forms.TypedChoiceField(label=_("Practitioner"), coerce=int, required=False,
                                          empty_value=None)
    note = forms.CharField(label=_("Note (times that suit)"), required=False, max_length=300)

    def __init__(self, *args: Any, types: Any, staff: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [(t.pk, t.name) for t in types]
        self.fields["practitioner"].choices = [("", _("Anyone")),
                                               *[(p.pk, str(p)) for p in staff]]


class PatientCancelForm(forms.Form):
    reason = forms.CharField(label=_("Why are you cancelling? (optional)"), required=False,
                             max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
