"""How a check-in's document and triage result are stored, and read back whole.

A check-in row keeps what is its own (a few hundred bytes, ~1 KB with a note): the patient's
answers and the session facts they were triaged against, the ids of the earlier check-ins the
triage compared with (``previous_checkins``, not their copies), and the triage *record*:
level, day, and which rules fired on what (``needlecare.triage-record/1``). The texts,
sources, advice and expected course are the named protocol version's; ``triage_result``
rebuilds them exactly as the patient was shown them, because a shipped protocol version never
changes. Rows stored before this (a whole ``needlecare.triage/1`` result, ~12 KB, and copies
of the earlier check-ins) are read as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from needlecare.clinical.protocol.loader import protocol_by_version
from needlecare.clinical.redness import PhotoMeasurement
from needlecare.clinical.triage import (
    TRIAGE_SCHEMA,
    EarlierCheckIn,
    TriageRecord,
    TriageResult,
    explain,
    record_of,
)
from needlecare.clinical.triage import (
    CheckIn as CheckInDocument,
)
from needlecare.recovery.models import CheckIn

#: The key of the stored answers that names the earlier check-ins the triage compared with.
PREVIOUS = "previous_checkins"


def stored_answers(document: CheckInDocument, previous_ids: Sequence[int]) -> dict[str, Any]:
    """The check-in document as a row stores it: the earlier check-ins by id."""
    answers = document.model_dump(mode="json", by_alias=True, exclude={"previous"})
    answers[PREVIOUS] = list(previous_ids)
    return answers


def stored_result(result: TriageResult) -> dict[str, Any]:
    return record_of(result).model_dump(mode="json", by_alias=True)


def earlier_checkin(answers: dict[str, Any], zone: ZoneInfo) -> EarlierCheckIn:
    """What triage reads of an earlier check-in: when, its symptoms and its red flags."""
    reported_at = dt.datetime.fromisoformat(answers["reported_at"]).astimezone(zone)
    return EarlierCheckIn(reported_at=reported_at, symptoms=answers.get("symptoms", {}),
                          red_flags=answers.get("red_flags", {}))


def checkin_document(checkin: CheckIn, time_zone: str,
                     photos: Sequence[PhotoMeasurement] | None = None) -> CheckInDocument:
    """The whole document a stored check-in was triaged from (with ``photos`` in place of
    its own when given): the earlier check-ins are read back by their ids."""
    answers = dict(checkin.answers)
    ids = answers.pop(PREVIOUS, None)
    if ids is not None:
        zone = ZoneInfo(time_zone)
        rows = dict(CheckIn.objects.filter(pk__in=ids).values_list("pk", "answers"))
        answers["previous"] = [earlier_checkin(rows[pk], zone).model_dump(mode="json")
                               for pk in ids if pk in rows]
    if photos is not None:
        answers["photos"] = [p.model_dump(mode="json") for p in photos]
    return CheckInDocument.model_validate(answers)


def triage_result(checkin: CheckIn) -> dict[str, Any]:
    """The check-in's whole ``needlecare.triage/1`` result (reasons with their texts and
    sources, advice, unanswered questions), as the patient and the clinician were shown it."""
    cached: dict[str, Any] | None = getattr(checkin, "_triage_result", None)
    if cached is not None:
        return cached
    stored = checkin.result or {}
    if stored.get("schema") == TRIAGE_SCHEMA:
        whole = stored
    else:
        record = TriageRecord.model_validate(stored)
        protocol = protocol_by_version(f"{record.protocol.name}-{record.protocol.version}")
        answers = {k: v for k, v in checkin.answers.items() if k != PREVIOUS}
        # The expected course is left out: nothing shows it from a stored result (the
        # recovery chart computes the expected band itself), and it is most of the bytes.
        whole = explain(record, CheckInDocument.model_validate(answers), protocol).model_dump(
            mode="json", by_alias=True, exclude={"expected"})
    checkin._triage_result = whole
    return whole
