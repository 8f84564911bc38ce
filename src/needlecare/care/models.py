"""Consultations (intake + screening snapshot), consents, treatment plans and sessions.

Clinical results are stored as JSON snapshots with the protocol version that produced them,
so a later protocol change never rewrites history. Signed records are immutable: only
withdrawal (consents) and dated addenda (sessions) are added after signing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from needlecare import clock


class Verdict(models.TextChoices):
    SUITABLE = "suitable", _("Suitable")
    SUITABLE_WITH_PRECAUTIONS = "suitable_with_precautions", _("Suitable with precautions")
    DEFER = "defer", _("Defer")
    NOT_SUITABLE = "not_suitable", _("Not suitable")


class Consultation(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="consultations")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    intake = models.JSONField(help_text="the needlecare.intake/1 document")
    result = models.JSONField(help_text="the needlecare.screening/1 document")
    protocol_version = models.CharField(max_length=40)
    verdict = models.CharField(max_length=32, choices=Verdict.choices)
    defer_until = models.DateField(null=True, blank=True)
    override_verdict = models.CharField(max_length=32, choices=Verdict.choices, blank=True)
    override_reason = models.TextField(blank=True, max_length=2000)
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      null=True, blank=True, related_name="+")
    overridden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The clinic's numbers count overrides in a range without reading every consultation.
        indexes = [models.Index(fields=["clinic", "overridden_at"],
                                name="consultation_overridden")]

    @property
    def effective_verdict(self) -> str:
        return self.override_verdict or self.verdict


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", _("Microneedling treatment")
    PHOTOS = "photos", _("Clinical photographs")


class Consent(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    text_version = models.CharField(max_length=40)
    text = models.TextField(help_text="the exact text the patient read")
    photo_uses = models.JSONField(default=list, blank=True)
    signed_name = models.CharField(_("name typed by the patient"), max_length=200)
    signed_at = models.DateTimeField()
    signed_ip = models.GenericIPAddressField(null=True)
    signed_user_agent = models.CharField(max_length=400, blank=True)
    witnessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True, max_length=2000)
    withdrawal_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL,
                                               on_delete=models.PROTECT, null=True,
                                               blank=True, related_name="+")

    class Meta:
        ordering = ["-signed_at", "-id"]

    _SIGNED_FIELDS = ("kind", "text_version", "text", "photo_uses", "signed_name",
                      "signed_at", "signed_ip", "signed_user_agent", "witnessed_by_id",
                      "patient_id", "clinic_id")

    @property
    def is_valid(self) -> bool:
        return self.withdrawn_at is None

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = Consent.objects.filter(pk=self.pk).values(*self._SIGNED_FIELDS).first()
            if stored and any(stored[f] != getattr(self, f) for f in self._SIGNED_FIELDS):
                raise ValidationError(_("A signed consent cannot be changed."))
        super().save(*args, **kwargs)


class PlanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    STOPPED = "stopped", _("Stopped")


class TreatmentPlan(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="plans")
    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT,
                                     related_name="plans")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    status = models.CharField(max_length=20, choices=PlanStatus.choices,
                              default=PlanStatus.ACTIVE)
    indications = models.JSONField()
    zones = models.JSONField()
    fitzpatrick = models.PositiveSmallIntegerField()
    generated = models.JSONField(help_text="the needlecare.plan/1 document as generated")
    protocol_version = models.CharField(max_length=40)
    sessions_planned = models.PositiveSmallIntegerField()
    interval_days = models.PositiveSmallIntegerField()
    # zone -> [min_mm, max_mm]; starts as generated, changed only through PlanEdit.
    depth_ranges = models.JSONField()

    class Meta:
        ordering = ["-created_at", "-id"]


class PlanEdit(models.Model):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="edits")
    field = models.CharField(max_length=64)
    old_value = models.JSONField()
    new_value = models.JSONField()
    reason = models.TextField(max_length=2000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                           related_name="+")
    at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["at", "id"]


class SessionStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    SIGNED = "signed", _("Signed")
    CANCELLED = "cancelled", _("Cancelled")


class TreatmentSession(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="sessions")
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="sessions")
    status = models.CharField(max_length=20, choices=SessionStatus.choices,
                              default=SessionStatus.BOOKED)
    scheduled_for = models.DateTimeField(_("booked for"))
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    performed_on = models.DateField(_("date performed"), null=True, blank=True)
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    device = models.CharField(_("device type"), max_length=20, blank=True)
    device_model = models.CharField(_("device make and model"), max_length=120, blank=True)
    cartridge_lot = models.CharField(_("cartridge lot"), max_length=80, blank=True,
                                     db_index=True)
    cartridge_expiry = models.DateField(_("cartridge expiry"), null=True, blank=True)
    anaesthetic = models.CharField(_("topical anaesthetic"), max_length=120, blank=True)
    anaesthetic_minutes = models.PositiveSmallIntegerField(_("anaesthetic on for (minutes)"),
                                                           null=True, blank=True)
    # [{"code": "hyaluronic_acid", "name": "...", "lot": "..."}]
    products = models.JSONField(default=list, blank=True)
    endpoint_reached = models.CharField(_("endpoint reached"), max_length=120, blank=True)
    immediate_reaction = models.TextField(_("immediate reaction"), blank=True, max_length=2000)
    notes = models.TextField(_("clinical notes"), blank=True, max_length=10000)
    interval_reason = models.TextField(_("reason for a shorter interval"), blank=True,
                                       max_length=2000)
    #: The screening's precautions as recorded on the chart, by screening rule:
    #: {"cold_sore_history": {"status": "done" | "not_needed", "note": "..."}}.
    precautions = models.JSONField(default=dict, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    cancelled_reason = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        indexes = [models.Index(fields=["clinic", "scheduled_for"]),
                   # The worklist's "due a check-in today": sessions performed on given days.
                   models.Index(fields=["clinic", "performed_on"], name="session_performed")]

    @property
    def is_signed(self) -> bool:
        return self.status == SessionStatus.SIGNED


class SessionZone(models.Model):
    session = models.ForeignKey(TreatmentSession, on_delete=models.CASCADE,
                                related_name="zones")
    zone = models.CharField(max_length=20)
    depth_mm = models.DecimalField(max_digits=3, decimal_places=2)
    passes = models.PositiveSmallIntegerField()
    depth_reason = models.TextField(blank=True, max_length=1000)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["session", "zone"],
                                               name="one_row_per_zone")]


class SessionAddendum(models.Model):
    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT,
                                related_name="addenda")
    text = models.TextField(max_length=5000)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                           related_name="+")
    at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["at", "id"]


class AftercareRecord(models.Model):
    session = models.OneToOneField(TreatmentSession, on_delete=models.PROTECT,
                                   related_name="aftercare")
    #: Read it through care.aftercare.aftercare_document, never directly.
    plan = models.JSONField(help_text="a needlecare.aftercare-record/1 (the facts and protocol "
                                      "version the plan is made from, and its digest); before, "
                                      "the whole needlecare.aftercare/1 document")
    protocol_version = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=clock.now, editable=False)
