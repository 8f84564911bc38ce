"""Shared helpers for the clinical tests.

``make_intake(**overrides)`` builds a screening intake with *every* question answered "no",
so a test states only what differs. Import it with ``from .conftest import make_intake``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.protocol.loader import Protocol, default_protocol
from needlecare.clinical.screening import Intake

ASSESSED_ON = dt.date(2026, 12, 1)
PLANNED_DATE = dt.date(2026, 12, 3)  # two days after: prior procedures can predate both
ADULT_DATE_OF_BIRTH = dt.date(1990, 5, 17)

#: A section answer that leaves the question out: ``conditions={"pregnancy": UNANSWERED}``.
UNANSWERED = None

_SECTIONS = {
    "conditions": vocab.CONDITIONS,
    "medications": vocab.MEDICATIONS,
    "procedures": vocab.PROCEDURES,
    "allergies": vocab.ALLERGIES,
}


def all_no_answers() -> dict[str, Any]:
    """Intake fields of a healthy adult, fully answered, on an authorised use (acne scars, cheeks,
    pen, Fitzpatrick II)."""
    fields: dict[str, Any] = {
        "assessed_on": ASSESSED_ON,
        "planned_date": PLANNED_DATE,
        "date_of_birth": ADULT_DATE_OF_BIRTH,
        "fitzpatrick": 2,
        "indications": ["acne_scars"],
        "zones": ["cheeks"],
        "device": "pen",
    }
    for section, codes in _SECTIONS.items():
        fields[section] = dict.fromkeys(codes, False)
    return fields


def make_intake(**overrides: Any) -> Intake:
    """An Intake with every question answered "no", changed by ``overrides``.

    Top-level fields replace the default. For ``conditions``, ``medications``, ``procedures`` and
    ``allergies`` the given answers are *merged* into the all-"no" answers; an answer of
    ``UNANSWERED`` (None) removes the question. Raises pydantic's ValidationError like
    ``Intake.model_validate``.
    """
    fields = all_no_answers()
    for key, value in overrides.items():
        if key in _SECTIONS and isinstance(value, dict):
            merged = {**fields[key], **value}
            fields[key] = {code: answer for code, answer in merged.items() if answer is not None}
        else:
            fields[key] = value
    return Intake.model_validate(fields)


def days_before_planned(days: int) -> dt.date:
    return PLANNED_DATE - dt.timedelta(days=days)


@pytest.fixture(scope="session")
def shipped_protocol() -> Protocol:
    """The shipped protocol (cached, immutable)."""
    return default_protocol()
