"""Check-in submission under load, over HTTP on loopback, against the floor of the same stack.

Run with ``make bench`` (after the engine benchmark) or ``python benchmarks/checkin_load.py``.

For each database (a fresh SQLite file in a temporary directory, then a throwaway PostgreSQL
cluster started by tests/postgres.py), the script migrates an empty database, creates signed
sessions with personal links through the services, starts gunicorn (2 sync workers, as
``needlecare serve`` runs it) on a free 127.0.0.1 port, passes the date-of-birth step once per
link, and then measures with N client threads (http.client):

- the floor: ``GET /healthz``, the whole middleware stack and nothing else;
- check-in submission: ``POST /p/<token>/checkin/``, the patient's phone form (CSRF, device
  cookie, form validation, triage, the check-in row, its audit row), answered 302.

Each thread cycles through its own links, and every check-in's answers differ (a resubmitted
form would be recognised and not stored again), so each POST stores a new check-in on a
session holding a realistic handful. Targets: check-in throughput at least 50 % of the floor's,
and check-in p95 latency at most 3x the floor's. Each phase is bounded in time, and each
database's run has a hard cap.

The PostgreSQL cluster runs with fsync off (tests/postgres.py's settings for a throwaway
cluster), so its write costs are lower than a durable server's. On a shared DATABASE_URL the
script works in a database of its own (needlecare_bench_<pid>), dropped afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from types import FrameType
from typing import Any

from pgdatabase import own_postgres_database

ROOT = Path(__file__).resolve().parent.parent
THROUGHPUT_TARGET = 0.5  # check-in req/s >= half the floor's
P95_TARGET = 3.0  # check-in p95 <= 3x the floor's
DOB = dt.date(1990, 5, 17)
PASSWORD = "benchmark-owner-password-2026"
TRENDS = ("tightness", "dryness_flaking", "itching")


# --- the database side (runs inside a process configured for the database under test) --------

def make_links(count: int, per_patient: int = 15) -> list[str]:
    """Signed sessions with personal links, made through the services; returns the tokens."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "needlecare.settings")
    import django

    django.setup()
    from decimal import Decimal

    from django.utils import timezone

    from needlecare.access import Actor
    from needlecare.care import services as care
    from needlecare.patients.services import PatientDetails, register_patient
    from needlecare.recovery.links import replace_link
    from needlecare.web.bootstrap import NewOwner, create_owner
    from needlecare.web.demo_data import History, intake

    owner = create_owner(NewOwner(clinic_name="Benchmark Clinic", clinic_phone="020 7946 0999",
                                  username="bench.owner", password=PASSWORD))
    actor = Actor(user=owner)
    history = History("Europe/London")
    tokens: list[str] = []
    patient_no = 0
    while len(tokens) < count:
        patient_no += 1
        patient = register_patient(actor, PatientDetails(
            given_name="Bench", family_name=f"Patient {patient_no}", date_of_birth=DOB,
            phone=f"07700 900{patient_no % 1000:03d}"))
        consultation = care.record_consultation(actor, patient.pk, intake(history, 0))
        care.sign_consent(actor, patient.pk, kind="treatment", signed_name=patient.full_name,
                          understood=True)
        plan = care.create_plan(actor, consultation.pk, ["acne_scars"], ["cheeks"])
        for _ in range(min(per_patient, count - len(tokens))):
            session = care.book_session(actor, plan.pk, timezone.now())
            care.sign_session(actor, session.pk, care.ChartData(
                performed_on=timezone.localdate(), device="pen", cartridge_lot="BENCH-1",
                cartridge_expiry=timezone.localdate() + dt.timedelta(days=365),
                zones=(care.ZoneRow(zone="cheeks", depth_mm=Decimal("1.50"), passes=3),),
                endpoint_reached="uniform pinpoint bleeding",
                interval_reason="benchmark: many sessions on one plan"))
            url = replace_link(actor, session.patient_id).url
            tokens.append(url.rstrip("/").rsplit("/", 1)[1])
    return tokens


# --- HTTP clients ------------------------------------------------------------------------------

