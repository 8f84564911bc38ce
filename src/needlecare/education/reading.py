"""Reading timed to the patient's stage: "for you now" on their phone page, and at most one
reading message a week through the outbox.

For a patient who asked for reading, rows are written when a session is booked or signed (or
when they ask, for the session they are in), for the moments a new stage begins
(``schedule``: booked; day 2 of healing; day 15, early in weeks 2–8; day 57, after them).
What a row sends is decided when it is due, from the patient as they are then: the article
for their stage, indication and skin type that they have not been sent yet. A row is skipped
when the patient has not agreed to reading messages, asked for no messages, has an
escalation that is not closed, or there is nothing new to read; it waits when a reading
message went less than a week ago (so the cap holds however rows were scheduled) and in the
clinic's quiet hours. A reading message says what the article is and where to read it; it
never carries promotion.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.accounts.models import Clinic
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.diary.models import Appointment, AppointmentKind
from needlecare.education import consent, schedule
from needlecare.education.models import ArticleVersion, Purpose, VersionStatus
from needlecare.education.rules import ArticleFacts, reading_allowed_at, reading_for
from needlecare.education.stages import patient_facts
from needlecare.events import AppointmentBooked, SessionSigned
from needlecare.messaging.channels import Outgoing
from needlecare.messaging.compose import Defer, Skip
from needlecare.messaging.models import (
    Message,
    MessageKind,
    MessageStatus,
)
from needlecare.messaging.quiet_hours import quiet_end, quiet_hours
from needlecare.patients.models import Channel, Patient
from needlecare.recovery.models import Escalation, EscalationStatus

#: Articles shown under "for you now".
SHOWN = 3


def on_appointment_booked(event: AppointmentBooked) -> None:
    """Before the first session (booked in the diary): reading on preparing for it, for a
    patient who asked."""
    if event.kind != AppointmentKind.SESSION:
        return
    appointment = Appointment.objects.get(pk=event.appointment_id)
    patient_id = appointment.patient_id
    if not consent.has_consent(Purpose.EDUCATION, patient_id=patient_id):
        return
    if TreatmentSession.objects.filter(patient_id=patient_id,
                                       status=SessionStatus.SIGNED).exists():
        return
    patient = Patient.objects.select_related("clinic").get(pk=patient_id)
    schedule.before_first_session(patient, appointment.treatment_session_id
                                  or appointment.pk)


def on_session_signed(event: SessionSigned) -> None:
    if not consent.has_consent(Purpose.EDUCATION, patient_id=event.patient_id):
        return
    schedule.after_session(TreatmentSession.objects.select_related("clinic", "patient").get(
        pk=event.session_id))


# --- choosing ---------------------------------------------------------------------------------

def published_facts(clinic_id: int) -> list[ArticleFacts]:
    return [ArticleFacts(id=v.article_id, stage=v.article.stage,
                         indication=v.article.indication,
                         skin_types=tuple(v.article.skin_types or ()),
                         published_at=v.published_at)
            for v in ArticleVersion.objects.filter(
                article__clinic_id=clinic_id, status=VersionStatus.PUBLISHED,
                article__published_id__isnull=False).exclude(article__stage="")
            .select_related("article")]


def sent_articles(patient_id: int) -> set[int]:
    return {m.context["article"] for m in Message.objects.filter(
        patient_id=patient_id, kind=MessageKind.READING, status=MessageStatus.SENT)
        if isinstance(m.context.get("article"), int)}


def for_you_now(patient: Patient, today: dt.date) -> tuple[str | None, list[ArticleVersion]]:
    """The patient's stage and the published articles for it, most specific first."""
    facts = patient_facts(patient.pk, today)
    chosen = reading_for(published_facts(patient.clinic_id), facts)[:SHOWN]
    versions = {v.article_id: v for v in ArticleVersion.objects.filter(
        article_id__in=[a.id for a in chosen], status=VersionStatus.PUBLISHED)
        .select_related("article")}
    return facts.stage, [versions[a.id] for a in chosen if a.id in versions]


def article_url(version: ArticleVersion, clinic: Clinic) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse(
        "public-article", args=[clinic.slug, version.article.slug])


# --- the message, decided when it is due ------------------------------------------------------

def _last_reading_sent(patient_id: int) -> dt.datetime | None:
    return (Message.objects.filter(patient_id=patient_id, kind=MessageKind.READING,
                                   status=MessageStatus.SENT)
            .order_by("-sent_at").values_list("sent_at", flat=True).first())


def compose_reading(message: Message, now: dt.datetime) -> tuple[Outgoing, Outgoing]:
    patient = message.patient
    assert patient is not None
    patient.refresh_from_db()
    clinic = message.clinic
    if not consent.has_consent(Purpose.EDUCATION, patient_id=patient.pk):
        raise Skip(_("The patient has not asked for reading messages."))
    channel = patient.preferred_channel
    if channel == Channel.NONE:
        raise Skip(_("The patient asked for no messages."))
    address = patient.email if channel == Channel.EMAIL else patient.phone
    if not address:
        raise Skip(_("No address for the patient's preferred channel."))
    if channel == Channel.EMAIL and consent.is_suppressed(address):
        raise Skip(_("The email provider reported this address as not receiving mail."))
    if Escalation.objects.filter(patient_id=patient.pk).exclude(
            status=EscalationStatus.CLOSED).exists():
        raise Skip(_("An escalation is open: no reading messages until it is closed."))
    allowed = reading_allowed_at(_last_reading_sent(patient.pk), now)
    if allowed > now:
        raise Defer(allowed)  # the weekly cap: try again when the week is up
    facts = patient_facts(patient.pk, clock.localdate())
    chosen = reading_for(published_facts(clinic.pk), facts,
                         already=sent_articles(patient.pk))
    if not chosen:
        raise Skip(_("Nothing new to read for the patient's stage."))
    version = ArticleVersion.objects.select_related("article").filter(
        article_id=chosen[0].id, status=VersionStatus.PUBLISHED).first()
    if version is None:
        raise Skip(_("Nothing new to read for the patient's stage."))
    hours = quiet_hours(clinic)
    end = quiet_end(now, quiet_from=hours[0], quiet_until=hours[1], time_zone=clinic.time_zone)
    if end is not None:
        raise Defer(end)
    # Which article went is what the next choice leaves out (counted once it is sent).
    Message.objects.filter(pk=message.pk).update(
        context={**message.context, "article": version.article_id, "stage": facts.stage})
    url = article_url(version, clinic)
    context: dict[str, Any] = {"clinic": clinic.name, "title": version.title,
                               "summary": version.summary, "url": url}
    subject = _("%(clinic)s: reading for you – %(title)s") % context
    if channel == Channel.SMS:
        body = _("%(clinic)s: something to read for this stage of your treatment: "
                 "%(title)s %(url)s") % context
    else:
        body = _("Hello,\n\nSomething to read for this stage of your treatment:\n\n"
                 "%(title)s\n%(summary)s\n\nRead it here: %(url)s\n\n"
                 "You receive these because you asked %(clinic)s for reading that fits "
                 "your treatment (at most one a week). You can stop them on your personal "
                 "page.\n") % context
    sent = Outgoing(channel=channel, to=address, subject=subject, body=body,
                    dedupe_key=message.dedupe_key)
    return sent, sent
