"""The patient's rights over their record, exercised by the clinic's owner on request: a
complete export, and erasure or anonymisation where the record-keeping rules allow it.

``export_record`` gathers every row that belongs to the patient — every model with a foreign
key to the patient, then every model pointing at those rows, and so on — as JSON, with every
stored file of those rows (the PDFs, and each photo's original, thumbnail and screen copy) read
through the storage API, in one zip file. The audit trail is not part of it: it is the
clinic's record of who did what, and the export is itself audited. Secrets that open the
record (a personal link's token hash and nonce) are left out. An aftercare record, stored as
the facts and protocol version its plan is made from, is exported with the whole plan.
Education adds what no foreign key reaches: a public newsletter subscription under the
patient's address, with its consents and messages (``education.privacy``).

``erase_record`` erases what the rules let go (``rights.rules``): while the clinical record
must be kept, the contact details, the messages' addresses and contents, the personal links
and the consents to reading and the newsletter (withdrawn, their addresses cleared), and the
uses of the photos that rest on consent alone (teaching, marketing) are withdrawn; once
nothing must be kept, every identifying detail and free text as well, the stored files, and
the photos (a face is identifying: their rows go with their files). Other rows are kept (a
hash of a document given out still proves what it was) and the audit trail is never touched:
its rows of the erasure and of everything before stay as they were written.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from needlecare import clock, names
from needlecare.access import Actor, Permission, record_id, require
from needlecare.care.aftercare import aftercare_document
from needlecare.care.models import (
    Consent,
    Consultation,
    PlanEdit,
    SessionAddendum,
    SessionZone,
    TreatmentPlan,
    TreatmentSession,
)
from needlecare.diary.models import (
    Appointment,
    BookingRequest,
    PreVisitSignature,
    WaitlistEntry,
    WaitlistStatus,
)
from needlecare.documents.models import PatientDocument
from needlecare.documents.services import read_document
from needlecare.education import privacy as education
from needlecare.errors import NotFound, ServiceError
from needlecare.messaging.models import CANCELLABLE, Message, MessageStatus
from needlecare.outcomes.models import AdverseEvent, OutcomeRecord, Referral, TreatmentChoice
from needlecare.patients.access import access_patient, patients_for
from needlecare.patients.models import Channel, Patient
from needlecare.photos import files as photo_files
from needlecare.photos import services as photos
from needlecare.photos.models import Photo, ScopeWithdrawal
from needlecare.recovery.models import CheckIn, Escalation, EscalationNote, PatientLink
from needlecare.recovery.results import triage_result
from needlecare.rights.models import Erasure, ErasureScope
from needlecare.rights.rules import ErasurePlan, erasure_plan

EXPORT_FORMAT = "needlecare.patient-record/1"
#: Not the patient's record: the audit trail (the clinic's account of who did what; the
#: patient's access log shows it) and the erasures themselves (audited too).
_NOT_THE_RECORD = {"audit.auditevent", "rights.erasure"}
#: Fields that would open the record rather than describe it.
_SECRET_FIELDS = {"recovery.patientlink": {"token_hash", "nonce"}}
#: Fields stored compactly (the facts and protocol version a document is made from), exported
#: as the document the patient was given.
_AS_GIVEN: dict[str, Callable[[Any], dict[str, Any]]] = {
    "care.aftercarerecord": lambda record: {
        "plan": aftercare_document(record.session, record)[0]},
    "recovery.checkin": lambda checkin: {"result": triage_result(checkin)},
}
ERASED = "—"
#: Why rows changed by an erasure changed (stored, so not translated).
ERASURE_REASON = "Erased on the patient's request."


# --- gathering ---------------------------------------------------------------------------------

def _owned_rows(patient: Patient) -> dict[type[models.Model], dict[Any, models.Model]]:
    """Every row that belongs to the patient, by model: rows with a foreign key to the
    patient, rows with a foreign key to those, and so on until nothing new is found. The walk
    also starts from the rows an app says are the patient's without a foreign key to them
    (education: a public newsletter subscription under the patient's address)."""
    found: dict[type[models.Model], dict[Any, models.Model]] = {Patient: {patient.pk: patient}}
    for extra in education.record_rows(patient):
        found.setdefault(type(extra), {})[extra.pk] = extra
    asked: dict[tuple[type[models.Model], str], int] = {}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            if model._meta.label_lower in _NOT_THE_RECORD:
                continue
            for field in model._meta.concrete_fields:
                # A one-to-one field (a session's aftercare record) is a foreign key too.
                target = (field.related_model if field.many_to_one or field.one_to_one
                          else None)
                if target not in found or target is model:
                    continue
                ids = list(found[target])
                if asked.get((model, field.name)) == len(ids):
                    continue
                asked[(model, field.name)] = len(ids)
                rows = found.setdefault(model, {})
                for row in model._default_manager.filter(**{f"{field.name}__in": ids}):
                    if row.pk not in rows:
                        rows[row.pk] = row
                        grew = True
    return found


def _files(rows: Iterable[models.Model]) -> list[tuple[models.Model, str]]:
    """The stored files the rows name: (row, field name). File fields, and the fields in which
    a photo names its files in the default storage."""
    found = []
    for row in rows:
        names = [field.name for field in row._meta.concrete_fields
                 if isinstance(field, models.FileField)]
        if isinstance(row, Photo):
            names += Photo.FILE_FIELDS
        found += [(row, name) for name in names if getattr(row, name)]
    return found


@dataclass(frozen=True)
class RecordExport:
    filename: str
    content: bytes


def export_record(actor: Actor, patient_id: int | str) -> RecordExport:
    """The patient's whole record as a zip file: ``record.json`` and every stored file."""
    with transaction.atomic():
        require(actor, Permission.PATIENT_RIGHTS)
        patient = access_patient(actor, patient_id, permission=Permission.PATIENT_RIGHTS,
                                 action="patient.export")
        owned = _owned_rows(patient)
        records: dict[str, list[dict[str, Any]]] = {}
        for model, rows in sorted(owned.items(), key=lambda item: item[0]._meta.label_lower):
            if not rows:
                continue
            label = model._meta.label_lower
            secret = _SECRET_FIELDS.get(label, set())
            serialised = serializers.serialize("python", sorted(rows.values(),
                                                                 key=lambda r: r.pk))
            as_given = _AS_GIVEN.get(label)
            records[label] = [{"id": item["pk"],
                               **{k: v for k, v in item["fields"].items() if k not in secret},
                               **(as_given(rows[item["pk"]]) if as_given else {})}
                              for item in serialised]
        files = _files(row for rows in owned.values() for row in rows.values())
        clinic_name = patient.clinic.name
    # Files are read after the transaction: a missing document is rendered again, slowly.
    listed, archive = [], io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for row, name in files:
            stored = getattr(row, name)
            if isinstance(row, PatientDocument):
                content = read_document(row, actor).content
            elif isinstance(row, Photo):
                content = photo_files.read(stored)
            else:
                with stored.open("rb") as f:
                    content = f.read()
            path = f"files/{stored if isinstance(stored, str) else stored.name}"
            out.writestr(path, content)
            listed.append({"record": f"{row._meta.label_lower}:{row.pk}", "field": name,
                           "path": path, "size": len(content)})
        document = {"format": EXPORT_FORMAT, "exported_at": clock.now(),
                    "clinic": clinic_name, "patient_id": patient.pk,
                    "records": records, "files": listed}
        out.writestr("record.json", json.dumps(document, cls=DjangoJSONEncoder, indent=2,
                                               ensure_ascii=False))
    day = clock.localdate()
    stem = slugify(patient.full_name) or f"patient-{patient.pk}"
    return RecordExport(filename=f"record-{stem}-{day:%Y-%m-%d}.zip",
                        content=archive.getvalue())


# --- erasure -----------------------------------------------------------------------------------

def last_clinical_day(patient: Patient) -> dt.date | None:
    """The day of the record's last clinical entry, or None when it has none."""
    moments = [
        Consultation.objects.filter(patient=patient).aggregate(m=Max("created_at"))["m"],
        Consent.objects.filter(patient=patient).aggregate(m=Max("signed_at"))["m"],
        TreatmentPlan.objects.filter(patient=patient).aggregate(m=Max("created_at"))["m"],
        TreatmentSession.objects.filter(patient=patient).aggregate(m=Max("scheduled_for"))["m"],
        CheckIn.objects.filter(patient=patient).aggregate(m=Max("submitted_at"))["m"],
        Escalation.objects.filter(patient=patient).aggregate(m=Max("opened_at"))["m"],
        OutcomeRecord.objects.filter(patient=patient).aggregate(m=Max("assessed_on"))["m"],
        AdverseEvent.objects.filter(patient=patient).aggregate(m=Max("recorded_at"))["m"],
        Referral.objects.filter(patient=patient).aggregate(m=Max("created_at"))["m"],
        Photo.objects.filter(patient=patient).aggregate(m=Max("taken_at"))["m"],
    ]
    days = [timezone.localdate(m) if isinstance(m, dt.datetime) else m for m in moments if m]
    return max(days) if days else None


def plan_for(patient: Patient) -> ErasurePlan:
    return erasure_plan(last_clinical_day(patient), clock.localdate(),
                        int(settings.RECORD_RETENTION_YEARS))


@dataclass(frozen=True)
class ErasurePreview:
    patient: Patient
    plan: ErasurePlan
    last_clinical_day: dt.date | None
    earlier: list[Erasure]


def erasure_preview(actor: Actor, patient_id: int | str) -> ErasurePreview:
    """What an erasure would do today, for the confirmation page (the read is audited)."""
    with transaction.atomic():
        patient = access_patient(actor, patient_id, permission=Permission.PATIENT_RIGHTS,
                                 action="patient.erasure_preview")
        return ErasurePreview(patient=patient, plan=plan_for(patient),
                              last_clinical_day=last_clinical_day(patient),
                              earlier=list(Erasure.objects.filter(patient=patient)))


def erase_record(actor: Actor, patient_id: int | str, *, confirm_name: str) -> Erasure:
    """Erase what may be erased today. ``confirm_name`` is the patient's name as the owner
    typed it on the confirmation page."""
    deleted: list[tuple[Any, str]] = []
    with transaction.atomic():
        require(actor, Permission.PATIENT_RIGHTS)
        patient = (patients_for(actor).select_for_update()
                   .filter(pk=record_id(patient_id)).first())
        if patient is None:
            raise NotFound(_("No such patient."))
        if names.name_key(confirm_name) != patient.name_key:
            raise ServiceError("confirm_name", _(
                "Type the patient's full name exactly as shown to confirm."),
                field="confirm_name")
        plan = plan_for(patient)
        done = _erase_contact(patient)
        done["photo_uses_withdrawn"] = photos.withdraw_uses_on_erasure(actor, patient,
                                                                       ERASURE_REASON)
        if plan.full:
            done.update(_erase_identity(patient))
            deleted = [(d.file.storage, d.file.name)
                       for d in PatientDocument.objects.filter(patient=patient)]
            done["files_deleted"] = len(deleted)
            # Their files go after the commit too (photos' own deletion path, audited).
            done["photos_deleted"] = photos.delete_on_erasure(actor, patient, ERASURE_REASON)
        patient.save()
        erasure = Erasure.objects.create(
            clinic_id=patient.clinic_id, patient=patient, erased_by=actor.user,
            scope=ErasureScope.FULL if plan.full else ErasureScope.CONTACT_DETAILS,
            kept_until=plan.kept_until)
        access_patient(actor, patient.pk, permission=Permission.PATIENT_RIGHTS,
                       action="patient.erase", detail={
                           "scope": erasure.scope, "erasure": erasure.pk,
                           "kept_until": plan.kept_until.isoformat() if plan.kept_until
                           else None, **done})
        # The files go only once the erasure has committed.
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in deleted])
    return erasure


