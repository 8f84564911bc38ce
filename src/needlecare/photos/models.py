"""Clinical photographs: the record of each photo, the photo uses a patient has withdrawn, and
the clinic's record-keeping setting for photos.

A photo's files (the stored original, a thumbnail and a screen copy) live in Django's default
storage under names that say nothing about the patient; the row holds their names, never a URL:
photos are served only through the access layer (``services.photo_file``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needlecare import clock


class PhotoView(models.TextChoices):
    FRONT = "front", _("Front")
    LEFT_45 = "left_45", _("Left 45°")
    RIGHT_45 = "right_45", _("Right 45°")
    LEFT_PROFILE = "left_profile", _("Left profile")
    RIGHT_PROFILE = "right_profile", _("Right profile")
    CLOSE_UP = "close_up", _("Close-up of a zone")


#: Views in which the face landmarks find the face, so redness can be measured. Profiles and
#: close-ups are kept for looking at and comparing, never measured.
MEASURED_VIEWS = frozenset({PhotoView.FRONT, PhotoView.LEFT_45, PhotoView.RIGHT_45})


class Moment(models.TextChoices):
    BEFORE = "before", _("Before treatment")
    AFTER = "after", _("Straight after treatment")
    FOLLOW_UP = "follow_up", _("Follow-up")


class Scope(models.TextChoices):
    """What a photo may be used for (the photo consent's uses)."""

    CLINICAL_RECORD = "clinical_record", _("Clinical record")
    SHOWN_TO_PATIENT = "shown_to_patient", _("Shown to the patient")
    TEACHING = "teaching", _("Teaching, face hidden")
    MARKETING = "marketing", _("Marketing")


class TakenBy(models.TextChoices):
    CLINICIAN = "clinician", _("Clinic staff")
    PATIENT = "patient", _("The patient")


class AnalysisStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be checked")
    RUNNING = "running", _("Being checked")
    DONE = "done", _("Checked")
    FAILED = "failed", _("Could not be checked")


class Photo(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="photos")
    session = models.ForeignKey("care.TreatmentSession", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="photos")
    checkin = models.ForeignKey("recovery.CheckIn", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="photos")
    moment = models.CharField(_("when"), max_length=20, choices=Moment.choices)
    view = models.CharField(_("view"), max_length=20, choices=PhotoView.choices)
    #: The zone a close-up shows (a vocabulary zone code); empty for the other views.
    zone = models.CharField(_("zone"), max_length=20, blank=True)
    #: Days after the session (the session day is 0); None when the photo has no signed
    #: session yet (a photo before the first treatment).
    day = models.SmallIntegerField(null=True, blank=True)
    #: When the photo was taken: the camera's own time when it is plausible, else the upload.
    taken_at = models.DateTimeField()
    uploaded_at = models.DateTimeField(default=clock.now, editable=False)
    taken_by = models.CharField(max_length=10, choices=TakenBy.choices)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    link = models.ForeignKey("recovery.PatientLink", on_delete=models.PROTECT, null=True,
                             blank=True, related_name="+")
    #: The photo consent in force when it was taken, and the uses it allowed then.
    consent = models.ForeignKey("care.Consent", on_delete=models.PROTECT, related_name="+")
    scopes = models.JSONField(default=list)

    # The file as stored (metadata stripped but for orientation and colour profile).
    received_format = models.CharField(max_length=10)
    content_type = models.CharField(max_length=30)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    orientation = models.PositiveSmallIntegerField(default=1)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    colour_profile = models.CharField(max_length=80, blank=True)
    original_name = models.CharField(max_length=255)
    thumbnail_name = models.CharField(max_length=255)
    screen_name = models.CharField(max_length=255)
    screen_width = models.PositiveIntegerField()
    screen_height = models.PositiveIntegerField()
    #: Camera make and model as one line, and the camera facts (make, model, flash, exposure,
    #: f-number, ISO, white balance, capture time) read from the EXIF before it was dropped.
    device = models.CharField(_("camera"), max_length=130, blank=True)
    camera = models.JSONField(default=dict, blank=True)

    # Quality and measurement, done inline or by the worker.
    analysis_status = models.CharField(max_length=10, choices=AnalysisStatus.choices,
                                       default=AnalysisStatus.PENDING)
    analysis_attempts = models.PositiveSmallIntegerField(default=0)
    analysis_claimed_by = models.CharField(max_length=100, blank=True)
    #: While a worker holds the job: when its claim runs out (then another may take it).
    analysis_claimed_until = models.DateTimeField(null=True, blank=True)
    analysis_error = models.TextField(blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    #: None until checked; a photo that fails is kept but never measured.
    quality_passed = models.BooleanField(null=True)
    #: {"problems": [{"code", "advice"}], "metrics": {...}}
    quality = models.JSONField(default=dict, blank=True)
    #: Face landmarks in upright image coordinates scaled to 0–1, for alignment and for
    #: hiding the eyes; None when no face was found.
    landmarks = models.JSONField(null=True, blank=True)
    #: The two eye centres (subject's right, then left) in the same coordinates: from the
    #: landmarks, or marked by a clinician when no face was found.
    eyes = models.JSONField(null=True, blank=True)
    eyes_marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                       null=True, blank=True, related_name="+")
    #: Redness readings: {"zones": {zone: {a_star, a_star_median, l_star, b_star, pixels}},
    #: "colour_space", "profile_assumed"}; None when not measured.
    redness = models.JSONField(null=True, blank=True)
    #: The pre-treatment photo of the same view the change is measured against.
    baseline = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    #: The change per treated zone: {zone: {"delta", "against_control", "is_change"}}, the
    #: control zone used, and the largest change (what triage reads), with its noise floor.
    redness_change = models.JSONField(null=True, blank=True)
    a_star_change = models.FloatField(null=True, blank=True)
    noise_floor = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "view", "taken_at"], name="photo_patient_view"),
            # The worker's claim: due jobs only, however many photos are stored.
            models.Index(fields=["analysis_status", "analysis_claimed_until"],
                         name="photo_analysis_claim"),
        ]
        verbose_name = _("photo")

    def __str__(self) -> str:
        return f"{self.get_view_display()} {self.taken_at:%Y-%m-%d} ({self.pk})"

    @property
    def measured(self) -> bool:
        return self.a_star_change is not None or bool(self.redness)

    #: The fields that name the photo's files in the default storage.
    FILE_FIELDS = ("original_name", "thumbnail_name", "screen_name")

    @property
    def file_names(self) -> list[str]:
        return [n for n in (getattr(self, f) for f in self.FILE_FIELDS) if n]


