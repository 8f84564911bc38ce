"""Check-in submission under load, over HTTP on loopback, against two floors of the same stack.

Run with ``make bench`` or ``python benchmarks/checkin_load.py`` (``BENCH_QUICK=1`` for a smoke
run of under a minute).

For each database (a fresh SQLite file in a temporary directory, then a throwaway PostgreSQL
cluster started by tests/postgres.py with durable commits: fsync, synchronous_commit and
full-page writes at PostgreSQL's defaults), the script migrates an empty database, creates
signed sessions with personal links through the services, starts gunicorn (2 sync workers, as
``needlecare serve`` runs it, DEBUG off, static files collected once beforehand as ``serve``
collects them) on a free 127.0.0.1 port with the benchmark's settings
(``bench_settings``: the product's, plus the benchmark-only view of ``bench_urls``), passes the
date-of-birth step once per link, and then measures three endpoints with N client threads
(http.client), in several rounds whose order rotates, so that the machine's drift (other
work on a shared machine) falls on all three alike:

- the stack: ``GET /healthz``, the whole middleware stack and nothing else (the old floor,
  printed for continuity);
- the minimal audited write: ``POST /p/<token>/benchmark/audited-write/`` (bench_urls.py),
  through the check-in's ``patient_page`` decorator (link by token hash), the device cookie and
  CSRF checks, one audit row in one transaction, answered 302;
- the check-in: ``POST /p/<token>/checkin/``, the patient's phone form (form validation,
  triage, the check-in row, its audit row, duplicate and escalation checks), answered 302.

Each thread cycles through its own links, and every check-in's answers differ (a resubmitted
form would be recognised and not stored again), so each POST stores a new check-in on a
session holding a realistic handful. For each endpoint the script prints the median and range
over the rounds of: throughput, p50 and p95 latency, and server CPU per request (utime + stime
of gunicorn's processes, and of the PostgreSQL cluster's, from /proc, divided by the requests),
and the number of SQL statements one request issues (counted once in-process through Django's
test client, as CaptureQueriesContext records them, BEGIN and COMMIT included; ``--show-sql``
prints them). Targets, on each database, from the ratios of
the same round: check-in throughput at least 50 % of the minimal audited write's, and check-in
p95 at most twice its p95. Each database's run has a hard cap.

On a DATABASE_URL server the script works in a database of its own (needlecare_bench_<pid>),
dropped afterwards, and prints the server's fsync and synchronous_commit settings.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from appserver import DOB, Client, cap, collect_static, gunicorn, make_links
from pgdatabase import own_postgres_database
from targets import machine_load, quick, spread, target_line

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
SETTINGS = "bench_settings"
THROUGHPUT_TARGET = 0.5  # check-in req/s >= half the minimal audited write's
P95_TARGET = 2.0  # check-in p95 <= twice the minimal audited write's
TRENDS = ("tightness", "dryness_flaking", "itching")
ENDPOINTS = ("healthz", "write", "checkin")
LABELS = {"healthz": "/healthz (stack)", "write": "minimal audited write",
          "checkin": "check-in"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _write_path(token: str) -> str:
    return f"/p/{token}/benchmark/audited-write/"


# --- the database side (runs inside a process configured for the database under test) --------

def count_statements(token: str) -> dict[str, list[str]]:
    """The SQL one request of each endpoint issues, through Django's test client (the whole
    middleware stack, CSRF enforced), after one warm-up request of each."""
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    from needlecare.audit.models import AuditEvent
    from needlecare.clinical.vocabulary import RED_FLAGS

    client = DjangoClient(enforce_csrf_checks=True)
    page = client.get(f"/p/{token}/verify/").content.decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if found is None:
        raise RuntimeError("the verify page has no CSRF token")
    csrf = found.group(1)
    response = client.post(f"/p/{token}/verify/", {
        "csrfmiddlewaretoken": csrf, "day": str(DOB.day), "month": str(DOB.month),
        "year": str(DOB.year)})
    if response.status_code != 302:
        raise RuntimeError(f"date of birth step: HTTP {response.status_code}")
    patient = Patient(token=token, cookies={}, csrf=csrf)
    requests: dict[str, tuple[Callable[[], Any], int]] = {
        "healthz": (lambda: client.get("/healthz"), 200),
        "write": (lambda: client.post(_write_path(token), {"csrfmiddlewaretoken": csrf}), 302),
        "checkin": (lambda: client.post(f"/p/{token}/checkin/",
                                        checkin_form(patient, list(RED_FLAGS))), 302),
    }
    statements: dict[str, list[str]] = {}
    for name, (send, expected) in requests.items():
        for attempt in ("warm-up", "counted"):
            audit_rows = AuditEvent.objects.count()
            with CaptureQueriesContext(connection) as captured:
                response = send()
            if response.status_code != expected:
                raise RuntimeError(f"{name} ({attempt}): HTTP {response.status_code}")
        statements[name] = [q["sql"] for q in captured.captured_queries]
        written = AuditEvent.objects.count() - audit_rows
        if written != {"healthz": 0, "write": 1, "checkin": 1}[name]:
            raise RuntimeError(f"{name} wrote {written} audit rows")
    return statements


def database_settings() -> dict[str, str]:
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        found = {}
        for name in ("fsync", "synchronous_commit", "full_page_writes"):
            cursor.execute(f"SHOW {name}")
            found[name] = str(cursor.fetchone()[0])
    return found


def prepare(count: int) -> dict[str, Any]:
    """Links for the load (and one more for counting statements), in a configured process."""
    import django

    django.setup()
    tokens = make_links(count + 1)
    return {"tokens": tokens[:-1], "statements": count_statements(tokens[-1]),
            "settings": database_settings()}


# --- HTTP clients ------------------------------------------------------------------------------

def _set_cookies(headers: http.client.HTTPMessage, jar: dict[str, str]) -> None:
    for line in headers.get_all("Set-Cookie") or []:
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(line)
        jar.update({name: morsel.value for name, morsel in cookie.items()})


@dataclass
class Patient:
    """A phone that has passed the date-of-birth step for one link."""

    token: str
    cookies: dict[str, str]
    csrf: str
    sent: int = 0


def verify(client: Client, token: str) -> Patient:
    jar: dict[str, str] = {}
    status, headers, page = client.send("GET", f"/p/{token}/verify/")
    _set_cookies(headers, jar)
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if status != 200 or found is None:
        raise RuntimeError(f"verify page: HTTP {status}")
    csrf = found.group(1)
    status, headers, _page = client.send("POST", f"/p/{token}/verify/", {
        "csrfmiddlewaretoken": csrf, "day": str(DOB.day), "month": str(DOB.month),
        "year": str(DOB.year)}, jar)
    _set_cookies(headers, jar)
    if status != 302 or not any(k.startswith("needlecare_device_") for k in jar):
        raise RuntimeError(f"date of birth step: HTTP {status}")
    return Patient(token=token, cookies=jar, csrf=csrf)


def checkin_form(patient: Patient, red_flags: Sequence[str]) -> dict[str, str]:
    """A normal day-0 check-in; the optional symptoms vary so that no two are the same."""
    form = {"csrfmiddlewaretoken": patient.csrf, "note": "",
            "redness_present": "on", "redness_severity": "3", "redness_trend": "better",
            "swelling_present": "on", "swelling_severity": "2", "swelling_trend": "better"}
    form.update({f"flag_{code}": "no" for code in red_flags})
    for i, code in enumerate(TRENDS):
        severity = (patient.sent // 4 ** i) % 4
        if severity:
            form.update({f"{code}_present": "on", f"{code}_severity": str(severity),
                         f"{code}_trend": "better"})
    patient.sent += 1
    return form


# --- server CPU, from /proc --------------------------------------------------------------------

def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()  # fields from "state" on; comm may hold spaces


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def cpu_seconds(root: int | None) -> float:
    """CPU time of a server process and its children: its own, its live children's, and that of
    the children it has reaped (a PostgreSQL backend or gunicorn worker that ended)."""
    if root is None:
        return 0.0
    fields = _stat(root)
    if fields is None:
        return 0.0
    ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    for child in _children(root):
        stat = _stat(child)
        if stat is not None:
            ticks += int(stat[11]) + int(stat[12])
    return ticks / CLK_TCK


def postmaster_pid(database_url: str) -> int | None:
    """The PostgreSQL server on this machine that listens on the URL's port, if any."""
    parts = urllib.parse.urlsplit(database_url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    port = str(parts.port or 5432)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry.name}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [w.decode(errors="replace") for w in argv]
        if words and words[0].endswith("/postgres") and port in words:
            return int(entry.name)
    return None


