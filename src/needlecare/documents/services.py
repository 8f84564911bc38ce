"""Patient documents: the aftercare plan and the signed consent as PDFs, and a calendar file of
the check-in days.

Two kinds of functions live here:

- ``aftercare_pdf``, ``consent_pdf`` and ``calendar_ics`` only render. They check nothing: the
  caller (a service below, or the messaging worker sending to the patient) has already decided
  who may have the document.
- ``store_aftercare_pdf``, ``store_consent_pdf``, ``download`` and ``session_calendar`` are the
  services staff and patients reach through the access layer, each transaction with its audit
  row written in it. The two store services render between two transactions (see below).

Who may have what: the aftercare plan is clinical (clinicians and owners, and the patient for
the session of their personal link). The signed consent is administrative: the front desk may
print it too, and it leaves out the withdrawal reason, which the patient page keeps for
clinicians. The calendar is a booking matter (front desk included).

A PDF is stored once per content. The same plan for the same patient renders to the same
bytes, so downloading it again reuses the stored file; a change (a withdrawal, a corrected
name) makes a new file, and the earlier one stays as it was given out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.access import Actor, Permission, audit
from needlecare.care import consent_texts
from needlecare.care.aftercare import aftercare_document
from needlecare.care.models import (
    Consent,
    SessionStatus,
    TreatmentSession,
)
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.documents import ics
from needlecare.documents.models import DocumentKind, PatientDocument, session_day
from needlecare.documents.pdf import render_pdf
from needlecare.errors import Conflict, NotFound, ServiceError
from needlecare.patients.access import access_record
from needlecare.recovery.links import require_usable
from needlecare.recovery.models import PatientLink

#: How long a booked session is shown in the calendar (sessions carry no end time).
APPOINTMENT_LENGTH = dt.timedelta(hours=1)
#: How long a check-in reminder is: answering takes a few minutes.
CHECKIN_LENGTH = dt.timedelta(minutes=15)


# --- rendering (no access check: the caller has decided) -----------------------------------------

def _dates(block: dict[str, Any], *names: str) -> dict[str, Any]:
    """A block of the stored plan with its ISO dates parsed, for the template's date filter."""
    return {**block, **{n: dt.date.fromisoformat(block[n]) for n in names if block.get(n)}}


def _require_signed(session: TreatmentSession) -> None:
    if session.status != SessionStatus.SIGNED or session.performed_on is None:
        raise Conflict("session_not_signed", _(
            "The aftercare plan and check-in days exist once the session has been signed."))


@dataclass(frozen=True)
class _Page:
    """What a PDF shows, read from the database, ready to render without reading more."""

    template: str
    context: dict[str, Any]
    time_zone: str

    def render(self) -> bytes:
        with timezone.override(ZoneInfo(self.time_zone)):
            return render_pdf(self.template, self.context)


def _aftercare_page(session: TreatmentSession) -> _Page:
    _require_signed(session)
    plan, protocol_version = aftercare_document(session)
    days = [_dates(d, "date") for d in plan.get("days", [])]
    weeks = [_dates(w, "from_date", "to_date") for w in plan.get("weeks", [])]
    checkin_days = default_protocol().data.aftercare.check_ins.days
    return _Page("documents/aftercare_plan.html", {
        "clinic": session.clinic, "patient": session.patient,
        "session_date": session.performed_on, "days": days, "weeks": weeks,
        "call_clinic": plan.get("call_clinic", ""), "protocol_version": protocol_version,
        "checkin_days": ", ".join(str(d) for d in checkin_days),
    }, session.clinic.time_zone)


def aftercare_pdf(session: TreatmentSession) -> bytes:
    """The patient's aftercare plan for a signed session, as a PDF."""
    return _aftercare_page(session).render()


