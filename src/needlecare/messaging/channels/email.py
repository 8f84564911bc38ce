"""Email through Django's email backend (``EMAIL_BACKEND``).

The dedupe key becomes the Message-ID, the same on every attempt: mail systems that see the
same Message-ID twice (most mail clients and many servers) show the message once.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage

from needlecare.messaging.channels import ChannelError, Outgoing


def message_id(dedupe_key: str) -> str:
    domain = getattr(settings, "MESSAGING_MESSAGE_ID_DOMAIN", "") or (
        urlsplit(settings.PUBLIC_BASE_URL).hostname or "needlecare.invalid")
    return f"<{dedupe_key}@{domain}>"


def send_email(outgoing: Outgoing) -> None:
    message = EmailMessage(
        subject=outgoing.subject, body=outgoing.body, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[outgoing.to],
        headers={"Message-ID": message_id(outgoing.dedupe_key),
                 "X-Needlecare-Dedupe-Key": outgoing.dedupe_key,
                 # Automated mail: no out-of-office replies to the clinic's sender address.
                 "Auto-Submitted": "auto-generated", **dict(outgoing.headers)})
    for attachment in outgoing.attachments:
        message.attach(attachment.filename, attachment.content, attachment.mimetype)
    if message.send(fail_silently=False) != 1:
        raise ChannelError("The email backend did not accept the message.")
