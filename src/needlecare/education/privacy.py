"""What the education app holds about a patient, for the patient's rights (``rights``): the
rows its export adds and what its erasure removes.

The patient's own consents and the reading and newsletter messages to them carry a foreign key
to the patient, so the export finds them by itself and the erasure of messages (rights) covers
them. What no foreign key reaches: a subscription from the public page under the patient's
address (kept apart from the record on purpose, so nobody can join a record by typing an
address; on the patient's request the clinic treats it as theirs), its consents and the
messages to it, and the addresses the email provider reported as bouncing or complaining.

Erasure withdraws every consent (the patient's and the public subscriptions'), clears the
addresses and IP addresses on them, gives each public subscription a placeholder address and
cancels and empties the messages to it. The consents' wording and times stay: they show what
was agreed and when, and name nobody once the address is gone. A suppressed address stays too:
it is what keeps mail from an address that bounced or complained, it is shared by every clinic
on the server, and it links to no record.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.education.consent import normalise_email
from needlecare.education.models import (
    CommunicationConsent,
    ConsentState,
    Subscriber,
    SuppressedAddress,
)
from needlecare.messaging.models import CANCELLABLE, Message, MessageStatus, Recipient
from needlecare.patients.models import Patient

#: ``CommunicationConsent.withdrawn_source`` of a consent withdrawn by an erasure.
ERASURE = "erasure"


def addresses(patient: Patient) -> set[str]:
    """The patient's email address and every address their consents went to."""
    found = {normalise_email(patient.email)} if patient.email else set()
    found |= {normalise_email(email) for email in CommunicationConsent.objects.filter(
        patient=patient).exclude(email="").values_list("email", flat=True)}
    return found


def _subscribers(patient: Patient, emails: set[str]) -> list[int]:
    return list(Subscriber.objects.filter(clinic_id=patient.clinic_id, email__in=emails)
                .values_list("pk", flat=True))


def _subscriber_messages(patient: Patient, subscribers: list[int]) -> models.QuerySet[Message]:
    consents = list(CommunicationConsent.objects.filter(subscriber_id__in=subscribers)
                    .values_list("pk", flat=True))
    return Message.objects.filter(clinic_id=patient.clinic_id, recipient=Recipient.SUBSCRIBER,
                                  context__consent__in=consents)


def record_rows(patient: Patient) -> list[models.Model]:
    """Rows about the patient that no foreign key to the patient leads to (the export follows
    the foreign keys of these in turn, so a subscription brings its consents)."""
    emails = addresses(patient)
    subscribers = _subscribers(patient, emails)
    return [*Subscriber.objects.filter(pk__in=subscribers),
            *_subscriber_messages(patient, subscribers),
            *SuppressedAddress.objects.filter(email__in=emails)]


def erase(patient: Patient) -> dict[str, Any]:
    """Withdraw and empty the patient's consents and public subscriptions, inside the
    erasure's transaction and before the patient's own address is cleared."""
    subscribers = _subscribers(patient, addresses(patient))
    consents = CommunicationConsent.objects.filter(
        Q(patient=patient) | Q(subscriber_id__in=subscribers))
    withdrawn = consents.filter(state__in=(ConsentState.GIVEN, ConsentState.PENDING)).update(
        state=ConsentState.WITHDRAWN, withdrawn_at=clock.now(), withdrawn_source=ERASURE)
    consents.update(email="", requested_ip=None, confirmed_ip=None)
    messages = _subscriber_messages(patient, subscribers)
    messages.filter(status__in=CANCELLABLE).update(
        status=MessageStatus.CANCELLED, reason=_("Erased on the patient's request."))
    messages.update(to_address="", subject="", body="", last_error="")
    for pk in subscribers:
        # Unique per clinic, and an address that can never receive mail (RFC 2606).
        Subscriber.objects.filter(pk=pk).update(email=f"erased-{pk}@erased.invalid",
                                                adult_confirmed=False)
    return {"consents_withdrawn": withdrawn, "subscriptions_erased": len(subscribers)}
