"""Staff add photos from the patient's photo page: several at once with a view each, stripped of
every metadata but orientation and colour profile, camera facts on the record, derivatives
made once, quality and redness checked by the worker; every bad file refused with nothing
stored."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from PIL import Image

from needlecare.audit.models import AuditEvent
from needlecare.imaging.intake import REFUSALS
from needlecare.photos import jobs
from needlecare.photos.models import AnalysisStatus, Photo
from tests.photo_files import bad_files, good_jpeg
from tests.web.photos.conftest import PhotoWorld, photo_world, stored_files

pytestmark = pytest.mark.django_db


def _form(files: list[tuple[bytes, str, str]], **extra: str) -> dict[str, Any]:
    data: dict[str, Any] = {"moment": "before", "session": "", "rows-TOTAL_FORMS": "6",
                            "rows-INITIAL_FORMS": "0", "rows-MIN_NUM_FORMS": "0",
                            "rows-MAX_NUM_FORMS": "6"}
    for index in range(6):
        data[f"rows-{index}-view"] = "front"
        data[f"rows-{index}-zone"] = ""
    for index, (content, name, view) in enumerate(files):
        data[f"rows-{index}-photo"] = SimpleUploadedFile(name, content, "image/jpeg")
        data[f"rows-{index}-view"] = view
    data.update(extra)
    return data


def _upload(world: PhotoWorld, files: list[tuple[bytes, str, str]], **extra: str) -> Any:
    return world.staff().post(reverse("photo-upload", args=[world.patient.pk]),
                              _form(files, **extra))


def test_several_photos_with_a_view_each_are_stored_clean(world: PhotoWorld) -> None:
    response = _upload(world, [(good_jpeg(), "front.jpg", "front"),
                               (good_jpeg(), "left.jpg", "left_45")],
                       session=str(world.session.pk))
    assert response.status_code == 302, response.content.decode()[:2000]
    photos = list(Photo.objects.filter(patient=world.patient).order_by("id"))
    assert [p.view for p in photos] == ["front", "left_45"]
    assert all(p.session_id == world.session.pk and p.moment == "before" for p in photos)
    # Three files each (original, thumbnail, screen copy), and nothing else.
    assert sorted(stored_files()) == sorted(n for p in photos for n in p.file_names)
    photo = photos[0]
    # The camera facts are on the record, not in the file.
    assert photo.device == "Synthetica Phone 12"
    assert photo.camera["flash_fired"] is False
    assert photo.camera["exposure_time_s"] == pytest.approx(1 / 120)
    stored = world.staff().get(reverse("photo-file", args=[photo.pk, "original"]))
    assert stored.status_code == 200
    exif = Image.open(io.BytesIO(stored.content)).getexif()
    assert dict(exif) == {}
    assert b"SERIAL-123456" not in stored.content
    assert b"Sam Example" not in stored.content
    assert stored["Cache-Control"] == "private, no-store"
    # Who added them is audited, photo by photo.
    assert AuditEvent.objects.filter(action="photo.add", object_type="photos.photo").count() == 2


def test_the_worker_checks_staff_photos_and_the_page_shows_them_pending(
        world: PhotoWorld) -> None:
    _upload(world, [(good_jpeg(), "a.jpg", "front")])
    photo = Photo.objects.get(patient=world.patient)
    assert photo.analysis_status == AnalysisStatus.PENDING
    page = world.staff().get(reverse("patient-photos", args=[world.patient.pk]))
    assert "Being checked" in page.content.decode()
    assert jobs.run_due("test-worker") == 1
    photo.refresh_from_db()
    assert photo.analysis_status == AnalysisStatus.DONE
    assert photo.quality_passed is True
    assert photo.landmarks is not None
    assert len(photo.landmarks) == 468
    assert set(photo.redness["zones"]) >= {"forehead", "cheeks", "chin"}
    assert jobs.run_due("test-worker") == 0  # measured once


@pytest.mark.parametrize("kind", list(bad_files()))
def test_every_bad_file_is_refused_with_nothing_stored(world: PhotoWorld, kind: str) -> None:
    content, code = bad_files()[kind]
    response = _upload(world, [(good_jpeg(), "fine.jpg", "front"),
                               (content, "photo.jpg", "front")])
    assert response.status_code == 200
    page = response.content.decode()
    assert "Photo 2 (photo.jpg)" in page  # the refusal names the file
    assert escape(REFUSALS[code].split("{")[0].strip()) in page  # and says why, plainly
    assert Photo.objects.count() == 0
    assert stored_files() == []


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(world: PhotoWorld,
                                                                 settings: Any) -> None:
    settings.PHOTO_MAX_BYTES = 10_000
    response = _upload(world, [(good_jpeg(), "big.jpg", "front")])
    assert response.status_code == 200
    assert "too large" in response.content.decode()
    assert Photo.objects.count() == 0
    assert stored_files() == []


def test_no_photo_without_a_photo_consent(db: None) -> None:
    world = photo_world(uses=[])
    world.patient.consents.filter(kind="photos").update(withdrawn_at="2026-01-01T00:00Z")
    response = _upload(world, [(good_jpeg(), "a.jpg", "front")])
    assert response.status_code == 200
    assert "no photo consent" in response.content.decode().lower()
    assert stored_files() == []


def test_the_front_desk_sees_no_photos(world: PhotoWorld) -> None:
    assert world.staff("front_desk").get(
        reverse("patient-photos", args=[world.patient.pk])).status_code == 403
    detail = world.staff("front_desk").get(reverse("patient-detail", args=[world.patient.pk]))
    assert detail.status_code == 200
    assert 'id="photos"' not in detail.content.decode()
