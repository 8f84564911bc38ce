"""Every staff page and API list on a small clinic and on a large one: do they stay flat?

Run with ``python benchmarks/scale.py`` (SQLite) or ``python benchmarks/scale.py --postgres``
(a throwaway PostgreSQL cluster, or DATABASE_URL, through tests/postgres.py; the clinics go in
databases of their own, dropped afterwards). ``BENCH_QUICK=1``: 200 against 2,000 patients and
three rounds, as a smoke run.

Two clinics are bulk-built by benchmarks/bigclinic.py: a small one of 1,000 patients and a large
one of 100,000 (300,000 signed sessions, about 1,000,000 check-ins, 20,000 escalations, those
older than a month closed; the outbox's messages of every session and escalation, old sent and
cancelled ones included, about 2.7 million; an appointment for every session and next week
fully booked; photo records for one patient in ten; the audit trail, sealed, about 1.7 million
rows), then analysed (``ANALYZE``; SQLite also ``PRAGMA optimize``), as the product's upkeep
would. Both clinics have the same ten practitioners, the same week booked ahead and the same
"showcase" patient (three sessions, a check-in on every invitation day, an open escalation,
photos), so a page shows the same thing at both sizes unless it grows with the data.

A built database is kept in ``var/bench-cache/`` (the SQLite file; for PostgreSQL a ``pg_dump
-Fc`` archive, restored into a fresh database) under a key that hashes bigclinic.py, the sizes
and every migration file: a run with an unchanged recipe measures at once. ``--rebuild`` ignores
the cache.

Then, for each clinic, in one process (server time: Django's test client, so the whole
middleware stack, the views and the templates, without a network), signed in as the persona
that uses the page (the owner for the numbers, the audit trail and the outbox; the front desk
for the diary; a clinician for the rest): a warm-up, then several rounds of every page in turn;
for each page the median (p50) and p95 of the rounds with their range, the number of SQL
statements (``CaptureQueriesContext``) and the bytes of the response.

Targets, per page and database: the large clinic's p95 at most 1.5× the small one's; at most
100 ms p95 on the large clinic; the same number of statements at both sizes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bigclinic
from appserver import cap, collect_static
from pgdatabase import own_postgres_database
from targets import machine_load, quick, spread, target_line

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("NEEDLECARE_BENCH_CACHE", ROOT / "var" / "bench-cache"))
FULL = {
    "small": {"patients": 1_000, "checkins": 10_000, "escalations": 200,
              "adverse_events": 15, "closed_after_days": 30},
    "large": {"patients": 100_000, "checkins": 1_000_000, "escalations": 20_000,
              "adverse_events": 1_500, "closed_after_days": 30},
}
QUICK = {
    "small": {"patients": 200, "checkins": 2_000, "escalations": 40, "adverse_events": 3,
              "closed_after_days": 30},
    "large": {"patients": 2_000, "checkins": 20_000, "escalations": 400,
              "adverse_events": 30, "closed_after_days": 30},
}
ROUNDS = {"full": 25, "quick": 3}
RATIO_TARGET = 1.5
P95_TARGET_MS = 100.0


# --- the pages ----------------------------------------------------------------------------------

def pages(ids: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(name, persona, address) of every page measured."""
    patient = ids["patient"]
    name = f"{ids['given_name']} {ids['family_name']}"
    monday = ids["monday"]
    return [
        ("worklist", "clinician", "/worklist/"),
        ("patient list", "clinician", "/patients/"),
        ("search: full name", "clinician", f"/patients/?q={name}"),
        ("search: family name", "clinician", f"/patients/?q={ids['family_name']}"),
        ("search: phone", "clinician", f"/patients/?q={ids['phone']}"),
        ("search: date of birth", "clinician", f"/patients/?q={ids['date_of_birth']}"),
        ("patient chart", "clinician", f"/patients/{patient}/"),
        ("escalation", "clinician", f"/escalations/{ids['escalation']}/"),
        ("outbox", "owner", "/outbox/"),
        ("diary week", "front_desk",
         f"/diary/week/?practitioner={ids['practitioner']}&date={monday}"),
        ("photo timeline", "clinician", f"/patients/{patient}/photos/"),
        ("clinic numbers", "owner", "/numbers/"),
        ("audit page", "owner", "/audit/"),
        ("API patients", "clinician", "/api/v1/patients"),
        ("API search: name", "clinician", f"/api/v1/patients?q={name}"),
        ("API search: phone", "clinician", f"/api/v1/patients?q={ids['phone']}"),
        ("API search: date of birth", "clinician",
         f"/api/v1/patients?q={ids['date_of_birth']}"),
        ("API patient", "clinician", f"/api/v1/patients/{patient}"),
        # Acknowledged: most recent escalations of the recipe are acknowledged, few stay open.
        ("API escalations, acknowledged", "clinician",
         "/api/v1/escalations?status=acknowledged"),
        ("API escalations, closed", "clinician", "/api/v1/escalations?status=closed"),
        ("API audit", "owner", "/api/v1/audit"),
        ("API appointments, a week", "front_desk", f"/api/v1/appointments?day={monday}&days=7"),
        ("API photos of a patient", "clinician", f"/api/v1/patients/{patient}/photos"),
        ("API course outcomes", "clinician", f"/api/v1/plans/{ids['plan']}/outcomes"),
        ("API numbers", "owner", "/api/v1/numbers"),
    ]