# --- measuring ---------------------------------------------------------------------------------

@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stored: set[str] = field(default_factory=set)
    app_cpu_s: float = 0.0
    db_cpu_s: float = 0.0

    def percentile(self, q: int) -> float:
        if len(self.latencies_ms) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]

    def summary(self) -> dict[str, Any]:
        done = len(self.latencies_ms)
        return {"name": self.name, "requests": done, "rate": done / self.seconds,
                "p50": self.percentile(50), "p95": self.percentile(95),
                "app_cpu_ms": self.app_cpu_s * 1000 / done if done else float("nan"),
                "db_cpu_ms": self.db_cpu_s * 1000 / done if done else float("nan"),
                "errors": len(self.errors), "first_error": self.errors[:1],
                "stored": len(self.stored)}


Request = Callable[[Client, int], tuple[bool, str]]


@dataclass
class Servers:
    port: int
    app_pid: int
    db_pid: int | None


def run_phase(name: str, servers: Servers, clients: int, seconds: float,
              request: Request) -> Phase:
    """``clients`` threads send requests back to back until ``seconds`` have passed; the
    phase lasts until the last answer, and the servers' CPU is read at both ends."""
    phase = Phase(name)
    lock = threading.Lock()
    begin_at = time.perf_counter() + 0.2
    deadline = begin_at + seconds

    def work(index: int) -> None:
        client = Client(servers.port)
        latencies: list[float] = []
        errors: list[str] = []
        stored: set[str] = set()
        while time.perf_counter() < begin_at:
            time.sleep(0.001)
        while True:
            begin = time.perf_counter()
            if begin >= deadline:
                break
            try:
                ok, detail = request(client, index)
            except Exception as exc:  # a refused or broken connection counts as an error
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            if ok:
                latencies.append((time.perf_counter() - begin) * 1000)
                if detail:
                    stored.add(detail)
            else:
                errors.append(detail)
        with lock:
            phase.latencies_ms.extend(latencies)
            phase.errors.extend(errors)
            phase.stored.update(stored)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    while time.perf_counter() < begin_at:
        time.sleep(0.001)
    app_cpu, db_cpu = cpu_seconds(servers.app_pid), cpu_seconds(servers.db_pid)
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - begin_at
    phase.app_cpu_s = cpu_seconds(servers.app_pid) - app_cpu
    phase.db_cpu_s = cpu_seconds(servers.db_pid) - db_cpu
    return phase


