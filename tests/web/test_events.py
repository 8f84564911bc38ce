"""Services announce events; handlers run inside the service's transaction.

The event table in docs/architecture.md is the map a newcomer reads: it must name every event
and every handler registered for it, no more and no fewer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from needlecare import events
from needlecare.care import services as care
from needlecare.messaging.models import Message
from tests.web.messaging.support import World, chart

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
_ROW = re.compile(r"^\|\s*`(\w+)`\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|\s*$")


def _documented() -> dict[str, set[str]]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    table = text.split("### The event table", 1)[1].split("\n\n", 2)[1]
    rows: dict[str, set[str]] = {}
    for line in table.splitlines():
        match = _ROW.match(line)
        if match:
            rows[match.group(1)] = set(re.findall(r"`([\w.]+)`", match.group(3)))
    return rows


def _registered() -> dict[str, set[str]]:
    handlers = events.registered()
    return {kind.__name__: {f"{h.__module__.removeprefix('needlecare.')}.{h.__qualname__}"
                            for h in handlers.get(kind, [])}
            for kind in events.event_types()}


def test_the_event_table_names_every_event_and_handler() -> None:
    documented, registered = _documented(), _registered()
    assert set(documented) == set(registered), "events missing from the table or the code"
    for name, handlers in registered.items():
        assert documented[name] == handlers, name


def test_every_event_has_a_listener_or_says_why_not() -> None:
    # An event nobody listens to is announced for nothing; the table would show "—".
    assert all(_registered().values())


@pytest.fixture
def world(db: None) -> World:
    from tests.web.messaging.support import make_world

    return make_world()


class Abandon(Exception):
    pass


def _sign_then_abandon(world: World) -> None:
    with transaction.atomic():
        care.sign_session(world.actor(), world.session.pk,
                          chart(world.session.scheduled_for.date()))
        assert Message.objects.filter(session=world.session).exists()  # written inside
        raise Abandon


def test_a_rolled_back_change_leaves_no_outbox_row(world: World) -> None:
    with pytest.raises(Abandon):
        _sign_then_abandon(world)
    assert not Message.objects.filter(session=world.session).exists()
    world.session.refresh_from_db()
    assert world.session.status == "booked"


def test_a_failing_handler_undoes_the_whole_change(world: World, monkeypatch: Any) -> None:
    def broken(event: events.SessionSigned) -> None:
        raise RuntimeError("handler bug")

    monkeypatch.setitem(events._handlers, events.SessionSigned,
                        [*events._handlers[events.SessionSigned], broken])
    with pytest.raises(RuntimeError, match="handler bug"):
        care.sign_session(world.actor(), world.session.pk,
                          chart(world.session.scheduled_for.date()))
    world.session.refresh_from_db()
    assert world.session.status == "booked"
    assert not Message.objects.filter(session=world.session).exists()


def test_an_event_emitted_outside_a_transaction_is_refused() -> None:
    event = events.AppointmentCancelled(clinic_id=1, patient_id=1, appointment_id=1,
                                        reason="Test", by_patient=False)
    with pytest.raises(RuntimeError, match="outside a transaction"):
        events.emit(event)


def test_subscribing_twice_keeps_one_handler() -> None:
    calls: list[events.Event] = []

    def handler(event: events.AppointmentCancelled) -> None:
        calls.append(event)

    before = events.registered().get(events.AppointmentCancelled, [])
    try:
        events.subscribe(events.AppointmentCancelled, handler)
        events.subscribe(events.AppointmentCancelled, handler)
        assert events.registered()[events.AppointmentCancelled].count(handler) == 1
    finally:
        events._handlers[events.AppointmentCancelled] = before
