"""The patient's own outcome questions: when a course's last planned session is signed, the
follow-up points of the outcome-measures file become invitations, sent through the outbox on
their day with one reminder; the patient answers from their personal link."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from needlecare.access import Actor
from needlecare.errors import ServiceError
from needlecare.messaging.models import Message, MessageKind
from needlecare.messaging.worker import run_worker
from needlecare.outcomes import records
from needlecare.outcomes.models import InvitationStatus, OutcomeInvitation, OutcomeRecord
from tests.web.outcomes.support import LONDON, World, issue_link, london, sign_on, verified_phone

FIRST = dt.date(2026, 7, 7)
LAST = FIRST + dt.timedelta(days=56)  # 1 September 2026


def _course(world: World) -> None:
    for n in range(3):
        sign_on(world, FIRST + dt.timedelta(days=28 * n))


def _work(at: dt.datetime) -> None:
    with time_machine.travel(at, tick=False):
        run_worker(once=True, worker="test-worker")


@pytest.mark.django_db
def test_no_invitation_until_the_course_s_last_planned_session(world: World) -> None:
    sign_on(world, FIRST)
    sign_on(world, FIRST + dt.timedelta(days=28))
    assert not OutcomeInvitation.objects.exists()
    assert not Message.objects.filter(kind=MessageKind.OUTCOME_INVITATION).exists()


@pytest.mark.django_db
def test_the_last_session_schedules_the_follow_ups_with_one_reminder_each(
        world: World) -> None:
    _course(world)
    invitations = list(OutcomeInvitation.objects.order_by("due"))
    assert [(i.point, i.due) for i in invitations] == [
        ("four_weeks_after", LAST + dt.timedelta(days=28)),
        ("three_months_after", LAST + dt.timedelta(days=91)),
        ("six_months_after", LAST + dt.timedelta(days=182))]
    assert invitations[0].measures == ["gais_patient", "satisfaction"]
    assert invitations[0].answer_by == invitations[0].due + dt.timedelta(days=14)
    invite = Message.objects.get(kind=MessageKind.OUTCOME_INVITATION,
                                 context__invitation=invitations[0].pk)
    remind = Message.objects.get(kind=MessageKind.OUTCOME_REMINDER,
                                 context__invitation=invitations[0].pk)
    # At the protocol's invitation hour (18:00, clinic time), on the due and reminder days.
    assert invite.due_at.astimezone(LONDON) == london(2026, 9, 29, 18)
    assert remind.due_at.astimezone(LONDON) == london(2026, 10, 6, 18)
    assert Message.objects.filter(kind=MessageKind.OUTCOME_INVITATION).count() == 3


@pytest.mark.django_db
def test_the_invitation_carries_the_link_to_the_questions_and_the_reminder_is_skipped_once_answered(
        world: World) -> None:
    _course(world)
    invitation = OutcomeInvitation.objects.get(point="four_weeks_after")
    _work(london(2026, 9, 29, 18, 5))
    [sent] = [m for m in mail.outbox if "skin look now" in m.subject]
    assert f"/outcomes/{invitation.pk}/" in sent.body
    # A clinician replaces the link in between: the reminder is scheduled again with it.
    with time_machine.travel(london(2026, 9, 30, 9), tick=False):
        link, _token = issue_link(world)
    with time_machine.travel(london(2026, 10, 1, 9), tick=False):
        records.answer_invitation(Actor.for_link(link), invitation.pk, {
            "gais_patient": {"rating": 4}, "satisfaction": {"satisfaction": 8}})
    _work(london(2026, 10, 6, 18, 5))
    reminder = Message.objects.exclude(status="cancelled").get(
        kind=MessageKind.OUTCOME_REMINDER, context__invitation=invitation.pk)
    assert reminder.link_id == link.pk
    assert reminder.status == "skipped"
    assert "answered" in reminder.reason


@pytest.mark.django_db
def test_a_patient_answers_the_4_week_questions_from_their_link(world: World) -> None:
    _course(world)
    invitation = OutcomeInvitation.objects.get(point="four_weeks_after")
    _link, token = issue_link(world)
    with time_machine.travel(london(2026, 9, 30, 19), tick=False):
        phone = verified_phone(world, token)
        home = phone.get(reverse("patient-home", args=[token])).content.decode()
        assert "Answer the questions" in home
        page = phone.get(reverse("patient-outcomes", args=[token, invitation.pk]))
        assert "Compared with before your first treatment" in page.content.decode()
        missing = phone.post(reverse("patient-outcomes", args=[token, invitation.pk]),
                             {"gais_patient__rating": "4"})
        assert "Please choose an answer." in missing.content.decode()
        assert not OutcomeRecord.objects.exists()
        done = phone.post(reverse("patient-outcomes", args=[token, invitation.pk]),
                          {"gais_patient__rating": "4", "satisfaction__satisfaction": "9"})
        assert done.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ANSWERED
    by_measure = {r.measure: r for r in OutcomeRecord.objects.all()}
    assert by_measure["gais_patient"].direction == "improved"  # "much improved"
    assert by_measure["gais_patient"].respondent == "patient"
    assert by_measure["satisfaction"].score == 9
    assert by_measure["satisfaction"].direction == ""  # satisfaction is not a change


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "code"), [
    (london(2026, 9, 28, 12), "invitation_not_yet"),
    (london(2026, 10, 14, 12), "invitation_closed"),
])
def test_questions_are_open_from_their_day_until_the_answer_window_closes(
        world: World, day: dt.datetime, code: str) -> None:
    _course(world)
    invitation = OutcomeInvitation.objects.get(point="four_weeks_after")
    link, _token = issue_link(world)
    with time_machine.travel(day, tick=False), pytest.raises(ServiceError) as refused:
        records.answer_invitation(Actor.for_link(link), invitation.pk, {
            "gais_patient": {"rating": 3}, "satisfaction": {"satisfaction": 5}})
    assert refused.value.code == code


@pytest.mark.django_db
def test_answering_twice_is_refused(world: World) -> None:
    _course(world)
    invitation = OutcomeInvitation.objects.get(point="four_weeks_after")
    link, _token = issue_link(world)
    answers: dict[str, Any] = {"gais_patient": {"rating": 3},
                               "satisfaction": {"satisfaction": 5}}
    with time_machine.travel(london(2026, 10, 1, 12), tick=False):
        records.answer_invitation(Actor.for_link(link), invitation.pk, answers)
        with pytest.raises(ServiceError) as refused:
            records.answer_invitation(Actor.for_link(link), invitation.pk, answers)
    assert refused.value.code == "already_answered"
    assert OutcomeRecord.objects.count() == 2


@pytest.mark.django_db
def test_another_patient_s_link_cannot_open_the_questions(world: World) -> None:
    from tests.web.outcomes.support import make_world

    _course(world)
    invitation = OutcomeInvitation.objects.get(point="four_weeks_after")
    other = make_world(clinic=world.clinic, given_name="Robin")
    link, _token = issue_link(other)
    with time_machine.travel(london(2026, 10, 1, 12), tick=False), \
            pytest.raises(ServiceError) as refused:
        records.open_invitation(Actor.for_link(link), invitation.pk)
    assert refused.value.kind == "not_found"


@pytest.mark.django_db
def test_a_session_signed_after_the_course_ended_moves_the_follow_ups(world: World) -> None:
    _course(world)
    extra = sign_on(world, LAST + dt.timedelta(days=28))
    pending = OutcomeInvitation.objects.filter(status=InvitationStatus.PENDING)
    assert {i.session_id for i in pending} == {extra.pk}
    cancelled = OutcomeInvitation.objects.filter(status=InvitationStatus.CANCELLED)
    assert cancelled.count() == 3
    # The first invitation's message is skipped at send time: it was cancelled.
    old = cancelled.get(point="four_weeks_after")
    _work(london(2026, 9, 29, 18, 5))
    assert Message.objects.get(kind=MessageKind.OUTCOME_INVITATION,
                               context__invitation=old.pk).status == "skipped"
