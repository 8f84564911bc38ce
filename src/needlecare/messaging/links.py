"""The personal link a message carries, resolved when the message is sent.

The token is derived from the link's nonce (``recovery.tokens.derive_token``), so the worker can
put it in a message although the database keeps only its hash. A session's first link-bearing
message issues the session's first link; after that, messages use the link staff issued, and
never replace a link staff revoked.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.access import Actor, audit, hash_token
from needlecare.care.models import TreatmentSession
from needlecare.messaging.models import LINK_BEARING, Message, MessageStatus
from needlecare.recovery.models import PatientLink
from needlecare.recovery.tokens import LinkState, derive_token, link_state, link_url, new_nonce


class LinkUnavailable(Exception):
    """The message cannot carry a working link; ``str(exc)`` says why, for staff."""


def _first_link(session: TreatmentSession) -> PatientLink | None:
    """Issue the session's first link (by the system, audited), unless it has one already."""
    with transaction.atomic():
        # Serialises workers sending two messages of one session at the same moment.
        TreatmentSession.objects.select_for_update().only("pk").get(pk=session.pk)
        if PatientLink.objects.filter(session_id=session.pk).exists():
            return None
        now = clock.now()
        nonce = new_nonce()
        link = PatientLink.objects.create(
            clinic_id=session.clinic_id, patient_id=session.patient_id, session=session,
            token_hash=hash_token(derive_token(nonce)), nonce=nonce, created_by=None,
            expires_at=now + dt.timedelta(days=settings.PATIENT_LINK_DAYS))
        audit(Actor(), "link.create", patient=session.patient, obj=link,
              detail={"session": session.pk, "issued_for": "messages"})
        Message.objects.filter(session_id=session.pk, kind__in=LINK_BEARING, link__isnull=True,
                               status__in=(MessageStatus.PENDING, MessageStatus.FAILED,
                                           MessageStatus.SENDING)).update(link=link)
    return link


def _usable(session_id: int) -> PatientLink | None:
    for link in PatientLink.objects.filter(session_id=session_id).order_by("-created_at", "-id"):
        if link_state(link) is LinkState.USABLE:
            return link
    return None


def resolve(message: Message) -> tuple[PatientLink, str]:
    """The link and its address for ``message``, or ``LinkUnavailable`` with the reason."""
    link = message.link
    if link is None:
        assert message.session is not None
        link = _usable(message.session_id) or _first_link(message.session)
        if link is None:
            raise LinkUnavailable(_("The personal link was revoked or has expired; issue a "
                                    "new link to send check-ins again."))
    else:
        link.refresh_from_db()
    state = link_state(link)
    if state is not LinkState.USABLE:
        raise LinkUnavailable(_("The personal link is %(state)s; issue a new link to send "
                                "it again.") % {"state": state.value})
    if not link.nonce:
        raise LinkUnavailable(_("This personal link was made before links could be sent by "
                                "message; issue a new link."))
    token = derive_token(link.nonce)
    if hash_token(token) != link.token_hash:
        raise LinkUnavailable(_("The server's secret key has changed since this link was "
                                "made, so it cannot be sent; issue a new link."))
    return link, link_url(token)
