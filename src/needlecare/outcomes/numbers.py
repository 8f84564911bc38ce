"""The clinic's numbers: sessions, adverse events, escalations, check-in adherence, outcomes
and overrides, for a date range and optionally one practitioner.

Every count is exact and made by the database (``COUNT … FILTER``, ``GROUP BY``): nothing here
loads the rows themselves. The page runs the same fixed set of aggregate queries whatever the
range (one per table read), each bounded by what it groups by: practitioners, grades × types,
levels, indications × measures, verdict pairs. Sessions are counted per practitioner with one
conditional count per month of the range (at most 37) and per invitation day, in one pass over
a covering index: date functions are Python callbacks in SQLite (slow per row), comparisons
with the stored date are not. The median time to acknowledge an escalation is computed from the
counts of each whole minute (capped at a week), since SQLite has no median.

Sessions, depth overrides and answered check-in days are read from a summary table that the
outcomes app's event handlers keep current in the signing and check-in transactions
(``SignedSessionFact``), so the numbers never scan the sessions or the check-ins themselves.

What each number means (also shown on the page):

- sessions: signed sessions performed in the range, by the practitioner who performed them;
- adverse events: recorded after sessions performed in the range, per 100 of those sessions;
- escalations: opened in the range (by the practitioner of the session they are about); time
  to acknowledge from opening to the first acknowledgement (closing acknowledges too); answered
  within the deadline: acknowledged by the deadline in force, out of those acknowledged or
  past their deadline;
- check-in adherence: for each invitation day of the protocol, the sessions performed in the
  range whose day has come (invited), and those with a check-in that answers it (on the day,
  or before the next invitation day);
- outcome improvement: follow-up records dated in the range that show a change (from the
  patient's baseline, or rated as change), by the plan's indication and measure (for one
  practitioner: those taken when the course's latest signed session was theirs);
- overrides: consultations whose screening verdict a clinician changed in the range (by that
  clinician), and zones treated deeper than the plan's maximum with a reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import (
    Avg,
    Count,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Least
from django.db.models.lookups import GreaterThan
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.access import Actor, Permission, audit, require
from needlecare.accounts.models import Clinic, Role, User
from needlecare.care.models import Consultation, TreatmentSession, Verdict
from needlecare.clinical.protocol.outcomes_loader import default_outcomes
from needlecare.clinical.vocabulary import INDICATIONS
from needlecare.errors import ServiceError
from needlecare.outcomes.charts import Bar, Chart, bar_chart
from needlecare.outcomes.handlers import invitation_days
from needlecare.outcomes.models import (
    ANSWERED_DAY_BITS,
    AdverseEvent,
    Direction,
    OutcomeRecord,
    SignedSessionFact,
)
from needlecare.outcomes.rules import median_from_counts
from needlecare.recovery.models import Escalation, Level

#: Times to acknowledge are counted per whole minute up to a week; longer ones count as a week
#: (which moves the median only when more than half took longer).
MINUTES_CAP = 7 * 24 * 60
#: The longest range the page accepts.
MAX_RANGE_DAYS = 3 * 366
LEVEL_ORDER = ["contact_clinic", "urgent", "emergency", "expected"]


class MinutesBetween(Func):
    """Whole minutes from the first timestamp to the second, in the database's own
    arithmetic (PostgreSQL and SQLite)."""

    output_field = IntegerField()
    arity = 2

    def _operands(self, compiler: Any) -> tuple[str, str, list[Any]]:
        start, end = self.get_source_expressions()
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        return start_sql, end_sql, [*end_params, *start_params]

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        start, end, params = self._operands(compiler)
        return f"FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) / 60)::integer", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        # julianday() is SQLite's own C function; Django's timestamp arithmetic on SQLite is a
        # Python callback per row. Rounded to the second first: a day fraction times 1440 is
        # 29.9999… for thirty minutes.
        start, end, params = self._operands(compiler)
        return (f"(CAST(ROUND((julianday({end}) - julianday({start})) * 86400) AS INTEGER) "
                f"/ 60)", params)


@dataclass(frozen=True)
class NumbersFilter:
    start: dt.date
    end: dt.date
    practitioner_id: int | None = None

    def query(self, **extra: Any) -> str:
        params: dict[str, Any] = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.practitioner_id is not None:
            params["practitioner"] = self.practitioner_id
        params.update({k: v for k, v in extra.items() if v is not None})
        return urlencode(params)

    def records_url(self, metric: str, key: str = "") -> str:
        return RecordsUrls(self)(metric, key)


class RecordsUrls:
    """The addresses of the records behind each number of one filter: the path and the
    filter's part of the query are made once (a page has a few hundred numbers)."""

    def __init__(self, numbers_filter: NumbersFilter) -> None:
        self.prefix = reverse("numbers-records") + "?" + numbers_filter.query()

    def __call__(self, metric: str, key: str = "") -> str:
        return self.prefix + "&" + urlencode({"metric": metric, **({"key": key} if key else {})})


