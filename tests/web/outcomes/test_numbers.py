"""The clinic's numbers against a fixture whose every figure was worked out by hand (in the
comments), with and without the practitioner filter; the records behind a number; the CSV;
and a fixed number of queries however much there is to count.

The fixture, clinic in London, range 1 June to 31 August 2026, looked at on 15 September:

  patient  plan         sessions (practitioner)            in range
  P1       acne scars   2 Jun (A), 30 Jun (A)              both
  P2       acne scars   15 Jun (B, 2.20 mm: depth override) yes
  P3       fine lines   10 Jul (A)                          yes
  P4       acne scars   20 Aug (B)                          yes
  P5       acne scars   20 May (A), 2 Sep (A)               neither
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.db.models import F
from django.db.models.lookups import GreaterThan
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from needlecare.access import Actor
from needlecare.accounts.models import Role
from needlecare.care import services as care
from needlecare.errors import ServiceError
from needlecare.outcomes import numbers, records
from needlecare.outcomes.models import ANSWERED_DAY_BITS, SignedSessionFact
from needlecare.recovery.models import Escalation
from tests.factories import make_clinic, make_user
from tests.web.outcomes.support import (
    World,
    add_patient,
    check_in_at,
    london,
    make_world,
    sign_on,
)

TODAY = london(2026, 9, 15, 12)
RANGE = numbers.NumbersFilter(start=dt.date(2026, 6, 1), end=dt.date(2026, 8, 31))
NO_SYMPTOMS: dict[str, tuple[int, str]] = {}


def _escalation(session: Any, level: str, opened: dt.datetime, deadline: dt.datetime,
                acknowledged: dt.datetime | None) -> Escalation:
    return Escalation.objects.create(
        clinic_id=session.clinic_id, patient_id=session.patient_id, session=session,
        level=level, reasons=[], opened_at=opened, deadline=deadline,
        status="acknowledged" if acknowledged else "open", acknowledged_at=acknowledged)


def _outcome(world: World, measure: str, point: str, day: dt.date, values: dict[str, int]
             ) -> None:
    with time_machine.travel(TODAY, tick=False):
        records.record_outcome(world.actor(), world.plan.pk, measure=measure, point=point,
                               assessed_on=day, values=values)


def build() -> dict[str, Any]:
    p1 = make_world()
    a = p1.clinician
    b = make_user(p1.clinic, Role.CLINICIAN, first_name="Bea", last_name="Second")
    p2, p3 = add_patient(p1, "Pat"), add_patient(p1, "Rae", indications=("fine_lines",))
    p4, p5 = add_patient(p1, "Kit"), add_patient(p1, "Lou")

    with time_machine.travel(london(2026, 5, 1, 9), tick=False):  # before the range
        care.override_screening(Actor(user=a), p5.consultation.pk, "suitable_with_precautions",
                                "Thin skin at the jawline noted.")
    s5a = sign_on(p5, dt.date(2026, 5, 20))
    check_in_at(p5, london(2026, 5, 21, 19), NO_SYMPTOMS)  # before the range
    s1a = sign_on(p1, dt.date(2026, 6, 2))
    check_in_at(p1, london(2026, 6, 3, 19), NO_SYMPTOMS)  # day 1
    check_in_at(p1, london(2026, 6, 4, 19), NO_SYMPTOMS)  # day 2: answers day 1 again
    check_in_at(p1, london(2026, 6, 5, 19), NO_SYMPTOMS)  # day 3
    with time_machine.travel(london(2026, 6, 10, 9), tick=False):
        care.override_screening(Actor(user=b), p2.consultation.pk, "suitable_with_precautions",
                                "Sensitive skin after a peel last year.")
    s2 = sign_on(p2, dt.date(2026, 6, 15), by=b, depth="2.20", reason="deep boxcar scars")
    check_in_at(p2, london(2026, 6, 22, 19), NO_SYMPTOMS)  # day 7
    sign_on(p1, dt.date(2026, 6, 30))
    check_in_at(p1, london(2026, 7, 1, 8), NO_SYMPTOMS)  # day 1
    check_in_at(p1, london(2026, 7, 1, 20), {"dryness_flaking": (1, "better")})  # day 1 again
    s3 = sign_on(p3, dt.date(2026, 7, 10))
    check_in_at(p3, london(2026, 7, 10, 20), NO_SYMPTOMS)  # day 0: before any invitation
    check_in_at(p3, london(2026, 7, 24, 19), NO_SYMPTOMS)  # day 14
    s4 = sign_on(p4, dt.date(2026, 8, 20), by=b)
    check_in_at(p4, london(2026, 8, 21, 19), NO_SYMPTOMS)  # day 1
    sign_on(p5, dt.date(2026, 9, 2))
    check_in_at(p5, london(2026, 9, 3, 19), NO_SYMPTOMS)  # after the range

    with time_machine.travel(TODAY, tick=False):
        for session, kind, grade, onset in ((s1a, "pih", 2, dt.date(2026, 6, 20)),
                                            (s2, "bacterial_infection", 3, dt.date(2026, 6, 17)),
                                            (s5a, "prolonged_erythema", 1, dt.date(2026, 5, 28))):
            records.record_adverse_event(Actor(user=a), session.pk, type=kind, severity=grade,
                                         onset=onset)
    _escalation(s1a, "urgent", london(2026, 6, 3, 19), london(2026, 6, 3, 23),
                london(2026, 6, 3, 19, 30))  # 30 minutes, in time
    _escalation(s2, "emergency", london(2026, 6, 16, 10), london(2026, 6, 16, 11),
                london(2026, 6, 16, 12, 30))  # 150 minutes, late
    _escalation(s3, "contact_clinic", london(2026, 7, 11, 9), london(2026, 7, 12, 17, 30),
                None)  # never acknowledged, past its deadline: late
    _escalation(s4, "contact_clinic", london(2026, 8, 21, 8), london(2026, 8, 22, 17, 30),
                london(2026, 8, 21, 10))  # 120 minutes, in time
    _escalation(s5a, "urgent", london(2026, 5, 21, 19), london(2026, 5, 21, 23),
                london(2026, 5, 21, 19, 5))  # before the range

    _outcome(p1, "goodman_baron_grade", "baseline", dt.date(2026, 6, 2), {"grade": 4})
    _outcome(p1, "goodman_baron_grade", "three_months_after", dt.date(2026, 8, 31),
             {"grade": 1})  # improved: 3 of a possible 3 grades, 100 %
    _outcome(p2, "goodman_baron_grade", "baseline", dt.date(2026, 6, 15), {"grade": 3})
    _outcome(p2, "goodman_baron_grade", "three_months_after", dt.date(2026, 8, 30),
             {"grade": 3})  # unchanged, 0 %
    _outcome(p3, "glogau", "baseline", dt.date(2026, 7, 10), {"type": 3})
    _outcome(p3, "gais_clinician", "three_months_after", dt.date(2026, 8, 15),
             {"rating": 5})  # improved (rated)
    _outcome(p4, "gais_clinician", "three_months_after", dt.date(2026, 9, 10),
             {"rating": 2})  # after the range
    return {"world": p1, "a": a, "b": b}


@pytest.fixture
def fixture(db: None) -> dict[str, Any]:
    return build()


def _numbers(world: World, f: numbers.NumbersFilter = RANGE) -> numbers.ClinicNumbers:
    with time_machine.travel(TODAY, tick=False):
        return numbers.clinic_numbers(Actor(user=world.owner), f)


def test_sessions_by_month_and_practitioner(fixture: dict[str, Any]) -> None:
    found = _numbers(fixture["world"])
    assert found.sessions.value == 5
    names = [name for _pk, name in found.month_practitioners]
    assert names == ["Bea Second", "Casey Clinician"]  # by name
    assert [(m.month.month, m.total.value, [c.value for c in m.by_practitioner])
            for m in found.months] == [(6, 3, [1, 2]), (7, 1, [0, 1]), (8, 1, [1, 0])]


def test_adverse_events_per_100_sessions_by_severity_and_type(fixture: dict[str, Any]
                                                             ) -> None:
    found = _numbers(fixture["world"])
    assert found.adverse_events.value == 2
    assert found.adverse_events_per_100 == 40.0  # 2 of 5 sessions
    assert {i.key: (i.count.value, i.per_100_sessions) for i in found.by_severity} == {
        "1": (0, 0.0), "2": (1, 20.0), "3": (1, 20.0), "4": (0, 0.0), "5": (0, 0.0)}
    assert {i.key: i.count.value for i in found.by_type} == {"pih": 1,
                                                             "bacterial_infection": 1}


def test_escalations_by_level_time_to_acknowledge_and_share_in_time(
        fixture: dict[str, Any]) -> None:
    found = _numbers(fixture["world"])
    assert found.escalations.value == 4
    assert {r.level: (r.count.value, r.median_minutes) for r in found.by_level} == {
        "contact_clinic": (2, 120.0), "urgent": (1, 30.0), "emergency": (1, 150.0)}
    assert found.median_minutes_to_acknowledge == 120.0  # of 30, 120 and 150
    assert found.acknowledged == 3
    assert (found.answered_in_time.value, found.answered_in_time.denominator) == (2, 4)
    assert found.answered_in_time.share == 50.0
    assert found.late.value == 2


def test_check_in_adherence_by_invitation_day(fixture: dict[str, Any]) -> None:
    found = _numbers(fixture["world"])
    assert [(r.day, r.invited, r.answered.value, r.share) for r in found.adherence] == [
        (1, 5, 3, 60.0), (3, 5, 1, 20.0), (7, 5, 1, 20.0), (14, 5, 1, 20.0),
        # 20 Aug + 28 days is after 15 Sep; so is 20 Aug + 56.
        (28, 4, 0, 0.0), (56, 4, 0, 0.0)]
    # Two check-ins on one day, or a day-2 check-in after the day-1 invitation, count once.
    # 3 in the range and P5's two (20 May, 2 September) outside it.
    day_1 = GreaterThan(F("answered_days").bitand(1 << ANSWERED_DAY_BITS[1]), 0)
    assert SignedSessionFact.objects.filter(day_1).count() == 5


def test_outcome_improvement_by_indication(fixture: dict[str, Any]) -> None:
    found = _numbers(fixture["world"])
    assert [(r.indication, r.measure, r.follow_ups.value, r.improved.value, r.share_improved,
             r.mean_percent_of_possible) for r in found.outcomes] == [
        ("acne_scars", "goodman_baron_grade", 2, 1, 50.0, 50.0),
        ("fine_lines", "gais_clinician", 1, 1, 100.0, None)]


def test_overrides_of_screening_verdicts_and_depth_caps(fixture: dict[str, Any]) -> None:
    found = _numbers(fixture["world"])
    assert found.screening_overrides.value == 1
    assert [(before, after, cell.value) for before, after, cell in found.override_pairs] == [
        ("Suitable", "Suitable with precautions", 1)]
    assert found.depth_overrides.value == 1


def test_every_number_for_one_practitioner(fixture: dict[str, Any]) -> None:
    b = fixture["b"]
    found = _numbers(fixture["world"], numbers.NumbersFilter(RANGE.start, RANGE.end, b.pk))
    assert found.sessions.value == 2
    assert [m.total.value for m in found.months] == [1, 0, 1]
    assert (found.adverse_events.value, found.adverse_events_per_100) == (1, 50.0)
    assert found.escalations.value == 2
    assert found.median_minutes_to_acknowledge == 135.0  # of 120 and 150
    assert (found.answered_in_time.value, found.answered_in_time.denominator) == (1, 2)
    assert [(r.day, r.invited, r.answered.value) for r in found.adherence][:2] == [
        (1, 2, 1), (3, 2, 0)]
    assert [(r.measure, r.follow_ups.value, r.improved.value) for r in found.outcomes] == [
        ("goodman_baron_grade", 1, 0)]
    assert (found.screening_overrides.value, found.depth_overrides.value) == (1, 1)


def test_each_number_links_to_the_records_behind_it(fixture: dict[str, Any]) -> None:
    world = fixture["world"]
    found = _numbers(world)
    client = world.client(world.owner)
    expected = {
        found.sessions.href: 5,
        found.months[0].by_practitioner[0].href: 1,
        found.adverse_events.href: 2,
        next(i for i in found.by_severity if i.key == "3").count.href: 1,
        found.escalations.href: 4,
        found.late.href: 2,
        found.adherence[0].answered.href: 3,
        found.adherence[0].missed.href: 2,
        found.outcomes[0].improved.href: 1,
        found.screening_overrides.href: 1,
        found.depth_overrides.href: 1,
    }
    with time_machine.travel(TODAY, tick=False):
        for href, count in expected.items():
            page = client.get(href)
            assert page.status_code == 200, href
            assert page.content.decode().count('<tr><td>') == count, href
        grade_3 = client.get(next(i for i in found.by_severity if i.key == "3").count.href)
    assert "Pat" in grade_3.content.decode()
    assert "Bacterial infection, grade 3" in grade_3.content.decode()


def test_the_csv_has_every_number(fixture: dict[str, Any]) -> None:
    world = fixture["world"]
    with time_machine.travel(TODAY, tick=False):
        response = world.client(world.owner).get(
            reverse("numbers-csv") + "?" + RANGE.query())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_key = {(r["section"], r["group"], r["subgroup"]): r for r in rows}
    assert by_key[("sessions", "total", "")]["count"] == "5"
    assert by_key[("sessions", "2026-06", "all")]["count"] == "3"
    assert by_key[("adverse_events", "total", "")]["per_100_sessions"] == "40.0"
    assert by_key[("escalations", "answered_within_deadline", "")]["percent"] == "50.0"
    assert by_key[("checkin_adherence", "day 1", "answered")]["percent"] == "60.0"
    assert by_key[("overrides", "depth_cap", "zones")]["count"] == "1"


def test_the_page_shows_the_numbers_and_their_charts(fixture: dict[str, Any]) -> None:
    world = fixture["world"]
    with time_machine.travel(TODAY, tick=False):
        page = world.client().get(reverse("numbers") + "?" + RANGE.query()).content.decode()
    assert page.count("<svg") == 4
    assert 'id="ae-total">2</a>' in page
    assert "40.0 per 100 sessions" in page


def test_the_numbers_take_a_fixed_number_of_queries(fixture: dict[str, Any]) -> None:
    world = fixture["world"]
    empty = make_world(clinic=make_clinic(time_zone="Europe/London"))
    with time_machine.travel(TODAY, tick=False), \
            CaptureQueriesContext(connection) as full:
        numbers.clinic_numbers(Actor(user=world.owner), RANGE)
    with time_machine.travel(TODAY, tick=False), \
            CaptureQueriesContext(connection) as none:
        numbers.clinic_numbers(Actor(user=empty.owner), RANGE)
    assert len(full) == len(none) <= 11


@pytest.mark.django_db
def test_the_front_desk_may_not_see_the_numbers() -> None:
    world = make_world()
    with pytest.raises(ServiceError) as refused:
        numbers.clinic_numbers(Actor(user=world.front_desk), RANGE)
    assert refused.value.kind == "forbidden"
    assert world.client(world.front_desk).get(reverse("numbers")).status_code == 403


@pytest.mark.django_db
def test_a_range_ending_before_it_starts_is_refused() -> None:
    world = make_world()
    page = world.client().get(reverse("numbers") + "?from=2026-08-01&to=2026-07-01")
    assert "The end of the range is before its start." in page.content.decode()
