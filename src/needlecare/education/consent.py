"""Consent to reading messages and to the newsletter, each kept on its own.

- **Reading** (``education``): the patient ticks it on their own page (their personal link,
  date of birth checked), with the wording recorded. It covers reading timed to their care.
- **Newsletter** (``marketing``): double opt-in. Asking (from the patient's page, the public
  page or the API) records a *pending* row with the wording, time, source and address, and
  sends a confirmation link that expires (``EDUCATION_CONFIRM_HOURS``, 48 by default);
  only following it makes the consent *given*. Withdrawal takes one click, from every
  newsletter (a signed link; a mail client's RFC 8058 one-click POST needs no cookie and no
  CSRF token) or from the patient's page.

Neither has anything to do with clinical messages: the aftercare plan, check-in invitations
and notes after a check-in go by ``Patient.messages_opt_in`` alone, and never carry
promotion. A confirmation for someone who is not a patient creates a ``Subscriber`` row, apart
from the patient records, even when the address happens to be a patient's (nobody can join a
patient's record by typing their address on a public page).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.access import Actor, Permission, audit
from needlecare.accounts.models import Clinic
from needlecare.education import schedule
from needlecare.education.models import (
    CommunicationConsent,
    ConsentState,
    Purpose,
    Subscriber,
    SuppressedAddress,
)
from needlecare.errors import Conflict, Gone, NotFound, ServiceError
from needlecare.messaging.models import Message, MessageChannel, MessageKind, Recipient
from needlecare.messaging.outbox import enqueue
from needlecare.patients.access import access_patient
from needlecare.patients.models import Patient
from needlecare.recovery.links import current_session, own_link

WORDING_VERSION = "2026.1"
READING_WORDING = (
    "Send me reading from the clinic that fits my treatment and where I am in it "
    "(at most one message a week). I can stop it at any time on my page.")
NEWSLETTER_WORDING = (
    "Send me the clinic's newsletter by email: news, tips and offers. I am 18 or older. "
    "I can unsubscribe at any time with one click from any newsletter.")

CONFIRM_SALT = "needlecare.education.confirm"
UNSUBSCRIBE_SALT = "needlecare.education.unsubscribe"


def confirm_hours() -> int:
    return int(getattr(settings, "EDUCATION_CONFIRM_HOURS", 48))


def _absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def normalise_email(email: str) -> str:
    return email.strip().lower()


def is_suppressed(email: str) -> bool:
    return SuppressedAddress.objects.filter(email=normalise_email(email)).exists()


# --- reading the state --------------------------------------------------------------------

def latest(purpose: Any, *, patient_id: int | None = None,
           subscriber_id: int | None = None) -> CommunicationConsent | None:
    rows = CommunicationConsent.objects.filter(purpose=purpose)
    rows = rows.filter(patient_id=patient_id) if patient_id is not None \
        else rows.filter(subscriber_id=subscriber_id)
    return rows.order_by("-requested_at", "-id").first()


def has_consent(purpose: Any, *, patient_id: int | None = None,
                subscriber_id: int | None = None) -> bool:
    row = latest(purpose, patient_id=patient_id, subscriber_id=subscriber_id)
    return row is not None and row.state == ConsentState.GIVEN


@dataclass(frozen=True)
class PatientConsents:
    reading: CommunicationConsent | None
    newsletter: CommunicationConsent | None

    @property
    def reading_given(self) -> bool:
        return self.reading is not None and self.reading.state == ConsentState.GIVEN

    @property
    def newsletter_state(self) -> str:
        row = self.newsletter
        if row is None:
            return "none"
        if row.state == ConsentState.PENDING and row.confirm_expires_at is not None \
                and row.confirm_expires_at <= clock.now():
            return "expired"
        return str(row.state)


def patient_consents(patient_id: int) -> PatientConsents:
    return PatientConsents(reading=latest(Purpose.EDUCATION, patient_id=patient_id),
                           newsletter=latest(Purpose.MARKETING, patient_id=patient_id))


# --- reading messages (patients, on their page) -----------------------------------------------

def set_reading_consent(actor: Actor, give: bool) -> CommunicationConsent | None:
    """The patient starts or stops reading messages (their own page)."""
    link = own_link(actor)
    with transaction.atomic():
        patient = access_patient(actor, link.patient_id, permission=Permission.PATIENT_SELF,
                                 action="consent.reading_give" if give
                                 else "consent.reading_withdraw")
        current = latest(Purpose.EDUCATION, patient_id=patient.pk)
        now = clock.now()
        if give:
            if current is not None and current.state == ConsentState.GIVEN:
                return current
            session = current_session(patient.pk)
            if session is not None:  # the reading still ahead of the session they are in
                schedule.after_session(session)
            return CommunicationConsent.objects.create(
                clinic_id=patient.clinic_id, patient=patient, purpose=Purpose.EDUCATION,
                state=ConsentState.GIVEN, wording=READING_WORDING,
                wording_version=WORDING_VERSION, source="patient_page", requested_at=now,
                requested_ip=actor.ip_address, confirmed_at=now,
                confirmed_ip=actor.ip_address)
        if current is not None and current.state == ConsentState.GIVEN:
            CommunicationConsent.objects.filter(pk=current.pk).update(
                state=ConsentState.WITHDRAWN, withdrawn_at=now,
                withdrawn_source="patient_page")
            current.refresh_from_db()
        return current


# --- the newsletter: asking, confirming ---------------------------------------------------

def _pending(clinic_id: int, *, patient: Patient | None, subscriber: Subscriber | None,
             email: str, source: str, ip: str | None) -> CommunicationConsent:
    now = clock.now()
    consent = CommunicationConsent.objects.create(
        clinic_id=clinic_id, patient=patient, subscriber=subscriber,
        purpose=Purpose.MARKETING, state=ConsentState.PENDING, wording=NEWSLETTER_WORDING,
        wording_version=WORDING_VERSION, source=source, email=email, requested_at=now,
        requested_ip=ip, confirm_expires_at=now + dt.timedelta(hours=confirm_hours()))
    enqueue([Message(
        clinic_id=clinic_id,
        recipient=Recipient.PATIENT if patient is not None else Recipient.SUBSCRIBER,
        patient=patient, kind=MessageKind.SUBSCRIPTION_CONFIRMATION,
        channel=MessageChannel.EMAIL, context={"consent": consent.pk}, due_at=now,
        next_attempt_at=now, dedupe_key=f"newsletter-confirm:{consent.pk}")])
    return consent


def request_newsletter_for_patient(actor: Actor) -> CommunicationConsent:
    """The patient asks for the newsletter on their page: a confirmation goes to the email
    address on their record."""
    link = own_link(actor)
    with transaction.atomic():
        patient = access_patient(actor, link.patient_id, permission=Permission.PATIENT_SELF,
                                 action="consent.newsletter_request")
        if not patient.email:
            raise ServiceError("email_required", _("The clinic has no email address for you. "
                                                   "Ask them to add it, then try again."))
        if has_consent(Purpose.MARKETING, patient_id=patient.pk):
            raise Conflict("already_subscribed", _("You receive the newsletter already."))
        return _pending(patient.clinic_id, patient=patient, subscriber=None,
                        email=normalise_email(patient.email), source="patient_page",
                        ip=actor.ip_address)


def subscribe_public(clinic: Clinic, email: str, *, adult: bool, source: str,
                     ip: str | None) -> None:
    """Someone asks for the newsletter from the public page or the API. The answer is the
    same whether or not the address is known (it reveals nothing); a confirmation link goes
    to the address unless it already receives the newsletter or is suppressed."""
    address = normalise_email(email)
    if not adult:
        raise ServiceError("adult_required", _("The newsletter is for people aged 18 or "
                                               "older."), field="adult")
    with transaction.atomic():
        subscriber, _created = Subscriber.objects.get_or_create(
            clinic=clinic, email=address, defaults={"adult_confirmed": True})
        if not subscriber.adult_confirmed:
            Subscriber.objects.filter(pk=subscriber.pk).update(adult_confirmed=True)
        if has_consent(Purpose.MARKETING, subscriber_id=subscriber.pk) or is_suppressed(address):
            audit(Actor(ip_address=ip), "consent.newsletter_request_ignored", obj=subscriber,
                  detail={"clinic": clinic.pk, "source": source}, clinic_id=clinic.pk)
            return
        consent = _pending(clinic.pk, patient=None, subscriber=subscriber, email=address,
                           source=source, ip=ip)
        audit(Actor(ip_address=ip), "consent.newsletter_request", obj=consent,
              detail={"clinic": clinic.pk, "source": source}, clinic_id=clinic.pk)


def confirm_token(consent: CommunicationConsent) -> str:
    return signing.Signer(salt=CONFIRM_SALT).sign_object({"c": consent.pk})


def confirm_url(consent: CommunicationConsent) -> str:
    return _absolute(reverse("newsletter-confirm", args=[confirm_token(consent)]))


def pending_for_token(token: str) -> CommunicationConsent:
    """The consent a confirmation link names: refused when the link is forged, expired,
    or its consent is no longer pending."""
    try:
        data = signing.Signer(salt=CONFIRM_SALT).unsign_object(token)
    except signing.BadSignature:
        raise NotFound(_("This confirmation link is not valid.")) from None
    consent = CommunicationConsent.objects.select_related("subscriber").filter(
        pk=data.get("c") if isinstance(data, dict) else None).first()
    if consent is None:
        raise NotFound(_("This confirmation link is not valid."))
    if consent.state == ConsentState.GIVEN:
        raise Conflict("already_confirmed", _("Your subscription is confirmed already."))
    if consent.state != ConsentState.PENDING or consent.confirm_expires_at is None \
            or consent.confirm_expires_at <= clock.now():
        raise Gone("link_expired", _("This confirmation link has expired. Subscribe again "
                                     "to get a new one."))
    return consent


def confirm(token: str, ip: str | None) -> CommunicationConsent:
    with transaction.atomic():
        consent = pending_for_token(token)
        now = clock.now()
        changed = CommunicationConsent.objects.filter(
            pk=consent.pk, state=ConsentState.PENDING).update(
            state=ConsentState.GIVEN, confirmed_at=now, confirmed_ip=ip)
        if not changed:
            raise Conflict("already_confirmed", _("Your subscription is confirmed already."))
        # Any older pending request of the same person is settled by this one.
        CommunicationConsent.objects.filter(
            purpose=Purpose.MARKETING, state=ConsentState.PENDING,
            patient_id=consent.patient_id, subscriber_id=consent.subscriber_id).exclude(
            pk=consent.pk).update(state=ConsentState.WITHDRAWN, withdrawn_at=now,
                                  withdrawn_source="superseded")
        consent.refresh_from_db()
        audit(Actor(ip_address=ip), "consent.newsletter_confirm", obj=consent,
              patient=consent.patient)
    return consent


# --- the newsletter: withdrawing ----------------------------------------------------------

def unsubscribe_token(consent_id: int, campaign_id: int | None) -> str:
    """Names the consent (and the newsletter it came in, for its unsubscribe count); signed,
    so it cannot be made for someone else, and without expiry (RFC 8058 asks that the link
    keep working)."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object(
        {"c": consent_id, "k": campaign_id})


