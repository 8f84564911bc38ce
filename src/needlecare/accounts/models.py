"""Clinics and their staff. Every staff user belongs to exactly one clinic and has one role."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from needlecare import clock


class Clinic(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), unique=True)
    phone = models.CharField(_("phone number patients call"), max_length=40)
    email = models.EmailField(_("clinic email"), blank=True)
    address = models.TextField(_("address"), blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/London")
    # Monday = 0. Used for "next working day" deadlines of routine escalations.
    working_days = models.CharField(_("working days"), max_length=20, default="0,1,2,3,4")
    closes_at = models.TimeField(_("closing time"), default="17:30")
    urgent_callback_hours = models.PositiveSmallIntegerField(
        _("hours to call back an urgent report"), default=4)
    emergency_number = models.CharField(_("emergency number"), max_length=20, default="999")
    # Sign-in: every staff member must give a second factor (authenticator app, passkey or
    # recovery code) after the password; those without one are asked to set one up first.
    require_two_factor = models.BooleanField(_("require two-factor sign-in"), default=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")

    def __str__(self) -> str:
        return self.name

    def working_weekdays(self) -> set[int]:
        return {int(d) for d in self.working_days.split(",") if d.strip().isdigit()}


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    CLINICIAN = "clinician", _("Clinician")
    FRONT_DESK = "front_desk", _("Front desk")


class User(AbstractUser):
    """A staff member. Operators of the deployment (superusers) have no clinic."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="staff", verbose_name=_("clinic"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices,
                            default=Role.FRONT_DESK)
    title = models.CharField(_("professional title"), max_length=80, blank=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A bearer token a staff member's program uses on the JSON API.

    Only the SHA-256 of the token is stored (``access.hash_token``): a copy of the database
    opens nothing. A token acts as its user, with the user's clinic and role, and stops working
    when it expires or is revoked; the owner resetting the user's password, a reset by email,
    or deactivating the user revokes all of the user's tokens."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens",
                             verbose_name=_("staff member"))
    name = models.CharField(_("name"), max_length=100,
                            help_text=_("What the token is for, e.g. “booking system”."))
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"
