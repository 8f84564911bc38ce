"""The outbox: every message to a patient or a staff member, and every scheduled job, is a row.

A row is written (``pending``) inside the transaction of the service that decides it, with the
moment it is due. The worker claims due rows with a compare-and-set update, decides at send
time whether the message still applies, resolves the address from the current patient record,
sends, and records the outcome. Nothing is sent that is not a row, and no row disappears: it
ends ``sent``, ``skipped`` (with the reason), ``cancelled``, or ``dead`` after its last attempt.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from needlecare import clock


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Failed, gave up")
    CANCELLED = "cancelled", _("Cancelled")
    SKIPPED = "skipped", _("Not sent")


#: Rows the worker may claim once ``next_attempt_at`` has passed. A ``sending`` row is one a
#: worker claimed; its ``next_attempt_at`` is the end of that claim, so a row whose worker died
#: becomes claimable again after the claim timeout (and only then).
CLAIMABLE = (MessageStatus.PENDING, MessageStatus.FAILED, MessageStatus.SENDING)
#: Rows a service or a staff member may still cancel.
CANCELLABLE = (MessageStatus.PENDING, MessageStatus.FAILED)
#: Rows a staff member may send again by hand.
RETRYABLE = (MessageStatus.FAILED, MessageStatus.DEAD, MessageStatus.SKIPPED)


class MessageKind(models.TextChoices):
    AFTERCARE_PLAN = "aftercare_plan", _("Aftercare plan and personal link")
    CHECKIN_INVITATION = "checkin_invitation", _("Check-in invitation")
    CHECKIN_REMINDER = "checkin_reminder", _("Check-in reminder")
    TRIAGE_NOTE = "triage_note", _("Note after a check-in")
    SESSION_REMINDER = "session_reminder", _("Appointment reminder")
    NEXT_SESSION = "next_session", _("Next session reminder")
    CLINICIAN_ALERT = "clinician_alert", _("Clinician alert: urgent check-in")
    ESCALATION_OVERDUE = "escalation_overdue", _("Clinician alert: past its deadline")
    PERSONAL_LINK = "personal_link", _("Personal link")
    OUTCOME_INVITATION = "outcome_invitation", _("Outcome questions: invitation")
    OUTCOME_REMINDER = "outcome_reminder", _("Outcome questions: reminder")
    # Composed by the education app (messaging.composers): reading timed to the patient's
    # stage, the newsletter, and the newsletter's double opt-in confirmation.
    READING = "reading", _("Reading for this stage")
    NEWSLETTER = "newsletter", _("Newsletter")
    SUBSCRIPTION_CONFIRMATION = "subscription_confirm", _("Newsletter: confirm subscription")
    ESCALATION_UPDATE = "escalation_update", _("Clinician's note after a check-in")
    APPOINTMENT_BOOKED = "appointment_booked", _("Appointment confirmation")
    APPOINTMENT_CHANGED = "appointment_changed", _("Appointment moved")
    APPOINTMENT_CANCELLED = "appointment_cancelled", _("Appointment cancelled")
    APPOINTMENT_REMINDER = "appointment_reminder", _("Appointment reminder (a day before)")
    PRE_VISIT = "pre_visit", _("Forms to fill before the visit")
    SLOT_OFFER = "slot_offer", _("A free appointment offered from the waiting list")


#: Messages that carry the patient's personal link: revoking the link cancels them.
LINK_BEARING = (MessageKind.AFTERCARE_PLAN, MessageKind.CHECKIN_INVITATION,
                MessageKind.CHECKIN_REMINDER, MessageKind.PERSONAL_LINK,
                MessageKind.OUTCOME_INVITATION, MessageKind.OUTCOME_REMINDER,
                MessageKind.PRE_VISIT, MessageKind.SLOT_OFFER)
#: Messages about one appointment: they carry its calendar file when sent by email.
APPOINTMENT_KINDS = (MessageKind.APPOINTMENT_BOOKED, MessageKind.APPOINTMENT_CHANGED,
                     MessageKind.APPOINTMENT_CANCELLED, MessageKind.APPOINTMENT_REMINDER)
#: Messages whose very existence is clinical information (triage advice, escalations): only
#: clinicians and owners see them. The front desk sees the other messages' status lines.
CLINICAL_KINDS = (MessageKind.TRIAGE_NOTE, MessageKind.CLINICIAN_ALERT,
                  MessageKind.ESCALATION_OVERDUE, MessageKind.ESCALATION_UPDATE)
#: Patient messages that answer something the patient has just done (so they are awake):
#: quiet hours do not hold them back.
#: A personal link sent again is asked for by the patient (usually on the phone to the desk).
REPLIES = (MessageKind.TRIAGE_NOTE, MessageKind.PERSONAL_LINK)


class MessageChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")


class Recipient(models.TextChoices):
    PATIENT = "patient", _("Patient")
    STAFF = "staff", _("Staff")
    #: A newsletter subscriber who is not a patient (the address is in education's records).
    SUBSCRIBER = "subscriber", _("Subscriber")


class Message(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    recipient = models.CharField(max_length=10, choices=Recipient.choices)
    #: The patient the message is to or about (a clinician alert names the patient it is about).
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="outbox_messages")
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+")
    session = models.ForeignKey("care.TreatmentSession", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    #: The personal link the message carries. Empty on a link-bearing message means "the
    #: session's link", issued when the first such message is sent.
    link = models.ForeignKey("recovery.PatientLink", on_delete=models.PROTECT, null=True,
                             blank=True, related_name="+")
    escalation = models.ForeignKey("recovery.Escalation", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    appointment = models.ForeignKey("diary.Appointment", on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")
    kind = models.CharField(max_length=30, choices=MessageKind.choices)
    #: The channel chosen when the row was written; a patient's is re-read at send time.
    channel = models.CharField(max_length=10, choices=MessageChannel.choices)
    context = models.JSONField(default=dict, blank=True)
    #: Filled at send time from the current record (a changed phone number is used).
    to_address = models.CharField(max_length=254, blank=True)
    #: What was sent, with the personal link replaced by a placeholder (the link itself is
    #: never stored).
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=MessageStatus.choices,
                              default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    #: Why a row was skipped or cancelled, in words staff understand.
    reason = models.CharField(max_length=300, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    #: Names what the message is (not an attempt): the same on every attempt, given to the
    #: channel (email Message-ID, SMS webhook idempotency header) so that a resend after a
    #: crash reaches the recipient once where the channel allows.
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["-due_at", "-id"]
        indexes = [
            # The claim: status IN (...) AND next_attempt_at <= now, so a pass reads the due
            # rows only, however many are scheduled for later.
            models.Index(fields=["status", "next_attempt_at"], name="message_claim"),
            models.Index(fields=["clinic", "status", "due_at"], name="message_clinic_status"),
            models.Index(fields=["clinic", "due_at"], name="message_clinic_due"),
            models.Index(fields=["patient", "due_at"], name="message_patient_due"),
            models.Index(fields=["session", "kind"], name="message_session_kind"),
            models.Index(fields=["appointment", "kind"], name="message_appointment_kind"),
        ]
        verbose_name = _("message")

    def __str__(self) -> str:
        return f"{self.kind} {self.dedupe_key} ({self.status})"

    @property
    def is_failure(self) -> bool:
        return self.status in (MessageStatus.FAILED, MessageStatus.DEAD)


_QUIET_FROM = dt.time(21, 0)
_QUIET_UNTIL = dt.time(8, 0)


#: The outbox retention of a new clinic's settings (the deployment's default is the setting
#: MESSAGING_OUTBOX_RETENTION_DAYS, which is this unless the operator changes it).
DEFAULT_RETENTION_DAYS = 365


class MessagingSettings(models.Model):
    """A clinic's messaging settings. A clinic without a row has the defaults.

    Kept here rather than on ``Clinic`` so that the messaging app owns its settings; operators
    edit them in the admin."""

    clinic = models.OneToOneField("accounts.Clinic", on_delete=models.CASCADE,
                                  related_name="messaging_settings")
    quiet_from = models.TimeField(_("no patient messages from"), default=_QUIET_FROM)
    quiet_until = models.TimeField(_("no patient messages until"), default=_QUIET_UNTIL)
    #: Sent, cancelled and skipped messages older than this are purged by the worker
    #: (messaging/upkeep.py); their audit rows stay. A clinic without a row has
    #: MESSAGING_OUTBOX_RETENTION_DAYS.
    outbox_retention_days = models.PositiveIntegerField(
        _("keep sent and cancelled messages for (days)"), default=DEFAULT_RETENTION_DAYS,
        validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("messaging settings")
        verbose_name_plural = _("messaging settings")

    def __str__(self) -> str:
        return f"{self.clinic}: quiet {self.quiet_from:%H:%M}–{self.quiet_until:%H:%M}"


DEFAULT_QUIET_HOURS = (_QUIET_FROM, _QUIET_UNTIL)


class WorkerHeartbeat(models.Model):
    """A running worker's sign of life, written every few seconds by a thread of its own.

    A worker whose heartbeat is older than MESSAGING_HEARTBEAT_STALE_SECONDS is taken for
    dead: the rows it claimed become claimable at once instead of at the end of their claim
    timeout. ``/readyz`` reads the newest heartbeat. A worker that stops cleanly deletes its
    row."""

    name = models.CharField(max_length=100, unique=True)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("worker heartbeat")

    def __str__(self) -> str:
        return f"{self.name} (last beat {self.beat_at:%Y-%m-%d %H:%M:%S})"