class Client:
    """One connection to the server (http.client reconnects after a ``Connection: close``;
    gunicorn's sync workers close after each response, as they do in production)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, method: str, path: str, body: dict[str, str] | None = None,
             cookies: dict[str, str] | None = None) -> tuple[int, http.client.HTTPMessage, str]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                return response.status, response.headers, text
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


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


# --- measuring ---------------------------------------------------------------------------------

@dataclass
class Phase:
    name: str
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stored: set[str] = field(default_factory=set)

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def percentile(self, q: int) -> float:
        if len(self.latencies_ms) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "requests": len(self.latencies_ms), "rate": self.rate,
                "p50": self.percentile(50), "p95": self.percentile(95),
                "errors": len(self.errors), "first_error": self.errors[:1],
                "stored": len(self.stored)}


Request = Callable[[Client, int], tuple[bool, str]]


def run_phase(name: str, port: int, clients: int, seconds: float, request: Request) -> Phase:
    """``clients`` threads send requests back to back until ``seconds`` have passed."""
    phase = Phase(name, seconds)
    lock = threading.Lock()
    start_at = time.perf_counter() + 0.2
    deadline = start_at + seconds

    def work(index: int) -> None:
        client = Client(port)
        latencies: list[float] = []
        errors: list[str] = []
        stored: set[str] = set()
        while time.perf_counter() < start_at:
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
    for thread in threads:
        thread.join()
    return phase


def floor_request(client: Client, index: int) -> tuple[bool, str]:
    status, _headers, body = client.send("GET", "/healthz")
    return status == 200 and body == "ok\n", "" if status == 200 else f"HTTP {status}"


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


# --- one database: server, data, phases -------------------------------------------------------

@contextmanager
def gunicorn(env: dict[str, str], workdir: Path) -> Iterator[int]:
    """gunicorn as ``needlecare serve`` starts it, on a free loopback port."""
    from tests.postgres import _free_port

    from needlecare.cli import gunicorn_argv

    port = _free_port()
    argv = [*gunicorn_argv(f"127.0.0.1:{port}", workers=2, timeout=30),
            "--log-level", "warning"]
    log = workdir / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  cwd=workdir)
    try:
        _wait_until_up(port, server, log)
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_up(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()}")
        try:
            status, _h, _b = Client(port).send("GET", "/healthz")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer within 20 s:\n{log.read_text()}")


def run_backend(label: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="needlecare-bench-"))
    env = {**env, "NEEDLECARE_VAR_DIR": str(workdir), "NEEDLECARE_DEBUG": "0",
           "NEEDLECARE_ENV": "development", "NEEDLECARE_LOG_LEVEL": "ERROR",
           "DJANGO_SETTINGS_MODULE": "needlecare.settings"}
    try:
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "needlecare", "migrate", "-v", "0"], env=env,
                       check=True, cwd=workdir)
        made = subprocess.run([sys.executable, __file__, "--make-links", str(args.links)],
                              env=env, check=True, cwd=workdir, capture_output=True, text=True)
        tokens: list[str] = json.loads(made.stdout)
        setup_s = time.perf_counter() - began
        from needlecare.clinical.vocabulary import RED_FLAGS

        with gunicorn(env, workdir) as port:
            client = Client(port)
            patients: list[list[Patient]] = [[] for _ in range(args.clients)]
            for n, token in enumerate(tokens):
                patients[n % args.clients].append(verify(client, token))
            # Warm both paths in every worker before measuring.
            run_phase("warm-up", port, args.clients, 1.0, floor_request)
            run_phase("warm-up", port, args.clients, 1.0,
                      checkin_request(patients, list(RED_FLAGS)))
            floor = run_phase("floor", port, args.clients, args.seconds, floor_request)
            checkin = run_phase("check-in", port, args.clients, args.seconds,
                                checkin_request(patients, list(RED_FLAGS)))
        return {"backend": label, "links": len(tokens), "setup_s": setup_s,
                "floor": floor.summary(), "checkin": checkin.summary()}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- PostgreSQL: a database of our own on the throwaway cluster ----------------------------------



# --- the parent: run each database in a child process, print the figures ----------------------

def _cap(seconds: int) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the run took longer than its cap of {seconds} s")

    signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)


def child(backend: str, out: Path, args: argparse.Namespace) -> int:
    _cap(args.cap)
    env = dict(os.environ)
    if backend == "sqlite":
        env.pop("DATABASE_URL", None)
        result = run_backend("SQLite", env, args)
    else:
        with own_postgres_database(env["DATABASE_URL"], "needlecare_bench") as url:
            result = run_backend("PostgreSQL", {**env, "DATABASE_URL": url}, args)
    out.write_text(json.dumps(result))
    return 0


def _ms(value: float) -> str:
    return f"{value:8.1f}"


def report(result: dict[str, Any]) -> list[str]:
    floor, checkin = result["floor"], result["checkin"]
    lines = [f"{result['backend']}: {result['links']} links prepared through the services in "
             f"{result['setup_s']:.1f} s"]
    for row in (floor, checkin):
        lines.append(f"  {row['name']:<9} {row['rate']:8.1f} req/s   p50 {_ms(row['p50'])} ms"
                     f"   p95 {_ms(row['p95'])} ms   errors {row['errors']}"
                     + (f"   stored {row['stored']}" if row["name"] == "check-in" else ""))
        if row["first_error"]:
            lines.append(f"    first error: {row['first_error'][0]}")
    ratio = checkin["rate"] / floor["rate"] if floor["rate"] else 0.0
    p95 = checkin["p95"] / floor["p95"] if floor["p95"] else float("inf")
    ok = ratio >= THROUGHPUT_TARGET and p95 <= P95_TARGET and checkin["errors"] == 0
    lines.append(f"  check-in/floor: throughput {ratio:6.1%} (target >= "
                 f"{THROUGHPUT_TARGET:.0%})   p95 x{p95:.1f} (target <= x{P95_TARGET:.0f})"
                 f"   {'PASS' if ok else 'MISS'}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="length of each measured phase (default 10, at most 20)")
    parser.add_argument("--links", type=int, default=240,
                        help="signed sessions with personal links (default 240)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"),
                        help="measure one database only")
    parser.add_argument("--cap", type=int, default=150,
                        help="hard cap on each database's run, in seconds (default 150)")
    parser.add_argument("--make-links", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.seconds = min(args.seconds, 20.0)
    sys.path.insert(0, str(ROOT))  # tests/postgres.py: the throwaway cluster

    if args.make_links:
        print(json.dumps(make_links(args.make_links)))
        return 0
    if args.child:
        return child(args.child, args.out, args)

    from tests import postgres

    print(f"check-in load: gunicorn, 2 sync workers, {args.clients} client threads, "
          f"{args.seconds:.0f} s per phase, loopback")
    status = 0
    for backend in ("sqlite", "postgresql"):
        if args.only and backend != args.only:
            continue
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, __file__, "--child", backend, "--out", out.name,
                       "--clients", str(args.clients), "--seconds", str(args.seconds),
                       "--links", str(args.links), "--cap", str(args.cap)]
            code = postgres.main(command) if backend == "postgresql" else subprocess.call(
                command)
            text = Path(out.name).read_text()
        if code != 0 or not text:
            print(f"{backend}: the run failed (exit {code})")
            status = 1
            continue
        print("\n".join(report(json.loads(text))))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
