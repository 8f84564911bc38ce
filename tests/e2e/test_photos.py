"""Photos in a real browser: the patient adds a photo after a check-in on a 390×844 phone (a
retake for a dark photo, then an accepted one); the clinician compares the baseline with day 7
side by side; a withdrawn marketing use takes a photo out of the marketing set at once. axe-core
finds no serious or critical problem on the new pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from needlecare.access import Actor
from needlecare.photos import jobs
from needlecare.photos.models import Photo
from needlecare.photos.services import Upload, upload_photos
from tests.e2e.support import (
    TIMEOUT_MS,
    answer_red_flags,
    horizontal_overflow,
    screenshot,
    serious_violations,
    sign_in,
    signed_session_days_ago,
    verify_on_phone,
)
from tests.factories import make_photo_consent
from tests.photo_files import dark_jpeg, good_jpeg

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TALL_PHONE = {"width": 390, "height": 844}


@pytest.fixture(autouse=True)
def _photos_in_a_folder_of_their_own(settings: Any, tmp_path: Any) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}


@pytest.fixture
def tall_phone(browser: Browser, live_server: Any) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, locale="en-GB",
                                  timezone_id="Europe/London", viewport=TALL_PHONE,
                                  is_mobile=True, has_touch=True, device_scale_factor=2)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def _no_serious_problems(page: Page, what: str) -> None:
    assert serious_violations(page) == [], what
    assert horizontal_overflow(page) == 0, f"{what} scrolls sideways"


def _photo(name: str, content: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": content}


def test_the_patient_adds_a_photo_after_a_check_in_and_retakes_a_dark_one(
        tall_phone: Page) -> None:
    journey = signed_session_days_ago(2)
    make_photo_consent(journey["patient"], journey["clinician"])
    phone = tall_phone
    verify_on_phone(phone, journey["url"], journey["patient"].date_of_birth)
    answer_red_flags(phone, yes=set())
    phone.get_by_role("button", name="Send to the clinic").click()
    expect(phone.get_by_role("heading", name="Add a photo (optional)")).to_be_visible()
    phone.get_by_role("link", name="Add a photo").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Add a photo (optional)")
    expect(phone.get_by_text("Face a window in daylight")).to_be_visible()
    _no_serious_problems(phone, "the photo step")
    assert phone.locator("input[type=file]").get_attribute("capture") == "user"

    phone.locator("input[type=file]").set_input_files(_photo("IMG_0001.JPG", dark_jpeg()))
    phone.get_by_role("button", name="Send the photo").click()
    retake = phone.get_by_role("alert")
    expect(retake).to_contain_text("Please take the photo again")
    expect(retake).to_contain_text("Too dark — face a window")
    screenshot(phone, "photo-retake-390")
    _no_serious_problems(phone, "the photo step asking for a retake")

    phone.locator("input[type=file]").set_input_files(_photo("IMG_0002.JPG", good_jpeg()))
    phone.get_by_role("button", name="Send this photo too").click()
    expect(phone.get_by_role("heading", name="Thank you: your photo is clear")).to_be_visible()
    screenshot(phone, "photo-accepted-390")
    photos = list(Photo.objects.filter(patient=journey["patient"]).order_by("id"))
    assert [p.quality_passed for p in photos] == [False, True]
    assert photos[0].redness is None  # kept, never measured


def _day_7_pair(journey: dict[str, Any]) -> tuple[Photo, Photo]:
    actor = Actor(user=journey["clinician"])
    baseline = upload_photos(actor, journey["patient"].pk, [Upload(good_jpeg(), "front")],
                             session_id=journey["session"].pk, moment="before")[0]
    session_day = timezone.make_aware(dt.datetime.combine(journey["session"].performed_on,
                                                          dt.time(9, 30)))
    Photo.objects.filter(pk=baseline.pk).update(taken_at=session_day, uploaded_at=session_day,
                                                day=0)
    later = upload_photos(actor, journey["patient"].pk, [Upload(good_jpeg(), "front")],
                          session_id=journey["session"].pk, moment="follow_up")[0]
    jobs.run_due("e2e-worker")
    return Photo.objects.get(pk=baseline.pk), Photo.objects.get(pk=later.pk)


def _loaded(page: Page, selector: str) -> None:
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)",
        arg=selector)


def test_the_clinician_compares_the_baseline_and_day_7_side_by_side(desk: Page) -> None:
    journey = signed_session_days_ago(7)
    make_photo_consent(journey["patient"], journey["clinician"])
    baseline, later = _day_7_pair(journey)
    assert later.day == 7
    sign_in(desk, journey["clinician"].username)
    desk.goto(f"/patients/{journey['patient'].pk}/")
    photos = desk.locator("#photos")
    expect(photos.get_by_role("heading", name="Photos")).to_be_visible()
    photos.get_by_role("link", name="Add or compare photos").click()
    expect(desk.get_by_role("heading", name="Timeline by view")).to_be_visible()
    _loaded(desk, ".photo-tile img")
    _no_serious_problems(desk, "the patient's photos")
    desk.get_by_role("link", name="Compare the first and the latest").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Compare: Front")
    expect(desk.get_by_text("aligned on the earlier one by the face landmarks")).to_be_visible()
    expect(desk.get_by_text("Earlier:")).to_be_visible()
    expect(desk.get_by_text("Later:")).to_contain_text("day 7")
    _loaded(desk, ".compare-side img")
    assert desk.locator(".compare-side img").count() == 2
    screenshot(desk, "photos-compare-side-by-side")
    _no_serious_problems(desk, "comparing two photos")
    desk.get_by_role("link", name="Slider").click()
    _loaded(desk, ".compare-slider img")
    _no_serious_problems(desk, "the compare slider")
    desk.goto(f"/photos/{later.pk}/")
    expect(desk.get_by_role("heading", name="Who saw this photo")).to_be_visible()
    _no_serious_problems(desk, "one photo")
    assert baseline.pk != later.pk


def test_a_withdrawn_marketing_use_leaves_the_marketing_set_at_once(desk: Page) -> None:
    journey = signed_session_days_ago(7)
    make_photo_consent(journey["patient"], journey["clinician"])
    baseline, _later = _day_7_pair(journey)
    sign_in(desk, journey["clinician"].username)
    desk.goto("/photos/library/?use=marketing")
    expect(desk.locator(f"a[href='/photos/{baseline.pk}/']")).to_have_count(1)
    _no_serious_problems(desk, "the marketing set")
    desk.goto(f"/patients/{journey['patient'].pk}/")
    desk.get_by_text("The patient withdraws a use of their photos").click()
    desk.get_by_label("Use to withdraw").select_option("marketing")
    desk.get_by_label("Reason the patient gave").fill("Does not want to be on the website")
    desk.get_by_role("button", name="Withdraw this use").click()
    expect(desk.get_by_text("no photo of this patient is used for marketing")).to_be_visible()
    desk.goto("/photos/library/?use=marketing")
    expect(desk.get_by_text("No photos may be used this way now.")).to_be_visible()
    expect(desk.locator(f"a[href='/photos/{baseline.pk}/']")).to_have_count(0)
