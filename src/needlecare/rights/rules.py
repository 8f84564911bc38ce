"""How much of a record may be erased: a pure decision, tested without a database.

A clinical record (a consultation, a consent, a plan, a session, a check-in) is kept for
``retention_years`` after its last entry: clinical record-keeping rules require it (for
example the NHS England Records Management Code of Practice keeps adult health records for
8 years after the end of treatment; the setting NEEDLECARE_RECORD_RETENTION_YEARS holds the
clinic's own rule). Until then only what is not part of the clinical record is erased: the
contact details, the messages' addresses and contents, the personal links. A record with no
clinical entry, or whose retention has run out, is anonymised in full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ErasurePlan:
    full: bool
    #: The last day the clinical record must be kept (None when nothing must be kept).
    kept_until: dt.date | None


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def erasure_plan(last_clinical_day: dt.date | None, today: dt.date,
                 retention_years: int) -> ErasurePlan:
    """What may be erased today, given the day of the record's last clinical entry."""
    if last_clinical_day is None:
        return ErasurePlan(full=True, kept_until=None)
    kept_until = _years_after(last_clinical_day, retention_years)
    if today > kept_until:
        return ErasurePlan(full=True, kept_until=None)
    return ErasurePlan(full=False, kept_until=kept_until)