def _consent_page(consent: Consent) -> _Page:
    clinic = consent.clinic
    known = consent_texts.TEXTS.get(consent.text_version)
    title = known.title if known is not None else str(consent.get_kind_display())
    witness = consent.witnessed_by
    return _Page("documents/consent.html", {
        "clinic": clinic, "patient": consent.patient, "consent": consent, "title": title,
        "time_zone": clinic.time_zone,
        "witness": f"{witness}, {witness.title}" if witness.title else str(witness),
        "withdrawal_recorded_by": consent.withdrawal_recorded_by or "—",
        "photo_uses": [str(consent_texts.PHOTO_USES.get(u, u)) for u in consent.photo_uses],
        "text_sha256": hashlib.sha256(consent.text.encode("utf-8")).hexdigest(),
    }, clinic.time_zone)


def consent_pdf(consent: Consent) -> bytes:
    """The signed consent as a PDF: the exact text signed, its version, who signed and
    witnessed it and when (in the clinic's time zone), and the withdrawal if there is one."""
    return _consent_page(consent).render()


def _uid_host() -> str:
    return urlsplit(settings.PUBLIC_BASE_URL).hostname or "needlecare.invalid"


def next_booked_session(session: TreatmentSession, now: dt.datetime
                        ) -> TreatmentSession | None:
    return (TreatmentSession.objects
            .filter(patient_id=session.patient_id, status=SessionStatus.BOOKED,
                    scheduled_for__gt=now)
            .order_by("scheduled_for", "id").first())


def calendar_ics(session: TreatmentSession, *, now: dt.datetime | None = None) -> bytes:
    """A calendar with the patient's next booked session (if any) and one event on each
    check-in day of the protocol after this signed session, at the hour invitations go out
    (clinic time)."""
    _require_signed(session)
    now = now or clock.now()
    clinic = session.clinic
    zone = ZoneInfo(clinic.time_zone)
    host = _uid_host()
    schedule = default_protocol().data.aftercare.check_ins
    call = _("If you are worried, call %(clinic)s on %(phone)s. For difficulty breathing or "
             "swelling of your lips, tongue or throat, call %(emergency)s.") % {
        "clinic": clinic.name, "phone": clinic.phone, "emergency": clinic.emergency_number}
    events: list[ics.Event] = []
    upcoming = next_booked_session(session, now)
    if upcoming is not None:
        events.append(ics.Event(
            uid=f"session-{upcoming.pk}@{host}", start=upcoming.scheduled_for,
            duration=APPOINTMENT_LENGTH,
            summary=_("Microneedling appointment at %(clinic)s") % {"clinic": clinic.name},
            description=_("To change the appointment, call %(clinic)s on %(phone)s.")
            % {"clinic": clinic.name, "phone": clinic.phone},
            location=", ".join(p for p in (clinic.name, " ".join(clinic.address.split())) if p)))
    day0 = session.performed_on
    assert day0 is not None  # _require_signed
    for day in schedule.days:
        start = dt.datetime.combine(day0 + dt.timedelta(days=day),
                                    dt.time(schedule.invite_at_hour), tzinfo=zone)
        events.append(ics.Event(
            uid=f"checkin-{session.pk}-day-{day}@{host}", start=start, duration=CHECKIN_LENGTH,
            summary=_("Check-in with %(clinic)s: day %(day)d after your treatment")
            % {"clinic": clinic.name, "day": day},
            description=_("Open the personal link your clinic gave you and answer a few "
                          "questions about how your skin is healing.") + " " + call,
            alarm=_("Time to tell %(clinic)s how your skin is healing.")
            % {"clinic": clinic.name},
            busy=False))
    return ics.calendar(events, now=now, name=_("%(clinic)s: your treatment and check-ins")
                        % {"clinic": clinic.name})


# --- who may have a document ---------------------------------------------------------------

def _permission(actor: Actor, staff: Permission) -> Permission:
    return Permission.PATIENT_SELF if actor.link is not None else staff


def _check_link(actor: Actor) -> None:
    """A patient's link reaches their own documents (the access layer checks whose they are)
    while it works."""
    if actor.link is None:
        return
    current = PatientLink.objects.select_related("clinic").filter(pk=actor.link.pk).first()
    if current is None:
        raise NotFound("No such link.")
    require_usable(current)


# --- storing -------------------------------------------------------------------------------

