"""A large synthetic clinic, bulk-inserted: what benchmarks/reports.py and benchmarks/scale.py
measure their pages on.

``build(size)`` migrates an empty database and writes one clinic with 10 practitioners, an
owner and a front desk; its patients (a consultation, a plan and three signed sessions 28 days
apart each, the first in the three years to 57 days ago; 2 % of the screening verdicts
overridden, 1 % of the sessions with a zone deeper than the plan allows), check-ins on the
protocol's invitation days (marked on the sessions' summary rows), escalations, adverse events
and outcome records, as the services and the outcomes app's handlers would have written them.
``build_extras(world, size)`` adds what the other apps keep: the outbox's messages for every
session and escalation (old sent and cancelled ones included, a few failed), the diary's
appointments (one for every session, and a full week of bookings ahead), photo consents and
photo records (no image files), and the audit trail's rows (sealed), so that the staff pages
read tables of a real clinic's proportions.

Rows go in by COPY on PostgreSQL and executemany on SQLite (``insert``): Django's per-value
preparation would be most of the time of a million-row insert. What a stored row looks like
(the check-in's answers and triage result, the messages' bodies) is in ``RECIPE`` and the
small functions under it: change them there (the scale benchmark's cache key hashes this file,
so a changed recipe rebuilds its cached databases).

Every name, date and number is synthetic.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

PRACTITIONERS = 10
INVITATION_DAYS = (1, 3, 7, 14, 28, 56)
CHUNK = 20_000
SEED = 20261129
PROTOCOL = "microneedling-2026.2"

#: What stored rows look like. The check-in's triage result is kept compact (what was decided
#: and why, the protocol named for the rest): the product is moving to this form (issue 15),
#: and a row of the old form (the whole expected course, ~12 KB) would make the database mostly
#: check-in results.
RECIPE: dict[str, Any] = {
    "symptoms": ("redness", "swelling", "itching"),
    # Reasons as the triage engine words them (clinical/triage.py, protocol 2026.2).
    "reasons": {
        "expected": {
            "rule": "normal_healing", "level": "expected", "subject": "redness",
            "assumed": False, "clinician": "Within the expected course for this depth and day "
                                           "(T1/T2/T15).",
            "patient": "This is part of normal healing at this stage.", "evidence": "C",
            "basis": "evidence", "sources": [{"key": "martin2021"}, {"key": "minutilli2024"},
                                             {"key": "chu2021"}]},
        "contact_clinic": {
            "rule": "redness_swelling_worsening", "level": "contact_clinic",
            "subject": "redness", "assumed": False,
            "clinician": "Redness or swelling getting worse after it should have peaked: "
                         "consider contact dermatitis, infection or granuloma (T3).",
            "patient": "Redness or swelling that gets worse instead of better should be "
                       "looked at by a clinician.", "evidence": "C", "basis": "evidence",
            "sources": [{"key": "chu2021"}]},
    },
    "advice": {
        "expected": ("What you describe is part of normal healing. Keep following today's "
                     "aftercare.",
                     "Keep the skin clean, use the bland gel or moisturiser, and wear "
                     "sunscreen."),
        "contact_clinic": ("Please contact the clinic within one working day. A clinician "
                           "will also review your answers.",
                           "Until then, keep following your aftercare, keep the skin clean "
                           "and do not apply anything new."),
    },
    "photo_uses": ("clinical_record", "shown_to_patient", "teaching", "marketing"),
    "given_names": ("Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur",
                    "Freya", "Leo", "Aisha", "Mohammed", "Zara", "Yusuf", "Chloé", "Jürgen",
                    "Siobhán", "Tomasz", "Priya", "Kwame", "Mei", "Hiroshi", "Ana", "Rafael",
                    "Ingrid", "Dmitri", "Fatima", "Omar", "Grace", "Samuel"),
    "family_names": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson",
                     "Davies", "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker",
                     "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Khan",
                     "Okafor", "Nowak", "Müller", "O'Brien", "García", "Nguyen", "Kowalski",
                     "Mensah", "Haddad", "Lindqvist", "Moreau", "Rossi", "Andersson",
                     "Fernández", "Chen", "Yamamoto", "Ó Súilleabháin", "Van der Berg"),
}


def checkin_answers(day: int, severity: int) -> dict[str, Any]:
    """A patient's answers (the needlecare.checkin/1 document, as the services store it)."""
    from needlecare.clinical.vocabulary import RED_FLAGS

    return {"schema": "needlecare.checkin/1",
            "symptoms": {s: {"severity": max(0, severity - n), "trend": "better"}
                         for n, s in enumerate(RECIPE["symptoms"])},
            "red_flags": dict.fromkeys(RED_FLAGS, False),
            "note": "" if day % 7 else "A little tight in the mornings."}