def default_filter(today: dt.date) -> NumbersFilter:
    """The last twelve months to today."""
    start = today.replace(year=today.year - 1) + dt.timedelta(days=1) \
        if not (today.month == 2 and today.day == 29) else dt.date(today.year - 1, 3, 1)
    return NumbersFilter(start=start, end=today)


#: Dates the page accepts (and can add a day to, in any time zone).
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2199, 12, 31)


def check_filter(clinic_id: int, numbers_filter: NumbersFilter) -> None:
    if not (EARLIEST <= numbers_filter.start <= LATEST and EARLIEST <= numbers_filter.end
            <= LATEST):
        raise ServiceError("range_out_of_bounds", _(
            "Choose dates from the year 2000 on."), field="from")
    if numbers_filter.end < numbers_filter.start:
        raise ServiceError("range_inverted", _("The end of the range is before its start."),
                           field="to")
    if (numbers_filter.end - numbers_filter.start).days > MAX_RANGE_DAYS:
        raise ServiceError("range_too_long", _("Choose a range of at most three years."),
                           field="from")
    if numbers_filter.practitioner_id is not None and not User.objects.filter(
            pk=numbers_filter.practitioner_id, clinic_id=clinic_id).exists():
        raise ServiceError("practitioner_invalid", _("Choose a practitioner of this clinic."),
                           field="practitioner")


# --- the page's numbers ------------------------------------------------------------------------

@dataclass
class Count_:
    """A number and where its records are listed."""

    value: int
    href: str
    denominator: int | None = None

    @property
    def share(self) -> float | None:
        if not self.denominator:
            return None
        return round(100 * self.value / self.denominator, 1)


@dataclass
class MonthRow:
    month: dt.date
    total: Count_
    by_practitioner: list[Count_]


@dataclass
class LabelledCount:
    key: str
    label: str
    count: Count_
    per_100_sessions: float | None = None


@dataclass
class LevelRow:
    level: str
    label: str
    count: Count_
    median_minutes: float | None


@dataclass
class AdherenceRow:
    day: int
    invited: int
    answered: Count_
    missed: Count_

    @property
    def share(self) -> float | None:
        return round(100 * self.answered.value / self.invited, 1) if self.invited else None


@dataclass
class OutcomeRow:
    indication: str
    indication_label: str
    measure: str
    measure_name: str
    follow_ups: Count_
    improved: Count_
    mean_percent_of_possible: float | None

    @property
    def share_improved(self) -> float | None:
        return self.improved.share


@dataclass
class ClinicNumbers:
    filter: NumbersFilter
    clinic: Clinic
    practitioners: list[tuple[int, str]]
    sessions: Count_
    months: list[MonthRow]
    month_practitioners: list[tuple[int | None, str]]
    adverse_events: Count_
    adverse_events_per_100: float | None
    by_severity: list[LabelledCount]
    by_type: list[LabelledCount]
    escalations: Count_
    by_level: list[LevelRow]
    median_minutes_to_acknowledge: float | None
    acknowledged: int
    answered_in_time: Count_
    late: Count_
    adherence: list[AdherenceRow]
    outcomes: list[OutcomeRow]
    screening_overrides: Count_
    override_pairs: list[tuple[str, str, Count_]]
    depth_overrides: Count_
    generated_at: dt.datetime = field(default_factory=clock.now)


