"""The audit trail: one row for every read or write of patient data, written in the same
transaction as the change it records."""

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

    at = models.DateTimeField(default=clock.now, editable=False, db_index=True)
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, null=True,
                               related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              related_name="+")
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, null=True,
                                related_name="+")
    ip_address = models.GenericIPAddressField(null=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "-at"])]
        verbose_name = _("audit event")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_kind} {self.action}"
