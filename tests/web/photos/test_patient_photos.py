"""The patient adds photos after a check-in, from their phone: a page of its own reached from
the check-in result, checked at once (a retake in plain words for a bad photo, which is kept
but never measured), nothing stored for a refused file, and nothing kept in any cache."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from needlecare.imaging.intake import REFUSALS
from needlecare.photos.models import AnalysisStatus, Photo
from needlecare.recovery.models import CheckIn
from tests.photo_files import bad_files, dark_jpeg, good_jpeg
from tests.web.photos.conftest import PhotoWorld, photo_world, stored_files
from tests.web.recovery.conftest import (
    NORMAL_DAY_2,
    another_patient,
    answers,
    verified_client,
)

pytestmark = pytest.mark.django_db


def _checkin(world: PhotoWorld, phone: Client) -> CheckIn:
    response = phone.post(world.linked.path("patient-checkin"), answers(NORMAL_DAY_2))
    assert response.status_code == 302
    return CheckIn.objects.filter(patient=world.patient).latest("id")


def _send(world: PhotoWorld, phone: Client, checkin: CheckIn, content: bytes,
          view: str = "front") -> Any:
    return phone.post(world.linked.path("patient-checkin-photos", pk=checkin.pk),
                      {"view": view, "photo": SimpleUploadedFile("IMG_0001.JPG", content,
                                                                 "image/jpeg")})


def test_the_result_page_offers_a_photo_and_the_check_in_is_already_sent(
        world: PhotoWorld) -> None:
    phone = world.phone()
    checkin = _checkin(world, phone)
    result = phone.get(world.linked.path("patient-checkin-result", pk=checkin.pk))
    page = result.content.decode()
    assert "Add a photo (optional)" in page
    assert world.linked.path("patient-checkin-photos", pk=checkin.pk) in page
    step = phone.get(world.linked.path("patient-checkin-photos", pk=checkin.pk))
    assert step.status_code == 200
    assert step["Cache-Control"] == "no-store, private"
    html = step.content.decode()
    assert 'accept="image/*"' in html
    assert "capture=" in html
    assert "Face a window" in html
    assert '<svg' in html
    assert "Where your face goes in the photo" in html


def test_a_dark_photo_asks_for_a_retake_and_is_kept_but_never_measured(
        world: PhotoWorld) -> None:
    phone = world.phone()
    checkin = _checkin(world, phone)
    response = _send(world, phone, checkin, dark_jpeg())
    assert response.status_code == 302
    page = phone.get(response["Location"]).content.decode()
    assert "Please take the photo again" in page
    assert "Too dark — face a window" in page
    photo = Photo.objects.get(checkin=checkin)
    assert photo.analysis_status == AnalysisStatus.DONE  # checked at once, on the phone
    assert photo.quality_passed is False
    assert photo.redness is None
    assert photo.a_star_change is None
    assert photo.taken_by == "patient"
    assert photo.link_id == world.linked.link.pk
    # Then a good one.
    response = _send(world, phone, checkin, good_jpeg())
    page = phone.get(response["Location"]).content.decode()
    assert "your photo is clear" in page
    assert Photo.objects.filter(checkin=checkin, quality_passed=True).count() == 1


@pytest.mark.parametrize("kind", list(bad_files()))
def test_every_bad_file_from_the_phone_is_refused_with_nothing_stored(
        world: PhotoWorld, kind: str) -> None:
    phone = world.phone()
    checkin = _checkin(world, phone)
    content, code = bad_files()[kind]
    response = _send(world, phone, checkin, content)
    assert response.status_code == 200
    page = response.content.decode()
    assert "The photo was not sent" in page
    assert escape(REFUSALS[code].split("{")[0].strip()) in page
    assert Photo.objects.count() == 0
    assert stored_files() == []


def test_the_patient_sees_their_own_photo_and_nobody_elses(world: PhotoWorld) -> None:
    phone = world.phone()
    checkin = _checkin(world, phone)
    _send(world, phone, checkin, good_jpeg())
    photo = Photo.objects.get()
    own = phone.get(world.linked.path("patient-photo-file", pk=photo.pk, size="thumbnail"))
    assert own.status_code == 200
    assert own["Content-Type"] == "image/jpeg"
    assert own["Cache-Control"] == "no-store, private"
    # Never the stored original from a phone route, and never by a public media address.
    assert phone.get(world.linked.path("patient-photo-file", pk=photo.pk,
                                       size="original")).status_code == 404
    other = another_patient(world.linked)
    stranger = verified_client(other)
    assert stranger.get(other.path("patient-photo-file", pk=photo.pk,
                                   size="thumbnail")).status_code == 404


def test_a_patient_without_photo_consent_cannot_add_one(db: None) -> None:
    world = photo_world()
    world.patient.consents.filter(kind="photos").update(withdrawn_at="2026-01-01T00:00Z")
    phone = world.phone()
    checkin = _checkin(world, phone)
    page = phone.get(world.linked.path("patient-checkin-photos", pk=checkin.pk))
    assert "You have not agreed to photos" in page.content.decode()
    response = _send(world, phone, checkin, good_jpeg())
    assert response.status_code == 200
    assert stored_files() == []


def test_another_patients_check_in_takes_no_photo(world: PhotoWorld) -> None:
    phone = world.phone()
    checkin = _checkin(world, phone)
    other = another_patient(world.linked)
    stranger = verified_client(other)
    response = stranger.post(other.path("patient-checkin-photos", pk=checkin.pk),
                             {"view": "front",
                              "photo": SimpleUploadedFile("a.jpg", good_jpeg(), "image/jpeg")})
    assert response.status_code == 404
    assert Photo.objects.count() == 0
    assert stored_files() == []


def test_staff_pages_list_the_check_ins_photos(world: PhotoWorld) -> None:
    phone = world.phone()
    checkin = _checkin(world, phone)
    _send(world, phone, checkin, good_jpeg())
    photo = Photo.objects.get()
    page = world.staff().get(reverse("checkin-detail", args=[checkin.pk])).content.decode()
    assert reverse("photo-file", args=[photo.pk, "thumbnail"]) in page
    chart_page = world.staff().get(reverse("patient-detail", args=[world.patient.pk]))
    assert reverse("photo-detail", args=[photo.pk]) in chart_page.content.decode()
    session_page = world.staff().get(reverse("session-detail", args=[world.session.pk]))
    assert reverse("photo-detail", args=[photo.pk]) in session_page.content.decode()
