"""The clinic's newsletter: write, see who it reaches and who is held back, send a test to
yourself, schedule; counts afterwards that respect privacy.

A newsletter goes only to people whose newsletter consent is confirmed (double opt-in), in the
campaign's segment, and never to a patient held back by ``holdbacks`` (open escalation, a
recent urgent one, under 18, and what other apps add) or to a suppressed address. Scheduling
writes one outbox row per recipient, spread so that no more than the clinic's
``send_rate_per_minute`` fall due in any minute; when each row is due the worker checks
consent, hold-backs and suppression again, so a withdrawal or an escalation after scheduling
still stops it.

Counts: delivered (sent by the outbox), unsubscribes through the newsletter's links, and link
clicks only when the clinic turned counting on (off by default). Opens are never tracked:
the email is plain text, with no pixel and no per-recipient link.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.access import Actor, Permission, audit, record_id, refuse, require
from needlecare.accounts.models import Clinic
from needlecare.clinical.vocabulary import INDICATIONS
from needlecare.education import consent, holdbacks, markdown
from needlecare.education.models import (
    Campaign,
    CampaignStatus,
    CommunicationConsent,
    ConsentState,
    EducationSettings,
    LinkClick,
    Purpose,
    Stage,
    Subscriber,
    SuppressedAddress,
)
from needlecare.education.rules import Segment, spread
from needlecare.education.stages import facts_for
from needlecare.errors import Conflict, NotFound, ServiceError
from needlecare.messaging.channels import Outgoing
from needlecare.messaging.compose import Defer, Skip
from needlecare.messaging.models import (
    Message,
    MessageChannel,
    MessageKind,
    MessageStatus,
    Recipient,
)
from needlecare.messaging.outbox import enqueue
from needlecare.messaging.quiet_hours import quiet_end, quiet_hours
from needlecare.patients.models import Patient

CLICK_SALT = "needlecare.education.click"
UNSUBSCRIBE_PLACEHOLDER = "[unsubscribe link]"
CONFIRM_PLACEHOLDER = "[confirmation link]"


def settings_for(clinic_id: int) -> EducationSettings:
    return (EducationSettings.objects.filter(clinic_id=clinic_id).first()
            or EducationSettings(clinic_id=clinic_id))


def update_settings(actor: Actor, *, count_link_clicks: bool,
                    send_rate_per_minute: int) -> EducationSettings:
    require(actor, Permission.MANAGE_CLINIC)
    if not 1 <= send_rate_per_minute <= 600:
        raise ServiceError("rate_invalid", _("Choose 1 to 600 emails a minute."),
                           field="send_rate_per_minute")
    with transaction.atomic():
        row, _created = EducationSettings.objects.select_for_update().get_or_create(
            clinic_id=actor.clinic_id)
        before = {"count_link_clicks": row.count_link_clicks,
                  "send_rate_per_minute": row.send_rate_per_minute}
        row.count_link_clicks = count_link_clicks
        row.send_rate_per_minute = send_rate_per_minute
        row.save()
        audit(actor, "education.settings", obj=row, detail={
            "before": before, "after": {"count_link_clicks": count_link_clicks,
                                        "send_rate_per_minute": send_rate_per_minute}})
    return row


# --- writing ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CampaignDraft:
    subject: str
    body: str
    segment: Segment = field(default_factory=Segment)


def _check(draft: CampaignDraft) -> dict[str, Any]:
    subject = " ".join(draft.subject.split())
    if not subject:
        raise ServiceError("subject_required", _("Give the newsletter a subject."),
                           field="subject")
    if len(subject) > 150:
        raise ServiceError("subject_too_long", _("Keep the subject under 150 characters."),
                           field="subject")
    if not draft.body.strip():
        raise ServiceError("body_required", _("Write the newsletter."), field="body")
    if len(draft.body) > 50_000:
        raise ServiceError("body_too_long", _("The newsletter is too long."), field="body")
    segment = draft.segment
    if segment.indication and segment.indication not in INDICATIONS:
        raise ServiceError("indication_invalid", _("Choose an indication from the list."),
                           field="indication")
    if any(stage not in Stage.values for stage in segment.stages):
        raise ServiceError("stage_invalid", _("Choose stages from the list."), field="stages")
    return {"subject": subject, "body": draft.body, "body_html": markdown.render(draft.body),
            "segment": segment.as_dict()}


def campaigns(actor: Actor) -> list[Campaign]:
    require(actor, Permission.EDIT_ARTICLES)
    return list(Campaign.objects.filter(clinic_id=actor.clinic_id))


def campaign_for(actor: Actor, campaign_id: int | str) -> Campaign:
    require(actor, Permission.EDIT_ARTICLES)
    campaign = Campaign.objects.filter(pk=record_id(campaign_id),
                                       clinic_id=actor.clinic_id).first()
    if campaign is None:
        raise refuse(actor, NotFound(_("No such newsletter.")), wanted=Campaign,
                     wanted_id=campaign_id)
    return campaign


def create_campaign(actor: Actor, draft: CampaignDraft) -> Campaign:
    require(actor, Permission.EDIT_ARTICLES)
    values = _check(draft)
    with transaction.atomic():
        campaign = Campaign.objects.create(clinic_id=actor.clinic_id, created_by=actor.user,
                                           **values)
        audit(actor, "newsletter.create", obj=campaign, detail={"subject": campaign.subject})
    return campaign


def update_campaign(actor: Actor, campaign_id: int | str, draft: CampaignDraft) -> Campaign:
    values = _check(draft)
    with transaction.atomic():
        campaign = campaign_for(actor, campaign_id)
        if campaign.status != CampaignStatus.DRAFT:
            raise Conflict("not_a_draft", _("Only a draft can be changed."))
        for name, value in values.items():
            setattr(campaign, name, value)
        campaign.save()
        audit(actor, "newsletter.edit", obj=campaign, detail={"subject": campaign.subject})
    return campaign


# --- who it reaches -----------------------------------------------------------------------

@dataclass
class Audience:
    #: (consent, patient or None) of everyone it goes to.
    recipients: list[CommunicationConsent]
    #: Held-back patients by reason code (a patient held back by two rules counts in both).
    held_back: dict[str, int]
    held_back_patients: int
    suppressed: int

    @property
    def reasons(self) -> list[tuple[str, int]]:
        return [(holdbacks.label(code), n) for code, n in sorted(self.held_back.items())]


def _given(clinic_id: int) -> list[CommunicationConsent]:
    """The latest newsletter consent of each person, where it is given."""
    latest: dict[tuple[str, int], CommunicationConsent] = {}
    for row in (CommunicationConsent.objects.filter(clinic_id=clinic_id,
                                                    purpose=Purpose.MARKETING)
                .select_related("patient", "subscriber").order_by("requested_at", "id")):
        key = ("p", row.patient_id) if row.patient_id else ("s", row.subscriber_id or 0)
        latest[key] = row
    return [row for row in latest.values() if row.state == ConsentState.GIVEN]


def audience(clinic: Clinic, segment: Segment, now: dt.datetime | None = None) -> Audience:
    now = now or clock.now()
    today = clock.localdate()
    given = _given(clinic.pk)
    patients = [row for row in given if row.patient_id is not None]
    public = [row for row in given if row.subscriber_id is not None
              and row.subscriber is not None and row.subscriber.adult_confirmed]
    facts = facts_for([row.patient_id for row in patients if row.patient_id], today)
    in_segment = [row for row in patients if row.patient_id
                  and segment.takes(facts[row.patient_id], today)]
    held = holdbacks.held_back(clinic.pk, [row.patient_id for row in in_segment
                                           if row.patient_id], now)
    counts: dict[str, int] = {}
    for codes in held.values():
        for code in codes:
            counts[code] = counts.get(code, 0) + 1
    chosen = [row for row in in_segment if row.patient_id not in held]
    if segment.takes_public:
        chosen += public
    suppressed = {s.lower() for s in consent_emails_suppressed([row.email for row in chosen])}
    reached = [row for row in chosen if row.email.lower() not in suppressed]
    return Audience(recipients=reached, held_back=counts, held_back_patients=len(held),
                    suppressed=len(chosen) - len(reached))


def consent_emails_suppressed(emails: list[str]) -> list[str]:
    return list(SuppressedAddress.objects.filter(email__in=[e.lower() for e in emails])
                .values_list("email", flat=True))


# --- sending ------------------------------------------------------------------------------

def _key(campaign: Campaign, row: CommunicationConsent) -> str:
    holder = f"p{row.patient_id}" if row.patient_id else f"s{row.subscriber_id}"
    return f"newsletter:{campaign.pk}:{holder}"


def schedule(actor: Actor, campaign_id: int | str, when: dt.datetime | None = None
             ) -> Campaign:
    """Write the newsletter's rows to the outbox for ``when`` (now when empty), spread by
    the clinic's sending rate. Who was held back, and why, is kept on the campaign."""
    with transaction.atomic():
        campaign = campaign_for(actor, campaign_id)
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.status != CampaignStatus.DRAFT:
            raise Conflict("not_a_draft", _("This newsletter is scheduled already."))
        now = clock.now()
        start = max(when or now, now)
        clinic = Clinic.objects.get(pk=campaign.clinic_id)
        reach = audience(clinic, Segment.from_dict(campaign.segment), now)
        rate = settings_for(clinic.pk).send_rate_per_minute
        rows = []
        for row, due in zip(reach.recipients, spread(len(reach.recipients), start, rate),
                            strict=True):
            rows.append(Message(
                clinic_id=clinic.pk,
                recipient=Recipient.PATIENT if row.patient_id else Recipient.SUBSCRIBER,
                patient_id=row.patient_id, kind=MessageKind.NEWSLETTER,
                channel=MessageChannel.EMAIL,
                context={"campaign": campaign.pk, "consent": row.pk}, due_at=due,
                next_attempt_at=due, dedupe_key=_key(campaign, row)))
        enqueue(rows)
        campaign.status = CampaignStatus.SCHEDULED
        campaign.scheduled_for = start
        campaign.scheduled_by = actor.user
        campaign.queued = len(rows)
        campaign.held_back = {**reach.held_back, "suppressed": reach.suppressed}
        campaign.save()
        audit(actor, "newsletter.schedule", obj=campaign, detail={
            "for": start.isoformat(), "recipients": len(rows), "held_back": reach.held_back,
            "suppressed": reach.suppressed, "rate_per_minute": rate})
    return campaign


