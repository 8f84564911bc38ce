"""Who sees what: clinicians and owners see every message of their clinic with what it said;
the front desk sees status lines without bodies, and no clinical messages; another clinic's
staff see nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from needlecare.access import Actor
from needlecare.accounts.models import Role
from needlecare.audit.models import AuditEvent
from needlecare.messaging import services
from needlecare.messaging.models import Message, MessageKind, MessageStatus
from tests.factories import make_clinic, make_user
from tests.web.messaging.support import World, check_in, live_link, london, make_world, sign, work

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(world: World, clock: Any, settings: Any) -> World:
    """An aftercare plan that fails, a sent invitation, an urgent check-in (note, alerts)."""
    settings.EMAIL_BACKEND = "tests.web.messaging.support.PickyEmailBackend"
    sign(world)
    work()
    clock.move_to(london(2026, 3, 3, 18))
    work()
    clock.move_to(london(2026, 3, 4, 10))
    check_in(live_link(world.session), flags=("fever_or_chills",))
    work()
    return world


def page_of(world: World, user: Any, name: str = "outbox", *args: Any, query: str = "") -> str:
    response = world.client(user).get(reverse(name, args=args) + query)
    assert response.status_code == 200
    return response.content.decode()


def test_clinicians_see_failures_first_and_what_each_message_said(story: World) -> None:
    page = page_of(story, story.clinician)
    failures, rest = page.split('id="failures"')[1].split("</table>", 1)
    assert "Aftercare plan and personal link" in failures
    assert "mailbox full" in failures
    assert "Retry" in failures
    assert "What it said" in rest
    assert "How is your skin healing?" in rest  # the subject of the sent invitation
    assert "Note after a check-in" in rest
    assert "Clinician alert" in rest
    assert "[personal link]" in rest  # the stored copy; the token itself is not kept


def test_the_front_desk_sees_status_lines_only_and_no_clinical_messages(story: World) -> None:
    page = page_of(story, story.front_desk)
    assert "Aftercare plan and personal link" in page
    assert "mailbox full" in page
    assert "Check-in invitation" in page
    assert "What it said" not in page
    assert "How is your skin healing?" not in page
    assert "Note after a check-in" not in page
    assert "Clinician alert" not in page
    patient_page = page_of(story, story.front_desk, "patient-detail", story.patient.pk)
    assert "Check-in invitation" in patient_page
    assert "Note after a check-in" not in patient_page
    assert "What it said" not in patient_page
    note = Message.objects.get(kind=MessageKind.TRIAGE_NOTE)
    client = story.client(story.front_desk)
    assert client.post(reverse("message-cancel", args=[note.pk])).status_code == 404


def test_another_clinic_sees_nothing(story: World) -> None:
    stranger = make_user(make_clinic(), Role.OWNER)
    page = page_of(story, stranger)
    assert "No messages here." in page
    assert story.patient.full_name not in page
    failed = Message.objects.get(status=MessageStatus.FAILED)
    client = story.client(stranger)
    assert client.post(reverse("message-retry", args=[failed.pk])).status_code == 404
    assert client.get(reverse("patient-detail", args=[story.patient.pk])).status_code == 404
    failed.refresh_from_db()
    assert failed.status == MessageStatus.FAILED


def test_the_patient_page_lists_the_patient_s_messages_with_their_status(story: World) -> None:
    page = page_of(story, story.clinician, "patient-detail", story.patient.pk)
    section = page.split('id="patient-messages"')[1]
    assert "Aftercare plan and personal link" in section
    assert "Sent" in section
    assert "Failed, will retry" in section
    assert "Clinician alert" in section  # clinicians see the alerts about this patient


def test_the_patient_messages_service_audits_its_read(story: World) -> None:
    result = services.patient_messages(story.actor(), story.patient.pk)
    assert {m.kind for m in result.messages} >= {MessageKind.AFTERCARE_PLAN,
                                                 MessageKind.CLINICIAN_ALERT}
    assert AuditEvent.objects.filter(action="message.list", patient=story.patient,
                                     actor=story.clinician).count() == 1


def test_the_outbox_page_filters_by_status(story: World) -> None:
    page = page_of(story, story.clinician, query="?status=sent")
    assert "Messages: Sent" in page
    assert "mailbox full" not in page
    page = page_of(story, story.clinician, query="?status=nonsense")
    assert "Select a valid choice" in page  # a clear message, not an error page


def test_viewing_the_outbox_is_audited(story: World) -> None:
    page_of(story, story.clinician)
    event = AuditEvent.objects.filter(action="outbox.view").get()
    assert event.actor == story.clinician
    assert len(event.detail["messages"]) == Message.objects.filter(
        clinic=story.clinic).count()


def test_the_outbox_page_needs_login(story: World) -> None:
    from django.test import Client

    response = Client().get(reverse("outbox"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_outbox_page_runs_a_fixed_number_of_queries(
        db: None, clock: Any, django_assert_max_num_queries: Any) -> None:
    world = make_world()
    sign(world)
    client = world.client()
    # 14: the failures (failed, dead) and the "next to be sent" list (waiting, sending) are
    # read in two queries each, each in due order from the (clinic, status, due_at) index
    # (messaging/services._newest and _soonest).
    with django_assert_max_num_queries(14):
        assert client.get(reverse("outbox")).status_code == 200



def test_waiting_messages_come_soonest_first_apart_from_what_was_dealt_with(
        story: World) -> None:
    page = page_of(story, story.clinician)
    waiting, dealt_with = page.split('id="next"')[1].split("Sent and closed, latest first", 1)
    assert "Waiting" in waiting
    assert "Waiting" not in dealt_with.split("</table>")[0]
    assert "Sent" in dealt_with
    shown = services.outbox(Actor(user=story.clinician))
    assert len(shown.next_up) >= 2
    assert [m.due_at for m in shown.next_up] == sorted(m.due_at for m in shown.next_up)
    assert all(m.status == MessageStatus.PENDING for m in shown.next_up)
