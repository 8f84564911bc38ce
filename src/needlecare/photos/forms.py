"""Forms of the photo pages: a staff upload (several photos, each with its view), the
patient's photo with a check-in, withdrawing a use, marking the eyes, deleting, settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needlecare.clinical.vocabulary import ZONES
from needlecare.photos.models import Moment, PhotoView, Scope

#: Rows of the staff upload form: a full set of views is six.
UPLOAD_ROWS = 6
#: The views a patient is asked for on their phone (a face the landmarks can find).
PATIENT_VIEWS = [PhotoView.FRONT, PhotoView.LEFT_45, PhotoView.RIGHT_45]


class PhotoInput(forms.ClearableFileInput):
    """A file input that offers the camera: the phone's camera opens straight away."""

    def __init__(self, *, capture: str | None = None) -> None:
        attrs: dict[str, Any] = {"accept": "image/*"}
        if capture:
            attrs["capture"] = capture
        super().__init__(attrs=attrs)


class UploadRowForm(forms.Form):
    photo = forms.FileField(label=_("Photo"), required=False, widget=PhotoInput(),
                            allow_empty_file=True)
    view = forms.ChoiceField(label=_("View"), choices=PhotoView.choices,
                             initial=PhotoView.FRONT)
    zone = forms.ChoiceField(label=_("Zone (close-ups only)"), required=False,
                             choices=[("", "—"), *((c, t.display) for c, t in ZONES.items())])


UploadRows = forms.formset_factory(UploadRowForm, extra=UPLOAD_ROWS, max_num=UPLOAD_ROWS)


class UploadForm(forms.Form):
    moment = forms.ChoiceField(label=_("When were they taken?"), choices=Moment.choices,
                               initial=Moment.BEFORE, widget=forms.RadioSelect)
    session = forms.ChoiceField(label=_("Session"), required=False)

    def __init__(self, *args: Any, sessions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["session"].choices = [("", _("No session")), *sessions]


class PatientPhotoForm(forms.Form):
    view = forms.ChoiceField(label=_("Which photo is this?"), widget=forms.RadioSelect,
                             choices=[(str(v), dict(PhotoView.choices)[str(v)])
                                      for v in PATIENT_VIEWS],
                             initial=PhotoView.FRONT)
    photo = forms.FileField(label=_("Take or choose a photo"), allow_empty_file=True,
                            widget=PhotoInput(capture="user"),
                            error_messages={"required": _("Take a photo first.")})


class ScopeWithdrawForm(forms.Form):
    scope = forms.ChoiceField(label=_("Use to withdraw"))
    reason = forms.CharField(label=_("Reason the patient gave"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, scopes: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = dict(Scope.choices)
        choices = scopes if scopes is not None else [
            s for s in Scope.values if s != Scope.CLINICAL_RECORD]
        self.fields["scope"].choices = [(s, names[s]) for s in choices]


class DeleteForm(forms.Form):
    reason = forms.CharField(label=_("Reason for deleting"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class SettingsForm(forms.Form):
    retention_years = forms.IntegerField(
        label=_("Keep photos for (years after the patient's last treatment or check-in)"),
        min_value=1, max_value=100)
