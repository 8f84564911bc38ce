"""The recovery chart on the clinician's check-in page (SVG with its table, numbers) and on the
patient's home page (plain words, no measurements), and the photo sections of shared pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from needlecare import clock
from needlecare.access import Actor
from needlecare.photos import jobs, services
from needlecare.photos.services import Upload
from needlecare.recovery.services import submit_checkin
from tests.photo_files import redder_jpeg
from tests.web.api.conftest import all_no
from tests.web.photos.conftest import PhotoWorld, add_baseline, photo_world

pytestmark = pytest.mark.django_db

ANSWERS = {"symptoms": {"swelling": {"severity": 2, "trend": "better"}},
           "red_flags": all_no(), "note": ""}


@pytest.fixture
def charted(db: None) -> tuple[PhotoWorld, int]:
    """Day 9 and day 10 check-ins with redder photos (+6 a*) after a measured baseline."""
    world = photo_world(days=10)
    add_baseline(world)
    jobs.run_due("test-worker")
    actor = Actor.for_link(world.linked.link)
    with clock.at(timezone.now() - dt.timedelta(days=1)):
        first = submit_checkin(actor, ANSWERS).checkin
        services.add_checkin_photo(actor, first.pk, Upload(redder_jpeg(6.0), "front"))
    second = submit_checkin(actor, ANSWERS).checkin
    services.add_checkin_photo(actor, second.pk, Upload(redder_jpeg(6.0), "front"))
    return world, second.pk


def test_the_clinicians_check_in_page_has_the_chart_and_its_table(
        charted: tuple[PhotoWorld, int]) -> None:
    world, checkin_id = charted
    page = world.staff().get(reverse("checkin-detail", args=[checkin_id])).content.decode()
    # Redness on photos here; the symptom scores are the outcomes app's recovery chart.
    assert page.count('class="course-chart"') == 1
    assert "Recovery chart" in page
    assert "Redness on photos (change in a* from the baseline photo)" in page
    table = page[page.index('<table class="chart-table">'):]
    rows = re.findall(r'<th scope="row">(\d+)</th><td>([\d.-]+)</td>', table)
    assert [day for day, _ in rows][:2] == ["9", "10"]
    assert all(5.5 <= float(value) <= 6.5 for _, value in rows[:2])


def test_the_patients_home_page_says_it_in_words_without_numbers(
        charted: tuple[PhotoWorld, int]) -> None:
    world, _checkin = charted
    page = world.phone().get(world.linked.path("patient-home")).content.decode()
    section = page[page.index('id="photos-home-heading"'):]
    section = section[:section.index("</section>")]
    assert "more redness than we expect at this stage" in section
    assert 'class="course-chart"' in section
    # No measurement anywhere in the section: no a*, no decimal figures, no axis values.
    assert "a*" not in section
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", section)
    assert not any(re.search(r"\d", t) for t in texts), texts
    visible = re.sub(r"<[^>]+>", " ", section)
    assert not re.search(r"\d\.\d", visible)
