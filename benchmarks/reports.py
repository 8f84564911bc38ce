"""The clinic's numbers page and the recovery chart on a large clinic, and what the outcomes
app's summary tables cost a check-in.

Run with ``make bench`` or ``python benchmarks/reports.py`` (``BENCH_QUICK=1``: a fiftieth of
the data and fewer rounds, as a smoke run). For each database (a fresh SQLite file in a
temporary directory, then a throwaway PostgreSQL cluster through tests/postgres.py, or
DATABASE_URL in a database of its own, dropped afterwards) the script migrates an empty
database and bulk-inserts one clinic (benchmarks/bigclinic.py, which scale.py shares) of 10
practitioners with 100,000 patients (a consultation and a plan each, 2 % of the screening
verdicts overridden), 300,000 signed sessions over the last three years (three per plan, 28
days apart; 1 % with a zone deeper than the plan allows),
1,000,000 check-ins on the protocol's invitation days (marked on the sessions' summary rows),
30,000 escalations (most acknowledged, after 5 to 600 minutes), 1,500 adverse events and
100,000 outcome records, as the outcomes app's handlers would have written them. Then it
measures, in the same process (server time: Django's test client, so the whole middleware stack
and the template, without a network):

- the numbers page for the last year (``GET /numbers/``), a warm-up then several rounds:
  median and range; and the SQL statements it issues for a year and for a month (the same
  number: no statement per row, month or practitioner);
- the recovery chart of a session with ten check-ins (``session_recovery_chart``: the reads,
  the expected band and the SVG);
- a check-in on day 1 after a session (``submit_checkin``), with the outcomes app's handler
  listening and without it, every other check-in, on fresh sessions (each check-in is the first
  of its day, so the handler marks its session's summary row): the summary table's cost per
  check-in.

Targets: the numbers page under 300 ms on PostgreSQL and 600 ms on SQLite, in a constant number
of statements; the chart under 50 ms; the check-in at most 5 % slower with the handlers.
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import bigclinic
from appserver import cap, collect_static
from pgdatabase import own_postgres_database
from targets import machine_load, quick, spread, target_line

ROOT = Path(__file__).resolve().parent.parent
FULL = {"patients": 100_000, "checkins": 1_000_000, "escalations": 30_000,
        "adverse_events": 1_500, "rounds": 7, "checkins_timed": 300}
QUICK = {"patients": 2_000, "checkins": 20_000, "escalations": 600, "adverse_events": 30,
         "rounds": 3, "checkins_timed": 40}
PAGE_TARGET_MS = {"postgresql": 300.0, "sqlite": 600.0}
CHART_TARGET_MS = 50.0
CHECKIN_TARGET = 1.05


# --- inside the child, configured for the database under test --------------------------------

def build(size: dict[str, int]) -> dict[str, Any]:
    """The large clinic (benchmarks/bigclinic.py). Returns the owner's id, a session for the
    chart and the counts."""
    from needlecare.care.models import TreatmentSession
    from needlecare.recovery.models import CheckIn

    began = time.perf_counter()
    world = bigclinic.build(size)
    bigclinic.upkeep()
    built_s = time.perf_counter() - began

    # The chart's session: ten check-ins in its first two weeks.
    sid, p, _day, _who = world.sessions[-1]
    chart_day = world.today - dt.timedelta(days=13)
    TreatmentSession.objects.filter(pk=sid).update(performed_on=chart_day)
    CheckIn.objects.filter(session_id=sid).delete()
    for n, d in enumerate((0, 1, 1, 2, 3, 4, 6, 8, 10, 13)):
        CheckIn.objects.create(
            clinic_id=world.clinic, patient_id=p + 1, session_id=sid,
            submitted_at=bigclinic.at(chart_day + dt.timedelta(days=d), 12 + n % 6),
            answers={"symptoms": {"redness": {"severity": max(0, 6 - d), "trend": "better"},
                                  "swelling": {"severity": max(0, 4 - d), "trend": "better"},
                                  "itching": {"severity": 2, "trend": "same"}},
                     "red_flags": {}, "note": ""},
            result={"day": d}, level="expected", protocol_version=bigclinic.PROTOCOL,
            fingerprint=f"chart{n}")
    return {"owner": world.owner, "chart_session": sid, "counts": world.counts,
            "built_s": built_s}


def _timed(call: Callable[[], Any], rounds: int) -> list[float]:
    call()  # warm-up: caches, the protocol, prepared plans
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    return times


def measure_page(owner_id: int, rounds: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from needlecare.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(pk=owner_id))
    today = timezone.localdate()
    year = f"/numbers/?from={today.replace(year=today.year - 1) + dt.timedelta(days=1)}" \
           f"&to={today}"
    month = f"/numbers/?from={today - dt.timedelta(days=30)}&to={today}"

    def page(url: str) -> None:
        response = client.get(url)
        if response.status_code != 200 or b"<svg" not in response.content:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")

    times = _timed(lambda: page(year), rounds)
    statements = {}
    for name, url in (("year", year), ("month", month)):
        with CaptureQueriesContext(connection) as captured:
            page(url)
        statements[name] = len(captured)
    return {"page_ms": times, "statements": statements}


def measure_chart(owner_id: int, session_id: int, rounds: int) -> dict[str, Any]:
    from needlecare.access import Actor
    from needlecare.accounts.models import User
    from needlecare.outcomes.recovery_chart import session_recovery_chart

    actor = Actor(user=User.objects.get(pk=owner_id))

    def chart() -> None:
        found = session_recovery_chart(actor, session_id)
        if len(found.charts) != 3:
            raise RuntimeError(f"{len(found.charts)} charts, expected 3")

    return {"chart_ms": _timed(chart, rounds * 3)}


def measure_checkins(count: int) -> dict[str, Any]:
    """Day-1 check-ins on fresh sessions, every other one without the outcomes app's check-in
    handler."""
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from needlecare import clock, events
    from needlecare.access import Actor
    from needlecare.accounts.models import User
    from needlecare.care import services as care
    from needlecare.clinical.vocabulary import RED_FLAGS
    from needlecare.outcomes import handlers
    from needlecare.patients.services import PatientDetails, register_patient
    from needlecare.recovery import services as recovery
    from needlecare.recovery.links import replace_link
    from needlecare.web.demo_data import History, intake

    owner = User.objects.get(username="bench.owner")
    actor = Actor(user=owner)
    yesterday = timezone.now() - dt.timedelta(days=1)
    with clock.at(yesterday):
        history = History("Europe/London")
    links = []
    for n in range(count):
        with clock.at(yesterday):
            patient = register_patient(actor, PatientDetails(
                given_name="Checkin", family_name=f"Bench {n}", date_of_birth=dt.date(1990, 5, 17),
                phone="07700 900123"))
            consultation = care.record_consultation(actor, patient.pk, intake(history, 0))
            care.sign_consent(actor, patient.pk, kind="treatment",
                              signed_name=patient.full_name, understood=True)
            plan = care.create_plan(actor, consultation.pk, ["acne_scars"], ["cheeks"])
            with transaction.atomic():  # the diary's booking, without its rules
                session = care.open_booked_session(plan.pk, clock.now(), actor.user)
            care.sign_session(actor, session.pk, care.ChartData(
                performed_on=clock.localdate(), device="pen", cartridge_lot="BENCH-2",
                cartridge_expiry=clock.localdate() + dt.timedelta(days=365),
                zones=(care.ZoneRow(zone="cheeks", depth_mm=Decimal("1.50"), passes=3),),
                endpoint_reached="uniform pinpoint bleeding"))
            links.append(replace_link(actor, patient.pk).link)
    answers = {"symptoms": {"redness": {"severity": 2, "trend": "better"}},
               "red_flags": dict.fromkeys(RED_FLAGS, False), "note": ""}
    # The registry itself, for this measure only: the handler is taken out for every other
    # check-in, so both halves share the machine's drift.
    subscribed = events._handlers[events.CheckinRecorded]
    timings: dict[str, list[float]] = {"with": [], "without": []}
    rows_before = _answered_count()
    for n, link in enumerate(links):
        with_handler = n % 2 == 0
        if not with_handler:
            subscribed.remove(handlers.on_checkin_recorded)
        try:
            began = time.perf_counter()
            recorded = recovery.submit_checkin(Actor.for_link(link), answers)
            timings["with" if with_handler else "without"].append(
                (time.perf_counter() - began) * 1000)
        finally:
            if not with_handler:
                subscribed.append(handlers.on_checkin_recorded)
        if recorded.checkin.result["day"] != 1:
            raise RuntimeError("the check-in is not on day 1")
    written = _answered_count() - rows_before
    return {"checkin_ms": timings, "rows_written": written,
            "expected_rows": len(timings["with"])}


def _answered_count() -> int:
    """Sessions whose summary row marks day 1 answered."""
    from django.db.models import F
    from django.db.models.lookups import GreaterThan

    from needlecare.outcomes.models import ANSWERED_DAY_BITS, SignedSessionFact

    return SignedSessionFact.objects.filter(
        GreaterThan(F("answered_days").bitand(1 << ANSWERED_DAY_BITS[1]), 0)).count()


def measure(size: dict[str, int]) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection

    built = build(size)
    return {"backend": connection.vendor, **built,
            **measure_page(built["owner"], size["rounds"]),
            **measure_chart(built["owner"], built["chart_session"], size["rounds"]),
            **measure_checkins(size["checkins_timed"])}


# --- the parent -------------------------------------------------------------------------------

def child(args: argparse.Namespace) -> int:
    """Re-run this script in a process configured for the database under test."""
    cap(args.cap)
    workdir = Path(tempfile.mkdtemp(prefix="needlecare-reports-bench-"))
    # DEBUG is off, as in production: pages name static files from the manifest.
    collect_static(workdir)
    env = {**os.environ, "NEEDLECARE_VAR_DIR": str(workdir), "NEEDLECARE_LOG_LEVEL": "ERROR",
           "DJANGO_SETTINGS_MODULE": "needlecare.settings", "NEEDLECARE_DEBUG": "0",
           "NEEDLECARE_ENV": "development"}
    command = [sys.executable, __file__, "--measure", "--out", str(args.out)]
    try:
        if args.postgres:
            with own_postgres_database(env["DATABASE_URL"], "needlecare_reports_bench") as url:
                return subprocess.call(command, env={**env, "DATABASE_URL": url}, cwd=workdir)
        env.pop("DATABASE_URL", None)
        return subprocess.call(command, env=env, cwd=workdir)
    finally:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


def report(result: dict[str, Any]) -> list[str]:
    backend = result["backend"]
    counts = result["counts"]
    lines = [f"{backend}: " + ", ".join(f"{n:,} {k.replace('_', ' ')}"
                                        for k, n in counts.items())
             + f" (built in {result['built_s']:.0f} s)"]
    page = statistics.median(result["page_ms"])
    statements = result["statements"]
    constant = statements["year"] == statements["month"]
    lines.append(f"  numbers page, last year: {spread(result['page_ms'])} ms (median [min–max] "
                 f"of {len(result['page_ms'])}); statements: {statements['year']} for a year, "
                 f"{statements['month']} for a month")
    limit = PAGE_TARGET_MS[backend]
    lines.append(target_line(f"numbers page for one year, {backend}", f"{page:.0f} ms",
                             f"< {limit:.0f} ms", page < limit))
    lines.append(target_line(f"numbers page statements, year vs month, {backend}",
                             f"{statements['year']} vs {statements['month']}", "equal",
                             constant))
    chart = statistics.median(result["chart_ms"])
    lines.append(f"  recovery chart (10 check-ins, 3 symptoms): {spread(result['chart_ms'])} ms")
    lines.append(target_line(f"recovery chart, {backend}", f"{chart:.1f} ms",
                             f"< {CHART_TARGET_MS:.0f} ms", chart < CHART_TARGET_MS))
    timings = result["checkin_ms"]
    with_h, without = statistics.median(timings["with"]), statistics.median(timings["without"])
    ratio = with_h / without
    lines.append(f"  day-1 check-in (service, in process): with the outcomes handler "
                 f"{spread(timings['with'])} ms, without {spread(timings['without'])} ms; "
                 f"summary rows marked {result['rows_written']} of "
                 f"{result['expected_rows']}")
    lines.append(target_line(f"check-in with the summary table / without, {backend}",
                             f"×{ratio:.3f}", f"<= ×{CHECKIN_TARGET:g}",
                             ratio <= CHECKIN_TARGET))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", choices=("sqlite", "postgresql"),
                        help="one database only (default: both)")
    parser.add_argument("--cap", type=int, default=1500,
                        help="hard cap on each database's run, in seconds (default 1500)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--postgres", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    size = QUICK if quick() else FULL

    if args.measure:
        args.out.write_text(json.dumps(measure(size), default=str))
        return 0
    if args.child:
        return child(args)

    from tests import postgres

    print(f"reports benchmark ({'quick' if quick() else 'full'}); {machine_load()}", flush=True)
    failed = 0
    for backend in ("sqlite", "postgresql"):
        if args.only and args.only != backend:
            continue
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, __file__, "--child", "--out", out.name,
                       "--cap", str(args.cap)]
            if backend == "postgresql":
                code = postgres.main([*command, "--postgres"])
            else:
                code = subprocess.call(command)
            text = Path(out.name).read_text()
        if code != 0 or not text:
            print(f"reports benchmark, {backend}: the run failed (exit {code})", flush=True)
            failed += 1
            continue
        print("\n".join(report(json.loads(text))), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
