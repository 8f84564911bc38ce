"""Real worker processes against one PostgreSQL database: every message is sent exactly once
by two workers, and a worker killed mid-send causes one resend, with the same dedupe key,
after the claim times out.

These need a database that other processes can reach, so they run in the PostgreSQL pass
(``python tests/postgres.py pytest tests/web``); the SQLite pass's test database lives in
memory, in this process only. The claim logic itself is tested on both in test_claims.py."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from needlecare.accounts.models import Role
from needlecare.messaging.models import (
    Message,
    MessageKind,
    MessageStatus,
    Recipient,
    WorkerHeartbeat,
)
from tests.factories import (
    make_clinic,
    make_consultation,
    make_patient,
    make_plan,
    make_signed_session,
    make_user,
)
from tests.web.messaging.support import WebhookSink
from tests.web.patients.support import make_escalation

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="needs PostgreSQL (worker processes cannot share SQLite's "
                              "in-memory test database); runs under tests/postgres.py"),
]

MESSAGE_ID = re.compile(r"^Message-ID: <([^@>]+)@", re.MULTILINE)


def worker_env(var: Path, **extra: str) -> dict[str, str]:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return {**os.environ,
            "DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "NEEDLECARE_VAR_DIR": str(var),
            "NEEDLECARE_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "NEEDLECARE_SMS_BACKEND": "file", "NEEDLECARE_MESSAGE_ATTACHMENTS": "0",
            "NEEDLECARE_LOG_LEVEL": "ERROR", **extra}


def worker(env: dict[str, str], name: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "needlecare", "worker", "--once",
                             "--name", name, "--verbosity", "0", *args],
                            env=env, cwd=env["NEEDLECARE_VAR_DIR"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen[str], timeout: float = 120) -> None:
    _out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err


def notes(patient: Any, count: int) -> list[Message]:
    """Notes to ``patient`` due now (replies: no quiet hours, so the wall clock is fine),
    about one open escalation of a signed session (a note speaks about its escalation)."""
    now = timezone.now()
    clinician = make_user(patient.clinic, Role.CLINICIAN)
    session = make_signed_session(make_plan(make_consultation(patient, clinician), clinician),
                                  clinician)
    escalation = make_escalation(session, level="contact_clinic")
    rows = [Message(clinic_id=patient.clinic_id, recipient=Recipient.PATIENT, patient=patient,
                    session=session, escalation=escalation,
                    kind=MessageKind.TRIAGE_NOTE, channel=patient.preferred_channel,
                    context={"level": "contact_clinic", "advice": [f"Advice {n}."],
                             "deadline": None},
                    due_at=now, next_attempt_at=now,
                    dedupe_key=f"test-note.p{patient.pk}.n{n}") for n in range(count)]
    return Message.objects.bulk_create(rows)


def test_two_workers_send_every_message_exactly_once(tmp_path: Path) -> None:
    clinic = make_clinic()
    user = make_user(clinic, Role.CLINICIAN)
    by_email = make_patient(clinic, user, preferred_channel="email", messages_opt_in=True)
    by_sms = make_patient(clinic, user, preferred_channel="sms", messages_opt_in=True)
    keys = {m.dedupe_key for m in [*notes(by_email, 40), *notes(by_sms, 40)]}

    env = worker_env(tmp_path)
    workers = [worker(env, f"worker-{n}", "--batch", "3") for n in (1, 2)]
    for process in workers:
        finish(process)

    mail_files = list((tmp_path / "sent-mail").glob("*"))
    emailed = Counter(key for f in mail_files for key in MESSAGE_ID.findall(f.read_text()))
    texted = Counter(json.loads(f.read_text())["dedupe_key"]
                     for f in (tmp_path / "sent-sms").glob("*.json"))
    delivered = emailed + texted
    assert set(delivered) == keys
    assert set(delivered.values()) == {1}, delivered.most_common(3)
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 80
    assert set(Message.objects.values_list("attempts", flat=True)) == {1}


def test_a_worker_killed_mid_send_leads_to_one_resend_with_the_same_key(
        tmp_path: Path) -> None:
    clinic = make_clinic()
    user = make_user(clinic, Role.CLINICIAN)
    patient = make_patient(clinic, user, preferred_channel="sms", messages_opt_in=True)
    [message] = notes(patient, 1)
    timeout = 4
    with WebhookSink(block_first=True) as sink:
        env = worker_env(tmp_path, NEEDLECARE_SMS_BACKEND="webhook",
                         NEEDLECARE_SMS_WEBHOOK_URL=sink.url,
                         NEEDLECARE_SMS_WEBHOOK_TIMEOUT="60",
                         NEEDLECARE_WORKER_CLAIM_TIMEOUT=str(timeout))
        doomed = worker(env, "doomed")
        assert sink.received.wait(60), "the first worker never reached the provider"
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(30)
        message.refresh_from_db()
        assert (message.status, message.claimed_by) == (MessageStatus.SENDING, "doomed")

        # Once the claim has timed out, the next worker sends it again, once.
        assert message.claimed_at is not None
        time.sleep(max(0.0, message.claimed_at.timestamp() + timeout - time.time()) + 0.2)
        finish(worker(env, "rescuer"))
        finish(worker(env, "another"))
    first, second = sink.requests
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"] \
        == message.dedupe_key
    assert len(sink.requests) == 2
    message.refresh_from_db()
    assert (message.status, message.attempts, message.claimed_by) == (
        MessageStatus.SENT, 2, "rescuer")


def test_a_killed_worker_s_message_is_sent_again_seconds_after_its_heartbeat_stops(
        tmp_path: Path) -> None:
    clinic = make_clinic()
    user = make_user(clinic, Role.CLINICIAN)
    patient = make_patient(clinic, user, preferred_channel="sms", messages_opt_in=True)
    [message] = notes(patient, 1)
    with WebhookSink(block_first=True) as sink:
        env = worker_env(tmp_path, NEEDLECARE_SMS_BACKEND="webhook",
                         NEEDLECARE_SMS_WEBHOOK_URL=sink.url,
                         NEEDLECARE_SMS_WEBHOOK_TIMEOUT="60",
                         # The claim would hold the message for five minutes...
                         NEEDLECARE_WORKER_CLAIM_TIMEOUT="300",
                         # ...but a worker silent for 3 seconds is taken for dead.
                         NEEDLECARE_WORKER_HEARTBEAT_SECONDS="0.5",
                         NEEDLECARE_WORKER_HEARTBEAT_STALE_SECONDS="3")
        doomed = worker(env, "doomed")
        assert sink.received.wait(60), "the first worker never reached the provider"
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(30)
        killed_at = time.time()
        last_beat = WorkerHeartbeat.objects.get(name="doomed").beat_at.timestamp()
        time.sleep(max(0.0, last_beat + 3 - time.time()) + 0.3)
        finish(worker(env, "rescuer"))
        assert time.time() - killed_at < 60  # seconds, far from the 300-second claim
    assert len(sink.requests) == 2
    assert sink.requests[0]["headers"]["Idempotency-Key"] \
        == sink.requests[1]["headers"]["Idempotency-Key"] == message.dedupe_key
    message.refresh_from_db()
    assert (message.status, message.attempts, message.claimed_by) == (
        MessageStatus.SENT, 2, "rescuer")
    assert not WorkerHeartbeat.objects.filter(name="rescuer").exists()  # stopped cleanly