def cancel(actor: Actor, campaign_id: int | str) -> Campaign:
    """Stop what has not gone yet."""
    with transaction.atomic():
        campaign = campaign_for(actor, campaign_id)
        if campaign.status != CampaignStatus.SCHEDULED:
            raise Conflict("not_scheduled", _("Only a scheduled newsletter can be cancelled."))
        stopped = Message.objects.filter(
            clinic_id=campaign.clinic_id, kind=MessageKind.NEWSLETTER,
            dedupe_key__startswith=f"newsletter:{campaign.pk}:",
            status__in=(MessageStatus.PENDING, MessageStatus.FAILED)).update(
            status=MessageStatus.CANCELLED,
            reason=(_("Newsletter cancelled by %(name)s.") % {"name": actor.user})[:300])
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.CANCELLED,
                                                       cancelled_at=clock.now())
        audit(actor, "newsletter.cancel", obj=campaign, detail={"stopped": stopped})
        campaign.refresh_from_db()
    return campaign


def send_test(actor: Actor, campaign_id: int | str) -> Message:
    """The newsletter as recipients will see it, to the editor's own email, now."""
    with transaction.atomic():
        campaign = campaign_for(actor, campaign_id)
        if actor.user is None or not getattr(actor.user, "email", ""):
            raise ServiceError("email_required", _("Add an email address to your account "
                                                   "first."))
        now = clock.now()
        message = Message(
            clinic_id=campaign.clinic_id, recipient=Recipient.STAFF, staff=actor.user,
            kind=MessageKind.NEWSLETTER, channel=MessageChannel.EMAIL,
            context={"campaign": campaign.pk, "test": True}, due_at=now, next_attempt_at=now,
            dedupe_key=f"newsletter-test:{campaign.pk}:{actor.user.pk}:{now.timestamp()}")
        enqueue([message])
        audit(actor, "newsletter.test", obj=campaign)
    return Message.objects.get(dedupe_key=message.dedupe_key)


