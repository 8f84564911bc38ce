"""Forms of the outcomes pages. The measures' forms are built from the outcome-measures file,
so a new measure (or a clinic's licensed questionnaire) needs no form code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needlecare.clinical.protocol.alternatives_loader import default_alternatives
from needlecare.clinical.protocol.outcomes_schema import Item, Measure
from needlecare.outcomes.choice import SCAR_TYPES
from needlecare.outcomes.models import (
    ReferralOutcome,
    ReferralReason,
    ReferralTo,
    Urgency,
)
from needlecare.outcomes.records import outcomes
from needlecare.recovery.models import Outcome

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SCAR_LABELS = {"icepick": _("Ice-pick"), "boxcar": _("Boxcar"), "rolling": _("Rolling")}


def _item_field(item: Item, *, patient: bool) -> forms.Field:
    """A radio button per value when every value has words (or the scale is short); a number
    with its anchors in the help text otherwise."""
    values = range(item.min, item.max + 1)
    if (item.levels and not item.anchors_only) or (patient and len(values) <= 11):
        choices = []
        for value in values:
            words = item.levels.get(value, "")
            choices.append((str(value), f"{value} – {words}" if words else str(value)))
        return forms.TypedChoiceField(label=item.label, choices=choices, coerce=int,
                                      widget=forms.RadioSelect, required=item.required)
    anchors = "; ".join(f"{v} = {words}" for v, words in sorted(item.levels.items()))
    return forms.IntegerField(label=item.label, min_value=item.min, max_value=item.max,
                              required=item.required,
                              help_text=f"{item.min}–{item.max}" + (f" ({anchors})"
                                                                   if anchors else ""))


class MeasureForm(forms.Form):
    """A clinician's measure: its items, the point of the course and the date."""

    assessed_on = forms.DateField(label=_("Date assessed"), widget=DATE)

    def __init__(self, measure: Measure, points: Sequence[tuple[str, str]],
                 sessions: Sequence[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.measure = measure
        self.fields["point"] = forms.ChoiceField(label=_("Point of the course"),
                                                 choices=list(points))
        self.fields["session"] = forms.TypedChoiceField(
            label=_("Session"), required=False, coerce=int, empty_value=None,
            choices=[("", _("None (not at a session)")),
                     *[(str(pk), label) for pk, label in sessions]])
        self.item_keys = list(measure.items)
        for key, item in measure.items.items():
            self.fields[f"item_{key}"] = _item_field(item, patient=False)

    def values(self) -> dict[str, int]:
        return {key: self.cleaned_data[f"item_{key}"] for key in self.item_keys
                if self.cleaned_data.get(f"item_{key}") is not None}


class PatientOutcomeForm(forms.Form):
    """The patient's questions for an invitation: one group per measure."""

    def __init__(self, measures: Sequence[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        found = outcomes()
        self.groups: list[tuple[str, str, list[str]]] = []
        for key in measures:
            measure = found.measures[key]
            names = []
            for item_key, item in measure.items.items():
                name = f"{key}__{item_key}"
                field = _item_field(item, patient=True)
                field.label = measure.patient if len(measure.items) == 1 else item.label
                field.error_messages["required"] = _("Please choose an answer.")
                self.fields[name] = field
                names.append(name)
            self.groups.append((key, measure.patient, names))

    @property
    def questions(self) -> list[forms.BoundField]:
        return [self[name] for _key, _text, names in self.groups for name in names]

    def answers(self) -> dict[str, dict[str, int]]:
        found: dict[str, dict[str, int]] = {}
        for name, value in self.cleaned_data.items():
            if value is None:
                continue
            measure, _sep, item = name.partition("__")
            found.setdefault(measure, {})[item] = value
        return found


def _adverse_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    classification = outcomes().data.adverse_events
    types = [(key, kind.label) for key, kind in classification.types.items()]
    grades = [(str(g), f"{g} – {grade.label}: {grade.definition}")
              for g, grade in sorted(classification.severity.grades.items())]
    return types, grades


class AdverseEventForm(forms.Form):
    session = forms.TypedChoiceField(label=_("After the session of"), coerce=int)
    type = forms.ChoiceField(label=_("Type"))
    severity = forms.TypedChoiceField(label=_("Severity (CTCAE v5.0 grade)"), coerce=int,
                                      widget=forms.RadioSelect)
    onset = forms.DateField(label=_("Onset"), widget=DATE)
    resolved = forms.DateField(label=_("Resolved on"), widget=DATE, required=False)
    note = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False,
                           max_length=4000)

    def __init__(self, sessions: Sequence[tuple[int, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        types, grades = _adverse_choices()
        self.fields["session"].choices = [(str(pk), label) for pk, label in sessions]
        self.fields["type"].choices = types
        self.fields["severity"].choices = grades


class ChoiceForm(forms.Form):
    option = forms.ChoiceField(label=_("Treatment chosen"), widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Why this treatment for this patient"),
                             widget=forms.Textarea, max_length=4000)
    scar_types = forms.MultipleChoiceField(
        label=_("Acne scar types present"), required=False,
        widget=forms.MultipleHiddenInput, choices=[(s, s) for s in SCAR_TYPES])

    def __init__(self, options: Sequence[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = list(options)


class ScarTypesForm(forms.Form):
    scar_types = forms.MultipleChoiceField(
        label=_("Acne scar types present"), required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(s, SCAR_LABELS[s]) for s in SCAR_TYPES])


class OfferingsForm(forms.Form):
    not_offered = forms.MultipleChoiceField(
        label=_("Treatments this clinic does not provide (shown as “refer”)"), required=False,
        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["not_offered"].choices = [
            (key, option.name) for key, option in default_alternatives().data.options.items()
            if key != "microneedling"]


class ReferralForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome of the escalation"), choices=Outcome.choices,
                                initial=Outcome.REFERRED)
    note = forms.CharField(label=_("Note on the escalation (optional)"), required=False,
                           widget=forms.Textarea, max_length=10000)
    to = forms.ChoiceField(label=_("Refer to"), choices=ReferralTo.choices,
                           widget=forms.RadioSelect, initial=ReferralTo.DERMATOLOGIST)
    recipient = forms.CharField(label=_("Name and address of the recipient (optional)"),
                                required=False, max_length=300)
    reason = forms.ChoiceField(label=_("Reason"), choices=ReferralReason.choices)
    reason_detail = forms.CharField(label=_("Reason in your words"), required=False,
                                    widget=forms.Textarea, max_length=4000)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices,
                                widget=forms.RadioSelect, initial=Urgency.ROUTINE)
    summary = forms.CharField(label=_("Your summary for the letter"), widget=forms.Textarea,
                              max_length=10000,
                              help_text=_("What happened, what you found, what was done, "
                                          "and what you ask of the recipient."))

    def __init__(self, *args: Any, closing: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not closing:
            del self.fields["outcome"]
            del self.fields["note"]


class ReferralOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("What came of the referral"),
                                choices=ReferralOutcome.choices, widget=forms.RadioSelect)
    outcome_on = forms.DateField(label=_("Date"), widget=DATE)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea,
                           max_length=4000)


class NumbersForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=DATE)
    end = forms.DateField(label=_("To"), widget=DATE)
    practitioner = forms.TypedChoiceField(label=_("Practitioner"), required=False, coerce=int,
                                          empty_value=None)

    def __init__(self, practitioners: Sequence[tuple[int, str]], *args: Any,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].choices = [("", _("Everyone")), *[
            (str(pk), name) for pk, name in practitioners]]


def numbers_data(query: Any, default_start: dt.date, default_end: dt.date) -> dict[str, str]:
    """The filter form's data from the address (``from``, ``to``, ``practitioner``), with the
    default range when absent."""
    return {"start": query.get("from") or default_start.isoformat(),
            "end": query.get("to") or default_end.isoformat(),
            "practitioner": query.get("practitioner", "")}