def healthz_request(client: Client, index: int) -> tuple[bool, str]:
    status, _headers, body = client.send("GET", "/healthz")
    return status == 200 and body == "ok\n", "" if status == 200 else f"HTTP {status}"


def write_request(patients: list[list[Patient]]) -> Request:
    def request(client: Client, index: int) -> tuple[bool, str]:
        mine = patients[index]
        patient = mine[0]
        mine.append(mine.pop(0))
        status, headers, _body = client.send("POST", _write_path(patient.token),
                                             {"csrfmiddlewaretoken": patient.csrf},
                                             patient.cookies)
        location = headers.get("Location", "")
        if status == 302 and location.endswith(f"/p/{patient.token}/"):
            return True, ""
        return False, f"HTTP {status} {location}"

    return request


def checkin_request(patients: list[list[Patient]], red_flags: Sequence[str]) -> Request:
    def request(client: Client, index: int) -> tuple[bool, str]:
        mine = patients[index]
        patient = mine[0]
        mine.append(mine.pop(0))  # next time, this thread's next link
        status, headers, _body = client.send("POST", f"/p/{patient.token}/checkin/",
                                             checkin_form(patient, red_flags), patient.cookies)
        location = headers.get("Location", "")
        if status == 302 and "/checkins/" in location:
            return True, location
        return False, f"HTTP {status} {location}"

    return request


# --- one database: server, data, rounds -------------------------------------------------------

