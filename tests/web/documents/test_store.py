"""Stored documents: the hash is the SHA-256 of the bytes, the same content is kept once, a
change makes a new file, and a damaged or missing file is never handed out."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from needlecare.access import Actor
from needlecare.audit.models import AuditEvent
from needlecare.care import services as care
from needlecare.documents import services
from needlecare.documents.models import DocumentKind, PatientDocument
from needlecare.errors import ServiceError
from needlecare.recovery.models import PatientLink
from tests.web.documents.conftest import pdf_text, sign_treatment_consent
from tests.web.recovery.conftest import signed_days_ago

pytestmark = pytest.mark.django_db


def _stored_bytes(document: PatientDocument) -> bytes:
    with document.file.open("rb") as f:
        return f.read()


def test_the_stored_hash_is_the_sha256_of_the_stored_bytes(journey: dict,
                                                           media_dir: Path) -> None:
    actor = Actor(user=journey["clinician"])
    document = services.store_aftercare_pdf(actor, journey["session"].pk)

    content = _stored_bytes(document)
    assert hashlib.sha256(content).hexdigest() == document.sha256
    assert content == services.aftercare_pdf(journey["session"])
    assert document.kind == DocumentKind.AFTERCARE_PLAN
    assert document.session_id == journey["session"].pk
    assert document.consent_id is None
    assert document.patient_id == journey["patient"].pk
    assert document.clinic_id == journey["clinic"].pk
    assert document.created_by == journey["clinician"]
    clinic, patient = journey["clinic"].pk, journey["patient"].pk
    assert document.file.name == f"documents/{clinic}/{patient}/aftercare_plan-" \
                                 f"{document.sha256}.pdf"
    assert (media_dir / document.file.name).is_file()


def test_storing_the_same_content_again_keeps_one_copy(journey: dict,
                                                       media_dir: Path) -> None:
    actor = Actor(user=journey["clinician"])
    first = services.store_aftercare_pdf(actor, journey["session"].pk)
    again = services.store_aftercare_pdf(Actor(user=journey["owner"]), journey["session"].pk)

    assert again.pk == first.pk
    assert PatientDocument.objects.count() == 1
    assert len(list(media_dir.rglob("*.pdf"))) == 1
    # Each request is audited; the file was stored once.
    actions = list(AuditEvent.objects.filter(patient=journey["patient"],
                                             action__startswith="document.")
                   .values_list("action", flat=True))
    assert sorted(actions) == ["document.aftercare_plan", "document.aftercare_plan",
                               "document.store"]


def test_a_change_makes_a_new_file_and_keeps_the_one_given_out(journey: dict) -> None:
    actor = Actor(user=journey["clinician"])
    before = services.store_aftercare_pdf(actor, journey["session"].pk)
    old_bytes = _stored_bytes(before)
    patient = journey["patient"]
    patient.family_name = "Renamed"
    patient.save()

    after = services.store_aftercare_pdf(actor, journey["session"].pk)
    assert after.pk != before.pk
    assert after.sha256 != before.sha256
    assert "Renamed" in pdf_text(_stored_bytes(after))
    before.refresh_from_db()
    assert _stored_bytes(before) == old_bytes


def test_consent_pdf_is_stored_once_and_again_after_a_withdrawal(journey: dict) -> None:
    consent = sign_treatment_consent(journey["patient"], journey["clinician"])
    front_desk = Actor(user=journey["front_desk"])
    signed = services.store_consent_pdf(front_desk, consent.pk)
    assert services.store_consent_pdf(front_desk, consent.pk).pk == signed.pk
    assert signed.consent_id == consent.pk
    assert signed.kind == DocumentKind.CONSENT
    assert hashlib.sha256(_stored_bytes(signed)).hexdigest() == signed.sha256

    care.withdraw_consent(Actor(user=journey["clinician"]), consent.pk, "Moving abroad.")
    withdrawn = services.store_consent_pdf(front_desk, consent.pk)
    assert withdrawn.pk != signed.pk
    assert "withdrawn" in pdf_text(_stored_bytes(withdrawn))
    assert PatientDocument.objects.filter(consent=consent).count() == 2


def test_download_gives_the_stored_bytes_with_a_clear_name(journey: dict) -> None:
    actor = Actor(user=journey["clinician"])
    document = services.store_aftercare_pdf(actor, journey["session"].pk)
    got = services.download(actor, document.pk)
    assert got.content == _stored_bytes(document)
    assert got.content_type == "application/pdf"
    day = journey["session"].performed_on
    assert got.filename == f"aftercare-plan-sam-{journey['patient'].family_name.lower()}-" \
                           f"{day:%Y-%m-%d}.pdf"


def test_a_damaged_file_is_not_handed_out(journey: dict, media_dir: Path) -> None:
    actor = Actor(user=journey["clinician"])
    document = services.store_aftercare_pdf(actor, journey["session"].pk)
    (media_dir / document.file.name).write_bytes(b"%PDF-1.7 tampered")
    with pytest.raises(ServiceError) as refused:
        services.download(actor, document.pk)
    assert refused.value.code == "document_damaged"


def test_a_missing_file_is_rendered_again_from_the_snapshot(journey: dict,
                                                            media_dir: Path) -> None:
    actor = Actor(user=journey["clinician"])
    document = services.store_aftercare_pdf(actor, journey["session"].pk)
    original = (media_dir / document.file.name).read_bytes()
    (media_dir / document.file.name).unlink()

    got = services.download(actor, document.pk)
    assert got.content == original
    assert got.document is not None
    assert got.document.pk == document.pk
    assert (media_dir / document.file.name).read_bytes() == original
    event = AuditEvent.objects.get(action="document.file_restored")
    assert (event.object_id, event.detail["how"]) == (str(document.pk), "rendered again")
    assert PatientDocument.objects.count() == 1


def test_a_missing_file_of_a_changed_record_is_given_as_it_is_now(journey: dict,
                                                                  media_dir: Path) -> None:
    actor = Actor(user=journey["clinician"])
    consent = sign_treatment_consent(journey["patient"], journey["clinician"])
    before = services.store_consent_pdf(actor, consent.pk)
    care.withdraw_consent(actor, consent.pk, "Moving abroad.")
    (media_dir / before.file.name).unlink()

    got = services.download(actor, before.pk)
    assert "withdrawn" in pdf_text(got.content)
    assert got.document is not None
    assert got.document.pk != before.pk
    assert hashlib.sha256(got.content).hexdigest() == got.document.sha256
    event = AuditEvent.objects.get(action="document.file_restored")
    assert event.detail["given"] == got.document.pk


def test_storing_again_puts_back_a_missing_file(journey: dict, media_dir: Path) -> None:
    actor = Actor(user=journey["clinician"])
    document = services.store_aftercare_pdf(actor, journey["session"].pk)
    (media_dir / document.file.name).unlink()
    again = services.store_aftercare_pdf(actor, journey["session"].pk)
    assert again.pk == document.pk
    assert hashlib.sha256((media_dir / document.file.name).read_bytes()).hexdigest() \
        == document.sha256


def test_a_leftover_file_with_other_content_is_replaced(journey: dict,
                                                        media_dir: Path) -> None:
    """A write cut short leaves a file named after content it does not hold."""
    content = services.aftercare_pdf(journey["session"])
    sha = hashlib.sha256(content).hexdigest()
    clinic, patient = journey["clinic"].pk, journey["patient"].pk
    leftover = media_dir / f"documents/{clinic}/{patient}/aftercare_plan-{sha}.pdf"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(content[:100])

    document = services.store_aftercare_pdf(Actor(user=journey["clinician"]),
                                            journey["session"].pk)
    assert document.file.name == str(leftover.relative_to(media_dir))
    assert leftover.read_bytes() == content


def test_nothing_is_stored_when_the_session_is_not_signed(journey: dict) -> None:
    from tests.web.patients.support import make_booked_session

    booked = make_booked_session(journey["plan"], journey["clinician"])
    with pytest.raises(ServiceError):
        services.store_aftercare_pdf(Actor(user=journey["clinician"]), booked.pk)
    assert not PatientDocument.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="document.").exists()


def test_bad_ids_are_not_found(journey: dict) -> None:
    from needlecare.errors import NotFound

    actor: Any = Actor(user=journey["clinician"])
    for bad in ["x", "", "999999", "1.5"]:
        for call in (services.store_aftercare_pdf, services.store_consent_pdf,
                     services.download, services.session_calendar):
            with pytest.raises(NotFound):
                call(actor, bad)


def test_two_requests_storing_at_once_keep_one_row(journey: dict, media_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Another request stores the same content between this one's look-up and its insert:
    the unique constraint refuses the second row, and this request returns the first."""
    write_file = services._write_file
    rival: list[PatientDocument] = []

    def write_then_lose_the_race(name: str, content: bytes, sha256: str) -> str:
        saved = write_file(name, content, sha256)
        rival.append(PatientDocument.objects.create(
            clinic=journey["clinic"], patient=journey["patient"], kind="aftercare_plan",
            session=journey["session"], sha256=sha256, file=saved))
        return saved

    monkeypatch.setattr(services, "_write_file", write_then_lose_the_race)
    document = services.store_aftercare_pdf(Actor(user=journey["clinician"]),
                                            journey["session"].pk)
    assert document.pk == rival[0].pk
    assert PatientDocument.objects.count() == 1
    assert hashlib.sha256((media_dir / document.file.name).read_bytes()).hexdigest() \
        == document.sha256
    # The audit row of the request itself is kept; no "stored" row for a file it did not store.
    assert not AuditEvent.objects.filter(action="document.store").exists()
    assert AuditEvent.objects.filter(action="document.aftercare_plan").count() == 1