def _write_file(name: str, content: bytes, sha256: str) -> str:
    """Save ``content`` under ``name`` unless that file already holds it. Returns the name
    the storage used."""
    storage = PatientDocument._meta.get_field("file").storage
    if storage.exists(name):
        with storage.open(name, "rb") as existing:
            if hashlib.sha256(existing.read()).hexdigest() == sha256:
                return name
        # A file named after other content: a write cut short. Replace it.
        storage.delete(name)
    saved: str = storage.save(name, ContentFile(content))
    return saved


def _store(actor: Actor, *, kind: Any, content: bytes, patient: Any, clinic: Any,
           session: TreatmentSession | None = None, consent: Consent | None = None,
           ) -> PatientDocument:
    """The stored document holding ``content``: the existing one when the same bytes were
    stored for this patient before, else a new one. Call inside the service's transaction.

    ``kind`` is a ``DocumentKind`` (typed Any: without django-stubs mypy reads choices as
    tuples)."""
    sha256 = hashlib.sha256(content).hexdigest()
    stored = PatientDocument.objects.select_related("patient", "clinic", "session", "consent")
    found = stored.filter(patient=patient, kind=kind, sha256=sha256).first()
    if found is not None:
        if not found.file.storage.exists(found.file.name):
            # Its file was lost (a restore from a database-only backup): these are its bytes.
            _write_file(found.file.name, content, sha256)
            audit(actor, "document.file_restored", patient=patient, obj=found,
                  detail={"kind": str(kind), "sha256": sha256, "how": "stored again"})
        return found
    document = PatientDocument(clinic=clinic, patient=patient, kind=kind, session=session,
                               consent=consent, sha256=sha256, created_by=actor.user)
    extension = "ics" if kind == DocumentKind.CALENDAR else "pdf"
    name = document.file.field.generate_filename(document, f"{kind}-{sha256}.{extension}")
    document.file.name = _write_file(name, content, sha256)
    try:
        # A savepoint: on PostgreSQL a failed INSERT would otherwise end the transaction.
        with transaction.atomic():
            document.save()
    except IntegrityError:
        # Stored by a request running at the same time: use theirs.
        found = stored.filter(patient=patient, kind=kind, sha256=sha256).first()
        if found is None:
            raise
        if found.file.name != document.file.name:
            document.file.storage.delete(document.file.name)
        return found
    audit(actor, "document.store", patient=patient, obj=document,
          detail={"kind": str(kind), "sha256": sha256})
    return document


# Rendering a PDF takes from a tenth of a second (consent) to over half a second (aftercare
# plan), so the store services read in one transaction, render outside any, and store in a
# second one. Inside a single transaction SQLite would hold its one write lock all along,
# and every check-in in the clinic would wait for the PDF.

def store_aftercare_pdf(actor: Actor, session_id: int | str) -> PatientDocument:
    """Render the aftercare plan of a signed session and keep it (once per content)."""
    with transaction.atomic():
        session = access_record(actor, TreatmentSession, session_id,
                                permission=_permission(actor, Permission.VIEW_CLINICAL),
                                action="document.aftercare_plan", related=("clinic",))
        _check_link(actor)
        page = _aftercare_page(session)
    content = page.render()
    with transaction.atomic():
        _check_link(actor)  # revoked while the PDF was rendered?
        return _store(actor, kind=DocumentKind.AFTERCARE_PLAN, content=content,
                      patient=session.patient, clinic=session.clinic, session=session)


def store_consent_pdf(actor: Actor, consent_id: int | str) -> PatientDocument:
    """Render a signed consent (with its withdrawal, if any) and keep it (once per content)."""
    with transaction.atomic():
        consent = access_record(actor, Consent, consent_id,
                                permission=_permission(actor, Permission.VIEW_DEMOGRAPHICS),
                                action="document.consent",
                                related=("clinic", "witnessed_by", "withdrawal_recorded_by"))
        _check_link(actor)
        page = _consent_page(consent)
    content = page.render()
    with transaction.atomic():
        _check_link(actor)
        return _store(actor, kind=DocumentKind.CONSENT, content=content,
                      patient=consent.patient, clinic=consent.clinic, consent=consent)


