"""The shape of the outcome-measures file and of a clinic's licensed questionnaire file.

Strict like the protocol's schema: unknown keys are errors, every measure carries ``evidence``
and ``sources``. Cross-checks that need the whole file (ranges against totals, levels against
ranges, schedule points naming measures that exist) live in ``outcomes_loader.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt

from needlecare.clinical.protocol.schema import Citation, Cited, ProtocolInfo, Strict, Text

Score = Annotated[StrictInt, Field(ge=-1000, le=1000)]
Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]

#: Who records a measure: the clinician at a visit, or the patient from the personal link.
Respondent = Literal["clinician", "patient"]
#: Which way is better for a measure's score.
Better = Literal["lower", "higher"]
#: How a measure shows change: against the patient's own baseline, as a rating of change
#: itself (the global aesthetic improvement scale), or not at all (satisfaction).
ChangeKind = Literal["from_baseline", "rated", "none"]
#: When an assessment falls, counted from the course's sessions.
Anchor = Literal["first_session", "each_session", "last_session"]


class Item(Strict):
    """One scored item of a measure: an integer from ``min`` to ``max``."""

    label: Text
    min: Score
    max: Score
    levels: dict[int, Text] = {}
    #: ``levels`` names only some values (the ends of a 0–10 scale); otherwise every value.
    anchors_only: StrictBool = False
    in_total: StrictBool = True
    required: StrictBool = True
    note: str = ""


class Measure(Cited):
    name: Text
    respondent: Respondent
    what: Text
    #: What the patient reads when asked (required for patient-reported measures).
    patient: str = ""
    #: Indications the measure suits; empty means every indication.
    indications: list[Text] = []
    better: Better
    change: ChangeKind
    #: For ``change = "rated"``: the item value that means "no change".
    rated_neutral: Score | None = None
    total_min: Score | None = None
    total_max: Score | None = None
    items: Annotated[dict[Key, Item], Field(min_length=1)]
    note: str = ""
    #: Only for clinic-loaded questionnaires: the licence statement and the licensor's
    #: raw-total → reported-score table.
    licence: str = ""
    conversion: dict[int, float] = {}


class SchedulePoint(Cited):
    label: Text
    anchor: Anchor
    offset_days: Annotated[StrictInt, Field(ge=0, le=730)]
    measures: Annotated[list[Text], Field(min_length=1)]
    patient: str = ""


class Invitations(Cited):
    answer_within_days: Annotated[StrictInt, Field(ge=1, le=90)]
    reminder_after_days: Annotated[StrictInt, Field(ge=1, le=60)]


class SeverityGrade(Strict):
    label: Text
    definition: Text
    patient: Text


class AdverseEventSeverity(Cited):
    name: Text
    grades: Annotated[dict[int, SeverityGrade], Field(min_length=2)]
    #: Grades at or above this are reported as serious.
    serious_from: StrictInt


class AdverseEventType(Cited):
    label: Text
    what: Text


class AdverseEvents(Strict):
    severity: AdverseEventSeverity
    types: Annotated[dict[Key, AdverseEventType], Field(min_length=1)]


class OutcomesFile(Strict):
    outcomes: ProtocolInfo
    bibliography: dict[str, Citation]
    invitations: Invitations
    measures: Annotated[dict[Key, Measure], Field(min_length=1)]
    schedule: Annotated[dict[Key, SchedulePoint], Field(min_length=1)]
    adverse_events: AdverseEvents


class QuestionnaireInfo(Measure):
    """A clinic's licensed instrument: a measure plus its identity and licence."""

    key: Key
    version: Text
    licence: Text
    licence_holder: Text
    licensed_until: dt.date | None = None
    #: Schedule points of the outcome file at which the questionnaire is asked.
    points: Annotated[list[Text], Field(min_length=1)]


class QuestionnaireFile(Strict):
    questionnaire: QuestionnaireInfo
    bibliography: Annotated[dict[str, Citation], Field(min_length=1)]
