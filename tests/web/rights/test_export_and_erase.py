"""The patient's rights, exercised by the owner from the patient's page: the whole record
exported as JSON with its PDFs, and erasure (contact details while the clinical record must be
kept; everything identifying once it need not be), both audited."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from needlecare.access import Actor
from needlecare.audit.models import AuditEvent
from needlecare.care.aftercare import record_aftercare, signed_session_facts
from needlecare.care.models import TreatmentSession
from needlecare.clinical.aftercare import aftercare
from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.documents import services as documents
from needlecare.messaging.models import Message, MessageStatus
from needlecare.patients.models import Channel, Patient
from needlecare.recovery.links import replace_link
from needlecare.recovery.models import PatientLink
from needlecare.recovery.results import triage_result
from needlecare.recovery.services import submit_checkin
from needlecare.rights.models import Erasure, ErasureScope
from tests.factories import make_patient
from tests.web.patients.support import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}
    return tmp_path / "media"


def _export(client: Client, patient: Patient) -> Any:
    return client.post(reverse("patient-record-export", args=[patient.pk]))


def test_the_owner_exports_the_whole_record_with_its_pdfs(journey: dict, media: Path) -> None:
    patient = journey["patient"]
    stored = documents.store_aftercare_pdf(Actor(user=journey["clinician"]),
                                           journey["session"].pk)
    replace_link(Actor(user=journey["clinician"]), journey["patient"].pk)
    client = client_for(journey["owner"])
    page = client.get(reverse("patient-detail", args=[patient.pk])).content.decode()
    assert reverse("patient-record-export", args=[patient.pk]) in page
    assert "Download the record" in client.get(
        reverse("patient-record-export", args=[patient.pk])).content.decode()

    response = _export(client, patient)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="record-sam-')
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    record = json.loads(archive.read("record.json"))
    assert record["format"] == "needlecare.patient-record/1"
    assert record["records"]["patients.patient"][0]["family_name"] == patient.family_name
    for label in ("care.consultation", "care.consent", "care.treatmentplan",
                  "care.treatmentsession", "care.sessionzone",
                  "recovery.patientlink", "messaging.message", "documents.patientdocument"):
        assert record["records"].get(label), label
    assert "audit.auditevent" not in record["records"]
    [link] = record["records"]["recovery.patientlink"]
    assert "token_hash" not in link
    assert "nonce" not in link
    [listed] = record["files"]
    assert listed["record"] == f"documents.patientdocument:{stored.pk}"
    assert archive.read(listed["path"]) == (media / stored.file.name).read_bytes()
    assert AuditEvent.objects.filter(action="patient.export", patient=patient).count() == 1


def test_an_export_renders_a_lost_pdf_again(journey: dict, media: Path) -> None:
    stored = documents.store_aftercare_pdf(Actor(user=journey["clinician"]),
                                           journey["session"].pk)
    original = (media / stored.file.name).read_bytes()
    (media / stored.file.name).unlink()
    archive = zipfile.ZipFile(io.BytesIO(_export(client_for(journey["owner"]),
                                                 journey["patient"]).content))
    assert archive.read(f"files/{stored.file.name}") == original


def test_the_export_holds_the_whole_aftercare_plan_the_patient_was_given(
        journey: dict) -> None:
    # Stored compactly (the facts and the protocol version), exported whole.
    record = record_aftercare(journey["session"])
    archive = zipfile.ZipFile(io.BytesIO(_export(client_for(journey["owner"]),
                                                 journey["patient"]).content))
    [exported] = json.loads(archive.read("record.json"))["records"]["care.aftercarerecord"]
    given = aftercare(signed_session_facts(journey["session"])).model_dump(mode="json",
                                                                           by_alias=True)
    assert exported["plan"] == given
    assert exported["plan"]["days"][0]["instructions"]
    assert exported["protocol_version"] == record.protocol_version == "microneedling-2026.2"


def test_the_export_holds_each_check_in_result_as_the_patient_was_shown_it(
        journey: dict) -> None:
    # A check-in stores which rules fired; the export carries their words and the advice.
    link = replace_link(Actor(user=journey["clinician"]), journey["patient"].pk).link
    recorded = submit_checkin(Actor.for_link(link), {
        "symptoms": {}, "red_flags": {code: code == "fever_or_chills" for code in RED_FLAGS}})
    archive = zipfile.ZipFile(io.BytesIO(_export(client_for(journey["owner"]),
                                                 journey["patient"]).content))
    [exported] = json.loads(archive.read("record.json"))["records"]["recovery.checkin"]
    assert exported["level"] == "urgent"
    assert exported["result"] == triage_result(recorded.checkin)
    assert any("fever" in r["patient"].lower() for r in exported["result"]["reasons"])
    assert exported["result"]["advice"]


@pytest.mark.parametrize("role", ["clinician", "front_desk"])
def test_only_the_owner_may_export_or_erase(journey: dict, role: str) -> None:
    client = client_for(journey[role])
    patient = journey["patient"]
    page = client.get(reverse("patient-detail", args=[patient.pk])).content.decode()
    assert "record/export" not in page
    assert _export(client, patient).status_code == 403
    response = client.post(reverse("patient-record-erase", args=[patient.pk]),
                           {"confirm_name": patient.full_name})
    assert response.status_code == 403
    assert not Erasure.objects.exists()


def _erase(journey: dict, name: str | None = None) -> Any:
    patient = journey["patient"]
    return client_for(journey["owner"]).post(
        reverse("patient-record-erase", args=[patient.pk]),
        {"confirm_name": patient.full_name if name is None else name})


def test_a_wrong_name_erases_nothing(journey: dict) -> None:
    response = _erase(journey, "Someone Else")
    assert response.status_code == 200
    assert "exactly as shown" in response.content.decode()
    assert not Erasure.objects.exists()
    assert Patient.objects.get(pk=journey["patient"].pk).phone == journey["patient"].phone


def test_a_recent_record_loses_its_contact_details_and_keeps_the_clinical_record(
        journey: dict) -> None:
    patient = journey["patient"]
    clinician = Actor(user=journey["clinician"])
    replace_link(clinician, journey["patient"].pk)
    assert Message.objects.filter(patient=patient, status=MessageStatus.PENDING).exists()
    page = client_for(journey["owner"]).get(
        reverse("patient-record-erase", args=[patient.pk])).content.decode()
    assert "the clinical record is kept until" in page
    audit_before = AuditEvent.objects.count()

    response = _erase(journey)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.phone, patient.email, patient.preferred_channel,
            patient.messages_opt_in) == ("", "", Channel.NONE, False)
    assert patient.given_name == "Sam"  # kept with the clinical record
    assert not PatientLink.objects.filter(patient=patient, revoked_at__isnull=True).exists()
    assert not Message.objects.filter(patient=patient, status=MessageStatus.PENDING).exists()
    assert not Message.objects.filter(patient=patient).exclude(to_address="", body="").exists()
    erasure = Erasure.objects.get(patient=patient)
    session_day = journey["session"].scheduled_for.date()
    assert erasure.scope == ErasureScope.CONTACT_DETAILS
    assert erasure.kept_until == session_day.replace(year=session_day.year + 8)
    event = AuditEvent.objects.get(action="patient.erase")
    assert (event.actor, event.patient_id, event.detail["scope"]) == (
        journey["owner"], patient.pk, "contact_details")
    # The trail is only added to: nothing before the erasure changed or went.
    assert AuditEvent.objects.count() > audit_before
    page = client_for(journey["clinician"]).get(
        reverse("patient-detail", args=[patient.pk])).content.decode()
    assert "the contact details were erased" in page


def test_a_record_past_its_retention_is_anonymised_in_full(
        journey: dict, media: Path, django_capture_on_commit_callbacks: Any) -> None:
    patient = journey["patient"]
    clinician = Actor(user=journey["clinician"])
    stored = documents.store_aftercare_pdf(clinician, journey["session"].pk)
    TreatmentSession.objects.filter(pk=journey["session"].pk).update(notes="Mentions Sam.")
    search = AuditEvent.objects.filter(patient=patient).values_list("id", "detail")
    trail = list(search)

    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=9 * 366)), \
            django_capture_on_commit_callbacks(execute=True):
        response = _erase(journey)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.given_name == "Erased"
    assert patient.family_name == f"patient {patient.pk}"
    assert (patient.date_of_birth.month, patient.date_of_birth.day) == (1, 1)
    assert patient.name_key == f"erased patient {patient.pk}"
    assert TreatmentSession.objects.get(pk=journey["session"].pk).notes == ""
    assert not (media / stored.file.name).exists()
    assert Erasure.objects.get(patient=patient).scope == ErasureScope.FULL
    # Every earlier audit row is as it was.
    assert [row for row in search if row[0] in {r[0] for r in trail}] == trail


def test_a_registered_patient_without_clinical_entries_is_anonymised_in_full(
        journey: dict) -> None:
    other = make_patient(journey["clinic"], journey["front_desk"], given_name="Kim",
                         family_name="Only-Registered")
    response = client_for(journey["owner"]).post(
        reverse("patient-record-erase", args=[other.pk]), {"confirm_name": "kim only-registered"})
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.given_name == "Erased"
