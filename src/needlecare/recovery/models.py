"""Patient links, check-ins and escalations on the clinic's worklist."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needlecare import clock


class PatientLink(models.Model):
    """A patient's personal link to their care at the clinic. Only a hash of the token is
    stored.

    A patient has one working link at a time (a constraint): it stays valid while they are
    the clinic's patient and use it, and stops after the clinic's inactivity period
    (``Clinic.link_inactivity_days``) or when a clinician replaces or revokes it."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="links")
    #: The session it was first made for (history; the link serves all of the patient's care).
    session = models.ForeignKey("care.TreatmentSession", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    # The token is derived from this nonce and SECRET_KEY (recovery.tokens.derive_token), so
    # the outbox worker can put it in a message. Links made before nonces have none and keep
    # working by their hash.
    nonce = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    #: Wrong dates of birth since the last right one or the last lock.
    failed_dob_attempts = models.PositiveSmallIntegerField(default=0)
    #: Until when unverified devices are refused after too many wrong dates of birth.
    locked_until = models.DateTimeField(null=True, blank=True)
    #: How many times it was locked: each lock lasts twice as long as the one before.
    lock_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(
            fields=["patient"], condition=models.Q(revoked_at__isnull=True),
            name="one_working_link_per_patient")]

    def last_used_at(self) -> dt.datetime:
        """When the patient last opened a page or passed the date-of-birth step."""
        return max(m for m in (self.created_at, self.last_opened_at, self.last_verified_at)
                   if m is not None)


class Level(models.TextChoices):
    EXPECTED = "expected", _("Expected healing")
    CONTACT_CLINIC = "contact_clinic", _("Contact the clinic")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


LEVEL_RANK = {Level.EXPECTED: 0, Level.CONTACT_CLINIC: 1, Level.URGENT: 2, Level.EMERGENCY: 3}


class CheckIn(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="checkins")
    session = models.ForeignKey("care.TreatmentSession", on_delete=models.PROTECT,
                                related_name="checkins")
    link = models.ForeignKey(PatientLink, on_delete=models.PROTECT, null=True,
                             related_name="checkins")
    submitted_at = models.DateTimeField()
    answers = models.JSONField(help_text="the needlecare.checkin/1 document")
    result = models.JSONField(help_text="the needlecare.triage/1 document")
    level = models.CharField(max_length=20, choices=Level.choices)
    protocol_version = models.CharField(max_length=40)
    # Hash of the patient's answers: a resubmitted form is recognised, not counted twice.
    fingerprint = models.CharField(max_length=64, db_index=True)
    escalation = models.ForeignKey("Escalation", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="checkins")

    class Meta:
        ordering = ["-submitted_at", "-id"]


class EscalationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


class Outcome(models.TextChoices):
    REASSURED = "reassured", _("Reassured")
    SEEN_IN_CLINIC = "seen_in_clinic", _("Seen in clinic")
    TREATED = "treated", _("Treated")
    REFERRED = "referred_dermatology", _("Referred to a dermatologist")
    SENT_TO_EMERGENCY = "sent_to_emergency", _("Sent to emergency care")
    ADVERSE_EVENT = "adverse_event", _("Adverse event recorded")


class Escalation(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="escalations")
    session = models.ForeignKey("care.TreatmentSession", on_delete=models.PROTECT,
                                related_name="escalations")
    level = models.CharField(max_length=20, choices=Level.choices)
    reasons = models.JSONField(help_text="the triage reasons that opened or raised it")
    opened_at = models.DateTimeField()
    #: Opened while the clinic was closed (its deadline is then the next opening).
    opened_out_of_hours = models.BooleanField(default=False)
    deadline = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=20, choices=EscalationStatus.choices,
                              default=EscalationStatus.OPEN, db_index=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=30, choices=Outcome.choices, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deadline", "id"]
        indexes = [models.Index(fields=["clinic", "status", "deadline"]),
                   # The clinic's numbers: escalations opened in a range.
                   models.Index(fields=["clinic", "opened_at"], name="escalation_opened"),
                   # The closed ones, most recently closed first (the API's list).
                   models.Index(fields=["clinic", "status", "closed_at"],
                                name="escalation_closed")]

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        """Still waiting for the clinic after its deadline."""
        return self.status != EscalationStatus.CLOSED and self.deadline < (now or clock.now())


class EscalationNote(models.Model):
    """A clinician's note on an escalation. Notes are internal unless ``to_patient``: a note
    to the patient is written when acknowledging or closing, shown on the patient's page and
    sent to them; nothing else a clinician writes reaches the patient."""

    escalation = models.ForeignKey(Escalation, on_delete=models.PROTECT, related_name="notes")
    text = models.TextField(max_length=10000)
    to_patient = models.BooleanField(default=False)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                           related_name="+")
    at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["at", "id"]