@dataclass(frozen=True)
class DocumentFile:
    content: bytes
    filename: str
    content_type: str
    document: PatientDocument | None = None


_STAFF_PERMISSION = {
    DocumentKind.AFTERCARE_PLAN: Permission.VIEW_CLINICAL,
    DocumentKind.CONSENT: Permission.VIEW_DEMOGRAPHICS,
    DocumentKind.CALENDAR: Permission.BOOK,
}


def read_document(document: PatientDocument, actor: Actor | None = None) -> DocumentFile:
    """The bytes of a stored document, checked against the hash stored with it. No access
    check: for a document a service has just returned (``actor`` is who asked, for the audit
    row of a file made again).

    A file that is missing (lost, or never restored from a database-only backup) is rendered
    again from the record's snapshot: when the same bytes come out, they are stored again
    under the document; when the record has changed since (a corrected name, a withdrawal),
    the new rendering is stored as a document of its own and given instead."""
    try:
        with document.file.open("rb") as stored:
            content = stored.read()
    except FileNotFoundError:
        return _render_again(document, actor or Actor())
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise ServiceError("document_damaged", _(
            "The stored file no longer matches its fingerprint, so it is not given out. "
            "Make the document again."))
    return DocumentFile(content=content, filename=document.download_name,
                        content_type=document.content_type, document=document)


def _page_of(document: PatientDocument) -> _Page:
    if document.kind == DocumentKind.AFTERCARE_PLAN and document.session is not None:
        return _aftercare_page(document.session)
    if document.kind == DocumentKind.CONSENT and document.consent is not None:
        return _consent_page(document.consent)
    raise ServiceError("document_missing", _(
        "The stored file of this document is missing and cannot be made again."))


def _render_again(document: PatientDocument, actor: Actor) -> DocumentFile:
    content = _page_of(document).render()  # outside any transaction: it takes a while
    sha256 = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        if sha256 == document.sha256:
            _write_file(document.file.name, content, sha256)
            audit(actor, "document.file_restored", patient=document.patient, obj=document,
                  detail={"kind": document.kind, "sha256": sha256, "how": "rendered again"})
            given = document
        else:
            given = _store(actor, kind=DocumentKind(document.kind), content=content,
                           patient=document.patient, clinic=document.clinic,
                           session=document.session, consent=document.consent)
            audit(actor, "document.file_restored", patient=document.patient, obj=document,
                  detail={"kind": document.kind, "sha256": document.sha256,
                          "how": "record changed since; rendered anew",
                          "given": given.pk})
    return DocumentFile(content=content, filename=given.download_name,
                        content_type=given.content_type, document=given)


def download(actor: Actor, document_id: int | str) -> DocumentFile:
    """A stored document, for the staff who may see its kind or the patient it was made for
    (through their working link)."""
    def permission(document: PatientDocument) -> Permission:
        return _permission(actor, _STAFF_PERMISSION.get(DocumentKind(document.kind),
                                                        Permission.VIEW_CLINICAL))

    with transaction.atomic():
        document = access_record(actor, PatientDocument, document_id, permission=permission,
                                 action="document.download",
                                 related=("clinic", "session", "consent"))
        _check_link(actor)
    # Read after the access transaction: a missing file is rendered again, which takes a while.
    return read_document(document, actor)


def session_calendar(actor: Actor, session_id: int | str) -> DocumentFile:
    """The calendar file of a signed session's check-in days and the next booked session."""
    with transaction.atomic():
        session = access_record(actor, TreatmentSession, session_id,
                                permission=_permission(actor, Permission.BOOK),
                                action="document.calendar", related=("clinic",))
        _check_link(actor)
        content = calendar_ics(session)
    day = session_day(session, ZoneInfo(session.clinic.time_zone))
    name = slugify(session.patient.full_name) or "patient"
    return DocumentFile(content=content, filename=f"check-in-days-{name}-{day:%Y-%m-%d}.ics",
                        content_type="text/calendar")
