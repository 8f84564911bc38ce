"""The outbox claim pass at 10k, 100k and 1M scheduled rows, of which 1,000 are due.

Run with ``python benchmarks/outbox.py`` (a fresh SQLite file in a temporary directory) or
``python benchmarks/outbox.py --postgres`` (a throwaway PostgreSQL cluster, or DATABASE_URL,
through tests/postgres.py; on a shared server the script works in a database of its own,
dropped afterwards).

The table grows to each size by bulk insert (executemany on SQLite, COPY on PostgreSQL): the
rows not due are a realistic mix of messages scheduled for the coming weeks (pending, due
later) and messages already sent. At each size the script times ``outbox.claim`` taking the
1,000 due rows (what one worker pass does before sending), three times, restoring the rows
between runs, and an idle pass (nothing due: what a worker's poll costs). Thanks to the
(status, next_attempt_at) index both should stay roughly flat as the table grows: the cost
follows the due rows, not the scheduled ones. Target: the claim pass at the largest size within
twice its time at the smallest. The whole run is capped in time. ``BENCH_QUICK=1`` runs 2,000
and 10,000 rows only, as a smoke check.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from pgdatabase import own_postgres_database
from targets import quick, spread, target_line

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (2_000, 10_000)
FLAT_TARGET = 2.0  # the claim pass at the largest size, at most twice its time at the smallest
DUE = 1_000
RUNS = 3
CHUNK = 20_000
COLUMNS = ("clinic_id", "recipient", "patient_id", "kind", "channel", "context", "to_address",
           "subject", "body", "due_at", "status", "attempts", "next_attempt_at", "last_error",
           "reason", "claimed_by", "sent_at", "dedupe_key", "created_at")


# --- inside the child, configured for the database under test --------------------------------

def _setup() -> tuple[int, int]:
    """Migrate, and make the one clinic and patient every row belongs to."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "needlecare.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from needlecare.accounts.models import Clinic, Role, User
    from needlecare.patients.models import Patient

    call_command("migrate", verbosity=0)
    clinic = Clinic.objects.create(name="Benchmark Clinic", slug="bench", phone="020 7946 0999")
    user = User.objects.create(username="bench", clinic=clinic, role=Role.CLINICIAN)
    patient = Patient.objects.create(clinic=clinic, created_by=user, given_name="Bench",
                                     family_name="Patient", date_of_birth=dt.date(1990, 5, 17),
                                     phone="07700 900123", messages_opt_in=True)
    return clinic.pk, patient.pk


def _rows(start: int, stop: int, due: set[int], now: dt.datetime, clinic: int,
          patient: int) -> Iterator[tuple[Any, ...]]:
    from django.db import connection

    adapt = connection.ops.adapt_datetimefield_value
    minute = dt.timedelta(minutes=1)
    for n in range(start, stop):
        if n in due:
            status, when, sent = "pending", now - minute, None
        elif n % 5 < 2:  # sent in the past weeks
            when = now - dt.timedelta(minutes=5 + n % 80_000)
            status, sent = "sent", adapt(when)
        else:  # scheduled for the coming weeks
            when = now + dt.timedelta(minutes=5 + n % 80_000)
            status, sent = "pending", None
        at = adapt(when)
        yield (clinic, "patient", patient, "checkin_invitation", "sms", "{}", "", "", "", at,
               status, 0, at, "", "", "", sent, f"bench.{n}", adapt(now))


