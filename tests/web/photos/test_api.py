"""The photo API: staff upload, list, fetch and compare; the patient adds a photo to their
check-in with their link's token. The same limits and refusals as the web forms, nothing
stored on refusal, files only through the access layer."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from needlecare.access import Actor
from needlecare.api.auth import DATE_OF_BIRTH_HEADER
from needlecare.photos import jobs
from needlecare.photos.models import Photo
from needlecare.recovery.services import submit_checkin
from tests.factories import make_photo_consent
from tests.photo_files import bad_files, dark_jpeg, good_jpeg
from tests.web.api.conftest import NORMAL_DAY_2, World, error_of, make_world
from tests.web.photos.conftest import stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_world(db: None) -> World:
    world = make_world()
    make_photo_consent(world.patient, world.clinician)
    return world


def _bearer(token: str, world: World | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if world is not None and token == world.link_token:
        headers[DATE_OF_BIRTH_HEADER] = world.patient.date_of_birth.isoformat()
    return headers


def _post_photo(path: str, headers: dict[str, str], content: bytes, **fields: Any) -> Any:
    data = {"file": SimpleUploadedFile("IMG_0001.HEIC", content, "image/heic"), **fields}
    return Client().post(f"/api/v1{path}", data, headers=headers)


def _staff_upload(world: World, content: bytes, **fields: Any) -> Any:
    return _post_photo(f"/patients/{world.patient.pk}/photos",
                       _bearer(world.tokens["clinician"]), content,
                       **{"view": "front", **fields})


def test_staff_upload_list_fetch_and_compare(api_world: World) -> None:
    first = _staff_upload(api_world, good_jpeg(), session_id=str(api_world.session.pk))
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["analysis"] == "pending"
    assert body["camera"]["make"] == "Synthetica"
    assert body["uses_now"] == ["clinical_record", "shown_to_patient", "teaching", "marketing"]
    second = _staff_upload(api_world, good_jpeg(), moment="follow_up")
    jobs.run_due("test-worker")
    headers = _bearer(api_world.tokens["clinician"])
    listed = Client().get(f"/api/v1/patients/{api_world.patient.pk}/photos", headers=headers)
    assert [p["id"] for p in listed.json()] == [second.json()["id"], body["id"]]
    one = Client().get(f"/api/v1/photos/{body['id']}", headers=headers).json()
    assert one["quality_passed"] is True
    assert set(one["redness"]) >= {"cheeks", "forehead"}
    image = Client().get(f"/api/v1/photos/{body['id']}/file?size=thumbnail", headers=headers)
    assert image["Content-Type"] == "image/jpeg"
    assert image["Cache-Control"] == "private, no-store"
    assert max(Image.open(io.BytesIO(image.content)).size) <= 320
    compared = Client().get(f"/api/v1/photos/compare?before={body['id']}"
                            f"&after={second.json()['id']}", headers=headers).json()
    assert compared["alignment"] == "face"
    assert {z["zone"] for z in compared["zones"]} >= {"cheeks"}
    assert all(not z["is_change"] for z in compared["zones"])  # the same face twice


@pytest.mark.parametrize("kind", list(bad_files()))
def test_every_bad_file_is_refused_by_the_api_with_nothing_stored(api_world: World,
                                                                  kind: str) -> None:
    content, code = bad_files()[kind]
    response = _staff_upload(api_world, content)
    assert response.status_code == 422
    assert error_of(response)["code"] == f"photo_{code}"
    assert Photo.objects.count() == 0
    assert stored_files() == []


def test_the_api_refuses_a_file_over_the_limit_before_reading_it(api_world: World,
                                                                  settings: Any) -> None:
    settings.PHOTO_MAX_BYTES = 5_000
    response = _staff_upload(api_world, good_jpeg())
    assert response.status_code == 422
    assert error_of(response)["code"] == "photo_too_large_file"
    assert stored_files() == []


def test_the_patient_adds_a_photo_to_their_check_in(api_world: World) -> None:
    checkin = submit_checkin(Actor.for_link(api_world.link), NORMAL_DAY_2).checkin
    headers = _bearer(api_world.link_token, api_world)
    dark = _post_photo(f"/checkins/{checkin.pk}/photos", headers, dark_jpeg())
    assert dark.status_code == 201, dark.content
    assert dark.json()["quality_passed"] is False
    assert any("face a window" in advice for advice in dark.json()["retake"])
    good = _post_photo(f"/checkins/{checkin.pk}/photos", headers, good_jpeg())
    assert good.json()["quality_passed"] is True
    assert good.json()["added_reasons"] == []
    own = Client().get(f"/api/v1/photos/{good.json()['id']}/file?size=screen", headers=headers)
    assert own.status_code == 200
    original = Client().get(f"/api/v1/photos/{good.json()['id']}/file?size=original",
                            headers=headers)
    assert original.status_code == 404
    # Staff-only operations stay closed to the link's token.
    assert Client().get(f"/api/v1/patients/{api_world.patient.pk}/photos",
                        headers=headers).status_code == 401


def test_another_clinic_finds_no_photo(api_world: World) -> None:
    photo_id = _staff_upload(api_world, good_jpeg()).json()["id"]
    stranger = make_world()
    headers = _bearer(stranger.tokens["clinician"])
    assert Client().get(f"/api/v1/photos/{photo_id}", headers=headers).status_code == 404
    assert Client().get(f"/api/v1/photos/{photo_id}/file",
                        headers=headers).status_code == 404
    refused = _post_photo(f"/patients/{api_world.patient.pk}/photos", headers, good_jpeg(),
                          view="front")
    assert refused.status_code == 404
    assert Photo.objects.count() == 1
