"""Forms of the patient's phone pages and of the escalation worklist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needlecare import clock
from needlecare.clinical.vocabulary import RED_FLAGS, SYMPTOMS, Trend
from needlecare.recovery.models import Outcome

SEVERITY_CHOICES = [("", _("Choose")), ("0", _("0 – none"))] + [
    (str(n), str(n)) for n in range(1, 10)] + [("10", _("10 – worst"))]
TREND_CHOICES = [(Trend.BETTER.value, _("Better")), (Trend.SAME.value, _("The same")),
                 (Trend.WORSE.value, _("Worse"))]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class SymptomRow:
    code: str
    label: str
    present: forms.BoundField
    severity: forms.BoundField
    trend: forms.BoundField

    @property
    def has_errors(self) -> bool:
        return bool(self.present.errors or self.severity.errors or self.trend.errors)


@dataclass(frozen=True)
class RedFlagRow:
    code: str
    label: str
    answer: forms.BoundField


class CheckInForm(forms.Form):
    """Every symptom of the vocabulary (optional) and every red flag (a required yes or no).

    Requiring the red-flag answers here means a patient using the page never gets a level
    raised because a question was skipped; the engine itself still reads a missing answer as
    "yes" for other clients."""

    note = forms.CharField(
        label=_("Anything else you want to tell the clinic? (optional)"), required=False,
        max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code in SYMPTOMS:
            self.fields[f"{code}_present"] = forms.BooleanField(
                label=_("I have this"), required=False)
            self.fields[f"{code}_severity"] = forms.TypedChoiceField(
                label=_("How strong is it? (0 = none, 10 = worst)"), choices=SEVERITY_CHOICES,
                coerce=int, empty_value=None, required=False)
            self.fields[f"{code}_trend"] = forms.ChoiceField(
                label=_("Since yesterday it is"), choices=TREND_CHOICES, required=False,
                widget=forms.RadioSelect)
        for code, term in RED_FLAGS.items():
            self.fields[f"flag_{code}"] = forms.ChoiceField(
                label=_sentence(term.patient), choices=YES_NO, widget=forms.RadioSelect,
                error_messages={"required": _("Please answer yes or no.")})
        # The note goes last on the page.
        self.order_fields([f for f in self.fields if f != "note"] + ["note"])

    def symptom_rows(self) -> list[SymptomRow]:
        return [SymptomRow(code=code, label=_sentence(term.patient),
                           present=self[f"{code}_present"], severity=self[f"{code}_severity"],
                           trend=self[f"{code}_trend"])
                for code, term in SYMPTOMS.items()]

    def red_flag_rows(self) -> list[RedFlagRow]:
        return [RedFlagRow(code=code, label=_sentence(term.patient),
                           answer=self[f"flag_{code}"]) for code, term in RED_FLAGS.items()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for code in SYMPTOMS:
            severity = cleaned.get(f"{code}_severity")
            trend = cleaned.get(f"{code}_trend")
            reported = cleaned.get(f"{code}_present") or bool(severity) or bool(trend)
            if not reported:
                continue
            if severity is None and f"{code}_severity" not in self.errors:
                self.add_error(f"{code}_severity", _("Choose how strong it is, from 0 to 10."))
            if not trend and f"{code}_trend" not in self.errors:
                self.add_error(f"{code}_trend", _("Choose better, the same or worse."))
        return cleaned

    def answers(self) -> dict[str, Any]:
        """The patient's answers in the shape of the check-in document."""
        data = self.cleaned_data
        symptoms = {}
        for code in SYMPTOMS:
            severity = data.get(f"{code}_severity")
            trend = data.get(f"{code}_trend")
            if data.get(f"{code}_present") or severity or trend:
                symptoms[code] = {"severity": severity, "trend": trend}
        return {
            "symptoms": symptoms,
            "red_flags": {code: data[f"flag_{code}"] == "yes" for code in RED_FLAGS},
            "note": data.get("note", "").strip(),
        }


MONTHS = [("", _("Month")), ("1", _("January")), ("2", _("February")), ("3", _("March")),
          ("4", _("April")), ("5", _("May")), ("6", _("June")), ("7", _("July")),
          ("8", _("August")), ("9", _("September")), ("10", _("October")),
          ("11", _("November")), ("12", _("December"))]


class DateOfBirthForm(forms.Form):
    day = forms.IntegerField(
        label=_("Day"), min_value=1, max_value=31,
        error_messages={"required": _("Enter the day you were born."),
                        "invalid": _("Enter the day as a number, for example 7.")},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "bday-day"}))
    month = forms.TypedChoiceField(
        label=_("Month"), choices=MONTHS, coerce=int,
        error_messages={"required": _("Choose the month you were born.")},
        widget=forms.Select(attrs={"autocomplete": "bday-month"}))
    year = forms.IntegerField(
        label=_("Year"), min_value=1900,
        error_messages={"required": _("Enter the year you were born."),
                        "invalid": _("Enter the year as four numbers, for example 1985.")},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "bday-year"}))

    def clean_year(self) -> int:
        year: int = self.cleaned_data["year"]
        if year > clock.localdate().year:
            raise forms.ValidationError(_("Enter the year you were born."))
        return year

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            try:
                cleaned["date_of_birth"] = dt.date(cleaned["year"], cleaned["month"],
                                                   cleaned["day"])
            except ValueError:
                raise forms.ValidationError(
                    _("That date does not exist. Please check the day and month.")) from None
        return cleaned


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=10000,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": _("Write the note first.")})


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", _("Choose the outcome")), *Outcome.choices],
        error_messages={"required": _("Choose the outcome before closing.")},
        help_text=_("Choose “Referred to a dermatologist” for a laser or peel referral."))
    note = forms.CharField(label=_("Closing note (optional)"), required=False, max_length=10000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class RevokeLinkForm(forms.Form):
    reason = forms.CharField(label=_("Why should the link stop working?"), max_length=200,
                             help_text=_("For example: the patient lost their phone."))