def checkin_result(day: int, level: str) -> dict[str, Any]:
    """The triage result stored with a check-in, compact: the reasons with their sources'
    keys (the citations are the protocol's), two lines of advice."""
    reason = RECIPE["reasons"]["expected" if level == "expected" else "contact_clinic"]
    return {"schema": "needlecare.triage/1",
            "protocol": {"name": "microneedling", "version": "2026.2"}, "day": day,
            "level": level, "reasons": [reason], "advice": list(RECIPE["advice"][level]),
            "unanswered": []}


def photo_redness(day: int) -> dict[str, Any]:
    """A photo's redness reading as the analysis stores it (photos/measurement.py)."""
    def zone(a_star: float) -> dict[str, Any]:
        return {"a_star": a_star, "a_star_median": a_star - 0.4, "l_star": 61.2,
                "b_star": 17.9, "pixels": 48_210}

    return {"zones": {"cheeks": zone(round(18.5 - day * 0.8, 3)), "forehead": zone(12.1)},
            "colour_space": "sRGB", "profile_assumed": False}


# --- bulk insert --------------------------------------------------------------------------------

class Encoded(str):
    """A JSON value already encoded: rows that share one (a million check-ins answer a few
    dozen ways) encode it once."""


@functools.cache
def encoded(make: Callable[..., Any], *args: Any) -> Encoded:
    return Encoded(json.dumps(make(*args)))


def converter(field: Any, vendor: str) -> Callable[[Any], Any]:
    """How a value of ``field`` is written by COPY or executemany: done here per type, since
    Django's per-value preparation is most of the time of a million-row insert."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        return lambda v: None if v is None else v if isinstance(v, Encoded) else json.dumps(v)
    if kind == "DecimalField":
        return lambda v: None if v is None else str(v)
    if vendor == "sqlite":
        if kind == "DateTimeField":  # stored as naive UTC text
            return lambda v: None if v is None else v.astimezone(dt.UTC).replace(
                tzinfo=None).isoformat(" ")
        if kind == "DateField":
            return lambda v: None if v is None else v.isoformat()
        if kind == "BooleanField":
            return lambda v: None if v is None else int(v)
    return lambda v: v


def insert(model: Any, rows: Iterable[dict[str, Any]]) -> int:
    """Bulk-insert ``rows`` (field name → value; the rest take their defaults): COPY on
    PostgreSQL, executemany on SQLite. Returns how many."""
    from django.db import connection

    fields = list(model._meta.concrete_fields)
    names = [f.attname for f in fields]
    defaults = [f.get_default() if f.has_default() else ("" if f.empty_strings_allowed
                                                         and not f.null else None)
                for f in fields]
    convert = [converter(f, connection.vendor) for f in fields]
    plan = list(zip(names, defaults, convert, strict=True))
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)

    def prepared() -> Iterator[tuple[Any, ...]]:
        for row in rows:
            yield tuple(to(row.get(name, default)) for name, default, to in plan)

    count = 0
    with connection.cursor() as cursor, _indexes_after(cursor, model._meta.db_table):
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for values in prepared():
                    copy.write_row(values)
                    count += 1
        else:
            sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
            batch: list[tuple[Any, ...]] = []
            for values in prepared():
                batch.append(values)
                if len(batch) == CHUNK:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
    return count


@contextlib.contextmanager
def _indexes_after(cursor: Any, table: str) -> Iterator[None]:
    """On SQLite, the table's indexes are made after its rows are in: sorting once is much
    faster than keeping several B-trees in order through millions of random inserts."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
                   "AND sql IS NOT NULL", [table])
    indexes = cursor.fetchall()
    for name, _sql in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    for _name, sql in indexes:
        cursor.execute(sql)


def reset_sequences(models: Iterable[Any]) -> None:
    """After inserts with explicit ids, the next id the database gives is past them."""
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(statement)


