"""The diary at a busy clinic's scale: 20 practitioners and five years of appointments.

Run with ``python benchmarks/diary.py`` (a fresh SQLite file in a temporary directory) or
``python benchmarks/diary.py --postgres`` (a throwaway PostgreSQL cluster, or DATABASE_URL,
through tests/postgres.py; on a shared server in a database of its own, dropped afterwards).

The appointments go in by bulk insert (executemany on SQLite, COPY on PostgreSQL): each
practitioner sees eight patients a working day for five years (about 208,000 rows), most past
ones done, some cancelled or missed, the coming months booked. Then, in one process:

- the week view of one practitioner (the whole request through Django's test client: middleware,
  the queries, the template), on a full week and on an empty one: the number of queries must be
  the same, and the server's time under 150 ms;
- "the next safe slot" for a session (any of the 20 practitioners, the clinical core's
  earliest safe date first): under 50 ms;
- booking a consultation (the rules, the conflict check, the write, the audit rows, the outbox
  rows) against the check-in's own cost (``recovery.services.submit_checkin``: triage,
  escalation check, the write, the audit row), measured in the same run, in alternating rounds:
  at most twice it.

``BENCH_QUICK=1`` builds one year (about 42,000 rows) and runs fewer rounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pgdatabase import own_postgres_database
from targets import machine_load, quick, spread, target_line

ROOT = Path(__file__).resolve().parent.parent
PRACTITIONERS = 20
PER_DAY_HOURS = (9, 10, 11, 12, 13, 14, 15, 16)
PATIENTS = 4000
WEEK_TARGET_MS = 150.0
SLOT_TARGET_MS = 50.0
BOOKING_RATIO_TARGET = 2.0
CHUNK = 20_000
COLUMNS = ("clinic_id", "patient_id", "type_id", "practitioner_id", "starts_at", "ends_at",
           "block_start", "block_end", "status", "notes", "sequence", "booked_by_id",
           "booked_by_patient", "created_at", "override_reason", "override_rules",
           "cancelled_reason", "cancelled_by_patient")


# --- inside the child, configured for the database under test --------------------------------

def _setup() -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "needlecare.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from needlecare import names
    from needlecare.access import Actor
    from needlecare.accounts.models import Clinic, Role, User
    from needlecare.diary.resources import clinic_types
    from needlecare.patients.models import Patient

    call_command("migrate", verbosity=0)
    # Weekdays 08:00–18:00.
    clinic = Clinic.objects.create(name="Benchmark Clinic", slug="bench-diary",
                                   phone="020 7946 0999",
                                   opening_hours={str(d): [["08:00", "18:00"]]
                                                  for d in range(5)})
    staff = [User.objects.create(username=f"bench.p{n}", clinic=clinic, role=Role.CLINICIAN,
                                 first_name="Practitioner", last_name=f"{n:02d}")
             for n in range(PRACTITIONERS)]
    desk = User.objects.create(username="bench.desk", clinic=clinic, role=Role.FRONT_DESK)
    Patient.objects.bulk_create([
        Patient(clinic=clinic, created_by=desk, given_name="Bench", family_name=f"P{n}",
                name_key=names.name_key("Bench", f"P{n}"), date_of_birth=dt.date(1990, 5, 17),
                phone="07700 900123") for n in range(PATIENTS)])
    types = {t.kind: t.pk for t in clinic_types(clinic.pk)}
    return {"clinic": clinic.pk, "staff": [u.pk for u in staff], "desk": desk.pk,
            "types": types, "actor": Actor(user=desk)}


def _rows(world: dict[str, Any], first: dt.date, days: int, today: dt.date
          ) -> Iterator[tuple[Any, ...]]:
    from django.db import connection

    adapt = connection.ops.adapt_datetimefield_value
    zone = dt.UTC
    patients = list(range(1, PATIENTS + 1))
    consultation = world["types"]["consultation"]
    n = 0
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for practitioner in world["staff"]:
            for hour in PER_DAY_HOURS:
                n += 1
                start = dt.datetime.combine(day, dt.time(hour), tzinfo=zone)
                end = start + dt.timedelta(minutes=30)
                if day >= today:
                    status = "booked"
                else:
                    status = ("cancelled" if n % 23 == 0 else "no_show" if n % 41 == 0
                              else "done")
                yield (world["clinic"], patients[n % PATIENTS], consultation, practitioner,
                       adapt(start), adapt(end), adapt(start),
                       adapt(end + dt.timedelta(minutes=10)), status, "", 0, world["desk"],
                       False, adapt(start - dt.timedelta(days=14)), "", "[]",
                       "Bench" if status == "cancelled" else "", False)


def _insert(rows: Iterator[tuple[Any, ...]]) -> int:
    from django.db import connection, transaction

    table = "diary_appointment"
    columns = ", ".join(COLUMNS)
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            marks = ", ".join(["%s"] * len(COLUMNS))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(row)
                count += 1
                if len(batch) == CHUNK:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA optimize")
    return count


def _checkin_patient(actor: Any) -> Any:
    """A patient whose session was signed today, with their link (the check-in's cost)."""
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from needlecare.access import Actor
    from needlecare.accounts.models import Clinic
    from needlecare.care import services as care
    from needlecare.patients.services import PatientDetails, register_patient
    from needlecare.recovery.links import replace_link
    from needlecare.recovery.models import PatientLink
    from needlecare.web.demo_data import History, intake

    clinic = Clinic.objects.get(pk=actor.clinic_id)
    owner = type(actor.user).objects.create(username="bench.owner", clinic=clinic,
                                            role="owner")
    staff = Actor(user=owner)
    patient = register_patient(staff, PatientDetails(
        given_name="Check", family_name="In", date_of_birth=dt.date(1990, 5, 17),
        phone="07700 900124"))
    consultation = care.record_consultation(staff, patient.pk, intake(History("UTC"), 0))
    care.sign_consent(staff, patient.pk, kind="treatment", signed_name=patient.full_name,
                      understood=True)
    plan = care.create_plan(staff, consultation.pk, ["acne_scars"], ["cheeks"])
    with transaction.atomic():  # as the diary calls it: inside its booking's transaction
        session = care.open_booked_session(plan.pk, timezone.now(), owner)
    today = timezone.localdate()
    care.sign_session(staff, session.pk, care.ChartData(
        performed_on=today, device="pen", cartridge_lot="BENCH-1",
        cartridge_expiry=today + dt.timedelta(days=365),
        zones=(care.ZoneRow(zone="cheeks", depth_mm=Decimal("1.50"), passes=3),),
        endpoint_reached="uniform pinpoint bleeding"))
    link = replace_link(staff, patient.pk).link
    return Actor.for_link(PatientLink.objects.select_related("clinic").get(pk=link.pk)), plan


def measure(years: int, rounds: int) -> dict[str, Any]:
    world = _setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from needlecare.accounts.models import User
    from needlecare.clinical.vocabulary import RED_FLAGS
    from needlecare.diary import services
    from needlecare.recovery.services import submit_checkin

    today = timezone.localdate()
    first = today - dt.timedelta(days=365 * years - 120)
    began = time.perf_counter()
    count = _insert(_rows(world, first, 365 * years, today))
    insert_s = time.perf_counter() - began

    client = Client()
    client.force_login(User.objects.get(pk=world["desk"]))
    practitioner = world["staff"][7]
    full_week = today + dt.timedelta(days=14)
    empty_week = today + dt.timedelta(days=400)

    def week(day: dt.date) -> tuple[float, int]:
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get("/diary/week/", {"practitioner": practitioner,
                                                   "date": day.isoformat()})
            elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.status_code
        return elapsed * 1000, len(captured)

    week(full_week)  # warm the templates and the connection
    full = [week(full_week) for _ in range(rounds)]
    empty = [week(empty_week) for _ in range(rounds)]
    page = client.get("/diary/week/", {"practitioner": practitioner,
                                       "date": full_week.isoformat()}).content.decode()
    taken, response_slots = page.count("slot taken"), page.count('class="slot ')

    # The next safe slot, for a session of a plan signed today (the earliest safe date is the
    # plan's interval away: the search starts in the booked months ahead).
    checkin_actor, plan = _checkin_patient(world["actor"])
    session_type = world["types"]["session"]
    slot_ms = []
    for _ in range(rounds):
        start = time.perf_counter()
        found = services.next_safe_slots(world["actor"], plan.patient_id, session_type,
                                         plan_id=plan.pk, count=5)
        slot_ms.append((time.perf_counter() - start) * 1000)
    assert found.slots, "no slot found"

    # Booking against the check-in, alternating.
    book_ms, checkin_ms = [], []
    later = today + dt.timedelta(days=365 * 2)
    answers = {"symptoms": {"redness": {"severity": 2, "trend": "better"}},
               "red_flags": dict.fromkeys(RED_FLAGS, False)}
    for n in range(rounds * 3):
        day = later + dt.timedelta(days=n // 8)
        while day.weekday() >= 5:
            day += dt.timedelta(days=2)
        proposal = services.Proposal(
            patient_id=plan.patient_id, type_id=world["types"]["consultation"],
            practitioner_id=world["staff"][n % PRACTITIONERS],
            starts_at=dt.datetime.combine(day, dt.time(9 + n % 8), tzinfo=dt.UTC))
        start = time.perf_counter()
        services.book(world["actor"], proposal)
        book_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        submit_checkin(checkin_actor, {**answers, "note": f"round {n}"})
        checkin_ms.append((time.perf_counter() - start) * 1000)
    return {"backend": connection.vendor, "rows": count, "insert_s": insert_s,
            "week_full_ms": [w[0] for w in full], "week_full_queries": full[0][1],
            "week_empty_ms": [w[0] for w in empty], "week_empty_queries": empty[0][1],
            "week_slots": response_slots, "week_taken": taken,
            "slot_ms": slot_ms, "book_ms": book_ms, "checkin_ms": checkin_ms}


# --- the parent -------------------------------------------------------------------------------

def child(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="needlecare-diary-bench-"))
    env = {**os.environ, "NEEDLECARE_VAR_DIR": str(workdir), "NEEDLECARE_LOG_LEVEL": "ERROR",
           "DJANGO_SETTINGS_MODULE": "needlecare.settings",
           # The booking is compared with check-ins sent through one link, more than the
           # product's 12 a day; the limit's own count still runs and is measured.
           "NEEDLECARE_CHECKINS_PER_DAY": "1000000",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(Path(__file__).parent)])}
    command = [sys.executable, __file__, "--measure", "--years", str(args.years), "--rounds",
               str(args.rounds), "--out", str(args.out)]
    try:
        if args.postgres:
            with own_postgres_database(env["DATABASE_URL"], "needlecare_diary_bench") as url:
                return subprocess.call(command, env={**env, "DATABASE_URL": url}, cwd=workdir)
        env.pop("DATABASE_URL", None)
        return subprocess.call(command, env=env, cwd=workdir)
    finally:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


