"""The stored form of an aftercare plan: what it was made from, not the whole document.

An aftercare plan is a pure function of the session facts and the protocol, and every shipped
protocol version stays loadable, so a record keeps the facts, the protocol version and the
SHA-256 of the ``needlecare.aftercare/1`` document as generated (a few hundred bytes instead
of about 100 KB: every instruction of every day repeats its text and citations). Reading it
makes the document again from the named protocol version; a digest that no longer matches
means the code or a protocol file changed what a stored plan says without a version bump.

The digest is taken over the document's canonical JSON: keys sorted, no spaces, UTF-8 text
(non-ASCII characters as they are).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import Field

from needlecare.clinical.aftercare import AftercarePlan, aftercare
from needlecare.clinical.common import Document, ProtocolRef
from needlecare.clinical.protocol.loader import protocol_by_version
from needlecare.clinical.session import SessionFacts

RECORD_SCHEMA: Final = "needlecare.aftercare-record/1"

#: Rebuilt documents kept per process (about 100 KB each as JSON text).
_CACHED_PLANS = 64


class CompactRecord(Document):
    schema_: Literal["needlecare.aftercare-record/1"] = Field(RECORD_SCHEMA, alias="schema")
    protocol: ProtocolRef
    session: SessionFacts
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$",
                        description="SHA-256 of the plan's canonical JSON as generated")


def canonical_json(document: Mapping[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def plan_digest(document: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of an aftercare document's canonical JSON."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def compact(plan: AftercarePlan) -> dict[str, Any]:
    """The ``needlecare.aftercare-record/1`` JSON that stands for ``plan``."""
    document = plan.model_dump(mode="json", by_alias=True)
    return CompactRecord(protocol=plan.protocol, session=plan.session,
                           sha256=plan_digest(document)).model_dump(mode="json", by_alias=True)


def is_compact(stored: Mapping[str, Any]) -> bool:
    """Whether a stored plan is a compact record (else a whole document stored before)."""
    return stored.get("schema") == RECORD_SCHEMA


@dataclass(frozen=True)
class Expanded:
    #: The ``needlecare.aftercare/1`` document, made again (a fresh dict the caller may keep).
    document: dict[str, Any]
    #: The protocol version it was made from (``microneedling-2026.2``).
    protocol_label: str
    #: Its digest differs from the stored one: it does not say what the patient was given.
    drifted: bool


def expand(stored: Mapping[str, Any], protocol_label: str | None = None) -> Expanded:
    """The aftercare document a compact record stands for, made from the protocol version it
    names (or from ``protocol_label`` when that version cannot be loaded any more).

    Raises pydantic's ValidationError for a record that is not one, and ProtocolError when
    the protocol version does not load."""
    record = CompactRecord.model_validate(stored)
    label = protocol_label or f"{record.protocol.name}-{record.protocol.version}"
    text, digest = _rebuilt(label, canonical_json(record.session.model_dump(
        mode="json", by_alias=True)))
    return Expanded(document=json.loads(text), protocol_label=label,
                    drifted=digest != record.sha256)


@functools.lru_cache(maxsize=_CACHED_PLANS)
def _rebuilt(label: str, session_json: str) -> tuple[str, str]:
    # The patient's page, messages and PDFs read the same few plans again and again: making
    # one and taking its digest costs about 3 ms, reading the kept text back under 1 ms. The
    # text is kept rather than the dict so that no caller can change what the next one reads.
    session = SessionFacts.model_validate_json(session_json)
    document = aftercare(session, protocol_by_version(label)).model_dump(mode="json",
                                                                         by_alias=True)
    text = canonical_json(document)
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()
