from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class EraseForm(forms.Form):
    confirm_name = forms.CharField(
        label=_("Type the patient's full name to confirm"), max_length=210,
        error_messages={"required": _("Type the patient's full name to confirm.")})