def report(result: dict[str, Any]) -> list[str]:
    backend = result["backend"]
    full = statistics.median(result["week_full_ms"])
    slot = statistics.median(result["slot_ms"])
    book = statistics.median(result["book_ms"])
    checkin = statistics.median(result["checkin_ms"])
    ratio = book / checkin
    same = result["week_full_queries"] == result["week_empty_queries"]
    return [
        f"{backend}: {result['rows']:,} appointments of {PRACTITIONERS} practitioners "
        f"(built in {result['insert_s']:.1f} s); {machine_load()}",
        f"  week view, full week ({result['week_taken']} of {result['week_slots']} slots "
        f"taken): {spread(result['week_full_ms'])} ms, {result['week_full_queries']} queries; "
        f"empty week: {spread(result['week_empty_ms'])} ms, "
        f"{result['week_empty_queries']} queries",
        f"  next safe slot (session, any practitioner, 5 slots): {spread(result['slot_ms'])} ms",
        f"  booking {spread(result['book_ms'])} ms; check-in {spread(result['checkin_ms'])} ms "
        f"(the floor, same run)",
        target_line(f"diary week view queries, full vs empty week, {backend}",
                    f"{result['week_full_queries']} vs {result['week_empty_queries']}",
                    "the same", same),
        target_line(f"diary week view (20 practitioners, {result['rows']:,} appointments), "
                    f"{backend}", f"{full:.1f} ms", f"< {WEEK_TARGET_MS:g} ms",
                    full < WEEK_TARGET_MS),
        target_line(f"diary next safe slot, {backend}", f"{slot:.1f} ms",
                    f"< {SLOT_TARGET_MS:g} ms", slot < SLOT_TARGET_MS),
        target_line(f"diary booking / check-in, {backend}", f"×{ratio:.2f}",
                    f"<= ×{BOOKING_RATIO_TARGET:g}", ratio <= BOOKING_RATIO_TARGET),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postgres", action="store_true",
                        help="PostgreSQL (throwaway cluster or DATABASE_URL) instead of SQLite")
    parser.add_argument("--years", type=int, default=1 if quick() else 5)
    parser.add_argument("--rounds", type=int, default=3 if quick() else 9)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    if args.measure:
        args.out.write_text(json.dumps(measure(args.years, args.rounds)))
        return 0
    if args.child:
        return child(args)

    from tests import postgres

    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, __file__, "--child", "--out", out.name, "--years",
                   str(args.years), "--rounds", str(args.rounds)]
        code = postgres.main([*command, "--postgres"]) if args.postgres else \
            subprocess.call(command)
        text = Path(out.name).read_text()
    if code != 0 or not text:
        print(f"diary benchmark: the run failed (exit {code})")
        return 1
    print("\n".join(report(json.loads(text))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