def run_backend(label: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="needlecare-bench-"))
    path = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH", "")) if p)
    env = {**env, "NEEDLECARE_VAR_DIR": str(workdir), "NEEDLECARE_DEBUG": "0",
           "NEEDLECARE_ENV": "development", "NEEDLECARE_LOG_LEVEL": "ERROR",
           "DJANGO_SETTINGS_MODULE": SETTINGS, "PYTHONPATH": path}
    try:
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "needlecare", "migrate", "-v", "0"], env=env,
                       check=True, cwd=workdir)
        made = subprocess.run([sys.executable, __file__, "--prepare", str(args.links)],
                              env=env, check=True, cwd=workdir, capture_output=True, text=True)
        prepared: dict[str, Any] = json.loads(made.stdout)
        tokens: list[str] = prepared["tokens"]
        setup_s = time.perf_counter() - began
        from needlecare.clinical.vocabulary import RED_FLAGS

        db_pid = postmaster_pid(env["DATABASE_URL"]) if "DATABASE_URL" in env else None
        with gunicorn(env, workdir) as (port, app_pid):
            servers = Servers(port, app_pid, db_pid)
            client = Client(port)
            patients: list[list[Patient]] = [[] for _ in range(args.clients)]
            for n, token in enumerate(tokens):
                patients[n % args.clients].append(verify(client, token))
            requests: dict[str, Request] = {
                "healthz": healthz_request, "write": write_request(patients),
                "checkin": checkin_request(patients, list(RED_FLAGS))}
            for name in ENDPOINTS:  # warm every path in every worker before measuring
                run_phase("warm-up", servers, args.clients, args.warm_up, requests[name])
            rounds: list[dict[str, dict[str, Any]]] = []
            for number in range(args.rounds):
                order = ENDPOINTS[number % 3:] + ENDPOINTS[:number % 3]
                rounds.append({name: run_phase(name, servers, args.clients, args.seconds,
                                               requests[name]).summary() for name in order})
        return {"backend": label, "links": len(tokens), "setup_s": setup_s,
                "rounds": rounds, "statements": prepared["statements"],
                "settings": prepared["settings"], "db_cpu": db_pid is not None}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- the parent: run each database in a child process, print the figures ----------------------

def child(backend: str, out: Path, args: argparse.Namespace) -> int:
    cap(args.cap)
    env = dict(os.environ)
    if backend == "sqlite":
        env.pop("DATABASE_URL", None)
        result = run_backend("SQLite", env, args)
    else:
        with own_postgres_database(env["DATABASE_URL"], "needlecare_bench") as url:
            result = run_backend("PostgreSQL", {**env, "DATABASE_URL": url}, args)
    out.write_text(json.dumps(result))
    return 0


def _column(rounds: list[dict[str, dict[str, Any]]], endpoint: str, key: str) -> list[float]:
    return [r[endpoint][key] for r in rounds]


def _ratios(rounds: list[dict[str, dict[str, Any]]], key: str, over: str) -> list[float]:
    return [r["checkin"][key] / r[over][key] for r in rounds if r[over][key]]


def _shorten(sql: str, width: int = 160) -> str:
    return sql if len(sql) <= width else sql[:width - 1] + "…"


def report(result: dict[str, Any], show_sql: bool = False) -> list[str]:
    rounds = result["rounds"]
    backend = result["backend"]
    settings = result["settings"]
    durable = (f"; server: {', '.join(f'{k} {v}' for k, v in settings.items())}"
               if settings else "")
    lines = [f"{backend}: {result['links']} links prepared through the services in "
             f"{result['setup_s']:.1f} s; {len(rounds)} interleaved rounds; "
             f"median [min–max] over the rounds{durable}",
             f"  {'endpoint':<22}{'req/s':>18}{'p50 ms':>22}{'p95 ms':>22}"
             f"{'server CPU ms/req':>22}{'of it db':>10}{'SQL':>5}"]
    errors = 0
    for name in ENDPOINTS:
        app = _column(rounds, name, "app_cpu_ms")
        db = _column(rounds, name, "db_cpu_ms")
        cpu = spread([a + d for a, d in zip(app, db, strict=True)], "{:.2f}")
        db_share = f"{statistics.median(db):.2f}" if result["db_cpu"] else "—"
        errors_here = int(sum(_column(rounds, name, "errors")))
        lines.append(
            f"  {LABELS[name]:<22}{spread(_column(rounds, name, 'rate'), '{:.0f}'):>18}"
            f"{spread(_column(rounds, name, 'p50')):>22}"
            f"{spread(_column(rounds, name, 'p95')):>22}{cpu:>22}{db_share:>10}"
            f"{len(result['statements'][name]):>5}"
            + (f"   errors {errors_here}" if errors_here else ""))
        first = next((r[name]["first_error"][0] for r in rounds if r[name]["first_error"]), None)
        if first:
            lines.append(f"    first error: {first}")
        if name != "healthz":
            errors += errors_here
    stored = int(sum(_column(rounds, "checkin", "stored")))
    sent = int(sum(_column(rounds, "checkin", "requests")))
    lines.append(f"  check-ins stored: {stored} of {sent} answered")
    if show_sql:
        for name in ENDPOINTS:
            lines.append(f"  SQL of one {LABELS[name]}:")
            lines.extend(f"    {_shorten(sql)}" for sql in result["statements"][name])

    throughput = _ratios(rounds, "rate", "write")
    p95 = _ratios(rounds, "p95", "write")
    old_throughput = _ratios(rounds, "rate", "healthz")
    old_p95 = _ratios(rounds, "p95", "healthz")
    cpu_ratio = [(r["checkin"]["app_cpu_ms"] + r["checkin"]["db_cpu_ms"])
                 / (r["write"]["app_cpu_ms"] + r["write"]["db_cpu_ms"]) for r in rounds]
    lines.append(f"  check-in / minimal audited write: throughput "
                 f"{spread([100 * x for x in throughput])} %, p95 ×{spread(p95, '{:.2f}')}, "
                 f"CPU per request ×{spread(cpu_ratio, '{:.2f}')}")
    lines.append(f"  check-in / healthz (the old floor, for continuity): throughput "
                 f"{spread([100 * x for x in old_throughput])} %, "
                 f"p95 ×{spread(old_p95, '{:.1f}')}")
    rate_ok = bool(throughput) and statistics.median(throughput) >= THROUGHPUT_TARGET
    p95_ok = bool(p95) and statistics.median(p95) <= P95_TARGET
    suffix = "" if not errors else f", {errors} errors"
    lines.append(target_line(
        f"check-in throughput / minimal audited write, {backend}",
        f"{statistics.median(throughput) * 100:.1f} %{suffix}" if throughput else "n/a",
        f">= {THROUGHPUT_TARGET:.0%}", rate_ok and not errors))
    lines.append(target_line(
        f"check-in p95 / minimal audited write p95, {backend}",
        f"×{statistics.median(p95):.2f}{suffix}" if p95 else "n/a",
        f"<= ×{P95_TARGET:.0f}", p95_ok and not errors))
    return lines


