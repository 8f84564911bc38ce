"""The education app's pure decisions, tested without a database: which articles suit a
patient now, the weekly cap on reading messages, who a newsletter segment takes in, and who
counts as a minor. The services load the facts and store the outcomes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

#: At most one reading message per patient in this period.
READING_CAP = dt.timedelta(days=7)
#: Nobody younger receives promotion.
ADULT_AGE = 18


@dataclass(frozen=True)
class ArticleFacts:
    """What the choice of reading needs to know of a published article."""

    id: int
    stage: str
    indication: str = ""
    skin_types: tuple[int, ...] = ()
    published_at: dt.datetime | None = None


@dataclass(frozen=True)
class PatientFacts:
    """A patient's place in their care, as the reading and the segments see it."""

    #: ``clinical.expectations`` stage, or None when the patient has no course.
    stage: str | None
    indications: tuple[str, ...] = ()
    fitzpatrick: int | None = None
    #: The day the patient's last complete course ended (its last signed session).
    course_ended_on: dt.date | None = None
    #: Whether the patient has had any signed session.
    treated: bool = False


def reading_for(articles: Iterable[ArticleFacts], patient: PatientFacts, *,
                already: Iterable[int] = ()) -> list[ArticleFacts]:
    """The articles for the patient's stage that fit their indications and skin type, the
    most specific first (an article for their indication or skin type before a general one),
    newest first within that; ``already`` (sent or read) are left out."""
    if patient.stage is None:
        return []
    seen = set(already)
    chosen = [a for a in articles
              if a.stage == patient.stage and a.id not in seen
              and (not a.indication or a.indication in patient.indications)
              and (not a.skin_types or patient.fitzpatrick in a.skin_types)]
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    chosen.sort(key=lambda a: (-(bool(a.indication) + bool(a.skin_types)),
                               -(a.published_at or oldest).timestamp(), a.id))
    return chosen


def reading_allowed_at(last_sent: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """When the next reading message may go: now, or a week after the last one."""
    if last_sent is None or now - last_sent >= READING_CAP:
        return now
    return last_sent + READING_CAP


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    years = day.year - date_of_birth.year
    return years - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def is_minor(date_of_birth: dt.date, day: dt.date) -> bool:
    return age_on(date_of_birth, day) < ADULT_AGE


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` earlier (the month's last day when it has fewer days)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


AUDIENCES = ("everyone", "patients", "public")


@dataclass(frozen=True)
class Segment:
    """Who a newsletter goes to, among those who have confirmed marketing consent.

    ``audience``: everyone, patients only, or public subscribers only. The other conditions
    select patients (public subscribers have no care to select on, so a segment with any of
    them takes in patients only)."""

    audience: str = "everyone"
    #: Patients with at least one signed session.
    treated_only: bool = False
    #: Patients whose last course ended more than this many months ago.
    course_ended_months: int | None = None
    #: Patients treated for this indication (a vocabulary code).
    indication: str = ""
    stages: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise ValueError(f"unknown audience {self.audience!r}")
        if self.course_ended_months is not None and not 0 <= self.course_ended_months <= 120:
            raise ValueError("course_ended_months must be 0 to 120")

    @property
    def selects_patients(self) -> bool:
        return bool(self.treated_only or self.course_ended_months is not None
                    or self.indication or self.stages)

    @property
    def takes_public(self) -> bool:
        return self.audience in ("everyone", "public") and not self.selects_patients

    @property
    def takes_patients(self) -> bool:
        return self.audience in ("everyone", "patients")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stages"] = list(self.stages)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        return cls(audience=data.get("audience", "everyone"),
                   treated_only=bool(data.get("treated_only", False)),
                   course_ended_months=data.get("course_ended_months"),
                   indication=data.get("indication", "") or "",
                   stages=tuple(data.get("stages", ()) or ()))

    def takes(self, patient: PatientFacts, today: dt.date) -> bool:
        """Whether a patient (with marketing consent) is in the segment."""
        if not self.takes_patients:
            return False
        if self.treated_only and not patient.treated:
            return False
        if self.course_ended_months is not None:
            ended = patient.course_ended_on
            if ended is None or ended >= months_before(today, self.course_ended_months):
                return False
        if self.indication and self.indication not in patient.indications:
            return False
        return not (self.stages and patient.stage not in self.stages)


def spread(count: int, start: dt.datetime, per_minute: int) -> Sequence[dt.datetime]:
    """Due times for ``count`` messages from ``start`` at most ``per_minute`` a minute."""
    per_minute = max(1, per_minute)
    step = dt.timedelta(seconds=60 / per_minute)
    return [start + step * n for n in range(count)]
