"""The aftercare plan of a signed session: the facts it is made from, and the document.

One home for "the stored aftercare plan, else compute it", which the patient's pages, the
messages, the PDFs and the patient's data export all show: ``aftercare_document`` is the only
reader of ``AftercareRecord.plan``.

A record made at signing holds a compact ``needlecare.aftercare-record/1`` (the session facts,
the protocol version and the digest of the plan as generated; ``clinical.aftercare_record``)
and the document is made again on reading. Records stored before hold the whole
``needlecare.aftercare/1`` document and are shown as stored.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from needlecare.care.models import AftercareRecord, SessionStatus, TreatmentSession
from needlecare.clinical.aftercare import aftercare
from needlecare.clinical.aftercare_record import Expanded, compact, expand, is_compact
from needlecare.clinical.protocol.loader import DEFAULT_LABEL, ProtocolError
from needlecare.clinical.session import SessionFacts
from needlecare.errors import Conflict

logger = logging.getLogger(__name__)


def signed_session_facts(session: TreatmentSession) -> SessionFacts:
    """The facts of a signed session that aftercare, recovery and triage work from."""
    if session.status != SessionStatus.SIGNED or session.performed_on is None:
        raise Conflict("not_signed", _("Only a signed session has session facts."))
    zones = list(session.zones.all())
    codes = list(dict.fromkeys(p["code"] for p in session.products if p.get("code")))
    return SessionFacts(
        date=session.performed_on,
        deepest_depth_mm=float(max(z.depth_mm for z in zones)),
        zones=[z.zone for z in zones],
        fitzpatrick=session.plan.fitzpatrick,
        device=session.device,
        products=codes,
    )


def recorded_session_facts(session: TreatmentSession) -> SessionFacts:
    """The signed session's facts as its aftercare record keeps them (the record made at
    signing; both its forms hold them under ``session``), when the record was read with the
    session (``select_related("aftercare")``): one read fewer than the zones, on the
    check-in's path. Otherwise, or for a session signed before records were kept, the facts
    are made from the session's zones."""
    # Only a record already loaded: reading it here would cost the query it saves.
    if TreatmentSession.aftercare.is_cached(session):
        try:
            plan = session.aftercare.plan
        except AftercareRecord.DoesNotExist:
            plan = None
        if isinstance(plan, dict) and isinstance(plan.get("session"), dict):
            return SessionFacts.model_validate(plan["session"])
    return signed_session_facts(session)


def protocol_label(name: str, version: str) -> str:
    """How a stored snapshot names the protocol that produced it."""
    return f"{name}-{version}"


def record_aftercare(session: TreatmentSession) -> AftercareRecord:
    """Store the aftercare plan of a session being signed (its compact record)."""
    plan = aftercare(signed_session_facts(session))
    return AftercareRecord.objects.create(
        session=session, plan=compact(plan),
        protocol_version=protocol_label(plan.protocol.name, plan.protocol.version))


def aftercare_document(session: TreatmentSession,
                       record: AftercareRecord | None = None) -> tuple[dict[str, Any], str]:
    """The ``needlecare.aftercare/1`` document stored when ``session`` was signed (pass
    ``record`` when already loaded), and its protocol version. A session signed before
    aftercare records were stored gets it made afresh from its facts."""
    if record is None:
        record = AftercareRecord.objects.filter(session_id=session.pk).first()
    if record is None:
        plan = aftercare(signed_session_facts(session))
        return (plan.model_dump(mode="json", by_alias=True),
                protocol_label(plan.protocol.name, plan.protocol.version))
    if not is_compact(record.plan):
        return record.plan, record.protocol_version
    expanded = _expand(record)
    if expanded.drifted:
        # The patient still gets a plan (made by the protocol version they were given), but
        # not provably the one they were given: someone changed what a shipped version says.
        logger.error(
            "Aftercare record %s (session %s): the plan made again from %s is not the one "
            "stored at signing (its SHA-256 differs). A code or protocol change altered a "
            "shipped protocol version's plans without a version bump; showing the plan as "
            "made now.", record.pk, record.session_id, expanded.protocol_label)
    return expanded.document, expanded.protocol_label


def _expand(record: AftercareRecord) -> Expanded:
    try:
        return expand(record.plan)
    except ProtocolError:
        # Every shipped version stays loadable (tests/clinical/test_protocol_loader.py); if a
        # deployment lost one anyway, the patient gets today's plan rather than none.
        logger.exception("Aftercare record %s (session %s): its protocol %s does not load; "
                         "showing the plan made by %s.", record.pk, record.session_id,
                         record.protocol_version, DEFAULT_LABEL)
        return expand(record.plan, protocol_label=DEFAULT_LABEL)


@dataclass(frozen=True)
class HandoutItem:
    text: str
    from_day: int
    #: The last day it applies, or None while the plan lasts (sun protection…).
    to_day: int | None
    until: dt.date | None

    @property
    def one_day(self) -> bool:
        return self.to_day == self.from_day


@dataclass(frozen=True)
class HandoutGroup:
    """Instructions that start on the same day after the treatment, each said once with how
    long it lasts (a handout, not a diary that repeats each instruction every day)."""

    from_day: int
    date: dt.date | None
    items: list[HandoutItem]


def handout_groups(plan: dict[str, Any]) -> list[HandoutGroup]:
    """The aftercare document's instructions, each once, grouped by the day they start and
    ordered by how long they last."""
    items: dict[str, HandoutItem] = {}
    dates: dict[int, dt.date] = {}
    for block in [*plan.get("days", []), *plan.get("weeks", [])]:
        if block.get("date"):
            dates.setdefault(block["day"], dt.date.fromisoformat(block["date"]))
        if block.get("from_date"):
            dates.setdefault(block["from_day"], dt.date.fromisoformat(block["from_date"]))
        for instruction in block.get("instructions", []):
            key = instruction.get("id") or instruction.get("text", "")
            first = instruction.get("from_day", block.get("day", block.get("from_day", 0)))
            last = instruction.get("to_day")
            until = instruction.get("until_date")
            found = HandoutItem(text=instruction.get("text", ""), from_day=first, to_day=last,
                                until=dt.date.fromisoformat(until) if until else None)
            known = items.get(key)
            if known is not None:
                ends = [d for d in (known.until, found.until) if d is not None]
                open_ended = known.to_day is None or last is None
                found = HandoutItem(text=known.text, from_day=min(known.from_day, first),
                                    to_day=None if open_ended else max(known.to_day, last),
                                    until=None if open_ended or not ends else max(ends))
            items[key] = found
    groups: dict[int, list[HandoutItem]] = {}
    for item in items.values():
        groups.setdefault(item.from_day, []).append(item)
    start = dates.get(0)
    return [HandoutGroup(
        from_day=day,
        date=dates.get(day) or (start + dt.timedelta(days=day) if start else None),
        items=sorted(group, key=lambda i: (i.to_day is None, i.to_day or 0, i.text)))
        for day, group in sorted(groups.items())]