def _ids() -> dict[str, Any]:
    """What the pages name, read from the built database."""
    from django.utils import timezone

    from needlecare.accounts.models import User
    from needlecare.patients.models import Patient
    from needlecare.recovery.models import Escalation

    patient = Patient.objects.order_by("-pk").first()
    assert patient is not None
    escalation = Escalation.objects.filter(patient=patient).order_by("-pk").first()
    assert escalation is not None
    practitioner = User.objects.get(username="bench.clinician0")
    return {"patient": patient.pk, "given_name": patient.given_name,
            "family_name": patient.family_name, "phone": patient.phone,
            "date_of_birth": patient.date_of_birth.isoformat(), "plan": patient.pk,
            "escalation": escalation.pk, "practitioner": practitioner.pk,
            "monday": bigclinic.week_ahead(timezone.localdate()).isoformat()}


def measure(rounds: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from needlecare.accounts.models import User

    clients: dict[str, Client] = {}
    for persona, username in (("clinician", "bench.clinician0"), ("owner", "bench.owner"),
                              ("front_desk", "bench.desk")):
        clients[persona] = Client()
        clients[persona].force_login(User.objects.get(username=username))
    measured = pages(_ids())

    def get(persona: str, url: str) -> Any:
        response = clients[persona].get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} as {persona}: HTTP {response.status_code}")
        return response

    results: dict[str, dict[str, Any]] = {}
    for name, persona, url in measured:
        get(persona, url)  # warm-up: templates, the protocol, prepared statements
        with CaptureQueriesContext(connection) as captured:
            response = get(persona, url)
        results[name] = {"url": url, "persona": persona, "queries": len(captured),
                         "bytes": len(response.content), "ms": []}
    # Every page in turn in each round, so the machine's drift is shared by all of them.
    for _ in range(rounds):
        for name, persona, url in measured:
            began = time.perf_counter()
            get(persona, url)
            results[name]["ms"].append((time.perf_counter() - began) * 1000)
    counts = _counts()
    return {"backend": connection.vendor, "pages": results, "counts": counts}


def _counts() -> dict[str, int]:
    from needlecare.audit.models import AuditEvent
    from needlecare.care.models import TreatmentSession
    from needlecare.diary.models import Appointment
    from needlecare.messaging.models import Message
    from needlecare.patients.models import Patient
    from needlecare.photos.models import Photo
    from needlecare.recovery.models import CheckIn, Escalation

    return {"patients": Patient.objects.count(), "sessions": TreatmentSession.objects.count(),
            "check-ins": CheckIn.objects.count(), "escalations": Escalation.objects.count(),
            "messages": Message.objects.count(), "appointments": Appointment.objects.count(),
            "photos": Photo.objects.count(), "audit rows": AuditEvent.objects.count()}


def build(size: dict[str, int]) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection

    began = time.perf_counter()
    world = bigclinic.build(size)
    bigclinic.build_extras(world, size)
    bigclinic.upkeep()
    connection.close()
    return {"counts": world.counts, "built_s": time.perf_counter() - began}


# --- the cache ----------------------------------------------------------------------------------

def recipe_key(backend: str, size: dict[str, int]) -> str:
    """What a built database depends on: the builder, the sizes, the migrations."""
    digest = hashlib.sha256()
    digest.update(Path(bigclinic.__file__).read_bytes())
    digest.update(json.dumps([backend, size], sort_keys=True).encode())
    for migration in sorted((ROOT / "src" / "needlecare").glob("*/migrations/*.py")):
        digest.update(str(migration.relative_to(ROOT)).encode())
        digest.update(migration.read_bytes())
    return digest.hexdigest()[:16]


