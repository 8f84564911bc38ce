"""Forms of the patient's phone pages and of the escalation worklist."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needlecare import clock
from needlecare.clinical.vocabulary import RED_FLAGS, SYMPTOMS, Trend
from needlecare.recovery.models import Outcome
from needlecare.recovery.services import PATIENT_NOTE_MAX

SEVERITY_CHOICES = [(str(n), str(n)) for n in range(11)]
TREND_CHOICES = [(Trend.BETTER.value, _("Better")), (Trend.SAME.value, _("Same")),
                 (Trend.WORSE.value, _("Worse"))]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]
NONE_OF_THESE = "none"
SOME_OF_THESE = "some"
# The symptoms of the normal course after a session (reference §3.1, the [C] rows of the
# first days: martin2021, minutilli2024, chu2021) stay in view; the others sit one tap away
# under "Something else?", so that a normal day's check-in fits on a phone.
FIRST_SYMPTOMS = ("redness", "swelling", "pinpoint_bleeding", "pain", "dryness_flaking",
                  "tightness")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class SymptomRow:
    code: str
    label: str
    severity: forms.BoundField
    trend: forms.BoundField

    @property
    def has_errors(self) -> bool:
        return bool(self.severity.errors or self.trend.errors)

    @property
    def answered(self) -> bool:
        return bool(self.severity.value() not in (None, "") or self.trend.value())


@dataclass(frozen=True)
class RedFlagRow:
    code: str
    label: str
    answer: forms.BoundField


@functools.cache
def _answer_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for code in SYMPTOMS:
        # Still read from older pages and scripts that send a tick with the answers.
        fields[f"{code}_present"] = forms.BooleanField(required=False)
        fields[f"{code}_severity"] = forms.TypedChoiceField(
            label=_("How strong (0 none, 10 worst)"), choices=SEVERITY_CHOICES,
            coerce=int, empty_value=None, required=False, widget=forms.RadioSelect)
        fields[f"{code}_trend"] = forms.ChoiceField(
            label=_("Since yesterday"), choices=TREND_CHOICES, required=False,
            widget=forms.RadioSelect)
    for code, term in RED_FLAGS.items():
        fields[f"flag_{code}"] = forms.ChoiceField(
            label=_sentence(term.patient), choices=YES_NO, widget=forms.RadioSelect,
            required=False)
    return fields


class CheckInForm(forms.Form):
    """The patient's check-in: the warning signs, then how the skin feels.

    Warning signs are one question first: "None of these" answers every sign "no" in one tap;
    "Some of these" asks each sign yes or no (the reviewable list, which the page shows once
    it is chosen, or always without CSS support). Nothing is ever preset to "no": a page sent
    without an answer to the question comes back asking for it, and a sign left unanswered
    under "Some of these" comes back too (the engine itself reads a missing answer as "yes",
    for other clients). A "yes" given to one sign is kept even beside "None of these":
    contradictory answers never lower a level.

    A symptom is reported by choosing how strong it is (0 to 10) and whether it is better,
    the same or worse than yesterday; symptoms left blank are not reported."""

    flags = forms.ChoiceField(
        label=_("Do you have any of these warning signs now?"), required=False,
        choices=[(NONE_OF_THESE, _("None of these")), (SOME_OF_THESE, _("Some of these"))],
        widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Anything else you want to tell the clinic? (optional)"), required=False,
        max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The 57 answer fields are made once and shared: no page changes a field, and
        # building or deep-copying them cost more than the rest of a check-in's validation.
        note = self.fields.pop("note")  # the note goes last on the page
        self.fields.update(_answer_fields())
        self.fields["note"] = note

    def symptom_rows(self) -> list[SymptomRow]:
        return [SymptomRow(code=code, label=_sentence(term.patient),
                           severity=self[f"{code}_severity"], trend=self[f"{code}_trend"])
                for code, term in SYMPTOMS.items()]

    def first_symptom_rows(self) -> list[SymptomRow]:
        return [row for row in self.symptom_rows() if row.code in FIRST_SYMPTOMS]

    def other_symptom_rows(self) -> list[SymptomRow]:
        return [row for row in self.symptom_rows() if row.code not in FIRST_SYMPTOMS]

    def show_other_symptoms(self) -> bool:
        """Open "Something else?" when the page comes back with an answer or error in it."""
        return any(row.answered or row.has_errors for row in self.other_symptom_rows())

    def other_symptoms_summary(self) -> str:
        return _sentence(", ".join(SYMPTOMS[row.code].patient
                                   for row in self.other_symptom_rows()))

    def red_flag_rows(self) -> list[RedFlagRow]:
        return [RedFlagRow(code=code, label=_sentence(term.patient),
                           answer=self[f"flag_{code}"]) for code, term in RED_FLAGS.items()]

    def red_flag_errors(self) -> bool:
        return any(f"flag_{code}" in self.errors for code in RED_FLAGS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        choice = cleaned.get("flags")
        answered = {code: cleaned.get(f"flag_{code}") for code in RED_FLAGS
                    if cleaned.get(f"flag_{code}")}
        if choice != NONE_OF_THESE:
            if not choice and not answered:
                self.add_error("flags", _("Please answer: choose “None of these” or “Some "
                                          "of these”."))
            else:
                for code in RED_FLAGS:
                    if code not in answered:
                        self.add_error(f"flag_{code}", _("Please answer yes or no."))
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
            # "None of these" answers every sign no, except one the patient said yes to.
            "red_flags": {code: data.get(f"flag_{code}") == "yes" for code in RED_FLAGS},
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


def _note_to_patient(help_text: Any) -> forms.CharField:
    return forms.CharField(
        label=_("Note to the patient (optional)"), required=False, max_length=PATIENT_NOTE_MAX,
        help_text=help_text, widget=forms.Textarea(attrs={"rows": 2}))


class AcknowledgeForm(forms.Form):
    note_to_patient = _note_to_patient(_(
        "Shown on the patient's page and sent to them by their usual channel, for example "
        "“I will call you before 10 tomorrow”. Leave empty to show only that you have seen "
        "it."))


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", _("Choose the outcome")), *Outcome.choices],
        error_messages={"required": _("Choose the outcome before closing.")},
        help_text=_("Choose “Referred to a dermatologist” for a laser or peel referral."))
    note = forms.CharField(label=_("Closing note, for the clinic only (optional)"),
                           required=False, max_length=10000,
                           widget=forms.Textarea(attrs={"rows": 3}))
    note_to_patient = _note_to_patient(_(
        "Shown on the patient's page and sent to them by their usual channel. The closing "
        "note above stays internal."))


class RevokeLinkForm(forms.Form):
    reason = forms.CharField(label=_("Why should the link stop working?"), max_length=200,
                             help_text=_("For example: the patient lost their phone."))