def measure_all(args: argparse.Namespace, on_postgres: Callable[..., int], smoke: bool) -> int:
    print(f"check-in load: gunicorn, 2 sync workers, {args.clients} client threads, "
          f"{args.rounds} rounds of {args.seconds:g} s per endpoint, loopback"
          + (" (BENCH_QUICK: a smoke run, figures not meaningful)" if smoke else ""),
          flush=True)
    status = 0
    for backend in ("sqlite", "postgresql"):
        if args.only and backend != args.only:
            continue
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, __file__, "--child", backend, "--out", out.name,
                       "--clients", str(args.clients), "--seconds", str(args.seconds),
                       "--rounds", str(args.rounds), "--warm-up", str(args.warm_up),
                       "--links", str(args.links), "--cap", str(args.cap)]
            code = (on_postgres(command, durable=True) if backend == "postgresql"
                    else subprocess.call(command))
            text = Path(out.name).read_text()
        if code != 0 or not text:
            print(f"{backend}: the run failed (exit {code})")
            status = 1
            continue
        print("\n".join(report(json.loads(text), show_sql=args.show_sql)), flush=True)
        print(f"  (after the {backend} run: {machine_load()})", flush=True)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    smoke = quick()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--rounds", type=int, default=2 if smoke else 5,
                        help="interleaved rounds of the three endpoints (default 5)")
    parser.add_argument("--seconds", type=float, default=1.0 if smoke else 4.0,
                        help="length of each measured phase (default 4, at most 20)")
    parser.add_argument("--warm-up", type=float, default=0.3 if smoke else 1.0,
                        help="warm-up per endpoint before the rounds (default 1 s)")
    # A patient has one personal link, so each link costs a patient made through the services
    # (about a second each on a loaded machine): 96 keep the setup inside the cap.
    parser.add_argument("--links", type=int, default=8 if smoke else 96,
                        help="patients with a signed session and a personal link (default 96)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"),
                        help="measure one database only")
    parser.add_argument("--cap", type=int, default=300,
                        help="hard cap on each database's run, in seconds (default 300)")
    parser.add_argument("--show-sql", action="store_true",
                        help="print the SQL of one request of each endpoint")
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.seconds = min(args.seconds, 20.0)
    args.links = max(args.links, args.clients)
    sys.path.insert(0, str(ROOT))  # tests/postgres.py: the throwaway cluster

    if args.prepare:
        print(json.dumps(prepare(args.prepare)))
        return 0
    if args.child:
        return child(args.child, args.out, args)

    from tests import postgres

    static_root = Path(tempfile.mkdtemp(prefix="needlecare-bench-static-"))
    try:
        collect_static(static_root)
        os.environ["BENCH_STATIC_ROOT"] = str(static_root / "static")
        return measure_all(args, postgres.main, smoke)
    finally:
        shutil.rmtree(static_root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
