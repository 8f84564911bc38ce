"""Redness measured through the whole upload path, against the patient's own baseline, and fed
to triage: persistent redness on two consecutive photo check-ins after the fading window opens
an escalation at "contact the clinic"; a photo never lowers a level; a measurement the worker
makes after the check-in still reaches triage.

Earlier days are reached with the application's clock (``clock.at``), not by moving the
machine's: the S3 store refuses requests signed with a time a day off."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from needlecare import clock
from needlecare.access import Actor
from needlecare.photos import jobs, measurement, services
from needlecare.photos.models import AnalysisStatus, Photo
from needlecare.photos.services import Upload
from needlecare.recovery.models import CheckIn, Escalation
from needlecare.recovery.services import submit_checkin
from tests.imaging import synthetic
from tests.photo_files import good_jpeg, portrait_rgb, redder_jpeg
from tests.web.api.conftest import all_no
from tests.web.photos.conftest import PhotoWorld, add_baseline, photo_world

pytestmark = pytest.mark.django_db

QUIET = {"symptoms": {}, "red_flags": all_no(),
         "note": ""}
RULE = "persistent_photo_redness"


def _measured_baseline(world: PhotoWorld) -> Photo:
    baseline = add_baseline(world)
    assert jobs.run_due("test-worker") == 1
    baseline.refresh_from_db()
    assert baseline.quality_passed
    assert baseline.redness
    return baseline


def _checkin_with_photo(world: PhotoWorld, data: bytes, answers: dict[str, Any] | None = None
                        ) -> tuple[CheckIn, services.AddedPhoto]:
    actor = Actor.for_link(world.linked.link)
    recorded = submit_checkin(actor, answers or QUIET)
    added = services.add_checkin_photo(actor, recorded.checkin.pk, Upload(data, "front"))
    return recorded.checkin, added


@pytest.fixture
def late(db: None) -> PhotoWorld:
    """A session 10 days ago: past the fading window of redness on photos (day 8)."""
    return photo_world(days=10)


def test_a_known_redness_change_is_recovered_through_the_upload_path(late: PhotoWorld) -> None:
    baseline = _measured_baseline(late)
    _checkin, added = _checkin_with_photo(late, redder_jpeg(6.0))
    photo = added.photo
    assert photo.baseline_id == baseline.pk
    cheeks = photo.redness_change["zones"]["cheeks"]
    assert cheeks["delta"] == pytest.approx(6.0, abs=0.5)
    assert photo.redness_change["control"] == "forehead"
    assert cheeks["against_control"] == pytest.approx(6.0, abs=0.5)
    assert cheeks["is_change"] is True
    assert photo.a_star_change == pytest.approx(6.0, abs=0.5)
    assert photo.noise_floor == 3.0


def test_the_same_face_again_is_no_change(late: PhotoWorld) -> None:
    _measured_baseline(late)
    _checkin, added = _checkin_with_photo(late, good_jpeg())
    assert abs(added.photo.a_star_change) < 0.5
    assert added.photo.redness_change["zones"]["cheeks"]["is_change"] is False
    assert added.findings is not None
    assert added.findings.added == []


def test_persistent_redness_on_two_consecutive_photo_check_ins_asks_the_clinic(
        late: PhotoWorld) -> None:
    _measured_baseline(late)
    with clock.at(timezone.now() - dt.timedelta(days=1)):
        first, added = _checkin_with_photo(late, redder_jpeg(6.0))
    assert first.level == "expected"
    assert added.findings is not None
    assert added.findings.added == []
    assert not Escalation.objects.exists()
    second, added = _checkin_with_photo(late, redder_jpeg(6.0))
    assert second.level == "expected"  # what the patient was shown stays as it was
    assert [r["rule"] for r in added.findings.added] == [RULE]
    escalation = Escalation.objects.get()
    assert escalation.level == "contact_clinic"
    assert [r["rule"] for r in escalation.reasons] == [RULE]
    second.refresh_from_db()
    assert second.escalation_id == escalation.pk
    page = late.phone().get(late.linked.path("patient-checkin-photos", pk=second.pk))
    assert "Your photos show redness that has not faded as expected" in page.content.decode()
    # Sending the same again adds nothing new to the escalation.
    _checkin_with_photo(late, redder_jpeg(6.0), {**QUIET, "note": "again"})
    assert Escalation.objects.count() == 1


def test_redness_before_the_fading_window_ends_does_not_flag(db: None) -> None:
    early = photo_world(days=3)
    _measured_baseline(early)
    with clock.at(timezone.now() - dt.timedelta(days=1)):
        _checkin_with_photo(early, redder_jpeg(6.0))
    _checkin, added = _checkin_with_photo(early, redder_jpeg(6.0))
    assert added.photo.a_star_change == pytest.approx(6.0, abs=0.5)
    assert added.findings is not None
    assert added.findings.added == []
    assert not Escalation.objects.exists()


def test_a_photo_never_lowers_a_level(late: PhotoWorld) -> None:
    _measured_baseline(late)
    fever = {"symptoms": {}, "red_flags": all_no(fever_or_chills=True), "note": ""}
    checkin, added = _checkin_with_photo(late, good_jpeg(), fever)
    assert checkin.level != "expected"
    escalation = Escalation.objects.get()
    assert escalation.level == checkin.level
    assert added.findings is not None
    assert added.findings.result["level"] == checkin.level
    escalation.refresh_from_db()
    assert escalation.level == checkin.level


def test_a_measurement_the_worker_makes_after_the_check_in_still_reaches_triage(
        late: PhotoWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    _measured_baseline(late)
    with clock.at(timezone.now() - dt.timedelta(days=1)):
        _checkin_with_photo(late, redder_jpeg(6.0))
    real = measurement.feed_triage
    calls = []

    def broken_once(actor: Actor, photo: Photo) -> Any:
        calls.append(photo.pk)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return real(actor, photo)

    monkeypatch.setattr(measurement, "feed_triage", broken_once)
    _checkin, added = _checkin_with_photo(late, redder_jpeg(6.0))
    assert added.photo.analysis_status == AnalysisStatus.PENDING
    assert not Escalation.objects.exists()
    assert jobs.run_due("test-worker") == 1
    escalation = Escalation.objects.get()
    assert [r["rule"] for r in escalation.reasons] == [RULE]
    photo = Photo.objects.get(pk=added.photo.pk)
    assert photo.analysis_status == AnalysisStatus.DONE


def test_srgb_display_p3_and_heic_uploads_measure_alike(late: PhotoWorld) -> None:
    rgb = portrait_rgb()
    files = {
        "srgb": synthetic.encode(rgb),
        "display_p3": synthetic.encode(synthetic.srgb_to_display_p3(rgb),
                                       icc=synthetic.display_p3_profile()),
        "heic": synthetic.encode(rgb, "HEIF", quality=90, enc_params={"preset": "ultrafast"}),
    }
    photos = services.upload_photos(Actor(user=late.clinician), late.patient.pk,
                                    [Upload(data, "front") for data in files.values()])
    assert jobs.run_due("test-worker") == 3
    measured = {name: Photo.objects.get(pk=photo.pk)
                for name, photo in zip(files, photos, strict=True)}
    assert measured["heic"].received_format == "HEIF"
    assert measured["heic"].content_type == "image/jpeg"  # stored as JPEG
    assert measured["display_p3"].redness["colour_space"] != measured["srgb"].redness[
        "colour_space"]
    for zone in ("cheeks", "forehead"):
        reference = measured["srgb"].redness["zones"][zone]["a_star"]
        for name in ("display_p3", "heic"):
            assert measured[name].redness["zones"][zone]["a_star"] == pytest.approx(
                reference, abs=1.0), (name, zone)
