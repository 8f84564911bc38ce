"""What a patient can expect at each stage of a course, in plain words, from the protocol.

Stages: ``booked`` (before the first session), ``healing`` (the first week after a session),
``remodelling`` (the weeks after that), ``after_course`` and ``maintenance``. Each item has a
topic (this stage, when results show, how they build over the course, whether they last), its
evidence and sources. The text is the protocol's patient wording as written: clinic-policy
([P]) items never claim evidence (the loader refuses wording that does), and ``basis`` lets a
staff page label them.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, get_args

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
from needlecare.clinical.protocol.schema import Expectations, Stage, Topic
from needlecare.clinical.vocabulary import Evidence

STAGES: Final[tuple[Stage, ...]] = get_args(Stage)
TOPIC_ORDER: Final[tuple[Topic, ...]] = get_args(Topic)


class Expectation(Output):
    id: str = Field(description="expectations item key in the protocol")
    topic: Topic
    text: str = Field(description="what the patient reads")
    clinician: str
    evidence: Evidence
    basis: Basis
    sources: list[SourceRef]


class StageExpectations(Output):
    protocol: ProtocolRef
    stage: Stage
    items: list[Expectation] = Field(description="in reading order: this stage, when results "
                                                 "show, how they build, whether they last")


def _table(protocol: Protocol) -> Expectations:
    table = protocol.data.expectations
    if table is None:
        raise ValueError(f"protocol {protocol.label} has no expectations by stage")
    return table


def expectations_for(stage: Stage, protocol: Protocol | None = None) -> StageExpectations:
    """The protocol's expectations for ``stage``."""
    protocol = protocol or default_protocol()
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; expected one of: {', '.join(STAGES)}")
    items = [(key, item) for key, item in _table(protocol).items.items() if stage in item.stages]
    # sorted() is stable: items of one topic keep the protocol file's order.
    items.sort(key=lambda pair: TOPIC_ORDER.index(pair[1].topic))
    return StageExpectations(protocol=protocol_ref(protocol), stage=stage, items=[
        Expectation(id=key, topic=item.topic, text=item.patient, clinician=item.clinician,
                    evidence=item.evidence, basis=basis_of(item.evidence),
                    sources=sources_of(protocol, item.sources))
        for key, item in items])


def stage_of(today: dt.date, last_session_date: dt.date | None, *, course_complete: bool,
             maintenance: bool = False, protocol: Protocol | None = None) -> Stage:
    """The stage a patient is at on ``today``.

    Before any session: ``booked``. Up to the protocol's healing day after the latest session:
    ``healing``; then ``remodelling`` up to its remodelling day (weeks 2–8). After that, a
    completed course is ``after_course`` (``maintenance`` once the patient is on maintenance
    sessions), and a course still running (a long pause) stays ``remodelling``.
    """
    protocol = protocol or default_protocol()
    table = _table(protocol)
    if last_session_date is None:
        return "booked"
    day = (today - last_session_date).days
    if day < 0:
        raise ValueError("the last session is after today")
    if day <= table.healing_until_day:
        return "healing"
    if day <= table.remodelling_until_day:
        return "remodelling"
    if course_complete:
        return "maintenance" if maintenance else "after_course"
    return "remodelling"
