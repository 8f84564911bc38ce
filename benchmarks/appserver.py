"""The application as the benchmarks serve it: a database made through the services, static
files collected, gunicorn on a free loopback port, and a plain HTTP client for it."""

from __future__ import annotations

import datetime as dt
import http.client
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

DOB = dt.date(1990, 5, 17)
PASSWORD = "benchmark-owner-password-2026"


def make_links(count: int) -> list[str]:
    """Signed sessions with personal links, made through the services; returns the tokens.

    One patient per link: a patient has one personal link, and a new one replaces the old."""
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
        session = care.book_session(actor, plan.pk, timezone.now())
        care.sign_session(actor, session.pk, care.ChartData(
            performed_on=timezone.localdate(), device="pen", cartridge_lot="BENCH-1",
            cartridge_expiry=timezone.localdate() + dt.timedelta(days=365),
            zones=(care.ZoneRow(zone="cheeks", depth_mm=Decimal("1.50"), passes=3),),
            endpoint_reached="uniform pinpoint bleeding"))
        url = replace_link(actor, session.patient_id).url
        tokens.append(url.rstrip("/").rsplit("/", 1)[1])
    return tokens


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


@contextmanager
def gunicorn(env: dict[str, str], workdir: Path) -> Iterator[tuple[int, int]]:
    """gunicorn as ``needlecare serve`` starts it, on a free loopback port: (port, pid)."""
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
        yield port, server.pid
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_up(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
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
    raise RuntimeError(f"gunicorn did not answer within 30 s:\n{log.read_text()}")


def collect_static(var_dir: Path) -> None:
    """Static files into ``var_dir/static``, as ``needlecare serve`` collects them when DEBUG
    is off (pages then name them from the manifest). Django admin's files are left out: no
    benchmark opens the operator pages, and compressing them is most of the command's time."""
    env = {**os.environ, "NEEDLECARE_VAR_DIR": str(var_dir), "NEEDLECARE_DEBUG": "0",
           "NEEDLECARE_ENV": "development", "DJANGO_SETTINGS_MODULE": "needlecare.settings"}
    subprocess.run([sys.executable, "-m", "needlecare", "manage", "collectstatic", "--noinput",
                    "--verbosity", "0", "--ignore", "admin"], env=env, check=True, cwd=var_dir)


def cap(seconds: int) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the run took longer than its cap of {seconds} s")

    signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
