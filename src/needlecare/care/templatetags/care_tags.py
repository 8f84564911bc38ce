"""Display helpers for clinical documents: vocabulary names, evidence labels, source links."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from needlecare.care.models import Verdict
from needlecare.clinical import vocabulary as vocab

register = template.Library()

_FACT_TABLES = {"condition": vocab.CONDITIONS, "medication": vocab.MEDICATIONS,
                "procedure": vocab.PROCEDURES, "allergy": vocab.ALLERGIES}
_SECTION_TABLES = {"conditions": vocab.CONDITIONS, "medications": vocab.MEDICATIONS,
                   "procedures": vocab.PROCEDURES, "allergies": vocab.ALLERGIES}
_PMID = re.compile(r"^PMID:?\s*(\d+)$", re.IGNORECASE)
_DOI = re.compile(r"^(?:doi:\s*)?(10\.\d{4,}/\S+)$", re.IGNORECASE)


@register.filter
def term(code: str, vocabulary: str) -> str:
    """``{{ "cheeks"|term:"zones" }}`` → "Cheeks" (the code itself when unknown)."""
    table = vocab.VOCABULARIES.get(vocabulary, {})
    found = table.get(str(code))
    return found.display if found else str(code)


@register.filter
def basis_label(basis: str) -> str:
    return {"evidence": _("Evidence"), "limited_evidence": _("Limited evidence"),
            "clinic_policy": _("Clinic policy")}.get(basis, basis)


@register.filter
def verdict_label(value: str) -> str:
    try:
        return str(Verdict(value).label)
    except ValueError:
        return value


@register.filter
def fact_label(fact: str) -> str:
    """``condition:keloid_history`` → the vocabulary's display name."""
    category, _sep, code = str(fact).partition(":")
    if category == "fitzpatrick" and code in vocab.FITZPATRICK:
        return vocab.FITZPATRICK[code].display
    table = _FACT_TABLES.get(category, {})
    return table[code].display if code in table else str(fact)


@register.filter
def question_label(path: str) -> str:
    """An unanswered intake field (``medications.isotretinoin.last_dose``) in words."""
    parts = str(path).split(".")
    if parts[0] in _SECTION_TABLES and len(parts) > 1:
        table = _SECTION_TABLES[parts[0]]
        name = table[parts[1]].display if parts[1] in table else parts[1]
        if len(parts) > 2:
            return _("%(name)s: date") % {"name": name}
        return name
    return {"zones": _("Zones to treat"), "device": _("Device"),
            "fitzpatrick": _("Fitzpatrick skin type")}.get(parts[0], str(path))


@register.filter
def source_url(link: str) -> str:
    """A web address for a bibliography link: URLs as they are, PMIDs and DOIs resolved."""
    link = str(link or "").strip()
    if link.startswith(("https://", "http://")):
        return link
    if match := _PMID.match(link):
        return f"https://pubmed.ncbi.nlm.nih.gov/{match.group(1)}/"
    if match := _DOI.match(link):
        return f"https://doi.org/{match.group(1)}"
    return ""


@register.filter
def isodate(value: Any) -> dt.date | None:
    """Parse the ISO dates stored in JSON documents so that templates can format them."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


@register.filter
def consent_html(text: str, heading_level: int = 3) -> SafeString:
    """Lay out a consent text (see consent_texts): ``## `` headings (at ``heading_level``, to
    fit the page's outline), ``- `` lists, paragraphs. Everything is escaped."""
    level = min(max(int(heading_level), 2), 6)
    blocks: list[SafeString] = []
    items: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if items:
            blocks.append(format_html("<ul>{}</ul>", format_html_join(
                "", "<li>{}</li>", ((i,) for i in items))))
            items.clear()
        if paragraph:
            blocks.append(format_html("<p>{}</p>", " ".join(paragraph)))
            paragraph.clear()

    for line in str(text).splitlines():
        line = line.strip()
        if line.startswith("## "):
            flush()
            blocks.append(format_html("<h{}>{}</h{}>", level, line[3:], level))
        elif line.startswith("- "):
            if paragraph:
                flush()
            items.append(line[2:])
        elif not line:
            flush()
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return SafeString("".join(blocks))