@pytest.mark.django_db(transaction=True)
def test_pdfs_render_with_no_transaction_open(journey: dict,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """An open transaction while a PDF renders (over half a second) would hold SQLite's one
    write lock, and every check-in in the clinic would wait for it."""
    render = services.render_pdf
    open_while_rendering: list[bool] = []

    def watched(template: str, context: dict[str, Any]) -> bytes:
        open_while_rendering.append(connection.in_atomic_block)
        return render(template, context)

    monkeypatch.setattr(services, "render_pdf", watched)
    actor = Actor(user=journey["clinician"])
    aftercare = services.store_aftercare_pdf(actor, journey["session"].pk)
    consent = sign_treatment_consent(journey["patient"], journey["clinician"])
    stored_consent = services.store_consent_pdf(actor, consent.pk)

    assert open_while_rendering == [False, False]
    assert "Your aftercare plan" in pdf_text(_stored_bytes(aftercare))
    assert stored_consent.kind == DocumentKind.CONSENT
    assert AuditEvent.objects.filter(action="document.store").count() == 2


def test_a_link_revoked_while_its_pdf_renders_gets_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    linked = signed_days_ago(1)
    render = services.render_pdf

    def revoked_meanwhile(template: str, context: dict[str, Any]) -> bytes:
        PatientLink.objects.filter(pk=linked.link.pk).update(revoked_at=timezone.now())
        return render(template, context)

    monkeypatch.setattr(services, "render_pdf", revoked_meanwhile)
    with pytest.raises(ServiceError) as refused:
        services.store_aftercare_pdf(Actor.for_link(linked.link), linked.session.pk)
    assert refused.value.code == "link_revoked"
    assert not PatientDocument.objects.exists()
