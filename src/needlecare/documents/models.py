"""Documents made for a patient: the aftercare plan and signed consent as PDFs, and calendar
files. Each stored file is kept once per content: its SHA-256 is recorded, so what a patient
was given can be proved later from the bytes alone."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from needlecare import clock

if TYPE_CHECKING:
    from needlecare.care.models import TreatmentSession


class DocumentKind(models.TextChoices):
    AFTERCARE_PLAN = "aftercare_plan", _("Aftercare plan")
    CONSENT = "consent", _("Signed consent")
    CALENDAR = "calendar", _("Calendar file")


#: The file type and name ending of each kind.
CONTENT_TYPES = {
    DocumentKind.AFTERCARE_PLAN: ("application/pdf", "pdf"),
    DocumentKind.CONSENT: ("application/pdf", "pdf"),
    DocumentKind.CALENDAR: ("text/calendar", "ics"),
}


def document_path(document: PatientDocument, filename: str) -> str:
    # Named by content, not by the patient's name: a listing of the storage reveals nobody.
    return f"documents/{document.clinic_id}/{document.patient_id}/{filename}"


class PatientDocument(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    session = models.ForeignKey("care.TreatmentSession", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="documents")
    consent = models.ForeignKey("care.Consent", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="documents")
    sha256 = models.CharField(max_length=64, db_index=True)
    #: The SHA-256 of the HTML the PDF was made from: the same HTML is served from storage
    #: without rendering again (empty for calendars and for PDFs stored before it was kept).
    source_sha256 = models.CharField(max_length=64, blank=True, default="")
    file = models.FileField(upload_to=document_path, max_length=255)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["patient", "kind", "sha256"],
                                               name="document_stored_once_per_content")]
        indexes = [models.Index(fields=["patient", "kind", "source_sha256"],
                                name="document_by_source")]
        verbose_name = _("patient document")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sha256[:12]}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[DocumentKind(self.kind)][0]

    @property
    def download_name(self) -> str:
        """A file name that says what the file is, e.g.
        ``aftercare-plan-sam-example-2026-03-02.pdf``."""
        extension = CONTENT_TYPES[DocumentKind(self.kind)][1]
        name = slugify(self.patient.full_name) or "patient"
        zone = ZoneInfo(self.clinic.time_zone)
        if self.kind == DocumentKind.CONSENT and self.consent is not None:
            day = self.consent.signed_at.astimezone(zone).date()
            stem = f"consent-{self.consent.kind}-{name}-{day:%Y-%m-%d}"
        elif self.session is not None:
            label = ("aftercare-plan" if self.kind == DocumentKind.AFTERCARE_PLAN
                     else "check-in-days")
            stem = f"{label}-{name}-{session_day(self.session, zone):%Y-%m-%d}"
        else:
            stem = f"{self.kind.replace('_', '-')}-{name}"
        return f"{stem}.{extension}"


def session_day(session: TreatmentSession, zone: ZoneInfo) -> dt.date:
    """Day 0 of a session: the day it was performed, else the day it is booked for."""
    if session.performed_on is not None:
        return session.performed_on
    return session.scheduled_for.astimezone(zone).date()
