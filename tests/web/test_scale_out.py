"""Scaling out: two application servers (gunicorn, as ``needlecare serve`` runs it) and two
outbox workers against one PostgreSQL database, as docs/operations.md describes. Patients'
check-ins arrive at both servers at once, each sent twice (to one server, then the other, as a
phone retrying through the load balancer would); every check-in is stored once, every session
gets at most one escalation, and every message is sent exactly once. Files go to one object
store (a real SeaweedFS on loopback): each patient downloads their aftercare plan through both
servers at once, and each plan is stored once, as one object whose bytes match its hash.

Runs in the PostgreSQL pass (``python tests/postgres.py pytest
tests/web``): processes cannot share the SQLite pass's in-memory test database."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from needlecare.access import Actor
from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.documents.models import DocumentKind, PatientDocument
from needlecare.messaging.models import Message, MessageKind, MessageStatus
from needlecare.recovery.links import replace_link
from needlecare.recovery.models import CheckIn, Escalation
from tests.factories import journey_to_signed_session
from tests.seaweedfs import SeaweedFS, create_bucket

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="needs PostgreSQL (processes cannot share SQLite's in-memory "
                              "test database); runs under tests/postgres.py"),
]

NEEDLECARE = str(Path(sys.executable).with_name("needlecare"))
PATIENTS = 6
MESSAGE_ID = re.compile(r"^Message-ID: <([^@>]+)@", re.MULTILINE)


def _env(var: Path, files: dict[str, str]) -> dict[str, str]:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return {**{k: v for k, v in os.environ.items() if not k.startswith("NEEDLECARE_")},
            "DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "NEEDLECARE_VAR_DIR": str(var),
            # One key for every process: personal links are derived from it.
            "NEEDLECARE_SECRET_KEY": settings.SECRET_KEY,
            "NEEDLECARE_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "NEEDLECARE_SMS_BACKEND": "file", "NEEDLECARE_MESSAGE_ATTACHMENTS": "0",
            "NEEDLECARE_WORKER_POLL_SECONDS": "0.3", "NEEDLECARE_LOG_LEVEL": "ERROR",
            **files}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def _server(env: dict[str, str], log: Path) -> Iterator[int]:
    port = _free_port()
    with log.open("wb") as out:
        process = subprocess.Popen([NEEDLECARE, "serve", "--bind", f"127.0.0.1:{port}",
                                    "--workers", "2"], env=env, cwd=env["NEEDLECARE_VAR_DIR"],
                                   stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                        break
                except OSError:
                    assert time.monotonic() < deadline, "the server did not start"
                    time.sleep(0.2)
            yield port
        finally:
            _stop(process)


@contextmanager
def _worker(env: dict[str, str], name: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen([NEEDLECARE, "worker", "--name", name], env=env,
                                   cwd=env["NEEDLECARE_VAR_DIR"], stdout=out,
                                   stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            _stop(process)


def _checkin(port: int, token: str, born: dt.date, answers: dict[str, Any]) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/checkins", data=json.dumps(answers).encode(),
        method="POST", headers={"Authorization": f"Bearer {token}",
                                "X-Date-Of-Birth": born.isoformat(),
                                "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


class _Phone:
    """A patient's browser: a cookie jar that has passed the date-of-birth step."""

    def __init__(self, token: str, born: dt.date) -> None:
        self.token, self.born = token, born
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def verify(self, port: int) -> None:
        base = f"http://127.0.0.1:{port}/p/{self.token}/verify/"
        with self.opener.open(base, timeout=60) as response:
            page = response.read().decode()
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert csrf is not None, page
        form = urllib.parse.urlencode({
            "csrfmiddlewaretoken": csrf.group(1), "day": self.born.day,
            "month": self.born.month, "year": self.born.year}).encode()
        with self.opener.open(urllib.request.Request(base, data=form, headers={
                "Referer": base}), timeout=60) as response:
            assert response.status == 200, response.status
        assert any(c.name.startswith("needlecare_device_") for c in self.jar)

    def aftercare_plan(self, port: int) -> bytes:
        url = f"http://127.0.0.1:{port}/p/{self.token}/aftercare-plan.pdf"
        with self.opener.open(url, timeout=120) as response:
            assert response.headers["Content-Type"] == "application/pdf"
            return bytes(response.read())


def _patients() -> list[tuple[str, dt.date, int]]:
    """Patients with a session signed two days ago and a personal link, who agree to email:
    (token, date of birth, session id)."""
    made = []
    for n in range(PATIENTS):
        j = journey_to_signed_session()
        patient, session = j["patient"], j["session"]
        patient.preferred_channel, patient.email = "email", f"patient{n}@example.test"
        patient.messages_opt_in = True
        patient.save()
        day = timezone.localdate() - dt.timedelta(days=2)
        session.performed_on = day
        session.scheduled_for = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
        session.cartridge_expiry = day + dt.timedelta(days=365)
        session.save()
        issued = replace_link(Actor(user=j["clinician"]), session.patient_id)
        made.append((issued.url.rstrip("/").rsplit("/", 1)[-1], patient.date_of_birth,
                     session.pk))
    return made


