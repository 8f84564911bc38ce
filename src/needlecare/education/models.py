"""Articles and their versions, the clinic's newsletter, and consent to each kind of message.

An article is a clinic's piece of reading; what it says lives in versions. A published article
keeps showing its published version while a newer one is written and reviewed; publishing the
new one supersedes the old, which stays as it was (history is never rewritten).

Consent is kept per purpose, apart from the consent to clinical messages on the patient's
record (``Patient.messages_opt_in``): ``education`` (reading timed to the patient's stage) and
``marketing`` (the newsletter). Each row is one opt-in with the wording shown, when and where
it was given, and when and how it was withdrawn. People who subscribe from the public page and
are not (known as) patients are ``Subscriber`` rows, apart from patient records.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from needlecare import clock


class Stage(models.TextChoices):
    """The stages of care (``clinical.expectations.STAGES``; a test keeps them equal)."""

    BOOKED = "booked", _("Booked, before the first session")
    HEALING = "healing", _("Days 0–7 after a session")
    REMODELLING = "remodelling", _("Weeks 2–8 after a session")
    AFTER_COURSE = "after_course", _("After the course")
    MAINTENANCE = "maintenance", _("Maintenance")


class Article(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    #: The article's address on the clinic's public page.
    slug = models.SlugField(_("address"), max_length=80)
    #: When the article is "for you now" and sent as reading; empty: not timed.
    stage = models.CharField(_("stage of care"), max_length=20, choices=Stage.choices,
                             blank=True)
    #: Only for patients treated for this indication (a vocabulary code); empty: anyone.
    indication = models.CharField(_("indication"), max_length=40, blank=True)
    #: Only for these Fitzpatrick skin types; empty: any.
    skin_types = models.JSONField(_("skin types"), default=list, blank=True)
    #: The shipped starter article it was imported from (``starter/articles.toml``).
    starter_key = models.CharField(max_length=80, blank=True)
    published = models.ForeignKey("ArticleVersion", on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["clinic", "slug"],
                                               name="article_slug_per_clinic")]
        indexes = [models.Index(fields=["clinic", "stage"])]

    def __str__(self) -> str:
        return self.slug


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("Waiting for clinical review")
    APPROVED = "approved", _("Reviewed, ready to publish")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Replaced by a newer version")


#: Versions still being worked on (at most one per article).
OPEN_STATUSES = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED)


class ArticleVersion(models.Model):
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=VersionStatus.choices,
                              default=VersionStatus.DRAFT)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=300)
    #: What the editor wrote (Markdown) and what readers see (rendered and sanitised once).
    body = models.TextField(_("text (Markdown)"), max_length=50_000)
    body_html = models.TextField(editable=False)
    topics = models.JSONField(_("topics"), default=list, blank=True)
    #: [{"key": "minutilli2024" or "", "citation": "...", "link": "..."}]
    sources = models.JSONField(_("sources"), default=list, blank=True)
    #: Clinical content is reviewed by a clinician before it is published.
    clinical = models.BooleanField(_("clinical content"), default=True)
    #: The stored image (default_storage name), its content type and its description.
    image = models.CharField(max_length=200, blank=True)
    image_type = models.CharField(max_length=40, blank=True)
    image_alt = models.CharField(_("image description"), max_length=200, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                               blank=True, related_name="+")
    #: Shown when there is no author among the staff (the shipped starter set).
    author_name = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(default=clock.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True, max_length=2000)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="version_number"),
            # One version in the works at a time: a second editor cannot fork the draft.
            models.UniqueConstraint(fields=["article"], name="one_open_version",
                                    condition=models.Q(status__in=[
                                        "draft", "in_review", "approved"])),
        ]

    def __str__(self) -> str:
        return f"{self.article.slug} v{self.number} ({self.status})"

    @property
    def byline(self) -> str:
        return str(self.author) if self.author is not None else self.author_name


class EducationSettings(models.Model):
    """A clinic's settings for articles and the newsletter (a clinic without a row has the
    defaults); the owner keeps them on the newsletter settings page."""

    clinic = models.OneToOneField("accounts.Clinic", on_delete=models.CASCADE,
                                  related_name="education_settings")
    #: Count clicks on newsletter links (through a redirect that records no recipient).
    count_link_clicks = models.BooleanField(_("count clicks on newsletter links"),
                                            default=False)
    #: Newsletter emails per minute at most (spread over the outbox's due times).
    send_rate_per_minute = models.PositiveSmallIntegerField(
        _("newsletter emails per minute at most"), default=30)

    def __str__(self) -> str:
        return f"{self.clinic}: education settings"


class Subscriber(models.Model):
    """Someone who subscribed from the public page: not a patient record."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    #: Lower-cased.
    email = models.EmailField()
    #: They said they are 18 or older (nobody younger receives promotion).
    adult_confirmed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "email"],
                                               name="one_subscriber_per_address")]

    def __str__(self) -> str:
        return self.email


