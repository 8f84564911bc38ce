"""Identifying text: stored without invisible characters, compared by a key that folds case,
accents and look-alike letters of other scripts."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needlecare.names import hidden_characters, name_key, normalise


@pytest.mark.parametrize(("typed", "stored"), [
    ("  Robin   Quill ", "Robin Quill"),
    ("R\u200bobin", "Robin"),  # zero-width space
    ("Ro\u200dbin\ufeff", "Robin"),  # zero-width joiner, byte-order mark
    ("\u202eniboR", "niboR"),  # right-to-left override: shown reversed, stored as typed
    ("Rob\u00adin", "Robin"),  # soft hyphen
    ("Ｒｏｂｉｎ", "Robin"),  # full-width letters
    ("Robin\tQuill\n", "Robin Quill"),
    ("Zoë", "Zoë"),  # a real accent stays
])
def test_normalise_removes_what_cannot_be_seen(typed: str, stored: str) -> None:
    assert normalise(typed) == stored


def test_hidden_characters_are_named_by_code_point() -> None:
    assert hidden_characters("R\u200bo\u202ebin") == ["U+200B", "U+202E"]
    assert hidden_characters("Robin Quill") == []


@pytest.mark.parametrize("lookalike", [
    "Rоbin",  # Cyrillic о
    "Rοbin",  # Greek omicron
    "ROBIN",
    "robín",
    "R\u200bobin",
    "Ｒｏｂｉｎ",
])
def test_look_alike_names_share_a_key(lookalike: str) -> None:
    assert name_key(lookalike) == name_key("Robin") == "robin"


@pytest.mark.parametrize(("a", "b"), [("Zoë", "Zoe"), ("José", "JOSE"), ("Straße", "STRASSE"),
                                      ("Nguyễn", "nguyen")])
def test_the_key_folds_case_and_accents(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(("a", "b"), [("Robin", "Rob1n"), ("Ann", "Anna"), ("Ivan", "Иван")])
def test_different_names_keep_different_keys(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_the_key_joins_the_parts_of_a_name() -> None:
    assert name_key("Robin", "Quill") == name_key("robin quill") == "robin quill"


@given(st.text())
def test_normalise_is_stable_and_leaves_nothing_invisible(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert not hidden_characters(once)
    assert once == once.strip()
    assert "  " not in once


@given(st.text())
def test_the_key_ignores_invisible_characters_and_case(text: str) -> None:
    key = name_key(text)
    assert name_key(normalise(text)) == key
    if text.isascii():
        assert name_key(text.upper()) == name_key(text.lower())
    assert not any(unicodedata.combining(c) for c in key)
