"""Helpers for the PDF templates."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_PLAIN = frozenset(" .,:-()'/+@")


@register.filter
def css_string(value: Any) -> SafeString:
    """A quoted CSS string for ``content:`` in a ``<style>`` block, e.g. the clinic's name
    in the page header. Every character but letters, digits and a few marks is written as a
    CSS escape, so no name can end the string, the rule or the ``<style>`` element
    (Django's HTML escaping does not apply inside ``<style>``)."""
    # The space after each escape ends it (and is consumed by the CSS parser), so a real
    # space that follows an escaped character is kept.
    out = "".join(ch if ch.isalnum() or ch in _PLAIN else f"\\{ord(ch):x} "
                  for ch in " ".join(str(value).split()))
    return mark_safe(f'"{out}"')
