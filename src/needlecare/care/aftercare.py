"""The aftercare plan of a signed session: the facts it is made from, and the document.

One home for "the stored aftercare plan, else compute it", which the patient's pages, the
messages and the PDFs all show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from needlecare.care.models import AftercareRecord, SessionStatus, TreatmentSession
from needlecare.clinical.aftercare import aftercare
from needlecare.clinical.session import SessionFacts
from needlecare.errors import Conflict


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


def protocol_label(name: str, version: str) -> str:
    """How a stored snapshot names the protocol that produced it."""
    return f"{name}-{version}"


def aftercare_document(session: TreatmentSession,
                       record: AftercareRecord | None = None) -> tuple[dict[str, Any], str]:
    """The ``needlecare.aftercare/1`` document stored when ``session`` was signed (pass
    ``record`` when already loaded), and its protocol version. A session signed before
    aftercare records were stored gets it made afresh from its facts."""
    if record is None:
        record = AftercareRecord.objects.filter(session_id=session.pk).first()
    if record is not None:
        return record.plan, record.protocol_version
    plan = aftercare(signed_session_facts(session))
    return (plan.model_dump(mode="json", by_alias=True),
            protocol_label(plan.protocol.name, plan.protocol.version))


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
