"""The recovery chart: the patient's reported symptom scores by day against the band the
protocol expects, on the clinicians' check-in page and on the patient's own page, as SVG with
a table beside it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from needlecare.access import Actor
from needlecare.outcomes.recovery_chart import session_recovery_chart
from tests.web.outcomes.support import (
    World,
    check_in_at,
    issue_link,
    london,
    sign_on,
    verified_phone,
)

DAY = dt.date(2026, 10, 5)


@pytest.mark.django_db
def test_reports_are_drawn_by_day_against_the_expected_band(world: World) -> None:
    session = sign_on(world, DAY)
    check_in_at(world, london(2026, 10, 6, 19), {"redness": (5, "better")})
    check_in_at(world, london(2026, 10, 8, 19), {"redness": (3, "better")})
    check_in_at(world, london(2026, 10, 14, 19), {"redness": (4, "worse")})
    chart = session_recovery_chart(world.actor(), session.pk)
    [redness] = chart.charts
    assert redness.title == "Erythema"  # the clinicians' word; the patient reads "Redness"
    reported = {row.day: (row.value, row.above) for row in redness.rows
                if row.value is not None}
    # Redness is expected in the first days; by day 9 it is not, so 4 is above the band.
    assert reported == {1: (5, False), 3: (3, False), 9: (4, True)}
    assert redness.summary == "1 of 3 reports above the expected range."
    assert redness.svg.startswith("<svg")
    assert "<title" in redness.svg
    assert "chart-band" in redness.svg
    assert "style=" not in redness.svg  # the stylesheet draws it (strict CSP)


@pytest.mark.django_db
def test_the_clinicians_check_in_page_shows_the_chart_and_its_table(world: World) -> None:
    sign_on(world, DAY)
    recorded = check_in_at(world, london(2026, 10, 6, 19), {"redness": (5, "better")})
    page = world.client().get(reverse("checkin-detail", args=[recorded.checkin.pk]))
    html = page.content.decode()
    assert "Recovery chart" in html
    assert html.count("<svg") == 1
    assert '<table class="chart-table">' in html


@pytest.mark.django_db
def test_the_patient_sees_their_own_chart(world: World) -> None:
    sign_on(world, DAY)
    check_in_at(world, london(2026, 10, 6, 19), {"swelling": (2, "better")})
    _link, token = issue_link(world)
    with time_machine.travel(london(2026, 10, 7, 12), tick=False):
        home = verified_phone(world, token).get(reverse("patient-home", args=[token]))
    html = home.content.decode()
    assert "Recovery chart" in html
    assert "Swelling" in html
    assert "What to expect" in html


@pytest.mark.django_db
def test_another_patient_cannot_read_the_chart(world: World) -> None:
    from needlecare.errors import ServiceError
    from tests.web.outcomes.support import add_patient, link_of

    session = sign_on(world, DAY)
    other = add_patient(world, "Robin")
    with pytest.raises(ServiceError) as refused:
        session_recovery_chart(Actor.for_link(link_of(other)), session.pk)
    assert refused.value.kind == "not_found"