def bulk_load_settings() -> None:
    """On SQLite, a page cache that holds the indexes being filled, and no journal: a
    throwaway database being built needs no crash safety (``upkeep`` puts WAL back)."""
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size=-1000000")  # KiB: 1 GB
            cursor.execute("PRAGMA journal_mode=OFF")
            cursor.execute("PRAGMA synchronous=OFF")


def upkeep() -> None:
    """Statistics for the planner, as the product's upkeep keeps them (the worker runs
    ``PRAGMA optimize`` on SQLite; PostgreSQL's autovacuum analyses)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # Statistics from a sample of each index, as PRAGMA optimize gathers them: a full
            # ANALYZE of a multi-gigabyte file reads all of it.
            cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.fetchall()


# --- the clinic ---------------------------------------------------------------------------------

@dataclass
class World:
    """What the builder made, for the measures: ids and the sessions' facts."""

    clinic: int
    owner: int
    desk: int
    staff: list[int]
    today: dt.date
    #: (session id, patient index, day performed, practitioner id), patient index from 0.
    sessions: list[tuple[int, int, dt.date, int]]
    #: (check-in id, session id, patient index, session day, day after it, practitioner).
    checkins: list[tuple[int, int, int, dt.date, int, int]]
    #: (escalation id, session id, patient index, opened at, status).
    escalations: list[tuple[int, int, int, dt.datetime, str]]
    #: The patient every size shows the same way (the chart, its photos): the last one.
    showcase: int
    counts: dict[str, int] = field(default_factory=dict)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)


