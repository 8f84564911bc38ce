"""Outcomes over a course: outcome records, adverse events, the patient's invitations to
report theirs, the treatment chosen at a consultation and why, referrals for complications, and
the two summary tables the clinic's numbers read.

Scored results are stored as the clinical core's JSON document with the version of the
outcome-measures file that scored them (snapshots, not recomputation), plus the few values the
clinic's numbers group and count by, as plain columns.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needlecare import clock


class Respondent(models.TextChoices):
    CLINICIAN = "clinician", _("Clinician")
    PATIENT = "patient", _("Patient")


class Direction(models.TextChoices):
    IMPROVED = "improved", _("Improved")
    UNCHANGED = "unchanged", _("Unchanged")
    WORSE = "worse", _("Worse")


class OutcomeRecord(models.Model):
    """One outcome measure taken once, by the clinician at a visit or by the patient from
    their personal link."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="outcome_records")
    plan = models.ForeignKey("care.TreatmentPlan", on_delete=models.PROTECT,
                             related_name="outcome_records")
    #: The session it was taken at or follows, when there is one.
    session = models.ForeignKey("care.TreatmentSession", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    invitation = models.ForeignKey("OutcomeInvitation", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="records")
    measure = models.CharField(max_length=60)
    #: The schedule point of the outcome-measures file (baseline, four_weeks_after…).
    point = models.CharField(max_length=60)
    respondent = models.CharField(max_length=10, choices=Respondent.choices)
    assessed_on = models.DateField()
    values = models.JSONField(help_text="item → value, as recorded")
    scored = models.JSONField(help_text="the clinical core's ScoredOutcome document")
    change = models.JSONField(null=True, blank=True,
                              help_text="the clinical core's OutcomeChange document, if any")
    outcomes_version = models.CharField(max_length=40)
    score = models.FloatField()
    #: The first of the plan's indications this measure suits: what the clinic's numbers
    #: group outcomes by.
    indication = models.CharField(max_length=40)
    baseline = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    direction = models.CharField(max_length=10, choices=Direction.choices, blank=True)
    improvement = models.FloatField(null=True, blank=True)
    percent_of_possible = models.FloatField(null=True, blank=True)
    #: The practitioner of the course's latest signed session when it was taken: whom the
    #: clinic's numbers count the outcome for.
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    recorded_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["assessed_on", "id"]
        indexes = [
            # Covering, for the numbers page's outcome improvement by indication.
            models.Index(fields=["clinic", "assessed_on", "practitioner", "direction",
                                 "indication", "measure", "percent_of_possible"],
                         name="outcome_clinic_day"),
            models.Index(fields=["plan", "measure"], name="outcome_plan_measure")]


class AdverseEvent(models.Model):
    """An unfavourable event after a session, classified by type and CTCAE grade."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="adverse_events")
    session = models.ForeignKey("care.TreatmentSession", on_delete=models.PROTECT,
                                related_name="adverse_events")
    escalation = models.ForeignKey("recovery.Escalation", on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    type = models.CharField(max_length=40)
    severity = models.PositiveSmallIntegerField()
    serious = models.BooleanField(default=False)
    onset = models.DateField()
    resolved = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True, max_length=4000)
    classified = models.JSONField(help_text="the clinical core's AdverseEvent document")
    outcomes_version = models.CharField(max_length=40)
    # Copied from the session (signed, so they never change) for the clinic's numbers.
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    session_date = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["onset", "id"]
        indexes = [models.Index(fields=["clinic", "session_date"], name="ae_clinic_day")]


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the patient")
    ANSWERED = "answered", _("Answered")
    CANCELLED = "cancelled", _("Cancelled")


class OutcomeInvitation(models.Model):
    """A schedule point at which the patient is asked for their own outcome measures."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="outcome_invitations")
    plan = models.ForeignKey("care.TreatmentPlan", on_delete=models.PROTECT,
                             related_name="outcome_invitations")
    #: The session the point counts from (the course's last, for the follow-ups).
    session = models.ForeignKey("care.TreatmentSession", on_delete=models.PROTECT,
                                related_name="+")
    point = models.CharField(max_length=60)
    label = models.CharField(max_length=200)
    measures = models.JSONField(help_text="the patient-reported measures asked")
    due = models.DateField()
    answer_by = models.DateField()
    remind_on = models.DateField()
    status = models.CharField(max_length=10, choices=InvitationStatus.choices,
                              default=InvitationStatus.PENDING)
    answered_at = models.DateTimeField(null=True, blank=True)
    outcomes_version = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["due", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "point", "session"],
                                               name="one_invitation_per_point")]
        indexes = [models.Index(fields=["patient", "status", "due"], name="invitation_open")]