# --- counts -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Counts:
    queued: int
    delivered: int
    waiting: int
    not_sent: int
    unsubscribes: int
    #: (url, clicks), or None when the clinic does not count clicks.
    clicks: list[tuple[str, int]] | None


def counts(campaign: Campaign) -> Counts:
    rows = Message.objects.filter(clinic_id=campaign.clinic_id, kind=MessageKind.NEWSLETTER,
                                  dedupe_key__startswith=f"newsletter:{campaign.pk}:")
    by_status: dict[str, int] = {}
    for status in rows.values_list("status", flat=True):
        by_status[status] = by_status.get(status, 0) + 1
    counting = settings_for(campaign.clinic_id).count_link_clicks
    return Counts(
        queued=sum(by_status.values()), delivered=by_status.get("sent", 0),
        waiting=sum(by_status.get(s, 0) for s in ("pending", "sending", "failed")),
        not_sent=sum(by_status.get(s, 0) for s in ("skipped", "dead", "cancelled")),
        unsubscribes=campaign.unsubscribes.count(),
        clicks=list(campaign.clicks.order_by("-count", "url").values_list("url", "count"))
        if counting else None)


def click_token(campaign_id: int, url: str) -> str:
    return signing.Signer(salt=CLICK_SALT).sign_object({"k": campaign_id, "u": url})