def static_files() -> Path:
    """The static files collected as ``needlecare serve`` collects them (compressing them is
    most of a quick run's time), kept in the cache while the sources and packages are the
    same."""
    import importlib.metadata

    digest = hashlib.sha256()
    for source in sorted((ROOT / "src" / "needlecare").rglob("static/**/*")):
        if source.is_file():
            digest.update(str(source.relative_to(ROOT)).encode())
            digest.update(source.read_bytes())
    digest.update(" ".join(sorted(f"{d.metadata['Name']}={d.version}"
                                  for d in importlib.metadata.distributions())).encode())
    collected = CACHE / f"static-{digest.hexdigest()[:16]}"
    if not collected.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix="static-", dir=CACHE))
        try:
            collect_static(building)
            (building / "static").replace(collected)
            for older in CACHE.glob("static-*"):
                if older != collected:
                    shutil.rmtree(older, ignore_errors=True)
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return collected


def _pg_bin(name: str) -> str:
    from tests.postgres import _bindir

    found = shutil.which(name)
    if found:
        return found
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError(f"no {name}")
    return str(bindir / name)


@contextmanager
def database(backend: str, label: str, size: dict[str, int], env: dict[str, str],
             workdir: Path, rebuild: bool) -> Iterator[tuple[dict[str, str], dict[str, Any]]]:
    """A database holding the clinic of ``size``, built or from the cache: (env, how)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = recipe_key(backend, size)
    how: dict[str, Any] = {"key": key}
    began = time.perf_counter()
    if backend == "sqlite":
        cached = CACHE / f"scale-{label}-{key}.sqlite3"
        if rebuild or not cached.exists():
            builddir = Path(tempfile.mkdtemp(prefix=f"needlecare-scale-{label}-", dir=CACHE))
            try:
                how["built"] = _build(label, {**env, "NEEDLECARE_VAR_DIR": str(builddir)},
                                      builddir)
                (builddir / "needlecare.sqlite3").replace(cached)
                _forget_others(cached)
            finally:
                shutil.rmtree(builddir, ignore_errors=True)
        # The pages write audit rows: they go to a copy, so the cached file stays as built.
        shutil.copyfile(cached, workdir / "needlecare.sqlite3")
        how["ready_s"] = time.perf_counter() - began
        yield env, how
        return
    cached = CACHE / f"scale-{label}-{key}.pgdump"
    with own_postgres_database(env["DATABASE_URL"], f"needlecare_scale_{label}") as url:
        here = {**env, "DATABASE_URL": url}
        if rebuild or not cached.exists():
            how["built"] = _build(label, here, workdir)
            partial = cached.with_suffix(".partial")
            subprocess.run([_pg_bin("pg_dump"), "-Fc", "-Z", "1", "-f", str(partial), url],
                           check=True)
            partial.replace(cached)
            _forget_others(cached)
        else:
            subprocess.run([_pg_bin("pg_restore"), "-j", "2", "--no-owner", "-d", url,
                            str(cached)], check=True)
            # Statistics are not in the archive: the upkeep's ANALYZE, as after the build.
            subprocess.run([_pg_bin("psql"), "-q", "-c", "ANALYZE", url], check=True)
        how["ready_s"] = time.perf_counter() - began
        yield here, how


def _forget_others(kept: Path) -> None:
    """Databases of an earlier recipe are not used again: remove them."""
    label = kept.name.rsplit("-", 1)[0]
    for older in kept.parent.glob(f"{label}-*{kept.suffix}"):
        if older != kept:
            older.unlink(missing_ok=True)


def _build(label: str, env: dict[str, str], workdir: Path) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, __file__, "--build", label, "--out", out.name],
                       env=env, cwd=workdir, check=True)
        built: dict[str, Any] = json.loads(Path(out.name).read_text())
        return built


# --- the parent ---------------------------------------------------------------------------------

def child(args: argparse.Namespace) -> int:
    """Build or restore each clinic, then measure it in a process of its own."""
    cap(args.cap)
    backend = "postgresql" if args.postgres else "sqlite"
    workdir = Path(tempfile.mkdtemp(prefix="needlecare-scale-bench-"))
    # DEBUG is off, as in production: pages name static files from the manifest.
    (workdir / "static").symlink_to(static_files())
    env = {**os.environ, "NEEDLECARE_VAR_DIR": str(workdir), "NEEDLECARE_LOG_LEVEL": "ERROR",
           "DJANGO_SETTINGS_MODULE": "needlecare.settings", "NEEDLECARE_DEBUG": "0",
           "NEEDLECARE_ENV": "development", "PYTHONPATH": os.pathsep.join(filter(None, (
               str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH"))))}
    if not args.postgres:
        env.pop("DATABASE_URL", None)
    sizes = QUICK if quick() else FULL
    results = {}
    try:
        for label in ("small", "large"):
            with database(backend, label, sizes[label], env, workdir, args.rebuild) as (
                    here, how), tempfile.NamedTemporaryFile(suffix=".json") as out:
                subprocess.run([sys.executable, __file__, "--measure", label, "--out",
                                out.name], env=here, cwd=workdir, check=True)
                results[label] = {**json.loads(Path(out.name).read_text()), **how}
        args.out.write_text(json.dumps(results))
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _p95(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def report(results: dict[str, Any]) -> list[str]:
    backend = results["small"]["backend"]
    lines = []
    for label in ("small", "large"):
        r = results[label]
        source = (f"built in {r['built']['built_s']:.0f} s" if "built" in r
                  else f"from the cache ({r['key']})")
        lines.append(f"{backend}, {label} clinic: " + ", ".join(
            f"{n:,} {k}" for k, n in r["counts"].items())
            + f" ({source}; ready in {r['ready_s']:.0f} s)")
    rounds = len(next(iter(results["small"]["pages"].values()))["ms"])
    lines.append(f"  ms: p50 [min–max] and p95 of {rounds} rounds; statements; bytes")
    header = (f"  {'page':<28} {'small p50':>22} {'p95':>7} {'q':>3} {'bytes':>8}   "
              f"{'large p50':>22} {'p95':>7} {'q':>3} {'bytes':>8}  {'p95 ×':>6}")
    lines.append(header)
    targets = []
    for name, small in results["small"]["pages"].items():
        large = results["large"]["pages"][name]
        s95, l95 = _p95(small["ms"]), _p95(large["ms"])
        ratio = l95 / s95
        lines.append(f"  {name:<28} {spread(small['ms']):>22} {s95:7.1f} {small['queries']:3d} "
                     f"{small['bytes']:8,d}   {spread(large['ms']):>22} {l95:7.1f} "
                     f"{large['queries']:3d} {large['bytes']:8,d}  {ratio:6.2f}")
        targets.append(target_line(f"scale, {name}, p95 large/small, {backend}",
                                   f"×{ratio:.2f}", f"<= ×{RATIO_TARGET:g}",
                                   ratio <= RATIO_TARGET))
        targets.append(target_line(f"scale, {name}, p95 on the large clinic, {backend}",
                                   f"{l95:.0f} ms", f"<= {P95_TARGET_MS:.0f} ms",
                                   l95 <= P95_TARGET_MS))
        targets.append(target_line(f"scale, {name}, statements small vs large, {backend}",
                                   f"{small['queries']} vs {large['queries']}", "equal",
                                   small["queries"] == large["queries"]))
    return lines + targets


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postgres", action="store_true",
                        help="PostgreSQL (throwaway cluster or DATABASE_URL) instead of SQLite")
    parser.add_argument("--rebuild", action="store_true",
                        help="build the clinics again even when the cache holds them")
    parser.add_argument("--cap", type=int, default=1500,
                        help="hard cap on the run, in seconds (default 1500)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--build", choices=("small", "large"), help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=("small", "large"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    mode = "quick" if quick() else "full"
    sizes = QUICK if quick() else FULL

    if args.build:
        args.out.write_text(json.dumps(build(sizes[args.build]), default=str))
        return 0
    if args.measure:
        args.out.write_text(json.dumps(measure(ROUNDS[mode])))
        return 0
    if args.child:
        return child(args)

    from tests import postgres

    backend = "postgresql" if args.postgres else "sqlite"
    print(f"scale benchmark, {backend} ({mode}); {machine_load()}", flush=True)
    began = time.perf_counter()
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, __file__, "--child", "--out", out.name, "--cap",
                   str(args.cap), *(["--rebuild"] if args.rebuild else [])]
        if args.postgres:
            code = postgres.main([*command, "--postgres"])
        else:
            code = subprocess.call(command)
        text = Path(out.name).read_text()
    if code != 0 or not text:
        print(f"scale benchmark, {backend}: the run failed (exit {code})", flush=True)
        return 1
    print("\n".join(report(json.loads(text))), flush=True)
    print(f"  whole run: {time.perf_counter() - began:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
