"""The patient's rights reach their photos: the export carries every photo's files, an erasure
while the record must be kept takes back the uses that rest on consent alone (the photos leave
the marketing and teaching sets at once, and stay in the clinical record), and a full erasure
deletes the photos with their files."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from needlecare.access import Actor
from needlecare.audit.models import AuditEvent
from needlecare.photos.models import Photo, ScopeWithdrawal
from needlecare.photos.scopes import uses_in_force
from needlecare.photos.services import Upload, upload_photos
from needlecare.rights.models import Erasure, ErasureScope
from tests.factories import make_photo_consent
from tests.photo_files import good_jpeg
from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}
    return tmp_path / "media"


def _photographed(journey: dict) -> list[Photo]:
    clinician = journey["clinician"]
    make_photo_consent(journey["patient"], clinician)
    return upload_photos(Actor(user=clinician), journey["patient"].pk,
                         [Upload(good_jpeg(), "front"), Upload(good_jpeg(), "left_45")],
                         session_id=journey["session"].pk)


def _erase(journey: dict) -> Any:
    patient = journey["patient"]
    return client_for(journey["owner"]).post(
        reverse("patient-record-erase", args=[patient.pk]),
        {"confirm_name": patient.full_name})


def test_the_export_holds_every_photo_and_its_files(journey: dict, media: Path) -> None:
    photos = _photographed(journey)
    response = client_for(journey["owner"]).post(
        reverse("patient-record-export", args=[journey["patient"].pk]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    record = json.loads(archive.read("record.json"))
    assert sorted(p["id"] for p in record["records"]["photos.photo"]) == \
        sorted(p.pk for p in photos)
    listed = {(f["record"], f["field"]): f["path"] for f in record["files"]}
    for photo in photos:
        for field in Photo.FILE_FIELDS:
            path = listed[(f"photos.photo:{photo.pk}", field)]
            assert archive.read(path) == (media / getattr(photo, field)).read_bytes()


def test_an_erasure_while_the_record_is_kept_withdraws_teaching_and_marketing(
        journey: dict, media: Path) -> None:
    photos = _photographed(journey)
    staff = client_for(journey["clinician"])
    detail = reverse("photo-detail", args=[photos[0].pk])
    assert detail in staff.get(reverse("photo-library") + "?use=marketing").content.decode()
    page = client_for(journey["owner"]).get(
        reverse("patient-record-erase", args=[journey["patient"].pk])).content.decode()
    assert "no longer be used for teaching or marketing" in page

    assert _erase(journey).status_code == 302
    assert Erasure.objects.get().scope == ErasureScope.CONTACT_DETAILS
    in_force = uses_in_force(journey["patient"].pk)
    assert set(in_force.uses) == {"clinical_record", "shown_to_patient"}
    for use in ("marketing", "teaching"):
        assert detail not in staff.get(
            reverse("photo-library") + f"?use={use}").content.decode()
    # The photos stay in the clinical record, files and all.
    assert staff.get(detail).status_code == 200
    assert all((media / name).exists() for p in photos for name in p.file_names)
    event = AuditEvent.objects.get(action="patient.erase")
    assert event.detail["photo_uses_withdrawn"] == ["teaching", "marketing"]


def test_a_recent_photo_keeps_the_record(journey: dict, media: Path) -> None:
    """A photo is a clinical entry: the retention runs from the latest one."""
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=9 * 366)):
        _photographed(journey)
        page = client_for(journey["owner"]).get(
            reverse("patient-record-erase", args=[journey["patient"].pk])).content.decode()
    assert "the clinical record is kept until" in page


def test_a_full_erasure_deletes_the_photos_and_their_files(
        journey: dict, media: Path, django_capture_on_commit_callbacks: Any) -> None:
    photos = _photographed(journey)
    names = [name for p in photos for name in p.file_names]
    ScopeWithdrawal.objects.create(
        clinic=journey["clinic"], patient=journey["patient"],
        consent=photos[0].consent, scope="marketing", reason="Sam does not want it",
        recorded_by=journey["clinician"])

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=9 * 366)), \
            django_capture_on_commit_callbacks(execute=True):
        response = _erase(journey)
    assert response.status_code == 302
    assert Erasure.objects.get().scope == ErasureScope.FULL
    assert not Photo.objects.filter(patient=journey["patient"]).exists()
    assert not any((media / name).exists() for name in names)
    assert set(ScopeWithdrawal.objects.values_list("reason", flat=True)) == {"—"}
    deletions = AuditEvent.objects.filter(action="photo.delete")
    assert sorted(e.object_id for e in deletions) == sorted(str(p.pk) for p in photos)
    assert AuditEvent.objects.get(action="patient.erase").detail["photos_deleted"] == 2
