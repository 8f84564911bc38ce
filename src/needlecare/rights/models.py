"""What was done on a patient's request to erase their record."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needlecare import clock


class ErasureScope(models.TextChoices):
    #: The clinical record must still be kept: only what is not part of it was erased.
    CONTACT_DETAILS = "contact_details", _("Contact details erased; clinical record kept")
    #: Nothing had to be kept: every identifying detail was erased.
    FULL = "full", _("Anonymised in full")


class Erasure(models.Model):
    """One erasure of a patient's record (a patient may ask again once the clinical record
    no longer has to be kept). The audit trail keeps its own row of each."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="erasures")
    scope = models.CharField(max_length=20, choices=ErasureScope.choices)
    #: Until when the clinical record is kept (CONTACT_DETAILS), after which a full erasure
    #: may be done.
    kept_until = models.DateField(null=True, blank=True)
    erased_at = models.DateTimeField(default=clock.now, editable=False)
    erased_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")

    class Meta:
        ordering = ["-erased_at", "-id"]
        verbose_name = _("erasure")

    def __str__(self) -> str:
        return f"{self.get_scope_display()} ({self.erased_at:%Y-%m-%d})"
