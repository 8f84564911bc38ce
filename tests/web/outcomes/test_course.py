"""The course as the plan page and the patient page show it: sessions done against planned,
each interval against the protocol's window, where the patient stands with the earliest safe
date for the next session (or what blocks it), and the summary once the course has ended."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from needlecare.care.models import Consent
from needlecare.outcomes import course
from needlecare.recovery.models import Escalation
from tests.web.outcomes.support import World, check_in_at, link_of, london, sign_on

FIRST = dt.date(2026, 9, 1)


def _course(world: World, on: dt.date) -> course.Course:
    with time_machine.travel(london(on.year, on.month, on.day, 12), tick=False):
        return course.plan_course(world.actor(), world.plan.pk)


@pytest.mark.django_db
def test_a_new_plan_is_session_1_of_3_safe_from_today(world: World) -> None:
    found = _course(world, FIRST)
    assert found.progress.summary == "Session 1 of 3, next safe from 1 Sep 2026"
    assert found.progress.sessions_done == 0
    assert found.progress.sessions_remaining == 3


@pytest.mark.django_db
def test_the_next_session_is_safe_from_the_plan_s_interval_after_the_last(
        world: World) -> None:
    sign_on(world, FIRST)
    sign_on(world, FIRST + dt.timedelta(days=28))
    found = _course(world, dt.date(2026, 10, 5))
    assert found.progress.summary == "Session 3 of 3, next safe from 27 Oct 2026"
    assert found.safe is not None
    assert found.safe.binding[0].code == "min_interval"
    assert [i.status for i in found.progress.intervals] == ["on_time"]


@pytest.mark.django_db
def test_intervals_are_early_on_time_or_late_against_the_window(world: World) -> None:
    world.plan.sessions_planned = 4
    world.plan.save()
    sign_on(world, FIRST)
    sign_on(world, FIRST + dt.timedelta(days=20), interval_reason="patient travelling")  # early
    sign_on(world, FIRST + dt.timedelta(days=20 + 43))  # 43 > 28 + 14: late
    found = _course(world, FIRST + dt.timedelta(days=70))
    assert [(i.days, i.status) for i in found.progress.intervals] == [
        (20, "early"), (43, "late")]
    assert (found.progress.early, found.progress.on_time, found.progress.late) == (1, 0, 1)
    assert found.progress.summary.startswith("Session 4 of 4")


@pytest.mark.django_db
def test_an_open_escalation_makes_the_next_session_not_bookable(world: World) -> None:
    sign_on(world, FIRST)
    check_in_at(world, london(2026, 9, 2, 19), flags=("fever_or_chills",))
    assert Escalation.objects.filter(status="open").exists()
    found = _course(world, dt.date(2026, 10, 5))
    assert found.safe is not None
    assert found.safe.date is None
    assert [b.code for b in found.safe.blocked] == ["open_escalation"]
    assert found.progress.summary == "Session 2 of 3, not bookable now (open escalation)"


@pytest.mark.django_db
def test_a_withdrawn_consent_blocks_the_next_session(world: World) -> None:
    sign_on(world, FIRST)
    Consent.objects.filter(patient=world.patient).update(withdrawn_at=london(2026, 9, 5))
    found = _course(world, dt.date(2026, 10, 5))
    assert [b.code for b in found.safe.blocked] == ["no_consent"]  # type: ignore[union-attr]


@pytest.mark.django_db
def test_a_completed_course_has_its_summary_on_the_plan_and_patient_pages(
        world: World) -> None:
    for n in range(3):
        sign_on(world, FIRST + dt.timedelta(days=28 * n))
    found = _course(world, dt.date(2026, 11, 20))
    assert found.complete
    assert found.progress.summary == "Course complete: 3 of 3 sessions"
    summary = found.summary()
    assert (summary["sessions"], summary["on_time"], summary["follow_ups"]) == (3, 2, 3)
    with time_machine.travel(london(2026, 11, 20, 12), tick=False):
        plan_page = world.client().get(reverse("plan-detail", args=[world.plan.pk]))
        chart_page = world.client().get(reverse("patient-detail", args=[world.patient.pk]))
    assert "Course summary" in plan_page.content.decode()
    assert "Course complete: 3 of 3 sessions" in chart_page.content.decode()


@pytest.mark.django_db
def test_the_patient_sees_their_position_and_what_to_expect_at_their_stage(
        world: World) -> None:
    sign_on(world, FIRST)
    link_of(world)
    from needlecare.access import Actor

    with time_machine.travel(london(2026, 9, 3, 12), tick=False):
        stage = course.patient_stage(Actor.for_link(link_of(world)))
    assert stage.stage == "healing"
    texts = [item.text for item in stage.expectations.items]
    assert any("not see the result yet" in t for t in texts)
    # Clinic-policy items are labelled, never presented as evidence.
    assert all(item.basis != "clinic_policy" or item.evidence == "P"
               for item in stage.expectations.items)


@pytest.mark.django_db
def test_the_front_desk_sees_no_course_section(world: World) -> None:
    sign_on(world, FIRST)
    page = world.client(world.front_desk).get(reverse("patient-detail",
                                                      args=[world.patient.pk]))
    assert "Courses and outcomes" not in page.content.decode()
