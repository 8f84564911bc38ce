"""Every answer of a consultation's intake, as the clinician reads it back: grouped as on the
form (conditions, allergies, medicines, treatments and procedures), the "yes" answers first in
each group, and the questions not asked named as such (a blank is never shown as "no").

Pure functions over the stored ``needlecare.intake/1`` document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _

from needlecare.clinical import vocabulary as vocab


@dataclass(frozen=True)
class Answer:
    code: str
    label: str
    text: str
    #: The answer reports the condition, medicine, allergy or treatment.
    yes: bool
    asked: bool


@dataclass(frozen=True)
class AnswerGroup:
    key: str
    title: str
    answers: list[Answer]

    @property
    def yes(self) -> int:
        return sum(1 for a in self.answers if a.yes)


def _day(value: str) -> str:
    try:
        return formats.date_format(dt.date.fromisoformat(value), "j F Y")
    except ValueError:
        return value


def _yes_no(value: Any) -> tuple[str, bool]:
    return (_("Yes"), True) if value else (_("No"), False)


def _medication(value: Any) -> tuple[str, bool]:
    if isinstance(value, Mapping):
        if value.get("current"):
            return _("Yes, taking now"), True
        last = value.get("last_dose")
        return ((_("Stopped; last dose %(day)s") % {"day": _day(last)}) if last
                else _("Stopped; last dose not known")), True
    return (_("Yes, taking now"), True) if value else (_("No"), False)


def _procedure(value: Any) -> tuple[str, bool]:
    if isinstance(value, str):
        return _("Yes, on %(day)s") % {"day": _day(value)}, True
    return (_("Yes, date not known"), True) if value else (_("No"), False)


_GROUPS = (
    ("conditions", lambda: _("Conditions"), vocab.CONDITIONS, _yes_no),
    ("allergies", lambda: _("Allergies"), vocab.ALLERGIES, _yes_no),
    ("medications", lambda: _("Medicines"), vocab.MEDICATIONS, _medication),
    ("procedures", lambda: _("Treatments and procedures"), vocab.PROCEDURES, _procedure),
)


def intake_answers(intake: Mapping[str, Any]) -> list[AnswerGroup]:
    """Every question of each group, answered or not, the "yes" answers first (in the
    form's order within each kind)."""
    groups = []
    for key, title, table, read in _GROUPS:
        given = intake.get(key) or {}
        answers = []
        for code, term in table.items():
            if code not in given:
                answers.append(Answer(code, term.display, _("Not asked"), False, False))
                continue
            text, yes = read(given[code])
            answers.append(Answer(code, term.display, text, yes, True))
        # Yes first, then no, then not asked; the form's order within each.
        answers.sort(key=lambda a: (not a.yes, not a.asked))
        groups.append(AnswerGroup(key=key, title=str(title()), answers=answers))
    return groups


def allergies_reported(intake: Mapping[str, Any] | None) -> list[str] | None:
    """The allergies an intake reports (their names), or None when none was asked."""
    given = (intake or {}).get("allergies") or {}
    if not given:
        return None
    return [vocab.ALLERGIES[c].display if c in vocab.ALLERGIES else c
            for c, yes in given.items() if yes]
