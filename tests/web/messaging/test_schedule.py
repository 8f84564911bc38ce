"""What a signed session schedules, and when: the protocol's days at its hour, clinic time,
outside quiet hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from needlecare import events
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.diary import services as diary
from needlecare.messaging.models import Message, MessageKind, MessageStatus, MessagingSettings
from tests.web.messaging.support import START, World, local, london, messages, sign

pytestmark = pytest.mark.django_db

SCHEDULE = default_protocol().data.aftercare.check_ins


def test_the_protocol_holds_the_timings_the_tests_expect() -> None:
    assert (SCHEDULE.days, SCHEDULE.invite_at_hour, SCHEDULE.reminder_after_hours) == (
        [1, 3, 7, 14, 28, 56], 18, 24)


def test_a_signed_session_schedules_aftercare_now_and_the_check_ins_at_18h(
        world: World) -> None:
    sign(world)
    [aftercare] = messages(kind=MessageKind.AFTERCARE_PLAN)
    assert aftercare.due_at == START
    assert aftercare.status == MessageStatus.PENDING
    assert (aftercare.patient, aftercare.session, aftercare.channel) == (
        world.patient, world.session, "email")

    invitations = messages(kind=MessageKind.CHECKIN_INVITATION)
    # 18:00 London time on each day, before and after the clocks go forward on 29 March.
    assert [local(m.due_at) for m in invitations] == [
        london(2026, 3, 3, 18), london(2026, 3, 5, 18), london(2026, 3, 9, 18),
        london(2026, 3, 16, 18), london(2026, 3, 30, 18), london(2026, 4, 27, 18)]
    assert [m.context["day"] for m in invitations] == SCHEDULE.days
    assert local(invitations[4].due_at).utcoffset() == dt.timedelta(hours=1)  # BST

    reminders = messages(kind=MessageKind.CHECKIN_REMINDER)
    assert [m.due_at - i.due_at for m, i in zip(reminders, invitations, strict=True)] == [
        dt.timedelta(hours=24)] * 6
    assert [m.context["invitation"] for m in reminders] == [i.dedupe_key for i in invitations]

    # The next session may be from day 28; the reminder goes three days before, at 18:00.
    [next_session] = messages(kind=MessageKind.NEXT_SESSION)
    assert local(next_session.due_at) == london(2026, 3, 27, 18)
    assert next_session.context == {"eligible_from": "2026-03-30"}
    assert Message.objects.count() == 1 + 6 + 6 + 1


def test_signing_again_schedules_nothing_twice(world: World) -> None:
    sign(world)
    before = Message.objects.count()
    with transaction.atomic():
        events.emit(events.SessionSigned(
            clinic_id=world.clinic.pk, patient_id=world.patient.pk,
            session_id=world.session.pk, plan_id=world.plan.pk))
    assert Message.objects.count() == before


def test_a_session_signed_in_quiet_hours_sends_its_aftercare_at_8(world: World,
                                                                    clock: Any) -> None:
    clock.move_to(london(2026, 3, 2, 22, 30))
    sign(world)
    [aftercare] = messages(kind=MessageKind.AFTERCARE_PLAN)
    assert local(aftercare.due_at) == london(2026, 3, 3, 8)


def test_the_clinic_s_own_quiet_hours_move_the_invitations(world: World) -> None:
    MessagingSettings.objects.create(clinic=world.clinic, quiet_from=dt.time(17),
                                     quiet_until=dt.time(9, 30))
    sign(world)
    invitations = messages(kind=MessageKind.CHECKIN_INVITATION)
    assert local(invitations[0].due_at) == london(2026, 3, 4, 9, 30)
    # The reminder counts from when the invitation goes, and is moved out of quiet hours too.
    reminder = messages(kind=MessageKind.CHECKIN_REMINDER)[0]
    assert local(reminder.due_at) == london(2026, 3, 5, 9, 30)


def test_the_last_session_of_a_plan_has_no_next_session_reminder(world: World) -> None:
    world.plan.sessions_planned = 1
    world.plan.save()
    sign(world)
    assert not messages(kind=MessageKind.NEXT_SESSION)


def test_a_booking_schedules_a_reminder_a_day_before(world: World) -> None:
    booked = diary.book_session(world.actor(world.front_desk), world.plan.pk,
                                world.clinician.pk, london(2026, 3, 10, 9, 30))
    [reminder] = messages(kind=MessageKind.APPOINTMENT_REMINDER)
    assert reminder.appointment == booked
    assert local(reminder.due_at) == london(2026, 3, 9, 9, 30)
    [confirmation] = messages(kind=MessageKind.APPOINTMENT_BOOKED)
    assert local(confirmation.due_at) == START


def test_a_booking_less_than_a_day_ahead_gets_no_reminder(world: World, clock: Any) -> None:
    clock.move_to(london(2026, 3, 2, 17))
    diary.book_session(world.actor(world.front_desk), world.plan.pk, world.clinician.pk,
                       london(2026, 3, 3, 9))
    assert not messages(kind=MessageKind.APPOINTMENT_REMINDER)


def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(world: World) -> None:
    booked = diary.book_session(world.actor(world.front_desk), world.plan.pk,
                                world.clinician.pk, london(2026, 3, 11, 9, 0))
    diary.move(world.actor(world.front_desk), booked.pk, london(2026, 3, 11, 9, 0)
               + dt.timedelta(minutes=-30), override_reason="The patient starts work at 9.")
    [reminder] = messages(kind=MessageKind.APPOINTMENT_REMINDER,
                          status=MessageStatus.PENDING)
    # 24 hours before 08:30 is 08:30, after quiet hours end at 08:00: kept.
    assert local(reminder.due_at) == london(2026, 3, 10, 8, 30)