class ClinicOfferings(models.Model):
    """The treatments a clinic does not provide: the comparison shows them as "refer"."""

    clinic = models.OneToOneField("accounts.Clinic", on_delete=models.CASCADE,
                                  related_name="offerings")
    not_offered = models.JSONField(default=list, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("treatments offered")
        verbose_name_plural = _("treatments offered")


class TreatmentChoice(models.Model):
    """The treatment a clinician chose for a consultation, why, and the comparison they saw."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="treatment_choices")
    consultation = models.ForeignKey("care.Consultation", on_delete=models.PROTECT,
                                     related_name="treatment_choices")
    option = models.CharField(max_length=60)
    reason = models.TextField(max_length=4000)
    scar_types = models.JSONField(default=list, blank=True)
    comparison = models.JSONField(help_text="the needlecare.alternatives/1 document shown")
    alternatives_version = models.CharField(max_length=40)
    chosen_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    chosen_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["-chosen_at", "-id"]


class ReferralTo(models.TextChoices):
    DERMATOLOGIST = "dermatologist", _("Dermatologist")
    PATIENT_DOCTOR = "patient_doctor", _("The patient's doctor")
    EMERGENCY = "emergency_department", _("Emergency department")


class ReferralReason(models.TextChoices):
    HYPERPIGMENTATION = "persistent_hyperpigmentation", _(
        "Persistent hyperpigmentation: consideration of peels or laser")
    INFECTION = "suspected_infection", _("Suspected infection")
    GRANULOMA = "granuloma", _("Granulomatous reaction")
    HERPES = "herpes_reactivation", _("Herpes simplex reactivation")
    SCARRING = "scarring", _("Scarring (tram-track or other)")
    ALLERGY = "allergic_reaction", _("Allergic or contact reaction")
    PROLONGED_REDNESS = "prolonged_redness", _("Prolonged redness or swelling")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    SOON = "soon", _("Soon (within two weeks)")
    URGENT = "urgent", _("Urgent (same or next day)")


class ReferralStatus(models.TextChoices):
    AWAITING = "awaiting", _("Awaiting the outcome")
    DONE = "done", _("Outcome recorded")


class ReferralOutcome(models.TextChoices):
    SEEN_TREATED = "seen_treated", _("Seen and treated")
    SEEN_NO_TREATMENT = "seen_no_treatment", _("Seen, no treatment needed")
    DECLINED = "declined", _("Patient declined the referral")
    NOT_SEEN = "not_seen", _("Not seen (did not attend, or not accepted)")
    OTHER = "other", _("Other")


class Referral(models.Model):
    """A referral made when a complication was dealt with, tracked until its outcome is
    recorded."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="referrals")
    escalation = models.ForeignKey("recovery.Escalation", on_delete=models.PROTECT,
                                   related_name="referrals")
    session = models.ForeignKey("care.TreatmentSession", on_delete=models.PROTECT,
                                related_name="+")
    to = models.CharField(_("refer to"), max_length=30, choices=ReferralTo.choices)
    recipient = models.CharField(_("name and address of the recipient"), max_length=300,
                                 blank=True)
    reason = models.CharField(_("reason"), max_length=40, choices=ReferralReason.choices)
    reason_detail = models.TextField(_("reason in your words"), blank=True, max_length=4000)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices,
                               default=Urgency.ROUTINE)
    summary = models.TextField(_("clinician's summary"), max_length=10000)
    status = models.CharField(max_length=10, choices=ReferralStatus.choices,
                              default=ReferralStatus.AWAITING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    outcome = models.CharField(max_length=30, choices=ReferralOutcome.choices, blank=True)
    outcome_note = models.TextField(blank=True, max_length=4000)
    outcome_on = models.DateField(null=True, blank=True)
    outcome_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                            null=True, blank=True, related_name="+")
    outcome_recorded_at = models.DateTimeField(null=True, blank=True)
    #: SHA-256 of the last letter given out, so a copy can be proved later.
    letter_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "status", "created_at"],
                                name="referral_clinic_status")]


# --- the summary table, kept current by event handlers in the emitting transaction ----------

#: The bit of ``SignedSessionFact.answered_days`` for each invitation day of the check-in
#: schedule. Only ever extended (like the vocabulary): a protocol that adds an invitation day
#: adds a bit here; a test checks that every day of the shipped protocols has one.
ANSWERED_DAY_BITS: dict[int, int] = {1: 0, 3: 1, 7: 2, 14: 3, 28: 4, 56: 5}


class SignedSessionFact(models.Model):
    """One row per signed session: what the clinic's numbers count sessions, depth overrides
    and answered check-in days by. Written when the session is signed (a signed session never
    changes) and marked when a check-in answers one of its invitation days."""

    session = models.OneToOneField("care.TreatmentSession", on_delete=models.CASCADE,
                                   primary_key=True, related_name="+")
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    practitioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, related_name="+")
    performed_on = models.DateField()
    #: Zones treated deeper than the plan's maximum (signed with a reason for the depth).
    depth_overrides = models.PositiveSmallIntegerField(default=0)
    #: The invitation days a check-in answered, one bit each (``ANSWERED_DAY_BITS``).
    answered_days = models.PositiveIntegerField(default=0)

    class Meta:
        # Covering: the numbers page reads this index only, never the table.
        indexes = [models.Index(
            fields=["clinic", "performed_on", "practitioner", "depth_overrides",
                    "answered_days"], name="fact_clinic_day")]