def person(p: int) -> tuple[str, str, dt.date, str]:
    """Patient ``p``'s given and family name, date of birth and phone number."""
    given = RECIPE["given_names"]
    family = RECIPE["family_names"]
    rng = random.Random(p)
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(20_000))
    return (given[p % len(given)], family[(p // len(given) * 7 + p) % len(family)], born,
            f"07700 9{p % 100_000:05d}" if p % 3 else f"+44 7911 {p % 1_000_000:06d}")


def build(size: dict[str, int]) -> World:
    """Migrate and write the clinic's patients and care records (see the module's text).

    ``size``: ``patients``, ``checkins``, ``escalations``, ``adverse_events``; and optional
    ``closed_after_days``: escalations opened longer ago than this are closed (without it,
    most are acknowledged and some open, whatever their age)."""
    from django.core.management import call_command
    from django.db import transaction

    from needlecare import names
    from needlecare.accounts.models import Clinic, Role, User
    from needlecare.care.models import (
        Consultation,
        SessionZone,
        TreatmentPlan,
        TreatmentSession,
    )
    from needlecare.clock import localdate
    from needlecare.outcomes.models import (
        ANSWERED_DAY_BITS,
        AdverseEvent,
        OutcomeRecord,
        SignedSessionFact,
    )
    from needlecare.patients.models import Patient
    from needlecare.recovery.models import CheckIn, Escalation

    bulk_load_settings()
    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    clinic = Clinic.objects.create(name="Benchmark Clinic", slug="bench", phone="020 7946 0999",
                                   time_zone="Europe/London")
    owner = User.objects.create(username="bench.owner", clinic=clinic, role=Role.OWNER,
                                first_name="Olive", last_name="Owner")
    desk = User.objects.create(username="bench.desk", clinic=clinic, role=Role.FRONT_DESK,
                               first_name="Dee", last_name="Desk")
    staff = [User.objects.create(username=f"bench.clinician{n}", clinic=clinic,
                                 role=Role.CLINICIAN, first_name="Clinician",
                                 last_name=f"Number {n:02d}") for n in range(PRACTITIONERS)]
    staff_ids = [u.pk for u in staff]
    today = localdate()
    patients = size["patients"]
    showcase = patients - 1
    counts: dict[str, int] = {}

    # Three sessions per plan, 28 days apart, the first in the three years to 57 days ago;
    # the showcase patient's first 120 days ago at every size.
    firsts = [today - dt.timedelta(days=rng.randint(57, 1095)) for _ in range(patients)]
    firsts[showcase] = today - dt.timedelta(days=120)

    def patient_row(p: int) -> dict[str, Any]:
        given, family, born, phone = person(p)
        return {"id": p + 1, "clinic_id": clinic.pk, "given_name": given,
                "family_name": family, "date_of_birth": born, "phone": phone,
                "preferred_channel": "sms", "messages_opt_in": True,
                "name_key": names.name_key(given, family),
                "phone_digits": names.phone_digits(phone), "created_at": at(firsts[p], 9),
                "created_by_id": desk.pk}

    with transaction.atomic():
        counts["patients"] = insert(Patient, (patient_row(p) for p in range(patients)))
        counts["consultations"] = insert(Consultation, (
            {"id": p + 1, "clinic_id": clinic.pk, "patient_id": p + 1,
             "created_by_id": staff_ids[p % PRACTITIONERS], "created_at": at(firsts[p], 9),
             "intake": {}, "result": {}, "protocol_version": PROTOCOL,
             "verdict": "suitable",
             **({"override_verdict": "suitable_with_precautions", "override_reason": "bench",
                 "overridden_by_id": staff_ids[p % PRACTITIONERS],
                 "overridden_at": at(firsts[p], 10)} if p % 50 == 0 else {})}
            for p in range(patients)))
        counts["plans"] = insert(TreatmentPlan, (
            {"id": p + 1, "clinic_id": clinic.pk, "patient_id": p + 1, "consultation_id": p + 1,
             "created_by_id": staff_ids[p % PRACTITIONERS], "created_at": at(firsts[p], 10),
             "status": "active", "indications": ["acne_scars"], "zones": ["cheeks"],
             "fitzpatrick": 2, "generated": {}, "protocol_version": PROTOCOL,
             "sessions_planned": 3, "interval_days": 28, "depth_ranges": {"cheeks": [1.5, 2.0]}}
            for p in range(patients)))
        sessions = [(p * 3 + n + 1, p, firsts[p] + dt.timedelta(days=28 * n),
                     staff_ids[rng.randrange(PRACTITIONERS)])
                    for p in range(patients) for n in range(3)]
        counts["sessions"] = insert(TreatmentSession, (
            {"id": sid, "clinic_id": clinic.pk, "patient_id": p + 1, "plan_id": p + 1,
             "status": "signed", "scheduled_for": at(day, 9 + sid % 8), "booked_by_id": desk.pk,
             "performed_on": day, "practitioner_id": who, "device": "pen",
             "cartridge_lot": "BENCH-1", "cartridge_expiry": day + dt.timedelta(days=365),
             "products": [], "endpoint_reached": "uniform pinpoint bleeding",
             "signed_at": at(day, 10 + sid % 8), "signed_by_id": who}
            for sid, p, day, who in sessions))
        insert(SessionZone, ({"id": sid, "session_id": sid, "zone": "cheeks",
                              "depth_mm": "2.20" if sid % 100 == 0 else "1.50", "passes": 3,
                              "depth_reason": "bench" if sid % 100 == 0 else ""}
                             for sid, _p, _d, _w in sessions))
        # Check-ins on distinct invitation days (3 or 4 a session), each answering its day;
        # the showcase patient answered every day.
        per_session = size["checkins"] / len(sessions)
        checkins: list[tuple[int, int, int, dt.date, int, int]] = []
        for sid, p, day, who in sessions:
            wanted = int(per_session) + (1 if rng.random() < per_session % 1 else 0)
            days = sorted(rng.sample(INVITATION_DAYS, min(wanted, len(INVITATION_DAYS))))
            if p == showcase:
                days = list(INVITATION_DAYS)
            for d in days:
                if day + dt.timedelta(days=d) <= today:
                    checkins.append((len(checkins) + 1, sid, p, day, d, who))
        escalation_of = _escalations(size, sessions, showcase, rng)
        checkin_escalation: dict[int, int] = {}
        for cid, sid, _p, _day, d, _who in checkins:
            found = escalation_of.get(sid)
            if found is not None and d == 1:
                checkin_escalation[cid] = found
        counts["checkins"] = insert(CheckIn, (
            {"id": cid, "clinic_id": clinic.pk, "patient_id": p + 1, "session_id": sid,
             "submitted_at": at(day + dt.timedelta(days=d), 19),
             "answers": encoded(checkin_answers, d, 5 if cid in checkin_escalation else 2),
             "result": encoded(checkin_result, d, "contact_clinic" if cid in checkin_escalation
                               else "expected"),
             "level": "contact_clinic" if cid in checkin_escalation else "expected",
             "protocol_version": PROTOCOL, "fingerprint": f"bench{cid}",
             "escalation_id": checkin_escalation.get(cid)}
            for cid, sid, p, day, d, _who in checkins))
        answered: dict[int, int] = {}
        for _cid, sid, _p, _day, d, _who in checkins:
            answered[sid] = answered.get(sid, 0) | (1 << ANSWERED_DAY_BITS[d])
        insert(SignedSessionFact, ({"session_id": sid, "clinic_id": clinic.pk,
                                    "practitioner_id": who, "performed_on": day,
                                    "depth_overrides": 1 if sid % 100 == 0 else 0,
                                    "answered_days": answered.get(sid, 0)}
                                   for sid, _p, day, who in sessions))
        levels = ("contact_clinic", "contact_clinic", "urgent", "emergency")
        closed_after = size.get("closed_after_days")
        by_id = {sid: (sid, p, day, who) for sid, p, day, who in sessions}
        escalations: list[tuple[int, int, int, dt.datetime, str]] = []

        def escalation(n: int, sid: int) -> dict[str, Any]:
            _sid, p, day, who = by_id[sid]
            opened = at(day + dt.timedelta(days=1), 19)
            acknowledged = (opened + dt.timedelta(minutes=rng.randint(5, 600))
                            if n % 20 else None)
            status = "acknowledged" if acknowledged else "open"
            row: dict[str, Any] = {}
            if closed_after is not None and opened.date() < today - dt.timedelta(
                    days=closed_after) and p != showcase:
                acknowledged = acknowledged or opened + dt.timedelta(minutes=30)
                status = "closed"
                row = {"outcome": "reassured", "closed_by_id": who,
                       "closed_at": acknowledged + dt.timedelta(hours=2)}
            escalations.append((n + 1, sid, p, opened, status))
            return {"id": n + 1, "clinic_id": clinic.pk, "patient_id": p + 1,
                    "session_id": sid, "level": levels[n % 4],
                    "reasons": checkin_result(1, "contact_clinic")["reasons"],
                    "opened_at": opened, "deadline": opened + dt.timedelta(hours=4),
                    "status": status, "acknowledged_at": acknowledged,
                    "acknowledged_by_id": who if acknowledged else None, **row}

        counts["escalations"] = insert(Escalation, (
            escalation(n - 1, sid) for sid, n in sorted(escalation_of.items(),
                                                        key=lambda item: item[1])))
        types = ("pih", "prolonged_erythema", "acneiform_eruption", "contact_dermatitis")
        harmed = sessions[::max(1, len(sessions) // size["adverse_events"])]
        counts["adverse_events"] = insert(AdverseEvent, (
            {"id": n + 1, "clinic_id": clinic.pk, "patient_id": p + 1, "session_id": sid,
             "type": types[n % 4], "severity": 1 + n % 3, "serious": n % 3 == 2,
             "onset": day + dt.timedelta(days=5), "classified": {},
             "outcomes_version": "outcomes-2026.1", "practitioner_id": who, "session_date": day,
             "recorded_by_id": who, "recorded_at": at(day + dt.timedelta(days=6), 9)}
            for n, (sid, p, day, who) in enumerate(harmed[:size["adverse_events"]])))

        def outcome_rows() -> Iterator[dict[str, Any]]:
            for p in range(patients):
                base = {"clinic_id": clinic.pk, "patient_id": p + 1, "plan_id": p + 1,
                        "measure": "goodman_baron_grade", "respondent": "clinician",
                        "values": {}, "scored": {}, "outcomes_version": "outcomes-2026.1",
                        "indication": "acne_scars", "recorded_by_id": owner.pk}
                # Counted for the practitioner of the course's latest session by then.
                yield {**base, "id": 2 * p + 1, "point": "baseline", "assessed_on": firsts[p],
                       "practitioner_id": sessions[3 * p][3],
                       "score": 3.0, "recorded_at": at(firsts[p], 10)}
                follow = firsts[p] + dt.timedelta(days=56 + 91)
                if follow <= today:
                    grade = rng.choice((1, 2, 2, 3, 3, 4))
                    direction = "improved" if grade < 3 else "unchanged" if grade == 3 \
                        else "worse"
                    yield {**base, "id": 2 * p + 2, "point": "three_months_after",
                           "assessed_on": follow, "score": float(grade),
                           "direction": direction, "improvement": float(3 - grade),
                           "percent_of_possible": round(100 * (3 - grade) / 2, 1),
                           "baseline_id": 2 * p + 1, "practitioner_id": sessions[3 * p + 2][3],
                           "recorded_at": at(follow, 10)}

        counts["outcome_records"] = insert(OutcomeRecord, outcome_rows())
        reset_sequences([Patient, Consultation, TreatmentPlan, TreatmentSession, SessionZone,
                         CheckIn, Escalation, AdverseEvent, OutcomeRecord])
    return World(clinic=clinic.pk, owner=owner.pk, desk=desk.pk, staff=staff_ids, today=today,
                 sessions=sessions, checkins=checkins, escalations=escalations,
                 showcase=showcase, counts=counts)


def _escalations(size: dict[str, int], sessions: list[tuple[int, int, dt.date, int]],
                 showcase: int, rng: random.Random) -> dict[int, int]:
    """Which sessions had an escalation (session id → escalation id): evenly spread, and the
    showcase patient's last session."""
    step = max(1, len(sessions) // size["escalations"])
    chosen = [sid for sid, p, _d, _w in sessions[::step] if p != showcase]
    chosen = [*chosen[:size["escalations"] - 1], sessions[-1][0]]
    return {sid: n + 1 for n, sid in enumerate(chosen)}


# --- what the other apps keep ------------------------------------------------------------------

def build_extras(world: World, size: dict[str, int]) -> None:
    """The outbox, the diary, photos and the audit trail of ``world``'s clinic."""
    from django.db import transaction

    began = time.perf_counter()
    with transaction.atomic():
        world.counts["appointments"] = _diary(world)
        world.counts["messages"] = _outbox(world)
        world.counts["photos"] = _photos(world, size)
        world.counts["audit_events"] = _audit(world)
    world.counts["extras_s"] = round(time.perf_counter() - began)


def week_ahead(today: dt.date) -> dt.date:
    """The Monday of next week: the diary week the scale benchmark opens."""
    return today + dt.timedelta(days=7 - today.weekday())


def _diary(world: World) -> int:
    """An appointment for every session (done), and next week fully booked the same way at
    every size: eight appointments a working day for each practitioner.

    The history's appointments name no practitioner, as bookings from before the diary do
    (diary migration 0002): ten practitioners could not have given the large clinic's 300,000
    sessions without double bookings, which PostgreSQL refuses (diary migration 0003)."""
    from needlecare.diary.models import Appointment
    from needlecare.diary.resources import clinic_types

    types = {t.kind: t for t in clinic_types(world.clinic)}
    session_type = types["session"]
    consultation = types["consultation"]
    history = len(world.sessions)

    def rows() -> Iterator[dict[str, Any]]:
        for sid, p, day, _who in world.sessions:
            start = at(day, 9 + sid % 8)
            end = start + session_type.duration
            yield {"id": sid, "clinic_id": world.clinic, "patient_id": p + 1,
                   "type_id": session_type.pk, "practitioner_id": None, "starts_at": start,
                   "ends_at": end, "block_start": start - session_type.buffer_before,
                   "block_end": end + session_type.buffer_after, "status": "done",
                   "plan_id": p + 1, "treatment_session_id": sid, "booked_by_id": world.desk,
                   "created_at": start - dt.timedelta(days=20), "finished_at": end}
        monday = week_ahead(world.today)
        n = history
        for offset in range(5):
            day = monday + dt.timedelta(days=offset)
            for who in world.staff:
                free = at(day, 8)  # one after the other, buffers kept
                for slot in range(8):
                    n += 1
                    kind = consultation if slot % 2 else session_type
                    start = free + kind.buffer_before
                    end = start + kind.duration
                    free = end + kind.buffer_after
                    yield {"id": n, "clinic_id": world.clinic,
                           "patient_id": 1 + (n * 7919) % (world.showcase + 1),
                           "type_id": kind.pk, "practitioner_id": who, "starts_at": start,
                           "ends_at": end, "block_start": start - kind.buffer_before,
                           "block_end": end + kind.buffer_after,
                           "status": "confirmed" if n % 3 else "booked",
                           "booked_by_id": world.desk,
                           "created_at": at(world.today, 9) - dt.timedelta(days=n % 20)}

    count = insert(Appointment, rows())
    reset_sequences([Appointment])
    return count


def _outbox(world: World) -> int:
    """The messages the clinic's sessions and escalations made: the aftercare plan, an
    invitation for each check-in day and a reminder for the ones left unanswered, the next
    session's reminder, the clinicians' alerts and the notes after a check-in. Those due
    before now were sent (one in 200 failed for good, one in 50 cancelled: the session was
    moved or the link revoked); the others are waiting."""
    from needlecare.messaging.models import Message

    now = at(world.today, 12)
    answered = {(sid, d) for _c, sid, _p, _day, d, _w in world.checkins}
    body = ("Hello, how is your skin today? Your check-in takes a minute: {link}. "
            "Call the clinic on 020 7946 0999 if you are worried.")

    def message(n: int, kind: str, p: int, due: dt.datetime, **extra: Any) -> dict[str, Any]:
        if due > now:
            state: dict[str, Any] = {"status": "pending"}
        elif n % 200 == 0:
            state = {"status": "dead", "attempts": 5, "last_error": "SMS gateway: 503"}
        elif n % 50 == 0:
            state = {"status": "cancelled", "reason": "The session was moved."}
        else:
            state = {"status": "sent", "attempts": 1,
                     "sent_at": due + dt.timedelta(seconds=30)}
        return {"id": n, "clinic_id": world.clinic, "recipient": "patient", "patient_id": p + 1,
                "kind": kind, "channel": "sms", "context": {}, "to_address": "07700 900000"
                if state["status"] == "sent" else "", "subject": "", "body": body
                if state["status"] == "sent" else "", "due_at": due, "next_attempt_at": due,
                "dedupe_key": f"bench.{kind}.{n}", "created_at": min(due, now), **state,
                **extra}

    def rows() -> Iterator[dict[str, Any]]:
        n = 0
        for sid, p, day, _who in world.sessions:
            n += 1
            yield message(n, "aftercare_plan", p, at(day, 11), session_id=sid)
            for d in INVITATION_DAYS:
                n += 1
                due = at(day + dt.timedelta(days=d), 9)
                yield message(n, "checkin_invitation", p, due, session_id=sid,
                              context={"day": d})
                if (sid, d) not in answered:
                    n += 1
                    yield message(n, "checkin_reminder", p, due + dt.timedelta(hours=9),
                                  session_id=sid, context={"day": d})
        for eid, sid, p, opened, _status in world.escalations:
            for who in world.staff[:2]:
                n += 1
                yield {**message(n, "clinician_alert", p, opened, session_id=sid,
                                 escalation_id=eid), "recipient": "staff", "staff_id": who,
                       "channel": "email"}
            n += 1
            yield message(n, "triage_note", p, opened, session_id=sid, escalation_id=eid)

    count = insert(Message, rows())
    reset_sequences([Message])
    return count


def _photos(world: World, size: dict[str, int]) -> int:
    """Photo consents for one patient in ``photo_every`` (and the showcase patient), with a
    before and an after photo of the face at each session and one on day 3 from the phone.
    The records only: no files are written."""
    from needlecare.care.models import Consent
    from needlecare.photos.models import Photo

    every = size.get("photo_every", 10)
    with_photos = {p for p in range(world.showcase + 1) if p % every == 0}
    with_photos.add(world.showcase)
    first_session: dict[int, tuple[int, dt.date]] = {}
    for sid, p, day, _who in world.sessions:
        first_session.setdefault(p, (sid, day))
    insert(Consent, (
        {"id": n + 1, "clinic_id": world.clinic, "patient_id": p + 1, "kind": "photos",
         "text_version": "photos-2026.2", "text": "Synthetic photo consent text.",
         "photo_uses": list(RECIPE["photo_uses"]), "signed_name": " ".join(person(p)[:2]),
         "signed_at": at(first_session[p][1], 9), "witnessed_by_id": world.staff[0]}
        for n, p in enumerate(sorted(with_photos))))
    consent_of = {p: n + 1 for n, p in enumerate(sorted(with_photos))}
    day3 = {sid: cid for cid, sid, _p, _day, d, _w in world.checkins if d == 3}

    def rows() -> Iterator[dict[str, Any]]:
        n = 0
        for sid, p, day, who in world.sessions:
            if p not in with_photos:
                continue
            shots: list[tuple[str, dt.datetime, int | None, int | None, str]] = [
                ("before", at(day, 9 + sid % 8), None, None, "clinician"),
                ("after", at(day, 10 + sid % 8), None, 0, "clinician")]
            if sid in day3:
                shots.append(("follow_up", at(day + dt.timedelta(days=3), 19), day3[sid], 3,
                              "patient"))
            for moment, taken, checkin, d, taken_by in shots:
                n += 1
                yield {"id": n, "clinic_id": world.clinic, "patient_id": p + 1,
                       "session_id": sid, "checkin_id": checkin, "moment": moment,
                       "view": "front", "day": d, "taken_at": taken, "uploaded_at": taken,
                       "taken_by": taken_by,
                       "uploaded_by_id": who if taken_by == "clinician" else None,
                       "consent_id": consent_of[p], "scopes": ["clinical_record"],
                       "received_format": "JPEG", "content_type": "image/jpeg", "width": 1200,
                       "height": 1600, "size_bytes": 412_000, "sha256": f"{n:064x}",
                       "original_name": f"photos/bench/{n}/original.jpg",
                       "thumbnail_name": f"photos/bench/{n}/thumbnail.jpg",
                       "screen_name": f"photos/bench/{n}/screen.jpg", "screen_width": 900,
                       "screen_height": 1200, "analysis_status": "done",
                       "analysed_at": taken + dt.timedelta(minutes=1), "quality_passed": True,
                       "quality": {"problems": [],
                                   "metrics": {"sharpness": 0.8123, "exposure": 0.5312}},
                       "redness": photo_redness(d or 0)}

    count = insert(Photo, rows())
    reset_sequences([Consent, Photo])
    return count


def _audit(world: World) -> int:
    """The audit trail's rows, sealed: a registration and a chart view for every patient, a
    signature for every session, a submission for every check-in, an opening and an
    acknowledgement for every escalation."""
    from needlecare.audit.models import AuditChain, AuditEvent

    owner, desk = world.owner, world.desk
    staff = (owner, "staff", "owner")

    def rows() -> Iterator[dict[str, Any]]:
        events: list[tuple[dt.datetime, tuple[int | None, str, str], str, int, str, int,
                           dict[str, Any]]] = []
        for p in range(world.showcase + 1):
            _g, _f, _b, _phone = person(p)
            events.append((at(world.today, 8) - dt.timedelta(days=1100 - p % 1000),
                           (desk, "staff", "front_desk"), "patient.register", p, "patient",
                           p + 1, {}))
        for sid, p, day, who in world.sessions:
            events.append((at(day, 10 + sid % 8), (who, "staff", "clinician"), "session.sign",
                           p, "session", sid, {}))
            events.append((at(day, 9 + sid % 8), (who, "staff", "clinician"),
                           "patient.view", p, "patient", p + 1, {}))
        for cid, _sid, p, day, d, _who in world.checkins:
            events.append((at(day + dt.timedelta(days=d), 19), (None, "patient", ""),
                           "checkin.submit", p, "checkin", cid, {"day": d}))
        for eid, _sid, p, opened, _status in world.escalations:
            events.append((opened, (None, "patient", ""), "escalation.open", p, "escalation",
                           eid, {"level": "contact_clinic"}))
            events.append((opened + dt.timedelta(minutes=40), staff, "escalation.acknowledge",
                           p, "escalation", eid, {}))
        events.sort(key=lambda e: e[0])
        previous = ""
        for n, (when, (actor, kind, role), action, p, otype, oid, detail) in enumerate(
                events, start=1):
            digest = f"{n:064x}"
            yield {"id": n, "at": when, "clinic_id": world.clinic, "actor_id": actor,
                   "actor_kind": kind, "actor_role": role, "action": action,
                   "object_type": otype, "object_id": str(oid), "patient_id": p + 1,
                   "ip_address": "192.0.2.10" if kind == "staff" else None, "detail": detail,
                   "seq": n, "prev_hash": previous, "hash": digest}
            previous = digest

    count = insert(AuditEvent, rows())
    AuditChain.objects.create(key=f"clinic:{world.clinic}", clinic_id=world.clinic,
                              last_seq=count, last_hash=f"{count:064x}",
                              sealed_at=at(world.today, 8))
    reset_sequences([AuditEvent])
    return count
