"""The clinic's diary: who works when, rooms and devices, appointment types, appointments, the
waiting list, online requests from new patients, and what patients send before a visit.

An appointment occupies its practitioner, room and device from ``block_start`` to
``block_end`` (its time with the type's buffers around it). No two active appointments may
share any of the three over an overlapping block: PostgreSQL enforces it with exclusion
constraints (migration 0002, ``btree_gist``); on SQLite the booking service checks inside its
IMMEDIATE transaction, which serialises writers.

A treatment-session appointment *is* the booking of the session: it carries the
``care.TreatmentSession`` it made, whose ``scheduled_for`` follows the appointment's start.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needlecare import clock


class Room(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"],
                                               name="room_name_once_per_clinic")]

    def __str__(self) -> str:
        return self.name


class Device(models.Model):
    """A device that can be in one room at a time (one booking at a time)."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=80)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"],
                                               name="device_name_once_per_clinic")]

    def __str__(self) -> str:
        return self.name


class WorkingHours(models.Model):
    """A practitioner's weekly pattern, in the clinic's format (``Clinic.opening_hours``). A
    practitioner without one works the clinic's opening hours."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    practitioner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                        related_name="working_hours")
    weekly = models.JSONField(_("weekly hours"), default=dict)


class WorkingException(models.Model):
    """Dated exceptions to a practitioner's pattern: away (no intervals: leave, training) or
    working other hours (an extra Saturday, a short day)."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                     related_name="working_exceptions")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until (inclusive)"))
    #: [["HH:MM", "HH:MM"], …] worked on each of these days; empty = away.
    intervals = models.JSONField(default=list, blank=True)
    reason = models.CharField(_("reason"), max_length=120)

    class Meta:
        ordering = ["starts_on", "id"]
        indexes = [models.Index(fields=["practitioner", "ends_on"])]
        constraints = [models.CheckConstraint(
            condition=models.Q(ends_on__gte=models.F("starts_on")),
            name="working_exception_ends_after_it_starts")]


class AppointmentKind(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    SESSION = "session", _("Microneedling session")
    REVIEW = "review", _("Review")


class AppointmentType(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=AppointmentKind.choices)
    name = models.CharField(_("name"), max_length=80)
    duration_minutes = models.PositiveSmallIntegerField(_("length (minutes)"))
    buffer_before_minutes = models.PositiveSmallIntegerField(_("buffer before (minutes)"),
                                                             default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(_("buffer after (minutes)"),
                                                            default=0)
    #: accounts.Role values whose members may perform it.
    roles = models.JSONField(_("roles that perform it"), default=list)
    sends_link = models.BooleanField(_("the patient gets their personal link"), default=True)
    aftercare = models.BooleanField(_("aftercare follows"), default=False)
    pre_visit = models.BooleanField(_("send the pre-visit forms"), default=False)
    needs_room = models.BooleanField(_("needs a room"), default=True)
    needs_device = models.BooleanField(_("needs a device"), default=False)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["clinic", "kind"],
                                               name="one_appointment_type_per_kind")]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.duration_minutes)

    @property
    def buffer_before(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.buffer_after_minutes)


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    ARRIVED = "arrived", _("Arrived")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    NO_SHOW = "no_show", _("Did not attend")
    CANCELLED = "cancelled", _("Cancelled")


#: Appointments that hold their slot (the exclusion constraints list the same).
HOLDING = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED, AppointmentStatus.ARRIVED,
           AppointmentStatus.IN_PROGRESS, AppointmentStatus.DONE)
#: Appointments still to come: they can be confirmed, moved and cancelled.
UPCOMING = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


