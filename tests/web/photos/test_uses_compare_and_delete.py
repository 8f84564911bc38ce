"""What a photo may be used for now, comparing two photos, exports, deleting, and who saw what.

- A withdrawn use takes a photo out of every export at once (marketing set, marketing sheet);
  the clinical record stays.
- Teaching copies have the eyes hidden; a photo whose eyes are unknown is not exported.
- Two photos of one view compare side by side, the later aligned on the earlier by the face
  (or by eyes marked by hand).
- Deleting is allowed within a day (a mistake) or after the record-keeping period, and removes
  the files; every step is audited.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from needlecare.access import Actor
from needlecare.audit.models import AuditEvent
from needlecare.errors import Conflict
from needlecare.photos import exports, jobs, services
from needlecare.photos.compare import aligned_image
from needlecare.photos.models import Photo, PhotoSettings
from needlecare.photos.services import Upload
from tests.imaging import synthetic
from tests.photo_files import good_jpeg
from tests.web.photos.conftest import PhotoWorld, add_baseline, stored_files

pytestmark = pytest.mark.django_db


def _two_fronts(world: PhotoWorld) -> tuple[Photo, Photo]:
    before = add_baseline(world)
    later = services.upload_photos(Actor(user=world.clinician), world.patient.pk,
                                   [Upload(good_jpeg(), "front")],
                                   session_id=world.session.pk, moment="follow_up")[0]
    jobs.run_due("test-worker")
    before.refresh_from_db()
    later.refresh_from_db()
    return before, later


def test_a_withdrawn_marketing_use_leaves_every_marketing_export_at_once(
        world: PhotoWorld) -> None:
    before, later = _two_fronts(world)
    staff = world.staff()
    marketing = staff.get(reverse("photo-library") + "?use=marketing").content.decode()
    assert reverse("photo-detail", args=[before.pk]) in marketing
    sheet_url = reverse("photo-sheet", args=["marketing"]) + \
        f"?before={before.pk}&after={later.pk}"
    sheet = staff.get(sheet_url)
    assert sheet.status_code == 200
    assert sheet["Content-Type"] == "application/pdf"
    assert "Before and after" in PdfReader(io.BytesIO(sheet.content)).pages[0].extract_text()
    response = staff.post(reverse("photo-scope-withdraw", args=[world.patient.pk]),
                          {"scope": "marketing", "reason": "Changed their mind"})
    assert response.status_code == 302
    marketing = staff.get(reverse("photo-library") + "?use=marketing").content.decode()
    assert reverse("photo-detail", args=[before.pk]) not in marketing
    refused = staff.get(sheet_url, follow=True)
    assert "has not allowed these photos to be used this way" in refused.content.decode()
    # What remains still works: the clinical record, and the patient's own sheet.
    assert staff.get(reverse("photo-detail", args=[before.pk])).status_code == 200
    patient_sheet = staff.get(reverse("photo-sheet", args=["patient"])
                              + f"?before={before.pk}&after={later.pk}")
    assert patient_sheet["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action="photo.scope_withdraw").count() == 1


def test_a_teaching_copy_hides_the_eyes(world: PhotoWorld) -> None:
    before, _later = _two_fronts(world)
    response = world.staff().get(reverse("photo-teaching", args=[before.pk]))
    assert response["Content-Type"] == "image/jpeg"
    copy = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    (rx, ry), (lx, ly) = before.eyes
    height, width = copy.shape[:2]
    for x, y in ((rx, ry), (lx, ly)):
        patch = copy[int(y * height) - 3:int(y * height) + 3, int(x * width) - 3:int(x * width) + 3]
        assert patch.max() < 30  # the bar covers each eye
    original = np.asarray(Image.open(io.BytesIO(world.staff().get(
        reverse("photo-file", args=[before.pk, "screen"])).content)).convert("RGB"))
    assert original[int(ry * height), int(rx * width)].max() > 30


def test_no_teaching_copy_without_the_use_or_without_known_eyes(world: PhotoWorld) -> None:
    before, _later = _two_fronts(world)
    services.withdraw_scope(Actor(user=world.clinician), world.patient.pk, "teaching", "No")
    with pytest.raises(Conflict):
        exports.teaching_copy(Actor(user=world.clinician), before.pk)
    assert exports.library(Actor(user=world.clinician), "teaching").photos == []


def test_two_photos_of_one_view_compare_side_by_side_aligned(world: PhotoWorld) -> None:
    before, later = _two_fronts(world)
    staff = world.staff()
    page = staff.get(reverse("photo-compare") + f"?before={later.pk}&after={before.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    # Earlier first, whatever the order asked for; the later one aligned on the face.
    assert html.index(reverse("photo-file", args=[before.pk, "screen"])) < html.index(
        reverse("photo-aligned", args=[before.pk, later.pk]))
    assert "aligned on the earlier one by the face landmarks" in html
    aligned = staff.get(reverse("photo-aligned", args=[before.pk, later.pk]))
    assert aligned["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(aligned.content)).size == (before.screen_width,
                                                             before.screen_height)
    slider = staff.get(reverse("photo-compare")
                       + f"?before={before.pk}&after={later.pk}&mode=slider")
    assert "compare-slider" in slider.content.decode()
    assert AuditEvent.objects.filter(action="photo.compare").exists()


def test_photos_without_a_face_align_on_eyes_marked_by_hand(world: PhotoWorld) -> None:
    blank = np.full((600, 600, 3), 150, np.uint8)
    data = synthetic.encode(blank)
    actor = Actor(user=world.clinician)
    first, second = services.upload_photos(actor, world.patient.pk,
                                           [Upload(data, "front"), Upload(data, "front")])
    jobs.run_due("test-worker")
    assert Photo.objects.get(pk=first.pk).landmarks is None
    staff = world.staff()
    with pytest.raises(Conflict):
        aligned_image(actor, first.pk, second.pk)
    for photo in (first, second):
        url = reverse("photo-eyes", args=[photo.pk])
        step = staff.post(url, {"spot.x": "200", "spot.y": "250", "first": ""})
        assert "LEFT eye" in step.content.decode()
        done = staff.post(url, {"spot.x": "400", "spot.y": "250", "first": "0.33333,0.41667"})
        assert done.status_code == 302
    marked = Photo.objects.get(pk=first.pk)
    assert marked.eyes == [[0.33333, 0.41667], [0.66667, 0.41667]]
    assert marked.eyes_marked_by_id == world.clinician.pk
    aligned = staff.get(reverse("photo-aligned", args=[first.pk, second.pk]))
    assert aligned.status_code == 200
    assert aligned["Content-Type"] == "image/jpeg"


def test_a_photo_added_by_mistake_is_deleted_with_its_files(
        world: PhotoWorld, django_capture_on_commit_callbacks: Any) -> None:
    _before, mistake = _two_fronts(world)
    names = mistake.file_names
    assert set(names) <= set(stored_files())
    with django_capture_on_commit_callbacks(execute=True):
        response = world.staff().post(reverse("photo-delete", args=[mistake.pk]),
                                      {"reason": "Wrong patient"})
    assert response.status_code == 302
    assert not Photo.objects.filter(pk=mistake.pk).exists()
    assert not set(names) & set(stored_files())
    event = AuditEvent.objects.get(action="photo.delete")
    assert event.detail["reason"] == "Wrong patient"
    assert event.detail["files"] == names


def test_a_photo_stays_for_the_record_keeping_period(
        world: PhotoWorld, django_capture_on_commit_callbacks: Any) -> None:
    before, _later = _two_fronts(world)
    Photo.objects.filter(pk=before.pk).update(
        uploaded_at=timezone.now() - dt.timedelta(days=3))
    response = world.staff().post(reverse("photo-delete", args=[before.pk]),
                                  {"reason": "Tidying up"}, follow=True)
    assert "Kept in the clinical record until" in response.content.decode()
    assert Photo.objects.filter(pk=before.pk).exists()
    # Once the clinic's period has passed, the owner may delete it, and the purge does.
    PhotoSettings.objects.create(clinic=world.linked.clinic, retention_years=1)
    with pytest.MonkeyPatch.context() as patch:
        later_day = timezone.now() + dt.timedelta(days=800)
        patch.setattr("needlecare.clock.now", lambda: later_day)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.purge_expired(clinic_id=world.linked.clinic.pk) == 2
    assert not Photo.objects.exists()
    assert stored_files() == []
    assert AuditEvent.objects.filter(action="photo.delete").count() == 2


def test_the_photo_page_shows_who_saw_it(world: PhotoWorld) -> None:
    before, _later = _two_fronts(world)
    world.staff("owner").get(reverse("photo-file", args=[before.pk, "screen"]))
    page = world.staff().get(reverse("photo-detail", args=[before.pk])).content.decode()
    owner = world.linked.owner
    assert owner.get_full_name() in page
    assert "photo.file (screen)" in page


def test_the_owner_sets_how_long_photos_are_kept(world: PhotoWorld) -> None:
    owner = world.staff("owner")
    page = owner.get(reverse("photo-settings"))
    assert 'value="8"' in page.content.decode()
    response = owner.post(reverse("photo-settings"), {"retention_years": "10"})
    assert response.status_code == 302
    assert PhotoSettings.objects.get(clinic=world.linked.clinic).retention_years == 10
    refused = owner.post(reverse("photo-settings"), {"retention_years": "0"})
    assert refused.status_code == 200
    assert PhotoSettings.objects.get(clinic=world.linked.clinic).retention_years == 10
    assert AuditEvent.objects.filter(action="photo.settings_change").count() == 1
    assert world.staff().get(reverse("photo-settings")).status_code == 403
