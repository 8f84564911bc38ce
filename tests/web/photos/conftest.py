"""The photo tests' world, run twice: with photos on the local disk, and on a real S3 store
(SeaweedFS on loopback, tests/s3.py). Every test of this folder passes on both."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from needlecare.access import Actor
from needlecare.photos.models import Moment, Photo
from needlecare.photos.services import Upload, upload_photos
from tests.factories import make_photo_consent
from tests.photo_files import good_jpeg
from tests.s3 import S3Endpoint, use_s3
from tests.web.patients.support import client_for
from tests.web.recovery.conftest import Linked, signed_days_ago, verified_client


@pytest.fixture(params=["filesystem", "s3"], autouse=True)
def photo_storage(request: pytest.FixtureRequest, settings: Any, tmp_path: Any,
                  monkeypatch: pytest.MonkeyPatch) -> str:
    """Django's default storage for this test: a folder of its own, or a prefix of its own
    in the S3 bucket."""
    if request.param == "s3":
        endpoint: S3Endpoint = request.getfixturevalue("s3_endpoint")
        use_s3(endpoint, settings, monkeypatch, f"test-{uuid.uuid4().hex[:12]}")
    else:
        settings.STORAGES = {**settings.STORAGES, "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")}}}
    return request.param


def stored_files(folder: str = "photos") -> list[str]:
    """Every file under ``folder`` in the default storage."""
    try:
        directories, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    found = [f"{folder}/{name}" for name in files]
    for directory in directories:
        found += stored_files(f"{folder}/{directory}")
    return found


@dataclass
class PhotoWorld:
    linked: Linked

    @property
    def clinician(self) -> Any:
        return self.linked.clinician

    @property
    def patient(self) -> Any:
        return self.linked.patient

    @property
    def session(self) -> Any:
        return self.linked.session

    def staff(self, role: str = "clinician") -> Client:
        return client_for(getattr(self.linked, role))

    def phone(self) -> Client:
        return verified_client(self.linked)


def photo_world(days: int = 2, uses: list[str] | None = None) -> PhotoWorld:
    linked = signed_days_ago(days)
    # Signed before the session, as it would be (tests travel back to earlier days).
    make_photo_consent(linked.patient, linked.clinician, uses,
                       signed_at=timezone.now() - dt.timedelta(days=days + 1))
    return PhotoWorld(linked)


@pytest.fixture
def world(db: None) -> PhotoWorld:
    return photo_world()


def add_baseline(world: PhotoWorld, data: bytes | None = None, view: str = "front",
                 when: dt.datetime | None = None) -> Photo:
    """A clinician's pre-treatment photo of the world's session, taken on its day."""
    photo = upload_photos(Actor(user=world.clinician), world.patient.pk,
                          [Upload(data or good_jpeg(), view)], session_id=world.session.pk,
                          moment=Moment.BEFORE)[0]
    when = when or timezone.make_aware(dt.datetime.combine(world.session.performed_on,
                                                           dt.time(9, 30)))
    Photo.objects.filter(pk=photo.pk).update(taken_at=when, uploaded_at=when, day=0)
    photo.refresh_from_db()
    return photo