class ScopeWithdrawal(models.Model):
    """A use of photos the patient took back from a photo consent that otherwise stands.

    Withdrawing the whole consent is recorded on the consent itself (care app); this records
    one use at a time (say marketing), from the moment it is written: every page, export and
    sheet reads the uses in force when it is made."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT,
                                related_name="+")
    consent = models.ForeignKey("care.Consent", on_delete=models.PROTECT,
                                related_name="photo_scope_withdrawals")
    scope = models.CharField(max_length=20, choices=Scope.choices)
    reason = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["consent", "scope"],
                                               name="one_withdrawal_per_consent_scope")]


#: Adult clinical records are commonly kept for 8 years after the last treatment (for
#: example the NHS England records management code); a policy default the clinic changes.
DEFAULT_RETENTION_YEARS = 8


class PhotoSettings(models.Model):
    """A clinic's record-keeping setting for photos. A clinic without a row has the default.

    Kept in the photos app (as messaging keeps its own settings) so that the app owns it; the
    owner edits it on the photos' settings page."""

    clinic = models.OneToOneField("accounts.Clinic", on_delete=models.CASCADE,
                                  related_name="photo_settings")
    retention_years = models.PositiveSmallIntegerField(
        _("keep photos for (years after the patient's last treatment or check-in)"),
        default=DEFAULT_RETENTION_YEARS)

    class Meta:
        verbose_name = _("photo settings")
        verbose_name_plural = _("photo settings")

    def __str__(self) -> str:
        return f"{self.clinic}: photos kept {self.retention_years} years"