class Purpose(models.TextChoices):
    EDUCATION = "education", _("Reading timed to your care")
    MARKETING = "marketing", _("Newsletter: news and offers")


class ConsentState(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    GIVEN = "given", _("Given")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class CommunicationConsent(models.Model):
    """One opt-in to one purpose, by a patient or a subscriber, with its whole story."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="consents")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    state = models.CharField(max_length=20, choices=ConsentState.choices)
    #: Exactly what the person agreed to, and the version of that wording.
    wording = models.TextField()
    wording_version = models.CharField(max_length=40)
    #: Where it was given: patient_page, public_page, api.
    source = models.CharField(max_length=40)
    #: The address the confirmation went to (the patient's email at the time).
    email = models.EmailField(blank=True)
    requested_at = models.DateTimeField(default=clock.now)
    requested_ip = models.GenericIPAddressField(null=True, blank=True)
    #: Double opt-in: when the confirmation link stops working (the link is signed and names
    #: this row; nothing secret is stored).
    confirm_expires_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_ip = models.GenericIPAddressField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    #: patient_page, one_click (a mail client's List-Unsubscribe POST), unsubscribe_page,
    #: complaint (the provider reported a spam complaint), staff.
    withdrawn_source = models.CharField(max_length=40, blank=True)
    #: The newsletter whose unsubscribe link was used (its unsubscribe count).
    withdrawn_campaign = models.ForeignKey("Campaign", on_delete=models.PROTECT, null=True,
                                           blank=True, related_name="unsubscribes")

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [models.CheckConstraint(
            condition=(models.Q(patient__isnull=False, subscriber__isnull=True)
                       | models.Q(patient__isnull=True, subscriber__isnull=False)),
            name="consent_of_a_patient_or_a_subscriber")]
        indexes = [models.Index(fields=["clinic", "purpose", "state"]),
                   models.Index(fields=["patient", "purpose"])]

    def __str__(self) -> str:
        return f"{self.purpose} {self.state}"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")


class Campaign(models.Model):
    """One newsletter: what it says, to whom (``segment``), and when."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(_("subject"), max_length=150)
    body = models.TextField(_("text (Markdown)"), max_length=50_000)
    body_html = models.TextField(editable=False)
    #: ``rules.Segment`` as a dict.
    segment = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=CampaignStatus.choices,
                              default=CampaignStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=clock.now, editable=False)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    scheduled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    #: Rows written to the outbox when it was scheduled, and who was held back and why
    #: ({reason code: count}).
    queued = models.PositiveIntegerField(default=0)
    held_back = models.JSONField(default=dict, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class LinkClick(models.Model):
    """Clicks on one link of one newsletter: a count, never who clicked (and only when the
    clinic counts clicks at all)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="clicks")
    url = models.URLField(max_length=1000)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "url"],
                                               name="one_click_count_per_link")]


class SuppressedAddress(models.Model):
    """An address the email provider reported as bouncing for good or as complaining: no
    newsletter or reading email goes to it again (clinical messages are not affected)."""

    email = models.EmailField(unique=True)
    reason = models.CharField(max_length=20)  # bounce | complaint
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class RateLimit(models.Model):
    """A limit on a public action, kept in the database so operators can change it (admin)
    and every server process counts against the same numbers."""

    name = models.CharField(max_length=60, unique=True)
    max_requests = models.PositiveIntegerField()
    window_seconds = models.PositiveIntegerField()
    description = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.max_requests} per {self.window_seconds} s"
