from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needlecare import clock, names


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")
    NONE = "none", _("No messages")


class Patient(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT,
                               related_name="patients")
    given_name = models.CharField(_("first name"), max_length=100)
    family_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    phone = models.CharField(_("mobile phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    preferred_channel = models.CharField(_("preferred channel"), max_length=10,
                                         choices=Channel.choices, default=Channel.SMS)
    # Messaging (issue 4): nothing is sent to a patient who has not agreed to messages.
    messages_opt_in = models.BooleanField(_("agrees to messages"), default=False)
    # The name's matching key (needlecare.names.name_key: case, accents and look-alike
    # letters folded), kept on every save: the duplicate check and the search compare it.
    name_key = models.CharField(max_length=500, editable=False, db_index=True)
    # The phone number's digits (needlecare.names.phone_digits), kept on every save: the
    # search compares digits only, through an index (see patients/search.py).
    phone_digits = models.CharField(max_length=40, editable=False, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        indexes = [models.Index(fields=["clinic", "family_name", "given_name"]),
                   models.Index(fields=["clinic", "date_of_birth"])]
        verbose_name = _("patient")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.name_key = names.name_key(self.given_name, self.family_name)
        self.phone_digits = names.phone_digits(self.phone)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            # The derived keys follow the fields they are made from.
            kwargs["update_fields"] = {*update_fields, "name_key", "phone_digits"}  # type: ignore[misc]
        super().save(*args, **kwargs)
