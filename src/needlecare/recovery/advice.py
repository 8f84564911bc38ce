"""What a patient reads about a triaged check-in, from its stored result: each reason once, and
the advice without the lines the next steps say with the clinic's own numbers and hours.

The stored ``needlecare.triage/1`` advice is the protocol's lines for the level, then (up to
"contact the clinic") the day's care instructions, then the protocol's daily "call the clinic
if" paragraph. The level's first lines say whom to call in general words ("Call the clinic
now", "If the clinic is closed, contact an out-of-hours doctor", "Call emergency services now.
Use your local emergency number (for example …)"): the next steps
(``recovery.next_steps``) say that with the clinic's phone, hours, out-of-hours service and
emergency number, so the patient's pages and messages leave those lines out rather than say it
twice, and differently. The daily paragraph stays off the result of a check-in that needs the
clinic: it lists every sign, when the patient needs the few that apply.

Pure functions over the stored result and the protocol that produced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from needlecare.clinical.protocol.loader import Protocol, protocol_by_version
from needlecare.clinical.vocabulary import Level

#: How many of the protocol's advice lines for a level say whom to call (a test checks them
#: in every shipped protocol).
CONTACT_LINES = {Level.EXPECTED: 0, Level.CONTACT_CLINIC: 1, Level.URGENT: 2,
                 Level.EMERGENCY: 1}

#: Red flags whose reason is about a symptom the patient also rates: the result names the
#: topic once ("severe or increasing pain" and the pain scores are one worry).
SAME_TOPIC = {"severe_or_increasing_pain": "pain"}


def result_protocol(version: str) -> Protocol | None:
    """The protocol a stored result names (``microneedling-2026.2``), if it still loads."""
    try:
        return protocol_by_version(version)
    except ValueError:  # ProtocolError: a label no shipped file has
        return None


def patient_reasons(result: Mapping[str, Any]) -> list[str]:
    """The reasons a check-in needs the clinic, most severe first, one per topic: several
    rules about the same symptom (pain strong, pain worse after day 2, pain stronger than
    expected, the "severe pain" sign) are one reason to the patient, the most severe."""
    shown: dict[str, str] = {}
    for reason in sorted(result.get("reasons", []),
                         key=lambda r: -Level(r.get("level", "expected")).rank):
        if reason.get("level") == Level.EXPECTED:
            continue
        subject = reason.get("subject") or reason.get("rule", "")
        topic = SAME_TOPIC.get(subject, subject)
        if topic not in shown and reason["patient"] not in shown.values():
            shown[topic] = reason["patient"]
    return list(shown.values())


def patient_advice(result: Mapping[str, Any], protocol: Protocol | None) -> list[str]:
    """The result's advice for the patient, without the lines that say whom to call (the next
    steps say it) and, above "expected", without the daily "call the clinic if" paragraph."""
    advice = [str(line) for line in result.get("advice", [])]
    if protocol is None:
        return advice
    level = Level(result.get("level", "expected"))
    contact = protocol.data.triage.advice[level].patient[:CONTACT_LINES[level]]
    call_clinic = protocol.data.aftercare.call_clinic
    kept = []
    for line in advice:
        if any(line.startswith(general) for general in contact):
            continue
        if line == call_clinic and level is not Level.EXPECTED:
            continue
        kept.append(line)
    return kept
