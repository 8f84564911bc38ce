"""A password validator beside Django's own (length, common passwords, numeric, similarity).

Django's ``UserAttributeSimilarityValidator`` compares the whole password with each of the
user's details, so "Natarajan2026!" passes for Priya Natarajan. This one refuses any password
that contains the user's first or last name, username, or a word of the clinic's name: the
first guesses of anyone who knows the person. All checks run offline (Django's common-password
list ships with Django); nothing is sent anywhere.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

#: Shorter names are too likely to occur by chance ("Jo", "Al").
MIN_WORD = 3
#: Words of the clinic's name count from this length, and not the words every clinic has.
MIN_CLINIC_WORD = 5
GENERIC_CLINIC_WORDS = frozenset({
    "clinic", "clinics", "health", "medical", "aesthetic", "aesthetics", "beauty", "studio",
    "centre", "center", "practice", "dermatology", "cosmetic", "group"})
_NOT_LETTERS = re.compile(r"[\W_\d]+", re.UNICODE)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def _words(*texts: str, shortest: int = MIN_WORD) -> set[str]:
    words: set[str] = set()
    for text in texts:
        for word in _NOT_LETTERS.split(_fold(text or "")):
            if len(word) >= shortest:
                words.add(word)
    return words


def _whole(text: str) -> set[str]:
    """A username or an address's local part as one word ("demo.owner" → "demoowner")."""
    letters = _NOT_LETTERS.sub("", _fold(text or ""))
    return {letters} if len(letters) >= MIN_WORD else set()


class NamesInPasswordValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if user is None:
            return
        clinic = getattr(user, "clinic", None) if getattr(user, "clinic_id", None) else None
        names = _words(getattr(user, "first_name", ""), getattr(user, "last_name", ""))
        names |= _whole(getattr(user, "username", ""))
        names |= _whole((getattr(user, "email", "") or "").split("@")[0])
        if clinic is not None:
            names |= _words(clinic.name, shortest=MIN_CLINIC_WORD) - GENERIC_CLINIC_WORDS
        letters = _NOT_LETTERS.sub("", _fold(password))
        found = sorted(name for name in names if name in letters)
        if found:
            raise ValidationError(
                _("The password must not contain your name, username or your clinic's name."),
                code="password_contains_name")

    def get_help_text(self) -> str:
        return _("Your password must not contain your name, username or your clinic's name.")