def _insert(start: int, stop: int, due: set[int], now: dt.datetime, clinic: int,
            patient: int) -> None:
    from django.db import connection, transaction

    table = "messaging_message"
    columns = ", ".join(COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg's own cursor: COPY
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in _rows(start, stop, due, now, clinic, patient):
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(COLUMNS))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
            batch: list[tuple[Any, ...]] = []
            for row in _rows(start, stop, due, now, clinic, patient):
                batch.append(row)
                if len(batch) == CHUNK:
                    cursor.executemany(sql, batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")


def _restore(now: dt.datetime) -> None:
    from needlecare.messaging.models import Message

    Message.objects.filter(claimed_by="bench-worker").update(
        status="pending", next_attempt_at=now - dt.timedelta(minutes=1), claimed_by="",
        claimed_at=None, attempts=0)


def _plan(now: dt.datetime) -> str:
    from django.db import connection

    from needlecare.messaging.models import CLAIMABLE, Message

    query = (Message.objects.filter(status__in=CLAIMABLE, next_attempt_at__lte=now)
             .order_by("next_attempt_at", "id").values_list("pk", flat=True)[:DUE])
    sql, params = query.query.sql_with_params()
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        lines = [" ".join(str(c) for c in row) for row in cursor.fetchall()]
    return " | ".join(lines)


def measure(sizes: Sequence[int]) -> dict[str, Any]:
    clinic, patient = _setup()
    from django.db import connection
    from django.utils import timezone

    from needlecare.messaging import outbox

    now = timezone.now()
    results = []
    made = 0
    for size in sizes:
        # The due rows are spread through the table, among the others.
        step = max(1, size // DUE)
        due = set(range(step // 2, size, step)) if not made else set()
        began = time.perf_counter()
        if not made:
            _insert(0, size, due, now, clinic, patient)
        else:
            _insert(made, size, set(), now, clinic, patient)
        insert_s = time.perf_counter() - began
        made = size
        passes = []
        for _ in range(RUNS):
            began = time.perf_counter()
            claimed = outbox.claim("bench-worker", batch=DUE, now=now)
            passes.append(time.perf_counter() - began)
            if len(claimed) != DUE:
                raise RuntimeError(f"claimed {len(claimed)} rows, expected {DUE}")
            _restore(now)
        idle = []
        for _ in range(RUNS):
            began = time.perf_counter()
            if outbox.claim("bench-worker", batch=DUE, now=now - dt.timedelta(minutes=2)):
                raise RuntimeError("the idle pass claimed rows")
            idle.append(time.perf_counter() - began)
        results.append({"rows": size, "due": DUE, "insert_s": insert_s,
                        "claim_ms": [p * 1000 for p in passes],
                        "idle_ms": [p * 1000 for p in idle]})
    return {"backend": connection.vendor, "results": results, "plan": _plan(now)}


# --- the parent -------------------------------------------------------------------------------

def _cap(seconds: int) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the run took longer than its cap of {seconds} s")

    signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)




def child(args: argparse.Namespace) -> int:
    """Re-run this script in a process configured for the database under test."""
    _cap(args.cap)
    workdir = Path(tempfile.mkdtemp(prefix="needlecare-outbox-bench-"))
    env = {**os.environ, "NEEDLECARE_VAR_DIR": str(workdir), "NEEDLECARE_LOG_LEVEL": "ERROR",
           "DJANGO_SETTINGS_MODULE": "needlecare.settings"}
    sizes = ",".join(str(s) for s in args.sizes)
    try:
        if args.postgres:
            with own_postgres_database(env["DATABASE_URL"], "needlecare_outbox_bench") as url:
                return subprocess.call([sys.executable, __file__, "--measure", sizes, "--out",
                                        str(args.out)], env={**env, "DATABASE_URL": url},
                                       cwd=workdir)
        env.pop("DATABASE_URL", None)
        return subprocess.call([sys.executable, __file__, "--measure", sizes, "--out",
                                str(args.out)], env=env, cwd=workdir)
    finally:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


def report(result: dict[str, Any]) -> list[str]:
    lines = [f"{result['backend']}: one claim pass taking {DUE} due rows (median [min–max] of "
             f"{RUNS}), and an idle pass (nothing due, median)"]
    first = None
    for row in result["results"]:
        claim = statistics.median(row["claim_ms"])
        idle = statistics.median(row["idle_ms"])
        first = first or claim
        lines.append(f"  {row['rows']:>9,} rows ({row['due']:,} due): claim "
                     f"{spread(row['claim_ms']):>20} ms ({claim / row['due'] * 1000:6.1f} µs per "
                     "due row, "
                     f"x{claim / first:4.2f} the smallest)   idle {idle:6.2f} ms   "
                     f"[built in {row['insert_s']:.1f} s]")
    lines.append(f"  plan: {result['plan']}")
    rows = result["results"]
    growth = (statistics.median(rows[-1]["claim_ms"]) / statistics.median(rows[0]["claim_ms"]))
    lines.append(target_line(
        f"outbox claim pass, {rows[-1]['rows']:,} rows / {rows[0]['rows']:,} rows, "
        f"{result['backend']}", f"×{growth:.2f}", f"<= ×{FLAT_TARGET:g}",
        growth <= FLAT_TARGET))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postgres", action="store_true",
                        help="PostgreSQL (throwaway cluster or DATABASE_URL) instead of SQLite")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=list(QUICK_SIZES if quick() else DEFAULT_SIZES),
                        help="table sizes, ascending (default 10000,100000,1000000)")
    parser.add_argument("--cap", type=int, default=900,
                        help="hard cap on the run, in seconds (default 900)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sizes != sorted(args.sizes) or min(args.sizes) < DUE:
        parser.error(f"sizes must be ascending and at least {DUE}")
    sys.path.insert(0, str(ROOT))

    if args.measure:
        result = measure([int(s) for s in args.measure.split(",")])
        args.out.write_text(json.dumps(result))
        return 0
    if args.child:
        return child(args)

    from tests import postgres

    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, __file__, "--child", "--out", out.name, "--cap",
                   str(args.cap), "--sizes", ",".join(str(s) for s in args.sizes)]
        if args.postgres:
            code = postgres.main([*command, "--postgres"])
        else:
            code = subprocess.call(command)
        text = Path(out.name).read_text()
    if code != 0 or not text:
        print(f"outbox benchmark: the run failed (exit {code})")
        return 1
    print("\n".join(report(json.loads(text))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