def _bounds(numbers_filter: NumbersFilter, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(time_zone)
    start = dt.datetime.combine(numbers_filter.start, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(numbers_filter.end + dt.timedelta(days=1), dt.time(0),
                              tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def _facts(clinic_id: int, f: NumbersFilter) -> QuerySet[SignedSessionFact]:
    facts = SignedSessionFact.objects.filter(clinic_id=clinic_id, performed_on__gte=f.start,
                                             performed_on__lte=f.end)
    if f.practitioner_id is not None:
        facts = facts.filter(practitioner_id=f.practitioner_id)
    return facts


def _adverse(clinic_id: int, f: NumbersFilter) -> QuerySet[AdverseEvent]:
    events = AdverseEvent.objects.filter(clinic_id=clinic_id, session_date__gte=f.start,
                                         session_date__lte=f.end)
    if f.practitioner_id is not None:
        events = events.filter(practitioner_id=f.practitioner_id)
    return events


def _escalations(clinic: Clinic, f: NumbersFilter) -> QuerySet[Escalation]:
    start, end = _bounds(f, clinic.time_zone)
    escalations = Escalation.objects.filter(clinic_id=clinic.pk, opened_at__gte=start,
                                            opened_at__lt=end)
    if f.practitioner_id is not None:
        escalations = escalations.filter(session__practitioner_id=f.practitioner_id)
    return escalations


def _outcomes(clinic_id: int, f: NumbersFilter) -> QuerySet[OutcomeRecord]:
    records = OutcomeRecord.objects.filter(clinic_id=clinic_id, assessed_on__gte=f.start,
                                           assessed_on__lte=f.end).exclude(direction="")
    if f.practitioner_id is not None:
        records = records.filter(practitioner_id=f.practitioner_id)
    return records


def _overrides(clinic: Clinic, f: NumbersFilter) -> QuerySet[Consultation]:
    start, end = _bounds(f, clinic.time_zone)
    found = Consultation.objects.filter(clinic_id=clinic.pk, overridden_at__gte=start,
                                        overridden_at__lt=end).exclude(override_verdict="")
    if f.practitioner_id is not None:
        found = found.filter(overridden_by_id=f.practitioner_id)
    return found


def _per_100(count: int, sessions: int) -> float | None:
    return round(100 * count / sessions, 2) if sessions else None


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, month = [], _month(start)
    while month <= end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _answered_bit(day: int) -> int:
    return 1 << ANSWERED_DAY_BITS[day]


def _answered(day: int) -> GreaterThan:
    """The session's row marks a check-in answering invitation ``day``."""
    return GreaterThan(F("answered_days").bitand(_answered_bit(day)), 0)


def _session_counts(f: NumbersFilter, today: dt.date) -> dict[str, Any]:
    """The conditional counts of the sessions query: ``month_<i>`` for each month of the range,
    ``invited_<d>`` and ``answered_<d>`` for each invitation day, and the depth overrides."""
    counts: dict[str, Any] = {"n": Count("pk"), "depth": Sum("depth_overrides")}
    for i, (first, last) in enumerate(_month_spans(f)):
        counts[f"month_{i}"] = Count("pk", filter=Q(performed_on__gte=first,
                                                    performed_on__lte=last))
    for day in invitation_days():
        counts[f"invited_{day}"] = Count(
            "pk", filter=Q(performed_on__lte=today - dt.timedelta(days=day)))
        counts[f"answered_{day}"] = Count("pk", filter=_answered(day))
    return counts


def _month_spans(f: NumbersFilter) -> list[tuple[dt.date, dt.date]]:
    """Each month of the range, cut to the range: (first day, last day)."""
    return [(max(month, f.start),
             min((month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1), f.end))
            for month in _months(f.start, f.end)]


def clinic_numbers(actor: Actor, numbers_filter: NumbersFilter) -> ClinicNumbers:
    """Every number of the page, in a fixed number of aggregate queries."""
    require(actor, Permission.VIEW_CLINICAL)
    f = numbers_filter
    with transaction.atomic():
        clinic = Clinic.objects.get(pk=actor.clinic_id)
        check_filter(clinic.pk, f)
        audit(actor, "numbers.view", detail={"from": f.start.isoformat(),
                                             "to": f.end.isoformat(),
                                             "practitioner": f.practitioner_id})
        staff = list(User.objects.filter(clinic_id=clinic.pk,
                                         role__in=[Role.CLINICIAN, Role.OWNER])
                     .order_by("last_name", "first_name", "pk"))
        # 1. sessions (per month), depth overrides, invited and answered check-in days, per
        #    practitioner: one pass over the summary table's covering index
        today = clock.now().astimezone(ZoneInfo(clinic.time_zone)).date()
        per_practitioner = list(_facts(clinic.pk, f).values("practitioner_id").annotate(
            **_session_counts(f, today)).order_by())
        # 2. adverse events, per grade and type
        adverse = list(_adverse(clinic.pk, f).values("severity", "type")
                       .annotate(n=Count("pk")).order_by())
        # 3. escalations, per level
        now = clock.now()
        escalations = _escalations(clinic, f)
        levels = list(escalations.values("level").annotate(
            n=Count("pk"),
            acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
            in_time=Count("pk", filter=Q(acknowledged_at__lte=F("deadline"))),
            due=Count("pk", filter=Q(acknowledged_at__isnull=False) | Q(deadline__lt=now)),
        ).order_by())
        # 4. minutes to acknowledge, counted per whole minute and level (bounded set)
        minutes = list(escalations.filter(acknowledged_at__isnull=False)
                       .annotate(m=Least(MinutesBetween("opened_at", "acknowledged_at"),
                                         Value(MINUTES_CAP)))
                       .values("level", "m").annotate(n=Count("pk")).order_by())
        # 5. outcome changes, per indication and measure
        outcome_rows = list(_outcomes(clinic.pk, f).values("indication", "measure").annotate(
            n=Count("pk"), improved=Count("pk", filter=Q(direction=Direction.IMPROVED)),
            mean=Avg("percent_of_possible")).order_by())
        # 6. screening overrides, per verdict pair
        pairs = list(_overrides(clinic, f).values("verdict", "override_verdict")
                     .annotate(n=Count("pk")).order_by())
    return _assemble(f, clinic, staff, per_practitioner, adverse, levels, minutes,
                     outcome_rows, pairs)


def _name(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user is not None else _("Not recorded")


def _assemble(f: NumbersFilter, clinic: Clinic, staff: list[User],
              per_practitioner: list[dict[str, Any]], adverse: list[dict[str, Any]],
              levels: list[dict[str, Any]], minutes: list[dict[str, Any]],
              outcome_rows: list[dict[str, Any]], pairs: list[dict[str, Any]]
              ) -> ClinicNumbers:
    url = RecordsUrls(f)
    names = {u.pk: _name(u) for u in staff}
    sessions_total = sum(r["n"] for r in per_practitioner)
    depth_total = sum(r["depth"] or 0 for r in per_practitioner)
    rows = sorted((r for r in per_practitioner if r["n"]),
                  key=lambda r: (r["practitioner_id"] is None,
                                 names.get(r["practitioner_id"], ""), r["practitioner_id"] or 0))
    month_people: list[tuple[int | None, str]] = [
        (r["practitioner_id"], names.get(r["practitioner_id"], _name(None))) for r in rows]
    months = []
    for i, (first, last) in enumerate(_month_spans(f)):
        key = f"{first.isoformat()}:{last.isoformat()}"
        months.append(MonthRow(
            month=first.replace(day=1),
            total=Count_(sum(r[f"month_{i}"] for r in rows), url("sessions", key)),
            by_practitioner=[Count_(r[f"month_{i}"], url(
                "sessions", f"{key}:{pk if pk is not None else 'none'}"))
                for r, (pk, _label) in zip(rows, month_people, strict=True)]))

    found = default_outcomes()
    grades = found.data.adverse_events.severity.grades
    types = found.data.adverse_events.types
    ae_total = sum(r["n"] for r in adverse)
    severity_counts: dict[int, int] = {}
    type_counts: dict[str, int] = {}
    for row in adverse:
        severity_counts[row["severity"]] = severity_counts.get(row["severity"], 0) + row["n"]
        type_counts[row["type"]] = type_counts.get(row["type"], 0) + row["n"]
    by_severity = [LabelledCount(str(g), f"{g}: {grade.label}",
                                 Count_(severity_counts.get(g, 0),
                                        url("adverse_events", f"severity:{g}")),
                                 _per_100(severity_counts.get(g, 0), sessions_total))
                   for g, grade in sorted(grades.items())]
    by_type = [LabelledCount(key, kind.label,
                             Count_(type_counts[key], url("adverse_events",
                                                                    f"type:{key}")),
                             _per_100(type_counts[key], sessions_total))
               for key, kind in types.items() if type_counts.get(key)]

    level_labels = dict(Level.choices)
    level_counts = {r["level"]: r for r in levels}
    minute_counts: dict[str, list[tuple[int, int]]] = {}
    for row in minutes:
        minute_counts.setdefault(row["level"], []).append((row["m"], row["n"]))
    by_level = [LevelRow(level, str(level_labels[level]),
                         Count_(level_counts[level]["n"] if level in level_counts else 0,
                                url("escalations", f"level:{level}")),
                         median_from_counts(minute_counts.get(level, [])))
                for level in LEVEL_ORDER if level in level_counts or level != "expected"]
    all_minutes = [pair for counts in minute_counts.values() for pair in counts]
    merged: dict[int, int] = {}
    for value, n in all_minutes:
        merged[value] = merged.get(value, 0) + n
    due = sum(r["due"] for r in levels)
    in_time = sum(r["in_time"] for r in levels)

    adherence = []
    for day in invitation_days():
        invited = sum(r[f"invited_{day}"] for r in per_practitioner)
        got = sum(r[f"answered_{day}"] for r in per_practitioner)
        adherence.append(AdherenceRow(
            day=day, invited=invited,
            answered=Count_(got, url("checkins", f"answered:{day}"), invited),
            missed=Count_(max(invited - got, 0), url("checkins", f"missed:{day}"), invited)))

    outcomes = []
    for row in sorted(outcome_rows, key=lambda r: (r["indication"], r["measure"])):
        measure = found.measures.get(row["measure"])
        key = f"{row['indication']}:{row['measure']}"
        term = INDICATIONS.get(row["indication"])
        outcomes.append(OutcomeRow(
            indication=row["indication"],
            indication_label=term.display if term else row["indication"],
            measure=row["measure"], measure_name=measure.name if measure else row["measure"],
            follow_ups=Count_(row["n"], url("outcomes", key)),
            improved=Count_(row["improved"], url("outcomes", f"{key}:improved"),
                            row["n"]),
            mean_percent_of_possible=round(row["mean"], 1) if row["mean"] is not None
            else None))

    verdicts = dict(Verdict.choices)
    override_pairs = [(str(verdicts.get(r["verdict"], r["verdict"])),
                       str(verdicts.get(r["override_verdict"], r["override_verdict"])),
                       Count_(r["n"], url(
                           "screening_overrides", f"{r['verdict']}:{r['override_verdict']}")))
                      for r in sorted(pairs, key=lambda r: (r["verdict"],
                                                            r["override_verdict"]))]
    return ClinicNumbers(
        filter=f, clinic=clinic, practitioners=[(u.pk, names[u.pk]) for u in staff],
        sessions=Count_(sessions_total, url("sessions")), months=months,
        month_practitioners=month_people,
        adverse_events=Count_(ae_total, url("adverse_events")),
        adverse_events_per_100=_per_100(ae_total, sessions_total),
        by_severity=by_severity, by_type=by_type,
        escalations=Count_(sum(r["n"] for r in levels), url("escalations")),
        by_level=by_level, median_minutes_to_acknowledge=median_from_counts(
            list(merged.items())),
        acknowledged=sum(r["acknowledged"] for r in levels),
        answered_in_time=Count_(in_time, url("escalations", "in_time"), due),
        late=Count_(due - in_time, url("escalations", "late"), due),
        adherence=adherence, outcomes=outcomes,
        screening_overrides=Count_(sum(r["n"] for r in pairs),
                                   url("screening_overrides")),
        override_pairs=override_pairs,
        depth_overrides=Count_(depth_total, url("depth_overrides")))


# --- the records behind a number ---------------------------------------------------------------

@dataclass(frozen=True)
class RecordRow:
    when: dt.date | dt.datetime
    patient: str
    patient_id: int
    what: str
    url: str


METRICS = ("sessions", "adverse_events", "escalations", "checkins", "outcomes",
           "screening_overrides", "depth_overrides")
RECORDS_PAGE_SIZE = 50


def _bad_key() -> ServiceError:
    return ServiceError("key_invalid", _("That number does not exist."), field="key")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _bad_key() from None


def _session_rows(sessions: QuerySet[TreatmentSession]) -> Iterator[RecordRow]:
    for s in sessions:
        assert s.performed_on is not None
        yield RecordRow(s.performed_on, s.patient.full_name, s.patient_id,
                        _("Session with %(who)s") % {"who": _name(s.practitioner)},
                        reverse("session-detail", args=[s.pk]))


def _records_query(clinic: Clinic, f: NumbersFilter, metric: str, key: str
                   ) -> tuple[QuerySet[Any], Any]:
    """The records behind one number, and how each is shown."""
    if metric in ("sessions", "depth_overrides"):
        facts = _facts(clinic.pk, f)
        if metric == "depth_overrides":
            facts = facts.filter(depth_overrides__gt=0)
        elif key:
            parts = key.split(":")
            if len(parts) not in (2, 3):
                raise _bad_key()
            facts = facts.filter(performed_on__gte=_date(parts[0]),
                                 performed_on__lte=_date(parts[1]))
            if len(parts) == 3:
                if parts[2] == "none":
                    facts = facts.filter(practitioner_id__isnull=True)
                elif parts[2].isdigit():
                    facts = facts.filter(practitioner_id=int(parts[2]))
                else:
                    raise _bad_key()
        sessions = (TreatmentSession.objects.filter(pk__in=facts.values("session_id"))
                    .select_related("patient", "practitioner").order_by("performed_on", "id"))
        return sessions, _session_rows
    if metric == "adverse_events":
        events = _adverse(clinic.pk, f)
        if key.startswith("severity:") and key[9:].isdigit():
            events = events.filter(severity=int(key[9:]))
        elif key.startswith("type:"):
            events = events.filter(type=key[5:])
        elif key:
            raise _bad_key()
        types = default_outcomes().data.adverse_events.types

        def ae_rows(rows: QuerySet[AdverseEvent]) -> Iterator[RecordRow]:
            for a in rows:
                kind = types.get(a.type)
                yield RecordRow(a.onset, a.patient.full_name, a.patient_id,
                                f"{kind.label if kind else a.type}, grade {a.severity}",
                                reverse("session-detail", args=[a.session_id]))

        return events.select_related("patient").order_by("onset", "id"), ae_rows
    if metric == "escalations":
        escalations = _escalations(clinic, f)
        now = clock.now()
        if key.startswith("level:"):
            escalations = escalations.filter(level=key[6:])
        elif key == "in_time":
            escalations = escalations.filter(acknowledged_at__lte=F("deadline"))
        elif key == "late":
            escalations = escalations.filter(
                Q(acknowledged_at__gt=F("deadline"))
                | Q(acknowledged_at__isnull=True, deadline__lt=now))
        elif key:
            raise _bad_key()
        labels = dict(Level.choices)

        def escalation_rows(rows: QuerySet[Escalation]) -> Iterator[RecordRow]:
            for e in rows:
                yield RecordRow(e.opened_at, e.patient.full_name, e.patient_id,
                                f"{labels.get(e.level, e.level)} · {e.get_status_display()}",
                                reverse("escalation-detail", args=[e.pk]))

        return (escalations.select_related("patient").order_by("opened_at", "id"),
                escalation_rows)
    if metric == "checkins":
        kind, _sep, day_text = key.partition(":")
        if kind not in ("answered", "missed") or not day_text.isdigit() \
                or int(day_text) not in invitation_days():
            raise _bad_key()
        day = int(day_text)
        facts = _facts(clinic.pk, f)
        if kind == "answered":
            facts = facts.filter(_answered(day))
        else:
            today = clock.now().astimezone(ZoneInfo(clinic.time_zone)).date()
            facts = facts.filter(performed_on__lte=today - dt.timedelta(days=day)).exclude(
                _answered(day))
        sessions = (TreatmentSession.objects.filter(pk__in=facts.values("session_id"))
                    .select_related("patient", "practitioner").order_by("performed_on", "id"))
        return sessions, _session_rows
    if metric == "outcomes":
        records = _outcomes(clinic.pk, f)
        parts = key.split(":") if key else []
        if len(parts) not in (0, 2, 3) or (len(parts) == 3 and parts[2] != "improved"):
            raise _bad_key()
        if parts:
            records = records.filter(indication=parts[0], measure=parts[1])
        if len(parts) == 3:
            records = records.filter(direction=Direction.IMPROVED)
        measures = default_outcomes().measures

        def outcome_rows(rows: QuerySet[OutcomeRecord]) -> Iterator[RecordRow]:
            for r in rows:
                measure = measures.get(r.measure)
                yield RecordRow(r.assessed_on, r.patient.full_name, r.patient_id,
                                f"{measure.name if measure else r.measure}: "
                                f"{r.get_direction_display()}",
                                reverse("plan-detail", args=[r.plan_id]))

        return records.select_related("patient").order_by("assessed_on", "id"), outcome_rows
    if metric == "screening_overrides":
        found = _overrides(clinic, f)
        if key:
            verdict, _sep, override = key.partition(":")
            found = found.filter(verdict=verdict, override_verdict=override)
        verdicts = dict(Verdict.choices)

        def override_rows(rows: QuerySet[Consultation]) -> Iterator[RecordRow]:
            for c in rows:
                assert c.overridden_at is not None
                yield RecordRow(c.overridden_at, c.patient.full_name, c.patient_id,
                                f"{verdicts.get(c.verdict, c.verdict)} → "
                                f"{verdicts.get(c.override_verdict, c.override_verdict)}",
                                reverse("consultation-detail", args=[c.pk]))

        return found.select_related("patient").order_by("overridden_at", "id"), override_rows
    raise ServiceError("metric_invalid", _("That number does not exist."), field="metric")


@dataclass(frozen=True)
class RecordsPage:
    metric: str
    key: str
    filter: NumbersFilter
    page: Page
    rows: list[RecordRow]
    time_zone: str


def records(actor: Actor, numbers_filter: NumbersFilter, metric: str, key: str = "",
            page: int | str | None = 1) -> RecordsPage:
    """One page of the records behind a number, each linking to its own page (which checks
    access again when opened). The listing is audited with the records it showed."""
    require(actor, Permission.VIEW_CLINICAL)
    if metric not in METRICS:
        raise ServiceError("metric_invalid", _("That number does not exist."), field="metric")
    with transaction.atomic():
        clinic = Clinic.objects.get(pk=actor.clinic_id)
        check_filter(clinic.pk, numbers_filter)
        query, show = _records_query(clinic, numbers_filter, metric, key)
        shown = Paginator(query, RECORDS_PAGE_SIZE).get_page(page)
        rows = list(show(shown.object_list))
        audit(actor, "numbers.records", detail={
            "metric": metric, "key": key, "from": numbers_filter.start.isoformat(),
            "to": numbers_filter.end.isoformat(),
            "practitioner": numbers_filter.practitioner_id, "page": shown.number,
            "records": [r.url for r in rows]})
    return RecordsPage(metric=metric, key=key, filter=numbers_filter, page=shown, rows=rows,
                       time_zone=clinic.time_zone)


# --- CSV --------------------------------------------------------------------------------------

CSV_HEADER = ["section", "group", "subgroup", "count", "denominator", "percent", "per_100_sessions",
              "median_minutes"]


def as_csv(numbers: ClinicNumbers) -> str:
    """Every number of the page, one per line, in a long format spreadsheets pivot."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)

    def row(section: str, group: str, subgroup: str, count: float | str,
            denominator: int | None = None, percent: float | None = None,
            per_100: float | None = None, median: float | None = None) -> None:
        writer.writerow([section, group, subgroup, count,
                         "" if denominator is None else denominator,
                         "" if percent is None else percent,
                         "" if per_100 is None else per_100, "" if median is None else median])

    f = numbers.filter
    row("range", f.start.isoformat(), f.end.isoformat(), "")
    row("sessions", "total", "", numbers.sessions.value)
    for month in numbers.months:
        row("sessions", month.month.strftime("%Y-%m"), "all", month.total.value)
        for (pk, name), cell in zip(numbers.month_practitioners, month.by_practitioner,
                                    strict=True):
            row("sessions", month.month.strftime("%Y-%m"), f"{name} ({pk})", cell.value)
    row("adverse_events", "total", "", numbers.adverse_events.value, numbers.sessions.value,
        per_100=numbers.adverse_events_per_100)
    for item in numbers.by_severity:
        row("adverse_events", "severity", item.label, item.count.value, numbers.sessions.value,
            per_100=item.per_100_sessions)
    for item in numbers.by_type:
        row("adverse_events", "type", item.label, item.count.value, numbers.sessions.value,
            per_100=item.per_100_sessions)
    row("escalations", "total", "", numbers.escalations.value,
        median=numbers.median_minutes_to_acknowledge)
    for level in numbers.by_level:
        row("escalations", "level", level.label, level.count.value, median=level.median_minutes)
    row("escalations", "answered_within_deadline", "", numbers.answered_in_time.value,
        numbers.answered_in_time.denominator, numbers.answered_in_time.share)
    for adherence in numbers.adherence:
        row("checkin_adherence", f"day {adherence.day}", "answered", adherence.answered.value,
            adherence.invited, adherence.share)
    for outcome in numbers.outcomes:
        row("outcomes", outcome.indication_label, outcome.measure_name,
            outcome.improved.value, outcome.follow_ups.value, outcome.share_improved)
        row("outcomes", outcome.indication_label,
            f"{outcome.measure_name}: mean % of possible improvement",
            "" if outcome.mean_percent_of_possible is None
            else outcome.mean_percent_of_possible)
    row("overrides", "screening_verdict", "", numbers.screening_overrides.value)
    for before, after, cell in numbers.override_pairs:
        row("overrides", "screening_verdict", f"{before} -> {after}", cell.value)
    row("overrides", "depth_cap", "zones", numbers.depth_overrides.value)
    return out.getvalue()


# --- for the page -----------------------------------------------------------------------------

def practitioner_choices(clinic_id: int) -> list[tuple[int, str]]:
    """The clinic's clinicians and owners, for the filter."""
    return [(u.pk, _name(u)) for u in User.objects.filter(
        clinic_id=clinic_id, role__in=[Role.CLINICIAN, Role.OWNER]).order_by(
        "last_name", "first_name", "pk")]


@dataclass(frozen=True)
class NumbersCharts:
    sessions: Chart
    adverse_events: Chart
    escalations: Chart
    adherence: Chart


def charts(numbers: ClinicNumbers) -> NumbersCharts:
    """The page's charts, each bar a link to the records behind it."""
    return NumbersCharts(
        sessions=bar_chart([Bar(m.month.strftime("%b %y"), m.total.value, m.total.href)
                            for m in numbers.months],
                           title=_("Sessions by month"), value_label=_("Sessions")),
        adverse_events=bar_chart(
            [Bar(item.key, item.per_100_sessions or 0, item.count.href)
             for item in numbers.by_severity],
            title=_("Adverse events per 100 sessions, by grade"),
            value_label=_("Per 100 sessions")),
        escalations=bar_chart([Bar(row.label, row.count.value, row.count.href)
                               for row in numbers.by_level],
                              title=_("Escalations by level"), value_label=_("Escalations")),
        adherence=bar_chart([Bar(_("day %(day)d") % {"day": row.day}, row.share or 0,
                                 row.answered.href) for row in numbers.adherence],
                            title=_("Check-ins answered, by invitation day (%)"),
                            value_label=_("% answered")))


def metric_title(metric: str, key: str) -> str:
    """What a list of records is, in words."""
    titles = {
        "sessions": _("Signed sessions"), "adverse_events": _("Adverse events"),
        "escalations": _("Escalations"), "checkins": _("Check-in days"),
        "outcomes": _("Outcome follow-ups"),
        "screening_overrides": _("Screening verdicts changed by a clinician"),
        "depth_overrides": _("Sessions with a zone deeper than the plan's maximum"),
    }
    title = titles.get(metric, metric)
    return f"{title} · {key}" if key else title