def follow_click(token: str) -> str:
    """Count a click (when the clinic counts them) and return where it goes."""
    try:
        data = signing.Signer(salt=CLICK_SALT).unsign_object(token)
    except signing.BadSignature:
        raise NotFound(_("This link is not valid.")) from None
    url = data.get("u") if isinstance(data, dict) else None
    campaign = Campaign.objects.filter(pk=data.get("k") if isinstance(data, dict) else None
                                       ).first()
    if not isinstance(url, str) or campaign is None \
            or urlsplit(url).scheme not in ("http", "https"):
        raise NotFound(_("This link is not valid."))
    if settings_for(campaign.clinic_id).count_link_clicks:
        with transaction.atomic():
            if not LinkClick.objects.filter(campaign=campaign, url=url).update(
                    count=F("count") + 1):
                try:
                    with transaction.atomic():
                        LinkClick.objects.create(campaign=campaign, url=url, count=1)
                except IntegrityError:
                    LinkClick.objects.filter(campaign=campaign, url=url).update(
                        count=F("count") + 1)
    return url


# --- composing (the outbox worker calls these through messaging.composers) ------------------

def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def text_of(campaign: Campaign, counting: bool) -> str:
    """The email's text: the Markdown as written (plain text, readable as it is), with its
    web links going through the click counter when the clinic counts clicks."""
    text = campaign.body.strip()
    if counting:
        for url in markdown.links(text):
            if urlsplit(url).scheme in ("http", "https"):
                tracked = _absolute(reverse("newsletter-click",
                                            args=[click_token(campaign.pk, url)]))
                text = text.replace(f"]({url})", f"]({tracked})").replace(f"<{url}>",
                                                                          f"<{tracked}>")
    return text


def _footer(clinic: Clinic, unsubscribe: str, since: dt.datetime | None) -> str:
    when = f" {since:%d %B %Y}" if since else ""
    return (_("\n\n--\nYou receive this because you subscribed to %(clinic)s's newsletter"
              "%(when)s. Unsubscribe with one click: %(url)s\n")
            % {"clinic": clinic.name, "when": when, "url": unsubscribe})


