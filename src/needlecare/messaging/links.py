"""The personal link a message carries, resolved when the message is sent.

The token is derived from the link's nonce (``recovery.tokens.derive_token``), so the worker can
put it in a message although the database keeps only its hash. A patient's first link-bearing
message makes their personal link (``recovery.links.first_link``); after that, messages use
the patient's working link, and never replace a link staff revoked.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from needlecare.access import hash_token
from needlecare.messaging.models import Message
from needlecare.recovery.links import first_link, live_link
from needlecare.recovery.models import PatientLink
from needlecare.recovery.tokens import LinkState, derive_token, link_state, link_url


class LinkUnavailable(Exception):
    """The message cannot carry a working link; ``str(exc)`` says why, for staff."""


def resolve(message: Message) -> tuple[PatientLink, str]:
    """The link and its address for ``message``, or ``LinkUnavailable`` with the reason."""
    link, token = resolve_token(message)
    return link, link_url(token)


def resolve_token(message: Message) -> tuple[PatientLink, str]:
    """The link and its token for ``message`` (for a message that points to one of the
    patient's pages rather than their home page), or ``LinkUnavailable``."""
    link = message.link
    if link is None:
        assert message.patient_id is not None
        link = live_link(message.patient_id) or first_link(message.patient_id)
        if link is None:
            raise LinkUnavailable(_("The personal link was revoked; send the patient a new "
                                    "link to send check-ins again."))
    link = PatientLink.objects.select_related("clinic").get(pk=link.pk)
    state = link_state(link)
    # A link locked against new devices still works on the patient's own phone.
    if state not in (LinkState.USABLE, LinkState.LOCKED):
        raise LinkUnavailable(_("The personal link is %(state)s; send the patient a new link "
                                "to send it again.") % {"state": state.value})
    if not link.nonce:
        raise LinkUnavailable(_("This personal link was made before links could be sent by "
                                "message; replace it."))
    token = derive_token(link.nonce)
    if hash_token(token) != link.token_hash:
        raise LinkUnavailable(_("The server's secret key has changed since this link was "
                                "made, so it cannot be sent; replace it."))
    return link, token
