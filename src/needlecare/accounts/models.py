"""Clinics and their staff. Every staff user belongs to exactly one clinic and has one role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from needlecare import clock
from needlecare.accounts.countries import DEFAULT_COUNTRY
from needlecare.hours import Hours, Interval


def default_opening_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday, 09:00–17:30 (the owner sets the clinic's own on its settings page)."""
    return {str(day): [["09:00", "17:30"]] for day in range(5)}


class Clinic(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), unique=True)
    phone = models.CharField(_("phone number patients call"), max_length=40)
    email = models.EmailField(_("clinic email"), blank=True)
    address = models.TextField(_("address"), blank=True, max_length=500)
    # An ISO 3166 code; the settings form offers accounts.countries (kept out of the model's
    # choices so that adding a country needs no migration).
    country = models.CharField(_("country"), max_length=2, default=DEFAULT_COUNTRY)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/London")
    #: Open intervals per weekday (Monday = "0"): {"0": [["09:00", "13:00"], ["14:00",
    #: "17:30"]], …}; a weekday that is missing or empty is closed. Kept on the row because
    #: every check-in's deadline reads it.
    opening_hours = models.JSONField(_("opening hours"), default=default_opening_hours)
    urgent_callback_hours = models.PositiveSmallIntegerField(
        _("hours within which the clinic calls back an urgent report"), default=4)
    emergency_number = models.CharField(_("emergency number"), max_length=20, default="999")
    out_of_hours_name = models.CharField(
        _("out-of-hours service"), max_length=120, blank=True,
        help_text=_("Whom patients call when the clinic is closed and they cannot wait, "
                    "for example the local urgent-care line."))
    out_of_hours_phone = models.CharField(_("out-of-hours phone number"), max_length=40,
                                          blank=True)
    logo = models.FileField(_("logo"), upload_to="clinic-logos/", blank=True)
    link_inactivity_days = models.PositiveSmallIntegerField(
        _("days after which an unused personal link stops working"), default=365)
    # Sign-in: every staff member must give a second factor (authenticator app, passkey or
    # recovery code) after the password; those without one are asked to set one up first.
    require_two_factor = models.BooleanField(_("require two-factor sign-in"), default=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")

    def __str__(self) -> str:
        return self.name

    def hours(self, closures: Iterable[ClinicClosure] | None = None) -> Hours:
        """The clinic's opening hours with its closures (read from the database unless
        given)."""
        if closures is None:
            today = clock.localdate()
            closures = self.closures.filter(ends_on__gte=today - dt.timedelta(days=2))
        closed: set[dt.date] = set()
        for closure in closures:
            day = closure.starts_on
            while day <= closure.ends_on:
                closed.add(day)
                day += dt.timedelta(days=1)
        return Hours(time_zone=self.time_zone, weekly=parse_weekly(self.opening_hours),
                     closed_dates=frozenset(closed))


def parse_time(text: str) -> dt.time:
    """"HH:MM" as a time; "24:00" (closing at midnight) is 00:00, as ``hours`` reads it."""
    return dt.time(0) if text == "24:00" else dt.time.fromisoformat(text)


def parse_weekly(stored: dict[str, list[list[str]]]) -> dict[int, list[Interval]]:
    """``Clinic.opening_hours`` as intervals of ``datetime.time`` by weekday."""
    return {int(day): [(parse_time(opens), parse_time(closes)) for opens, closes in intervals]
            for day, intervals in stored.items() if intervals}


class ClinicClosure(models.Model):
    """Days the clinic is closed all day: public holidays, training days, a holiday week."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="closures")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until (inclusive)"))
    reason = models.CharField(_("reason"), max_length=120,
                              help_text=_("For example “Christmas Day” or “Staff training”."))

    class Meta:
        ordering = ["starts_on", "id"]
        indexes = [models.Index(fields=["clinic", "ends_on"])]
        constraints = [models.CheckConstraint(
            condition=models.Q(ends_on__gte=models.F("starts_on")),
            name="closure_ends_after_it_starts")]
        verbose_name = _("closure")

    def __str__(self) -> str:
        return f"{self.reason} ({self.starts_on}–{self.ends_on})"


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