def _answers(n: int, urgent: bool) -> dict[str, Any]:
    return {"symptoms": {"redness": {"severity": 2 + n % 3, "trend": "better"}},
            "red_flags": {code: urgent and code == "fever_or_chills" for code in RED_FLAGS},
            "note": f"check-in {n}"}


def _objects(server: SeaweedFS, bucket: str) -> dict[str, bytes]:
    """Every object in the bucket, by key, with its bytes (read straight from the store)."""
    import boto3  # a dev dependency, as in tests/seaweedfs.py

    client = boto3.client("s3", endpoint_url=server.endpoint_url, region_name=server.region,
                          aws_access_key_id=server.access_key,
                          aws_secret_access_key=server.secret_key)
    keys = [item["Key"] for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket) for item in page.get("Contents", [])]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def test_two_servers_and_two_workers_handle_each_check_in_and_message_once(
        tmp_path: Path) -> None:
    patients = _patients()
    var = tmp_path / "var"
    var.mkdir()
    # Each check-in goes to one server and, again, to the other, from two threads at once.
    sends = [(token, born, _answers(n, urgent=n % 2 == 0))
             for token, born, _session in patients for n in range(3)]
    statuses: list[int] = []
    plans: list[tuple[str, bytes]] = []
    with ExitStack() as stack:
        seaweedfs = stack.enter_context(SeaweedFS())
        bucket = "scale-out"
        create_bucket(seaweedfs, bucket)
        env = _env(var, seaweedfs.environment(bucket))
        ports = [stack.enter_context(_server(env, tmp_path / f"web{i}.log")) for i in (1, 2)]
        for i in (1, 2):
            stack.enter_context(_worker(env, f"worker-{i}", tmp_path / f"worker{i}.log"))

        phones = [_Phone(token, born) for token, born, _session in patients]
        for n, phone in enumerate(phones):
            phone.verify(ports[n % 2])

        def send(order: tuple[int, int]) -> None:
            for token, born, answers in sends:
                for port in order:
                    statuses.append(_checkin(ports[port], token, born, answers))
            # Each patient opens their aftercare plan on both servers at once.
            for phone in phones:
                for port in order:
                    plans.append((phone.token, phone.aftercare_plan(ports[port])))

        threads = [threading.Thread(target=send, args=(order,)) for order in ((0, 1), (1, 0))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)

        # The workers send what fell due; wait until no note or alert is left to send.
        deadline = time.monotonic() + 120
        wanted = (MessageKind.TRIAGE_NOTE, MessageKind.CLINICIAN_ALERT)
        while Message.objects.filter(kind__in=wanted).exclude(
                status__in=(MessageStatus.SENT, MessageStatus.SKIPPED)).exists():
            assert time.monotonic() < deadline, list(Message.objects.filter(
                kind__in=wanted).values_list("kind", "status", "last_error"))
            time.sleep(0.5)
        objects = _objects(seaweedfs, bucket)

    # Each check-in was sent four times (twice by each thread): one 201, the rest 200.
    assert len(statuses) == 4 * len(sends)
    assert Counter(statuses) == {201: len(sends), 200: 3 * len(sends)}
    assert CheckIn.objects.count() == len(sends)
    for _token, _born, session_id in patients:
        assert CheckIn.objects.filter(session_id=session_id).count() == 3
        assert Escalation.objects.filter(session_id=session_id).count() == 1  # n = 0 and 2

    sent = Message.objects.filter(status=MessageStatus.SENT)
    # A note for each change of an escalation (opened, or raised), never one per check-in:
    # here each session's escalation opened urgent and stayed so, so one note each, sent once.
    assert CheckIn.objects.exclude(level="expected").count() >= len(patients) * 2
    noted = Escalation.objects.count()
    assert Message.objects.filter(kind=MessageKind.TRIAGE_NOTE).count() == noted
    assert sent.filter(kind=MessageKind.TRIAGE_NOTE).count() == noted
    handled_by = Counter(sent.values_list("claimed_by", flat=True))
    assert set(handled_by) <= {"worker-1", "worker-2"}
    # Every email on disk is one message, once: no dedupe key was delivered twice.
    mails = [m for f in (var / "sent-mail").glob("*") for m in MESSAGE_ID.findall(f.read_text())]
    assert len(mails) == sent.filter(channel="email").count()
    assert len(mails) == len(set(mails))

    # Each patient's plan was stored once, as one object holding the bytes every download got.
    assert len(plans) == 4 * len(patients)
    stored = PatientDocument.objects.filter(kind=DocumentKind.AFTERCARE_PLAN)
    assert stored.count() == len(patients)
    assert sorted(objects) == sorted(document.file.name for document in stored)
    for document in stored:
        assert hashlib.sha256(objects[document.file.name]).hexdigest() == document.sha256
    for token, content in plans:
        assert hashlib.sha256(content).hexdigest() in {d.sha256 for d in stored}, token
