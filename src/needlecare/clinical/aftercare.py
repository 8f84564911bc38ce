"""Aftercare: the facts of one session in, day-by-day instructions for the patient out.

Which instructions exist, the days they cover and the sessions they apply to all come from the
protocol's ``[aftercare]`` table; this module only selects and lays them out. The first two
weeks are shown day by day, the rest of the plan in weekly blocks, because after day 14 little
changes from one day to the next.

``text`` is the protocol's patient wording as written. Each instruction carries ``basis`` so
that pages label clinic policy themselves; the text is never reworded into an evidence claim.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from pydantic import Field

from needlecare.clinical.common import (
    Basis,
    Output,
    ProtocolRef,
    SourceRef,
    basis_of,
    protocol_ref,
    sources_of,
)
from needlecare.clinical.protocol.loader import Protocol, default_protocol
from needlecare.clinical.protocol.schema import AftercareCategory, AftercareItem
from needlecare.clinical.recovery import ExpectedCourse, expected_course
from needlecare.clinical.session import SessionFacts
from needlecare.clinical.vocabulary import Evidence

AFTERCARE_SCHEMA: Final = "needlecare.aftercare/1"

#: Days 0..DAILY_DAYS are listed one by one; later days are grouped into WEEK_DAYS blocks.
DAILY_DAYS = 14
WEEK_DAYS = 7

#: The order a patient reads a day in: routine care first, then things to avoid, then what to
#: watch for and what comes next.
CATEGORY_ORDER: tuple[AftercareCategory, ...] = (
    "cleansing", "moisturiser", "soothing", "sun", "makeup", "actives", "exercise",
    "swimming", "picking", "hair_removal", "products", "watch", "next_session",
)
_CATEGORY_RANK = {category: rank for rank, category in enumerate(CATEGORY_ORDER)}


class Instruction(Output):
    id: str = Field(description="aftercare item key in the protocol")
    category: AftercareCategory
    text: str = Field(description="what the patient reads")
    basis: Basis
    evidence: Evidence
    sources: list[SourceRef]
    from_day: int
    to_day: int | None = Field(description="last day it applies; null = from then on")
    until_date: dt.date | None = Field(description="date of to_day; null = from then on")


class NormalToday(Output):
    symptom: str
    phase: Literal["normal", "fading"]
    text: str = Field(description="what the patient reads")
    basis: Basis


class AftercareDay(Output):
    day: int = Field(description="days after the session; 0 is the session day")
    date: dt.date
    instructions: list[Instruction]
    normal_today: list[NormalToday] = Field(
        description="symptoms that are part of normal healing on this day")
    skin_notes: list[str]
    call_clinic: str


class AftercareWeek(Output):
    from_day: int
    to_day: int
    from_date: dt.date
    to_date: dt.date
    instructions: list[Instruction] = Field(
        description="every instruction that applies on any day of the block, once")


class AftercarePlan(Output):
    schema_: Literal["needlecare.aftercare/1"] = Field(AFTERCARE_SCHEMA, alias="schema")
    protocol: ProtocolRef
    session: SessionFacts
    days: list[AftercareDay] = Field(description=f"day 0 to day {DAILY_DAYS}")
    weeks: list[AftercareWeek] = Field(
        description=f"the rest of the plan in {WEEK_DAYS}-day blocks")
    call_clinic: str


@dataclass(frozen=True, slots=True)
class _Selectors:
    """The session facts an aftercare item can be conditional on (the cache key)."""

    depth_mm: float
    fitzpatrick: int
    products: frozenset[str]
    zones: frozenset[str]
    device: str


@dataclass(frozen=True, slots=True)
class _Entry:
    item_id: str
    item: AftercareItem
    sources: tuple[SourceRef, ...]

    def active_between(self, first: int, last: int) -> bool:
        return self.item.from_day <= last and (self.item.to_day is None
                                               or self.item.to_day >= first)

    def instruction(self, session_date: dt.date) -> Instruction:
        item = self.item
        until = None if item.to_day is None else session_date + dt.timedelta(days=item.to_day)
        return Instruction(
            id=self.item_id, category=item.category, text=item.patient,
            basis=basis_of(item.evidence), evidence=item.evidence, sources=list(self.sources),
            from_day=item.from_day, to_day=item.to_day, until_date=until,
        )


def _selectors(session: SessionFacts) -> _Selectors:
    return _Selectors(
        depth_mm=float(session.deepest_depth_mm),
        fitzpatrick=session.fitzpatrick,
        products=frozenset(session.products),
        zones=frozenset(session.zones),
        device=session.device,
    )


def _applies(item: AftercareItem, s: _Selectors) -> bool:
    return (
        (item.min_depth_mm is None or s.depth_mm >= item.min_depth_mm)
        and (item.max_depth_mm is None or s.depth_mm <= item.max_depth_mm)
        and (item.fitzpatrick_min is None or s.fitzpatrick >= item.fitzpatrick_min)
        and (item.fitzpatrick_max is None or s.fitzpatrick <= item.fitzpatrick_max)
        and (not item.products_any or not s.products.isdisjoint(item.products_any))
        and (not item.zones_any or not s.zones.isdisjoint(item.zones_any))
        and (not item.devices_any or s.device in item.devices_any)
    )


@functools.lru_cache(maxsize=1024)
def _applicable(protocol: Protocol, selectors: _Selectors) -> tuple[_Entry, ...]:
    # Triage asks for one day at a time on every check-in; selecting and citing the items
    # once per kind of session keeps that to a filter over a short tuple.
    entries = [
        _Entry(key, item, tuple(sources_of(protocol, item.sources)))
        for key, item in protocol.data.aftercare.items.items()
        if _applies(item, selectors)
    ]
    # sorted() is stable, so items of one category keep the protocol file's order.
    entries.sort(key=lambda e: _CATEGORY_RANK.get(e.item.category, len(CATEGORY_ORDER)))
    return tuple(entries)


def _instructions(entries: Iterable[_Entry], first: int, last: int,
                  made: dict[str, Instruction], session_date: dt.date) -> list[Instruction]:
    out = []
    for entry in entries:
        if entry.active_between(first, last):
            if entry.item_id not in made:
                made[entry.item_id] = entry.instruction(session_date)
            out.append(made[entry.item_id])
    return out


def instructions_for_day(session: SessionFacts, day: int,
                         protocol: Protocol | None = None) -> list[Instruction]:
    """The aftercare instructions that apply ``day`` days after the session, in reading order."""
    protocol = protocol or default_protocol()
    if day < 0:
        raise ValueError("day must be 0 or later")
    return _instructions(_applicable(protocol, _selectors(session)), day, day, {}, session.date)


def _normal_today(course: ExpectedCourse) -> list[NormalToday]:
    return [NormalToday(symptom=s.symptom, phase=s.phase, text=s.patient, basis=s.basis)
            for s in course.symptoms if s.phase == "normal" or s.phase == "fading"]


def aftercare(session: SessionFacts, protocol: Protocol | None = None) -> AftercarePlan:
    """The patient's aftercare plan for one session, from the session day to the plan's end."""
    protocol = protocol or default_protocol()
    table = protocol.data.aftercare
    entries = _applicable(protocol, _selectors(session))
    made: dict[str, Instruction] = {}

    def date_of(day: int) -> dt.date:
        return session.date + dt.timedelta(days=day)

    days = []
    for day in range(DAILY_DAYS + 1):
        course = expected_course(session, day, protocol)
        days.append(AftercareDay(
            day=day, date=date_of(day),
            instructions=_instructions(entries, day, day, made, session.date),
            normal_today=_normal_today(course), skin_notes=course.skin_notes,
            call_clinic=table.call_clinic,
        ))
    weeks = []
    for first in range(DAILY_DAYS + 1, table.plan_days + 1, WEEK_DAYS):
        last = min(first + WEEK_DAYS - 1, table.plan_days)
        weeks.append(AftercareWeek(
            from_day=first, to_day=last, from_date=date_of(first), to_date=date_of(last),
            instructions=_instructions(entries, first, last, made, session.date),
        ))
    return AftercarePlan(
        protocol=protocol_ref(protocol), session=session, days=days, weeks=weeks,
        call_clinic=table.call_clinic,
    )
