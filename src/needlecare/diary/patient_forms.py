"""The patient's forms: the pre-visit intake in steps (built from the vocabulary, in the
patient's wording), the medicines and treatments check before a session, the consent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needlecare import clock
from needlecare.clinical import vocabulary as vocab

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NOT_SURE = "not_sure"
YES_NO = [("no", _("No")), ("yes", _("Yes")), (NOT_SURE, _("Not sure"))]
MEDICATION = [("no", _("No")), ("current", _("Yes, I take it now")),
              ("stopped", _("I stopped it (give the date of the last dose if you know it)")),
              (NOT_SURE, _("Not sure"))]
PROCEDURE = [("no", _("No")), ("dated", _("Yes, on the date I give")),
             ("undated", _("Yes, I do not remember when")), (NOT_SURE, _("Not sure"))]


def _patient_text(term: vocab.Term) -> str:
    return term.patient or term.display


class StepForm(forms.Form):
    """A step: ``rows`` pairs each question with its date field (or None)."""

    section = ""

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField | None]]:
        return [(self[name], self[f"{name}_date"] if f"{name}_date" in self.fields else None)
                for name in self.fields if not name.endswith("_date")]

    def answers(self) -> dict[str, Any]:
        raise NotImplementedError  # each step form says how its answers read


class SkinForm(StepForm):
    fitzpatrick = forms.TypedChoiceField(
        label=_("How does your skin react to the sun?"), coerce=int, required=False,
        empty_value=None, widget=forms.RadioSelect,
        choices=[(int(c), _patient_text(t)) for c, t in vocab.FITZPATRICK.items()])
    indications = forms.MultipleChoiceField(
        label=_("What would you like treated?"), required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(c, _patient_text(t)) for c, t in vocab.INDICATIONS.items()])
    zones = forms.MultipleChoiceField(
        label=_("Where?"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(c, _patient_text(t)) for c, t in vocab.ZONES.items()])

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField | None]]:
        return [(self["fitzpatrick"], None), (self["indications"], None), (self["zones"], None)]

    def answers(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"fitzpatrick": data["fitzpatrick"], "indications": list(data["indications"]),
                "zones": list(data["zones"])}


class YesNoForm(StepForm):
    def __init__(self, *args: Any, section: str, table: Mapping[str, vocab.Term],
                 stored: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section = section
        self.table = table
        for code, term in table.items():
            value = (stored or {}).get(code)
            self.fields[code] = forms.ChoiceField(
                label=_patient_text(term), choices=YES_NO, widget=forms.RadioSelect,
                initial=NOT_SURE if value is None else ("yes" if value else "no"))

    def answers(self) -> dict[str, Any]:
        return {self.section: {code: self.cleaned_data[code] == "yes" for code in self.table
                               if self.cleaned_data[code] != NOT_SURE}}


class MedicationsForm(StepForm):
    section = "medications"

    def __init__(self, *args: Any, stored: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, term in vocab.MEDICATIONS.items():
            value = (stored or {}).get(code)
            initial, last = NOT_SURE, None
            if isinstance(value, dict):
                initial, last = "stopped", value.get("last_dose")
            elif value is not None:
                initial = "current" if value else "no"
            self.fields[code] = forms.ChoiceField(label=_patient_text(term), choices=MEDICATION,
                                                  widget=forms.RadioSelect, initial=initial)
            self.fields[f"{code}_date"] = forms.DateField(
                label=_("Last dose, if you stopped"), required=False, widget=DATE,
                initial=dt.date.fromisoformat(last) if last else None)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for code in vocab.MEDICATIONS:
            last = data.get(f"{code}_date")
            if last and last > clock.localdate():
                self.add_error(f"{code}_date", _("That date has not come yet."))
        return data

    def answers(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for code in vocab.MEDICATIONS:
            answer = self.cleaned_data[code]
            if answer == "stopped":
                last = self.cleaned_data.get(f"{code}_date")
                out[code] = {"current": False, "last_dose": last.isoformat() if last else None}
            elif answer != NOT_SURE:
                out[code] = answer == "current"
        return {"medications": out}


class ProceduresForm(StepForm):
    section = "procedures"

    def __init__(self, *args: Any, stored: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, term in vocab.PROCEDURES.items():
            value = (stored or {}).get(code)
            initial, when = NOT_SURE, None
            if isinstance(value, str):
                initial, when = "dated", value
            elif value is not None:
                initial = "undated" if value else "no"
            self.fields[code] = forms.ChoiceField(label=_patient_text(term), choices=PROCEDURE,
                                                  widget=forms.RadioSelect, initial=initial)
            self.fields[f"{code}_date"] = forms.DateField(
                label=_("When (the most recent)"), required=False, widget=DATE,
                initial=dt.date.fromisoformat(when) if when else None)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for code in vocab.PROCEDURES:
            if data.get(code) == "dated" and not data.get(f"{code}_date"):
                self.add_error(f"{code}_date", _("Give the date, or choose “I do not remember "
                                                 "when”."))
            when = data.get(f"{code}_date")
            if when and when > clock.localdate():
                self.add_error(f"{code}_date", _("That date has not come yet."))
        return data

    def answers(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for code in vocab.PROCEDURES:
            answer = self.cleaned_data[code]
            if answer == "dated":
                out[code] = self.cleaned_data[f"{code}_date"].isoformat()
            elif answer != NOT_SURE:
                out[code] = answer == "undated"
        return {"procedures": out}


def step_form(key: str, data: Any, stored: Mapping[str, Any]) -> StepForm:
    if key == "skin":
        return SkinForm(data, initial={"fitzpatrick": stored.get("fitzpatrick"),
                                       "indications": stored.get("indications", []),
                                       "zones": stored.get("zones", [])})
    if key == "conditions":
        return YesNoForm(data, section="conditions", table=vocab.CONDITIONS,
                         stored=stored.get("conditions"))
    if key == "allergies":
        return YesNoForm(data, section="allergies", table=vocab.ALLERGIES,
                         stored=stored.get("allergies"))
    if key == "medications":
        return MedicationsForm(data, stored=stored.get("medications"))
    return ProceduresForm(data, stored=stored.get("procedures"))


class SignForm(forms.Form):
    strokes = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200_000)
    typed_name = forms.CharField(label=_("Or type your full name"), required=False,
                                 max_length=200,
                                 widget=forms.TextInput(attrs={"autocomplete": "name"}))
    understood = forms.BooleanField(
        label=_("I have read and understood this information"),
        error_messages={"required": _("Tick the box to confirm you have read and understood "
                                      "the text.")})


class OfferForm(forms.Form):
    start = forms.DateTimeField()
