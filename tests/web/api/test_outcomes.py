"""The outcomes API: a course and its records, recording a clinician's measure (validated
by the clinical core), the patient answering their questions with their link's token, and the
clinic's numbers."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from needlecare.access import Actor
from needlecare.accounts.services import issue_api_token
from needlecare.outcomes.models import InvitationStatus, OutcomeInvitation
from tests.web.api.conftest import World, call
from tests.web.outcomes.support import issue_link, london, sign_on
from tests.web.outcomes.support import make_world as outcomes_world


def test_a_clinician_records_and_reads_a_course_s_outcomes(world: World) -> None:
    plan_id = world.session.plan_id
    today = timezone.localdate().isoformat()
    created = call("POST", f"/plans/{plan_id}/outcomes", world.tokens["clinician"],
                   {"measure": "goodman_baron_grade", "point": "baseline",
                    "assessed_on": today, "values": {"grade": 3}})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["score"], body["respondent"], body["direction"]) == (3, "clinician", None)
    assert body["sources"][0]["key"] == "goodman2006q"
    course = call("GET", f"/plans/{plan_id}/outcomes", world.tokens["owner"]).json()
    assert course["sessions_done"] == 1
    assert course["sessions_planned"] == 3
    assert course["summary"].startswith("Session 2 of 3")
    assert [o["measure"] for o in course["outcomes"]] == ["goodman_baron_grade"]


@pytest.mark.parametrize(("values", "code", "field"), [
    ({"grade": 5}, "invalid_outcome", "grade"),
    ({"grade": True}, "invalid", None),
    ({"grade": 2, "extra": 1}, "invalid_outcome", "extra"),
])
def test_values_outside_the_scale_are_refused(world: World, values: dict[str, object],
                                              code: str, field: str | None) -> None:
    response = call("POST", f"/plans/{world.session.plan_id}/outcomes",
                    world.tokens["clinician"],
                    {"measure": "goodman_baron_grade", "point": "baseline",
                     "assessed_on": timezone.localdate().isoformat(), "values": values})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


def test_the_front_desk_may_not_read_outcomes_or_numbers(world: World) -> None:
    desk = world.tokens["front_desk"]
    assert call("GET", f"/plans/{world.session.plan_id}/outcomes",
                desk).status_code == 403
    assert call("GET", "/numbers", desk).status_code == 403


def test_another_clinic_s_plan_is_not_found(world: World, other_world: World) -> None:
    assert call("GET", f"/plans/{other_world.session.plan_id}/outcomes",
                world.tokens["clinician"]).status_code == 404


@pytest.mark.django_db
def test_the_numbers_for_a_range() -> None:
    world = outcomes_world()
    sign_on(world, dt.date(2026, 9, 1))
    sign_on(world, dt.date(2026, 9, 29), by=world.owner)
    owner = issue_api_token(Actor(user=world.owner), world.owner.pk, "tests").secret
    with time_machine.travel(london(2026, 10, 15, 12), tick=False):
        response = call("GET", "/numbers?from=2026-09-01&to=2026-09-30", owner)
        inverted = call("GET", "/numbers?from=2026-09-30&to=2026-09-01", owner)
        default = call("GET", "/numbers", owner)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from"], body["to"], body["sessions"]) == ("2026-09-01", "2026-09-30", 2)
    assert [(m["month"], [p["sessions"] for p in m["by_practitioner"]])
            for m in body["months"]] == [("2026-09", [1, 1])]
    assert [(a["day"], a["invited"]) for a in body["checkin_adherence"]] == [
        (1, 2), (3, 2), (7, 2), (14, 2), (28, 1), (56, 0)]
    assert inverted.status_code == 422
    assert inverted.json()["error"]["code"] == "range_inverted"
    # Without a range: the twelve months to today.
    assert (default.json()["from"], default.json()["to"]) == ("2025-10-16", "2026-10-15")


@pytest.mark.django_db
def test_a_patient_answers_their_questions_with_their_link() -> None:
    world = outcomes_world()
    for n in range(3):
        sign_on(world, dt.date(2026, 7, 7) + dt.timedelta(days=28 * n))
    invitation = OutcomeInvitation.objects.get(point="four_weeks_after")
    _link, token = issue_link(world)
    with time_machine.travel(london(2026, 10, 1, 12), tick=False):
        response = call("POST", f"/outcome-invitations/{invitation.pk}/answers", token,
                        {"answers": {"gais_patient": {"rating": 5},
                                     "satisfaction": {"satisfaction": 10}}})
    assert response.status_code == 201, response.content
    assert {o["measure"]: o["respondent"] for o in response.json()} == {
        "gais_patient": "patient", "satisfaction": "patient"}
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ANSWERED