def _erase_contact(patient: Patient) -> dict[str, Any]:
    """What is not part of the clinical record: how to reach the patient (education's
    consents and subscriptions first, while the patient's address still finds them)."""
    newsletter = education.erase(patient)
    patient.phone = ""
    patient.email = ""
    patient.preferred_channel = Channel.NONE
    patient.messages_opt_in = False
    now = clock.now()
    links = PatientLink.objects.filter(patient=patient, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason="Erased on the patient's request.")
    cancelled = Message.objects.filter(patient=patient, status__in=CANCELLABLE).update(
        status=MessageStatus.CANCELLED, reason=_("Erased on the patient's request."))
    Message.objects.filter(patient=patient).update(to_address="", subject="", body="",
                                                   last_error="")
    # The diary's ways to reach them: the online request's contact details, and the waiting
    # list (an offer is a message; nobody can be told of a free slot any more).
    BookingRequest.objects.filter(patient=patient).update(phone="", email="")
    waiting = WaitlistEntry.objects.filter(patient=patient, status=WaitlistStatus.WAITING
                                           ).update(status=WaitlistStatus.REMOVED)
    return {"links_revoked": links, "messages_cancelled": cancelled,
            "waiting_list_left": waiting, **newsletter}


def _erase_identity(patient: Patient) -> dict[str, Any]:
    """Everything that identifies the patient, once no record has to be kept. Updates go
    through the query set: a signed consent or session refuses changes through its model."""
    patient.given_name = _("Erased")
    patient.family_name = _("patient %(id)s") % {"id": patient.pk}
    # The year alone is kept, for age at treatment in the clinic's statistics.
    patient.date_of_birth = patient.date_of_birth.replace(month=1, day=1)
    Consultation.objects.filter(patient=patient).update(override_reason="")
    Consent.objects.filter(patient=patient).update(signed_name=ERASED, signed_user_agent="",
                                                   signed_ip=None, withdrawn_reason="")
    sessions = TreatmentSession.objects.filter(patient=patient)
    sessions.update(notes="", immediate_reaction="", interval_reason="", cancelled_reason="")
    SessionZone.objects.filter(session__in=sessions).update(depth_reason="")
    SessionAddendum.objects.filter(session__in=sessions).update(text=ERASED)
    PlanEdit.objects.filter(plan__patient=patient).update(reason=ERASED)
    EscalationNote.objects.filter(escalation__patient=patient).update(text=ERASED)
    AdverseEvent.objects.filter(patient=patient).update(note="")
    TreatmentChoice.objects.filter(patient=patient).update(reason=ERASED)
    Referral.objects.filter(patient=patient).update(reason_detail="", summary=ERASED,
                                                    outcome_note="")
    # The diary: the request as the patient typed it, the consent signed ahead (a drawn
    # signature identifies as much as a name), and the free text about their appointments.
    BookingRequest.objects.filter(patient=patient).update(
        given_name=ERASED, family_name=ERASED, date_of_birth=None, preferred_times="",
        message="")
    PreVisitSignature.objects.filter(previsit__patient=patient).update(
        svg="", typed_name=ERASED, signed_ip=None, user_agent="")
    Appointment.objects.filter(patient=patient).update(notes="", override_reason="",
                                                       cancelled_reason="")
    WaitlistEntry.objects.filter(patient=patient).update(note="")
    ScopeWithdrawal.objects.filter(patient=patient).update(reason=ERASED)
    notes = 0
    for checkin in CheckIn.objects.filter(patient=patient).exclude(answers__note=""):
        answers = {**checkin.answers, "note": ""}
        notes += CheckIn.objects.filter(pk=checkin.pk).update(answers=answers)
    return {"checkin_notes_erased": notes}
