"""The outbox page does not grow with the outbox (issue 15): the same queries for a few or
many messages, no count of what is waiting, older messages a page at a time from a cursor, and
the "next to be sent" query read in due order from an index."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from needlecare import clock as needlecare_clock
from needlecare.messaging.models import (
    Message,
    MessageChannel,
    MessageKind,
    MessageStatus,
    Recipient,
)
from tests.web.messaging.support import World, make_world

pytestmark = pytest.mark.django_db

_keys = itertools.count()


def _fill(world: World, status: str, n: int, *, days: int) -> None:
    now = needlecare_clock.now()
    Message.objects.bulk_create([
        Message(clinic=world.clinic, recipient=Recipient.PATIENT, patient=world.patient,
                kind=MessageKind.CHECKIN_REMINDER, channel=MessageChannel.EMAIL,
                due_at=now + dt.timedelta(days=days, minutes=i),
                next_attempt_at=now + dt.timedelta(days=days, minutes=i), status=status,
                dedupe_key=f"scale-{next(_keys)}")
        for i in range(n)])


def _queries(n: int) -> int:
    world = make_world()
    _fill(world, MessageStatus.PENDING, n, days=3)
    _fill(world, MessageStatus.SENT, n, days=-3)
    _fill(world, MessageStatus.FAILED, max(1, n // 10), days=-1)
    with CaptureQueriesContext(connection) as queries:
        assert world.client().get(reverse("outbox")).status_code == 200
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
    return len(queries)


def test_the_outbox_reads_the_same_queries_for_10_or_300_messages(db: None, clock: Any) -> None:
    assert _queries(10) == _queries(300)


def _failure_queries(failed: int) -> tuple[int, str]:
    world = make_world()
    _fill(world, MessageStatus.DEAD, failed, days=-2)
    _fill(world, MessageStatus.FAILED, failed, days=-1)
    with CaptureQueriesContext(connection) as queries:
        response = world.client().get(reverse("outbox"))
    assert response.status_code == 200
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
    return len(queries), response.content.decode()


def test_many_failures_are_not_counted_and_the_latest_are_shown(db: None, clock: Any) -> None:
    from needlecare.messaging.services import FAILURES_SHOWN

    few, page = _failure_queries(3)
    assert "6 messages failed" in page
    many, page = _failure_queries(FAILURES_SHOWN)
    assert many == few
    assert f"More than {FAILURES_SHOWN} messages failed" in page
    assert "?status=dead" in page


def test_the_latest_failures_come_first_from_both_statuses(world: World) -> None:
    from needlecare.messaging import services

    _fill(world, MessageStatus.DEAD, 3, days=-2)
    _fill(world, MessageStatus.FAILED, 3, days=-1)
    shown = services.outbox(world.actor())
    due = [m.due_at for m in shown.failures]
    assert due == sorted(due, reverse=True)
    assert [m.status for m in shown.failures] == ["failed"] * 3 + ["dead"] * 3
    assert not shown.more_failures


def test_older_messages_come_a_page_at_a_time_and_back(world: World) -> None:
    _fill(world, MessageStatus.SENT, 120, days=-10)
    client = world.client()
    response = client.get(reverse("outbox"))
    sizes = []
    while True:
        sizes.append(len(response.context["page"].object_list))
        older = re.search(r'href="\?([^"]*after=[^"]*)" rel="next"', response.content.decode())
        if older is None:
            break
        response = client.get(reverse("outbox") + "?" + older.group(1).replace("&amp;", "&"))
    assert sizes[:2] == [50, 50]
    assert sum(sizes) == Message.objects.filter(clinic=world.clinic).exclude(
        status__in=("pending", "sending", "failed", "dead")).count()
    newer = re.search(r'href="\?([^"]*before=[^"]*)" rel="prev"', response.content.decode())
    assert newer is not None
    back = client.get(reverse("outbox") + "?" + newer.group(1).replace("&amp;", "&"))
    assert len(back.context["page"].object_list) == 50


def test_a_page_from_a_cursor_continues_exactly_where_the_last_ended(world: World) -> None:
    from needlecare.messaging import services

    _fill(world, MessageStatus.SENT, 75, days=-10)
    # All due at the same moment, so every page boundary falls between equal times: the id
    # decides.
    Message.objects.filter(clinic=world.clinic, status="sent").update(
        due_at=needlecare_clock.now() - dt.timedelta(days=10))
    first = services.outbox(world.actor(), "sent")
    second = services.outbox(world.actor(), "sent", after=first.page.older)
    ids = [m.pk for m in [*first.page.object_list, *second.page.object_list]]
    everything = list(Message.objects.filter(clinic=world.clinic, status="sent")
                      .order_by("-due_at", "-id").values_list("pk", flat=True))
    assert ids == everything
    assert second.page.older is None
    back = services.outbox(world.actor(), "sent", before=second.page.newer)
    assert [m.pk for m in back.page.object_list] == everything[:50]
    assert back.page.newer is None


def test_waiting_messages_page_soonest_first(world: World) -> None:
    from needlecare.messaging import services

    _fill(world, MessageStatus.PENDING, 60, days=1)
    first = services.outbox(world.actor(), "pending")
    second = services.outbox(world.actor(), "pending", after=first.page.older)
    due = [m.due_at for m in [*first.page.object_list, *second.page.object_list]]
    assert due == sorted(due)
    assert len(due) == Message.objects.filter(clinic=world.clinic, status="pending").count()


def test_a_nonsense_cursor_shows_the_first_page(world: World) -> None:
    response = world.client().get(reverse("outbox"), {"after": "yesterday~x"})
    assert response.status_code == 200


def _plan(queryset: Any) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE messaging_message")
            cursor.execute("SET LOCAL enable_seqscan = off")
    return queryset.explain()


def test_failures_are_read_newest_first_from_the_clinic_status_index(world: World) -> None:
    _fill(world, MessageStatus.DEAD, 200, days=-3)
    _fill(world, MessageStatus.SENT, 200, days=-3)
    plan = _plan(Message.objects.filter(clinic=world.clinic, status=MessageStatus.DEAD)
                 .order_by("-due_at", "-id")[:101])
    assert "message_clinic_status" in plan, plan
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives the order


def test_next_up_is_read_in_due_order_from_the_clinic_status_index(world: World) -> None:
    _fill(world, MessageStatus.PENDING, 200, days=3)
    _fill(world, MessageStatus.SENT, 200, days=-3)
    plan = _plan(Message.objects.filter(clinic=world.clinic, status=MessageStatus.PENDING)
                 .order_by("due_at", "id")[:21])
    assert "message_clinic_status" in plan, plan
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives the order


def test_closed_escalations_are_read_from_their_index(world: World) -> None:
    from needlecare.recovery.models import Escalation

    plan = _plan(Escalation.objects.filter(clinic=world.clinic, status="closed")
                 .order_by("-closed_at", "-id")[:51])
    assert "escalation_closed" in plan, plan
