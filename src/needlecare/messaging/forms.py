from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from needlecare.messaging.models import MessageStatus


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All messages")), *MessageStatus.choices])