def unsubscribe_url(consent_id: int, campaign_id: int | None) -> str:
    return _absolute(reverse("newsletter-unsubscribe",
                             args=[unsubscribe_token(consent_id, campaign_id)]))


@dataclass(frozen=True)
class Unsubscribe:
    consent: CommunicationConsent | None
    campaign_id: int | None
    #: A test send's link (consent 0): it changes nothing.
    test: bool = False


def read_unsubscribe_token(token: str) -> Unsubscribe:
    try:
        data = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    except signing.BadSignature:
        raise NotFound(_("This unsubscribe link is not valid.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise NotFound(_("This unsubscribe link is not valid."))
    campaign = data.get("k") if isinstance(data.get("k"), int) else None
    if data["c"] == 0:
        return Unsubscribe(consent=None, campaign_id=campaign, test=True)
    consent = CommunicationConsent.objects.select_related("clinic").filter(
        pk=data["c"], purpose=Purpose.MARKETING).first()
    if consent is None:
        raise NotFound(_("This unsubscribe link is not valid."))
    return Unsubscribe(consent=consent, campaign_id=campaign)


def unsubscribe(token: str, *, source: str, ip: str | None) -> Unsubscribe:
    """Withdraw the newsletter consent a link names. Idempotent: a second click, or a mail
    client's POST after the person already left, changes nothing and succeeds."""
    found = read_unsubscribe_token(token)
    if found.consent is None:
        return found
    with transaction.atomic():
        changed = CommunicationConsent.objects.filter(
            pk=found.consent.pk, state__in=(ConsentState.GIVEN, ConsentState.PENDING)).update(
            state=ConsentState.WITHDRAWN, withdrawn_at=clock.now(), withdrawn_source=source,
            withdrawn_campaign_id=found.campaign_id)
        if changed:
            audit(Actor(ip_address=ip), "consent.newsletter_withdraw", obj=found.consent,
                  patient=found.consent.patient,
                  detail={"source": source, "campaign": found.campaign_id})
    found.consent.refresh_from_db()
    return found


def withdraw_newsletter_for_patient(actor: Actor) -> CommunicationConsent | None:
    link = own_link(actor)
    with transaction.atomic():
        patient = access_patient(actor, link.patient_id, permission=Permission.PATIENT_SELF,
                                 action="consent.newsletter_withdraw")
        current = latest(Purpose.MARKETING, patient_id=patient.pk)
        if current is not None and current.state in (ConsentState.GIVEN,
                                                     ConsentState.PENDING):
            CommunicationConsent.objects.filter(pk=current.pk).update(
                state=ConsentState.WITHDRAWN, withdrawn_at=clock.now(),
                withdrawn_source="patient_page")
            current.refresh_from_db()
        return current


def withdraw_address(email: str, source: str) -> int:
    """Withdraw every newsletter consent given with ``email`` (a complaint to the provider
    counts as unsubscribing)."""
    address = normalise_email(email)
    return CommunicationConsent.objects.filter(
        purpose=Purpose.MARKETING, state__in=(ConsentState.GIVEN, ConsentState.PENDING),
        email=address).update(state=ConsentState.WITHDRAWN, withdrawn_at=clock.now(),
                              withdrawn_source=source)
