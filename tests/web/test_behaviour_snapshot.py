"""What the services do, as the outside world sees it, pinned by a committed snapshot.

A scripted journey (book, sign, issue a link, check in at every triage level, acknowledge,
note, close with a note to the patient, book and cancel in the diary, revoke, withdraw consent)
runs on a stopped clock; the outbox rows it leaves (kind, recipient, channel, due time, dedupe
key, status) and the sequence of audit actions are compared with ``snapshots/journey.json``. A
refactoring must leave both exactly as they were, on SQLite and on PostgreSQL.

A deliberate change of behaviour regenerates the file: ``NEEDLECARE_UPDATE_SNAPSHOT=1 pytest
tests/web/test_behaviour_snapshot.py``, and the diff is reviewed like code.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine

from needlecare.audit.models import AuditEvent
from needlecare.care import services as care
from needlecare.diary import services as diary
from needlecare.messaging.models import Message
from needlecare.recovery import links
from needlecare.recovery import services as recovery
from needlecare.recovery.models import Escalation, Outcome
from tests.web.messaging.support import chart, check_in, live_link, london, make_world, work

SNAPSHOT = Path(__file__).parent / "snapshots" / "journey.json"

pytestmark = pytest.mark.django_db(transaction=False)


class _Labels:
    """Row ids differ between databases and runs; the snapshot names each by its order."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, int], str] = {}

    def __call__(self, prefix: str, pk: int) -> str:
        key = (prefix, pk)
        if key not in self.seen:
            count = sum(1 for p, _ in self.seen if p == prefix)
            self.seen[key] = f"{prefix}#{count + 1}"
        return self.seen[key]


_KEY_IDS = re.compile(r"\.([sceuglna])(\d+)")


def _key(dedupe_key: str, label: _Labels) -> str:
    def name(match: re.Match[str]) -> str:
        prefix, pk = match.group(1), int(match.group(2))
        if prefix == "g" and pk == 0:
            return ".g0"
        return "." + label(prefix, pk)

    return _KEY_IDS.sub(name, dedupe_key)


def _journey() -> dict[str, Any]:
    with time_machine.travel(london(2026, 3, 2, 9, 0), tick=False) as clock:
        world = make_world(booked_for=london(2026, 3, 2, 10, 0))
        first_audit = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
        first_audit = first_audit or 0
        staff = world.actor()
        desk = world.actor(world.front_desk)

        # A second session booked ahead in the diary, so booking itself is in the journey.
        later = diary.book_session(desk, world.plan.pk, world.clinician.pk,
                                   london(2026, 4, 6, 11, 0))
        clock.move_to(london(2026, 3, 2, 10, 30))
        care.sign_session(staff, world.session.pk, chart(dt.date(2026, 3, 2)))
        work()
        links.send_link(desk, world.patient.pk)
        link = live_link(world.session)

        # Day 1: reassuring. Day 2: contact the clinic. Day 3: urgent, then emergency.
        clock.move_to(london(2026, 3, 3, 19, 0))
        work()
        check_in(link)
        clock.move_to(london(2026, 3, 4, 12, 0))
        check_in(link, flags=("firm_bumps",))
        escalation = Escalation.objects.get(session=world.session)
        recovery.acknowledge_escalation(staff, escalation.pk)
        clock.move_to(london(2026, 3, 5, 8, 0))
        check_in(link, flags=("pus_or_yellow_crusts",))
        clock.move_to(london(2026, 3, 5, 8, 30))
        check_in(link, flags=("breathing_or_throat_swelling",))
        work()
        recovery.acknowledge_escalation(staff, escalation.pk)
        recovery.add_escalation_note(staff, escalation.pk, "Called; seen in clinic at 9.")
        recovery.close_escalation(staff, escalation.pk, Outcome.SEEN_IN_CLINIC, "Settled.",
                                  note_to_patient="All settled; see you at your next visit.")
        clock.move_to(london(2026, 3, 9, 18, 30))
        work()

        diary.cancel(desk, later.pk, "Patient is travelling.")
        links.revoke_link(staff, link.pk, "Patient lost their phone.")
        consent = world.patient.consents.get(kind="treatment")
        care.withdraw_consent(staff, consent.pk, "Patient changed their mind.")
        clock.move_to(london(2026, 4, 30, 12, 0))
        work()

        label = _Labels()
        for prefix, pk in (("s", world.session.pk), ("s", later.treatment_session_id),
                           ("a", later.pk), ("e", escalation.pk),
                           ("u", world.clinician.pk), ("u", world.owner.pk), ("l", link.pk)):
            label(prefix, pk)
        outbox = [
            {"kind": m.kind, "recipient": m.recipient, "channel": m.channel,
             "due_at": m.due_at.isoformat(), "dedupe_key": _key(m.dedupe_key, label),
             "status": m.status}
            for m in Message.objects.filter(clinic=world.clinic).order_by("due_at", "dedupe_key")
        ]
        audit = [
            f"{e.actor_kind} {e.action} {e.object_type}"
            for e in AuditEvent.objects.filter(id__gt=first_audit, clinic=world.clinic)
            .order_by("id")
        ]
    return {"outbox": outbox, "audit": audit}


def test_journey_leaves_the_same_messages_and_audit_trail() -> None:
    observed = _journey()
    if os.environ.get("NEEDLECARE_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(observed, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    assert observed["audit"] == expected["audit"]
    assert observed["outbox"] == expected["outbox"]
