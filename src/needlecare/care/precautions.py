"""The screening's precautions as things a clinician acts on: each names what it is about, and
the session's chart records whether it was done (or not needed, and why).

Pure functions over the stored ``needlecare.screening/1`` result. A precaution is keyed by
the screening rule that asked for it, so the chart of every session of a plan records the
same items, and a precaution's text from an earlier protocol (which did not always name its
subject: "Discuss both sources with the patient and decide") is shown under the facts that
fired it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from needlecare.clinical import vocabulary as vocab

#: What a clinician records about a precaution on the session's chart.
DONE = "done"
NOT_NEEDED = "not_needed"
STATUSES = (DONE, NOT_NEEDED)


@dataclass(frozen=True)
class Precaution:
    #: The screening rule that asked for it (stable across the plan's sessions).
    key: str
    #: What it is about, from the facts that fired the rule ("Isotretinoin").
    about: str
    text: str


@dataclass(frozen=True)
class PrecautionRecord:
    status: str = ""
    #: Why it was not needed (required then), or what was done (optional).
    note: str = ""


def fact_label(fact: str) -> str:
    """``condition:cold_sore_history`` → "History of cold sores" (the vocabulary's name)."""
    category, _sep, code = str(fact).partition(":")
    if category == "fitzpatrick" and code in vocab.FITZPATRICK:
        return vocab.FITZPATRICK[code].display
    table = vocab.FACT_CATEGORIES.get(category, {})
    return table[code].display if code in table else str(fact)


def precautions_of(result: Mapping[str, Any] | None) -> list[Precaution]:
    """The precautions a screening result asks for, each once, in the result's order."""
    found: dict[str, Precaution] = {}
    for reason in (result or {}).get("reasons", []):
        text = str(reason.get("precaution") or "").strip()
        key = str(reason.get("rule") or "")
        if not text or not key or key in found:
            continue
        about = ", ".join(fact_label(f) for f in reason.get("facts", [])) or key
        found[key] = Precaution(key=key, about=about, text=text)
    return list(found.values())


def records_from(stored: Any) -> dict[str, PrecautionRecord]:
    """A session's stored ``precautions`` JSON as records (anything malformed is unrecorded)."""
    records: dict[str, PrecautionRecord] = {}
    if not isinstance(stored, Mapping):
        return records
    for key, value in stored.items():
        if isinstance(value, Mapping):
            records[str(key)] = PrecautionRecord(status=str(value.get("status", "")),
                                                 note=str(value.get("note", "")))
    return records