class Appointment(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="appointments")
    type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    #: Empty only on bookings migrated from before the diary whose practitioner is unknown.
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="appointments")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    block_start = models.DateTimeField()
    block_end = models.DateTimeField()
    status = models.CharField(_("status"), max_length=20, choices=AppointmentStatus.choices,
                              default=AppointmentStatus.BOOKED)
    #: The treatment plan a session belongs to, and the session record it made.
    plan = models.ForeignKey("care.TreatmentPlan", on_delete=models.PROTECT, null=True,
                             blank=True, related_name="+")
    treatment_session = models.OneToOneField("care.TreatmentSession", on_delete=models.PROTECT,
                                             null=True, blank=True, related_name="appointment")
    notes = models.CharField(_("note for the diary"), max_length=300, blank=True)
    #: Raised on every change the patient is told about (the calendar file's SEQUENCE).
    sequence = models.PositiveIntegerField(default=0)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    booked_by_patient = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    #: Rules booked past, with the reason and who decided (kept with every later move too:
    #: each move past a rule adds its reason, hence room for several).
    override_reason = models.TextField(blank=True, max_length=10000)
    override_rules = models.JSONField(default=list, blank=True)
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                      null=True, blank=True, related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.TextField(blank=True, max_length=2000)
    cancelled_by_patient = models.BooleanField(default=False)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            # The week view and the conflict check read these ranges.
            models.Index(fields=["clinic", "starts_at"], name="appointment_clinic_start"),
            models.Index(fields=["practitioner", "block_start"], name="appointment_pract_block"),
            models.Index(fields=["room", "block_start"], name="appointment_room_block"),
            models.Index(fields=["device", "block_start"], name="appointment_device_block"),
            models.Index(fields=["patient", "starts_at"], name="appointment_patient_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")),
                                   name="appointment_ends_after_it_starts"),
            models.CheckConstraint(condition=models.Q(block_start__lte=models.F("starts_at"),
                                                      block_end__gte=models.F("ends_at")),
                                   name="appointment_block_holds_it"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def holds_slot(self) -> bool:
        return self.status in HOLDING

    @property
    def is_upcoming(self) -> bool:
        return self.status in UPCOMING

    @property
    def is_late(self) -> bool:
        return self.status in UPCOMING and self.starts_at < clock.now()


class DiarySettings(models.Model):
    """A clinic's diary settings; a clinic without a row has the defaults."""

    clinic = models.OneToOneField("accounts.Clinic", on_delete=models.CASCADE,
                                  related_name="diary_settings")
    slot_minutes = models.PositiveSmallIntegerField(_("diary rows (minutes)"), default=15)
    cancel_notice_hours = models.PositiveSmallIntegerField(
        _("patients may cancel online until this many hours before"), default=24)
    public_requests = models.BooleanField(_("new patients may ask for a consultation online"),
                                          default=True)
    requests_per_hour = models.PositiveSmallIntegerField(
        _("online requests accepted per hour from one address"), default=5)


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    BOOKED = "booked", _("Booked")
    REMOVED = "removed", _("Removed")


class WaitlistEntry(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="waitlist_entries")
    type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    note = models.CharField(_("note"), max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=WaitlistStatus.choices,
                              default=WaitlistStatus.WAITING)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    last_offered_at = models.DateTimeField(null=True, blank=True)
    offers = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["clinic", "type", "status", "created_at"],
                                name="waitlist_offer_order")]


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the desk")
    MATCHED = "matched", _("Matched to a patient")
    REGISTERED = "registered", _("Registered as a new patient")
    DECLINED = "declined", _("Declined")


class BookingRequest(models.Model):
    """A new patient asking for a consultation on the clinic's public page: a request for the
    desk, never a patient record (the desk matches it to one or registers them)."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    given_name = models.CharField(_("first name"), max_length=100)
    family_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    preferred_times = models.CharField(_("times that suit"), max_length=300, blank=True)
    message = models.TextField(_("message"), blank=True, max_length=1000)
    agrees_to_messages = models.BooleanField(
        _("agrees to messages about their appointments"), default=False)
    status = models.CharField(max_length=12, choices=RequestStatus.choices,
                              default=RequestStatus.PENDING)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "status", "created_at"],
                                name="request_clinic_status")]

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class PreVisit(models.Model):
    """The pre-visit forms a patient fills on their phone before a consultation: the intake,
    step by step (saved as they go), and the consent signed ahead."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="previsits")
    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT,
                                       related_name="previsit")
    #: Part of a ``needlecare.intake/1`` document (the patient's own answers, never screened).
    answers = models.JSONField(default=dict, blank=True)
    steps_done = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    consultation = models.ForeignKey("care.Consultation", on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+")


class SignatureKind(models.TextChoices):
    DRAWN = "drawn", _("Drawn signature")
    TYPED = "typed", _("Typed name")


class PreVisitSignature(models.Model):
    """Consent signed ahead on the patient's phone. It becomes a consent only when a clinician
    counter-signs it at the visit (``care.Consent``, witnessed by them)."""

    previsit = models.ForeignKey(PreVisit, on_delete=models.PROTECT, related_name="signatures")
    consent_kind = models.CharField(max_length=20)
    text_version = models.CharField(max_length=40)
    text_sha256 = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=SignatureKind.choices)
    svg = models.TextField(blank=True)
    typed_name = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField()
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    consent = models.ForeignKey("care.Consent", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    countersigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                         null=True, blank=True, related_name="+")
    countersigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-signed_at", "-id"]


class PreSessionUpdate(models.Model):
    """Before a session, the patient confirms or updates their medicines and recent
    procedures; the clinician sees what changed since the consultation."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="+")
    appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT,
                                       related_name="presession")
    #: {"medications": {...}, "procedures": {...}} in the intake's format.
    answers = models.JSONField()
    #: [{"field": "medications.isotretinoin", "before": …, "now": …}, …]
    changes = models.JSONField(default=list)
    submitted_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
