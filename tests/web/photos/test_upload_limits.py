"""The request-size limit (413) on the routes that take photos: a photo request may be larger
than other file uploads (several phone photos at once), and a body over even that limit is
refused before it is read, as a page on the web and JSON in the API, with nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from needlecare.photos.models import Photo
from needlecare.photos.services import MAX_PHOTOS_PER_UPLOAD
from tests.factories import make_photo_consent
from tests.photo_files import good_jpeg
from tests.web.api.conftest import World, make_world
from tests.web.photos.conftest import PhotoWorld, stored_files

pytestmark = pytest.mark.django_db

PHOTO_ROUTES = ["photo-upload", "patient-checkin-photos", "api:upload_photo",
                "api:add_checkin_photo"]


def _staff_form(*photos: bytes) -> dict[str, Any]:
    data: dict[str, Any] = {"moment": "before", "session": "", "rows-TOTAL_FORMS": "6",
                            "rows-INITIAL_FORMS": "0", "rows-MIN_NUM_FORMS": "0",
                            "rows-MAX_NUM_FORMS": "6"}
    for index in range(6):
        data[f"rows-{index}-view"] = "front"
        data[f"rows-{index}-zone"] = ""
    for index, content in enumerate(photos):
        data[f"rows-{index}-photo"] = SimpleUploadedFile(f"{index}.jpg", content, "image/jpeg")
    return data


def test_photos_larger_than_other_uploads_are_accepted_on_the_photo_form(
        world: PhotoWorld, settings: Any) -> None:
    photos = [good_jpeg(), good_jpeg()]
    # Other file uploads are now refused at this size; the photo route keeps its own limit.
    settings.MAX_UPLOAD_BYTES = len(photos[0]) // 2
    client = world.staff()
    other = client.post(reverse("patient-new"), {
        "given_name": "Big", "family_name": "Upload",
        "attachment": SimpleUploadedFile("a.jpg", photos[0], "image/jpeg")})
    assert other.status_code == 413
    response = client.post(reverse("photo-upload", args=[world.patient.pk]),
                           _staff_form(*photos))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Photo.objects.filter(patient=world.patient).count() == 2


def test_a_photo_request_over_its_own_limit_is_a_413_page_with_nothing_stored(
        world: PhotoWorld, settings: Any) -> None:
    content = good_jpeg()
    settings.UPLOAD_LIMITS_BY_ROUTE = {name: len(content) // 2 for name in PHOTO_ROUTES}
    response = world.staff().post(reverse("photo-upload", args=[world.patient.pk]),
                                  _staff_form(content))
    assert response.status_code == 413
    assert "too much to send" in response.content.decode()
    assert not Photo.objects.exists()
    assert stored_files() == []


@pytest.fixture
def api_world(db: None) -> World:
    world = make_world()
    make_photo_consent(world.patient, world.clinician)
    return world


def test_the_api_answers_a_photo_over_the_route_limit_with_a_json_413(
        api_world: World, settings: Any) -> None:
    content = good_jpeg()
    limit = len(content) // 2
    settings.UPLOAD_LIMITS_BY_ROUTE = {name: limit for name in PHOTO_ROUTES}
    response = Client().post(
        f"/api/v1/patients/{api_world.patient.pk}/photos",
        {"file": SimpleUploadedFile("IMG_0001.JPG", content, "image/jpeg"), "view": "front"},
        headers={"Authorization": f"Bearer {api_world.tokens['clinician']}"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert response.json()["error"]["limit_bytes"] == limit
    assert not Photo.objects.exists()


def test_every_photo_route_takes_a_full_form_of_the_largest_photos_allowed() -> None:
    """With the shipped settings, a photo the photo checks would accept (up to PHOTO_MAX_BYTES
    each) is never cut off by the body limit first, and the staff form's photos fit together
    while they are phone-sized (a 12 MP JPEG is up to ~8 MB, a HEIC less)."""
    limits = django_settings.UPLOAD_LIMITS_BY_ROUTE
    assert set(PHOTO_ROUTES) <= set(limits)
    for name in PHOTO_ROUTES:
        assert limits[name] >= (django_settings.PHOTO_MAX_BYTES
                                + django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    assert limits["photo-upload"] >= MAX_PHOTOS_PER_UPLOAD * 8 * 1024 * 1024 + \
        django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
