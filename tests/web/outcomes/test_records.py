"""Recording each outcome scale of the outcome-measures file: its range (both ends accepted,
one past either end refused), its required items, and its sources kept with the record; change
from the patient's baseline; and adverse events with their CTCAE grade."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from needlecare.audit.models import AuditEvent
from needlecare.clinical.protocol.outcomes_loader import default_outcomes
from needlecare.errors import ServiceError
from needlecare.outcomes import records
from needlecare.outcomes.models import AdverseEvent, OutcomeRecord
from tests.web.outcomes.support import World, make_world, sign_on

OUTCOMES = default_outcomes()
CLINICIAN_MEASURES = [k for k, m in OUTCOMES.measures.items() if m.respondent == "clinician"]
DAY = dt.date(2026, 6, 1)


def _world_for(measure: str) -> World:
    suits = OUTCOMES.measures[measure].indications
    return make_world(indications=(suits[0],) if suits else ("acne_scars",))


def _values(measure: str, end: str) -> dict[str, int]:
    items = OUTCOMES.measures[measure].items
    return {k: (i.min if end == "min" else i.max) for k, i in items.items()}


def _record(world: World, measure: str, values: dict[str, Any], point: str | None = None,
            day: dt.date = DAY) -> OutcomeRecord:
    """At ``point``, or the first point of the schedule that takes the measure."""
    return records.record_outcome(world.actor(), world.plan.pk, measure=measure,
                                  point=point or records.points_for(measure)[0],
                                  assessed_on=day, values=values)


@pytest.mark.django_db
@pytest.mark.parametrize("measure", CLINICIAN_MEASURES)
def test_each_clinician_scale_takes_both_ends_of_its_range_with_its_sources(
        measure: str) -> None:
    world = _world_for(measure)
    low = _record(world, measure, _values(measure, "min"))
    high = _record(world, measure, _values(measure, "max"))
    definition = OUTCOMES.measures[measure]
    scored = [i for i in definition.items.values() if i.in_total]
    assert low.score == sum(i.min for i in scored)
    assert high.score == sum(i.max for i in scored)
    # The record keeps its sources and the file's version: explainable later.
    assert [s["key"] for s in high.scored["sources"]] == list(definition.sources)
    assert all(s["citation"] for s in high.scored["sources"])
    assert high.outcomes_version == "outcomes-2026.1"
    assert AuditEvent.objects.filter(action="outcome.record").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("measure", CLINICIAN_MEASURES)
@pytest.mark.parametrize("end", ["below", "above"])
def test_each_clinician_scale_refuses_a_value_outside_its_range(measure: str, end: str) -> None:
    world = _world_for(measure)
    key, item = next(iter(OUTCOMES.measures[measure].items.items()))
    values = _values(measure, "min")
    values[key] = item.min - 1 if end == "below" else item.max + 1
    with pytest.raises(ServiceError) as refused:
        _record(world, measure, values)
    assert refused.value.field == key
    assert ("below the minimum" if end == "below" else "above the maximum") in \
        refused.value.message
    assert not OutcomeRecord.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("measure", CLINICIAN_MEASURES)
def test_each_clinician_scale_refuses_a_missing_required_item(measure: str) -> None:
    world = _world_for(measure)
    values = _values(measure, "min")
    required = [k for k, i in OUTCOMES.measures[measure].items.items() if i.required]
    del values[required[-1]]
    with pytest.raises(ServiceError) as refused:
        _record(world, measure, values)
    assert refused.value.field == required[-1]
    assert "required" in refused.value.message


@pytest.mark.django_db
def test_a_score_given_as_true_is_refused_not_read_as_one(world: World) -> None:
    with pytest.raises(ServiceError):
        _record(world, "goodman_baron_grade", {"grade": True})


@pytest.mark.django_db
def test_a_measure_that_does_not_suit_the_plan_is_refused(world: World) -> None:
    # The world's plan is for acne scars; the Vancouver Scar Scale is for other scars.
    with pytest.raises(ServiceError) as refused:
        _record(world, "vancouver_scar_scale", _values("vancouver_scar_scale", "min"))
    assert refused.value.code == "measure_not_for_plan"


@pytest.mark.django_db
def test_a_follow_up_shows_its_change_from_the_baseline(world: World) -> None:
    _record(world, "goodman_baron_grade", {"grade": 4}, day=DAY)
    later = _record(world, "goodman_baron_grade", {"grade": 2}, point="three_months_after",
                    day=DAY + dt.timedelta(days=120))
    assert later.direction == "improved"
    assert later.improvement == 2
    # From 4 the best possible is 1: 2 of 3 grades.
    assert later.percent_of_possible == pytest.approx(66.7)
    assert later.baseline is not None
    assert later.baseline.score == 4


@pytest.mark.django_db
def test_a_rated_measure_shows_its_change_without_a_baseline(world: World) -> None:
    rated = _record(world, "gais_clinician", {"rating": 1}, point="three_months_after")
    assert rated.direction == "worse"
    assert rated.baseline is None


@pytest.mark.django_db
def test_a_follow_up_dated_before_its_baseline_is_refused(world: World) -> None:
    _record(world, "goodman_baron_grade", {"grade": 3}, day=DAY)
    with pytest.raises(ServiceError) as refused:
        _record(world, "goodman_baron_grade", {"grade": 2}, point="six_months_after",
                day=DAY - dt.timedelta(days=1))
    assert refused.value.field == "assessed_on"


@pytest.mark.django_db
def test_the_front_desk_cannot_record_outcomes(world: World) -> None:
    with pytest.raises(ServiceError) as refused:
        records.record_outcome(world.actor(world.front_desk), world.plan.pk,
                               measure="goodman_baron_grade", point="baseline",
                               assessed_on=DAY, values={"grade": 2})
    assert refused.value.kind == "forbidden"


# --- adverse events ----------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_adverse_event_is_classified_with_its_grade_and_sources(world: World) -> None:
    session = sign_on(world, DAY)
    event = records.record_adverse_event(world.actor(), session.pk, type="pih", severity=3,
                                         onset=DAY + dt.timedelta(days=20), note="cheeks")
    assert event.serious  # CTCAE grade 3 and above
    assert event.classified["severity_label"] == "Severe"
    assert {s["key"] for s in event.classified["sources"]} >= {"ctcae5", "dogra2014"}
    assert event.session_date == DAY
    assert event.practitioner == world.clinician


@pytest.mark.django_db
@pytest.mark.parametrize(("changes", "field"), [
    ({"severity": 6}, "severity"),
    ({"severity": 0}, "severity"),
    ({"type": "sunburn"}, "type"),
    ({"type": "other", "note": ""}, "note"),
    ({"onset": DAY - dt.timedelta(days=1)}, "onset"),
    ({"resolved": DAY}, "resolved"),
])
def test_an_adverse_event_that_does_not_fit_the_classification_is_refused(
        world: World, changes: dict[str, Any], field: str) -> None:
    session = sign_on(world, DAY)
    fields: dict[str, Any] = {"type": "pih", "severity": 2,
                              "onset": DAY + dt.timedelta(days=3), "note": "x"} | changes
    with pytest.raises(ServiceError) as refused:
        records.record_adverse_event(world.actor(), session.pk, **fields)
    assert refused.value.field == field, refused.value.message
    assert not AdverseEvent.objects.exists()


@pytest.mark.django_db
def test_the_pages_record_a_measure_and_an_adverse_event(world: World) -> None:
    from django.urls import reverse

    session = sign_on(world, DAY)
    client = world.client()
    page = client.get(reverse("outcome-new", args=[world.plan.pk]))
    assert "Goodman" in page.content.decode()
    assert "Vancouver" not in page.content.decode()  # not for acne scars
    form = client.get(reverse("outcome-new", args=[world.plan.pk]) + "?measure=glogau")
    assert form.status_code == 200  # not offered (glogau is for fine lines): the chooser
    assert "Goodman" in form.content.decode()
    response = client.post(reverse("outcome-new", args=[world.plan.pk]), {
        "measure": "goodman_baron_grade", "point": "baseline", "assessed_on": DAY.isoformat(),
        "session": "", "item_grade": "3"})
    assert response.status_code == 302
    assert OutcomeRecord.objects.get().score == 3
    response = client.post(reverse("adverse-event-new", args=[world.plan.pk]), {
        "session": str(session.pk), "type": "prolonged_erythema", "severity": "1",
        "onset": (DAY + dt.timedelta(days=8)).isoformat(), "resolved": "", "note": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    plan_page = client.get(reverse("plan-detail", args=[world.plan.pk])).content.decode()
    assert "Prolonged redness or swelling" in plan_page
    assert "Course progress and outcomes" in plan_page
