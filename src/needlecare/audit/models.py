"""The audit trail: one row for every read or write of patient data, written in the same
transaction as the change it records, and one for every refusal, sign-in and change of
sign-in factors.

Rows are chained after the fact (``audit.chain``): the worker seals new rows in id order, each
sealed row storing its place in its clinic's chain (``seq``), the previous sealed row's hash
and a SHA-256 over its own content and that hash. ``needlecare audit verify`` recomputes the
chain, so a row edited, deleted or moved after sealing is found.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needlecare import clock


class AuditEvent(models.Model):
    class ActorKind(models.TextChoices):
        STAFF = "staff", _("Staff")
        PATIENT = "patient", _("Patient (personal link)")
        SYSTEM = "system", _("System")
        #: Someone not signed in: a failed sign-in, a password-reset request.
        ANONYMOUS = "anonymous", _("Not signed in")

    at = models.DateTimeField(default=clock.now, editable=False, db_index=True)
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, null=True,
                               related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              related_name="+")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    # The staff member's role when it happened (the patient's access log says it).
    actor_role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, null=True,
                                related_name="+")
    ip_address = models.GenericIPAddressField(null=True)
    detail = models.JSONField(default=dict, blank=True)
    # The chain (audit.chain): empty until the worker seals the row.
    seq = models.PositiveBigIntegerField(null=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-at"]),
            # The owner's audit page: newest first within a clinic, pages by id.
            models.Index(fields=["clinic", "-id"], name="audit_clinic_newest"),
            models.Index(fields=["clinic", "seq"], name="audit_clinic_chain"),
            # The audit page's list of the actions the trail holds: one index seek per
            # distinct action (accounts.trail.actions), not a read of the whole trail.
            models.Index(fields=["clinic", "action"], name="audit_clinic_action"),
            # What the sealer looks for: few rows, so a partial index stays small.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True),
                         name="audit_unsealed"),
        ]
        verbose_name = _("audit event")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_kind} {self.action}"


class AuditChain(models.Model):
    """The head of one clinic's chain (``clinic`` empty: the rows of no clinic, such as a
    failed sign-in with an unknown username). Its row lock makes one sealer at a time extend
    the chain; ``verify`` checks that the last sealed row is the head recorded here, so rows
    removed from the end are found too."""

    key = models.CharField(max_length=40, unique=True)
    clinic = models.OneToOneField("accounts.Clinic", on_delete=models.PROTECT, null=True,
                                  related_name="+")
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("audit chain")

    def __str__(self) -> str:
        return f"{self.key} #{self.last_seq}"
