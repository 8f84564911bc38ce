"""Names and other identifying text: one normal form to store, and one key to compare.

``normalise`` is what a name is stored as: Unicode NFKC (full-width and compatibility forms
become their plain letters), invisible characters removed (zero-width spaces and joiners, the
direction controls that can make a name display in another order than it is stored, byte-order
marks, soft hyphens and other control characters), runs of spaces made one. What the user
sees is otherwise what they typed.

``name_key`` is what names are compared and searched by, stored on the patient
(``Patient.name_key``, indexed):

1. ``normalise`` as above;
2. case-folded (``str.casefold``: "Straße" and "STRASSE" agree);
3. accents removed (NFKD, then every combining mark dropped: "Zoë" → "zoe", "José" → "jose");
4. look-alike letters of other scripts folded onto the Latin letter they are confused with,
   from Unicode's confusables data (UTS #39) as shipped by the ``confusable-homoglyphs``
   package: a Cyrillic "о" or a Greek "ο" in "Robin" gives the same key as the Latin "o".

Two names with the same key look the same (or differ only in case and accents), so the
duplicate-patient check compares keys; a search folds the query the same way and matches on
the key. A later full-text search (SQLite FTS5 trigram, PostgreSQL pg_trgm) is meant to index
this same column. The key is for matching only and is never shown. Changing how it is made
needs a data migration that recomputes every stored key.
"""

from __future__ import annotations

import unicodedata
from functools import cache

#: Unicode categories removed from identifying text: format characters (zero-width space,
#: joiners, direction marks, embeddings, overrides and isolates, BOM, soft hyphen) and control
#: characters. Whitespace controls (tab, newline) become a space first.
_HIDDEN_CATEGORIES = frozenset({"Cf", "Cc"})


def normalise(text: str) -> str:
    """The form identifying text is stored in (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text or "")
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) not in _HIDDEN_CATEGORIES:
            kept.append(char)
    return " ".join("".join(kept).split())


def hidden_characters(text: str) -> list[str]:
    """The invisible characters ``normalise`` would remove, as code points (U+200B…)."""
    return [f"U+{ord(c):04X}" for c in text or ""
            if not c.isspace() and unicodedata.category(c) in _HIDDEN_CATEGORIES]


@cache
def _latin_lookalike(char: str) -> str:
    """The ASCII letter or digit ``char`` is confusable with, or ``char`` itself."""
    # Loaded on first use: reading the confusables table takes ~0.15 s, which every process
    # (each command, each gunicorn worker) would otherwise pay at start-up.
    from confusable_homoglyphs.confusables import confusables_data

    for glyph in confusables_data.get(char, ()):
        candidate = glyph["c"]
        if len(candidate) == 1 and candidate.isascii() and candidate.isalnum():
            return candidate.casefold()
    return char


def name_key(*parts: str) -> str:
    """The matching key of a name given in parts (given name, family name)."""
    text = normalise(" ".join(parts)).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))
    folded = "".join(c if c.isascii() else _latin_lookalike(c) for c in text)
    return unicodedata.normalize("NFC", folded)


def phone_digits(text: str) -> str:
    """The digits of a phone number, in order: what a phone search compares (spaces, dashes,
    brackets, dots and the leading "+" are how people write numbers, not part of them)."""
    return "".join(ch for ch in text or "" if ch.isdigit())