def compose_newsletter(message: Message, now: dt.datetime) -> tuple[Outgoing, Outgoing]:
    campaign = Campaign.objects.filter(pk=message.context.get("campaign")).first()
    if campaign is None:
        raise Skip(_("The newsletter no longer exists."))
    clinic = message.clinic
    counting = settings_for(clinic.pk).count_link_clicks
    if message.context.get("test"):
        user = message.staff
        assert user is not None
        user.refresh_from_db()
        if not user.is_active or not user.email:
            raise Skip(_("%(name)s has no email address.") % {"name": user})
        unsubscribe = consent.unsubscribe_url(0, campaign.pk)
        subject = _("[Test] %(subject)s") % {"subject": campaign.subject}
        body = text_of(campaign, counting) + _footer(clinic, unsubscribe, None)
        headers = _list_headers(unsubscribe)
        sent = Outgoing(channel="email", to=user.email, subject=subject,
                        body=body, dedupe_key=message.dedupe_key, headers=headers)
        return sent, sent
    if campaign.status == CampaignStatus.CANCELLED:
        raise Skip(_("The newsletter was cancelled."))
    row = CommunicationConsent.objects.filter(pk=message.context.get("consent")).first()
    if row is None or row.state != ConsentState.GIVEN:
        raise Skip(_("No longer subscribed to the newsletter."))
    latest = consent.latest(Purpose.MARKETING, patient_id=row.patient_id,
                            subscriber_id=row.subscriber_id)
    if latest is None or latest.pk != row.pk:
        raise Skip(_("No longer subscribed to the newsletter."))
    if row.patient_id is not None:
        patient = Patient.objects.get(pk=row.patient_id)
        held = holdbacks.held_back(clinic.pk, [patient.pk], now).get(patient.pk)
        if held:
            raise Skip(_("Held back from promotion: %(why)s.")
                       % {"why": ", ".join(holdbacks.label(code) for code in held)})
        address = patient.email or row.email
    else:
        subscriber = Subscriber.objects.get(pk=row.subscriber_id)
        if not subscriber.adult_confirmed:
            raise Skip(_("The subscriber has not said they are 18 or older."))
        address = subscriber.email
    if not address:
        raise Skip(_("No email address."))
    if consent.is_suppressed(address):
        raise Skip(_("The email provider reported this address as not receiving mail."))
    hours = quiet_hours(clinic)
    end = quiet_end(now, quiet_from=hours[0], quiet_until=hours[1], time_zone=clinic.time_zone)
    if end is not None:
        raise Defer(end)
    unsubscribe = consent.unsubscribe_url(row.pk, campaign.pk)
    text = text_of(campaign, counting)
    sent = Outgoing(channel="email", to=address, subject=campaign.subject,
                    body=text + _footer(clinic, unsubscribe, row.confirmed_at),
                    dedupe_key=message.dedupe_key, headers=_list_headers(unsubscribe))
    stored = Outgoing(channel="email", to=address, subject=campaign.subject,
                      body=text + _footer(clinic, UNSUBSCRIBE_PLACEHOLDER, row.confirmed_at),
                      dedupe_key=message.dedupe_key)
    return sent, stored


def _list_headers(unsubscribe: str) -> tuple[tuple[str, str], ...]:
    # RFC 2369 and RFC 8058: mail clients show an "Unsubscribe" button that POSTs
    # "List-Unsubscribe=One-Click" to the link, without cookies.
    return (("List-Unsubscribe", f"<{unsubscribe}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Precedence", "bulk"))


def compose_confirmation(message: Message, now: dt.datetime) -> tuple[Outgoing, Outgoing]:
    row = CommunicationConsent.objects.select_related("subscriber").filter(
        pk=message.context.get("consent")).first()
    if row is None or row.state != ConsentState.PENDING:
        raise Skip(_("The subscription is no longer waiting for confirmation."))
    if row.confirm_expires_at is None or row.confirm_expires_at <= now:
        raise Skip(_("The confirmation link expired before it could be sent."))
    address = row.email
    if not address:
        raise Skip(_("No email address."))
    if consent.is_suppressed(address):
        raise Skip(_("The email provider reported this address as not receiving mail."))
    clinic = message.clinic
    context = {"clinic": clinic.name, "hours": consent.confirm_hours(),
               "wording": row.wording}
    subject = _("Confirm your subscription to %(clinic)s's newsletter") % context
    body = _("Hello,\n\nSomeone (we hope you) asked to receive %(clinic)s's newsletter at "
             "this address. To confirm, open this link within %(hours)s hours:\n\n%(url)s\n\n"
             "What you agree to: %(wording)s\n\nIf it was not you, ignore this email: "
             "nothing will be sent.\n")
    sent = Outgoing(channel="email", to=address, subject=subject,
                    body=body % {**context, "url": consent.confirm_url(row)},
                    dedupe_key=message.dedupe_key)
    stored = Outgoing(channel="email", to=address, subject=subject,
                      body=body % {**context, "url": CONFIRM_PLACEHOLDER},
                      dedupe_key=message.dedupe_key)
    return sent, stored
