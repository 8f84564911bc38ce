"""Channels: how a composed message leaves the building.

Email goes through Django's email backends (SMTP in production, files under var/sent-mail in
development); SMS through a small backend interface (``sms.py``). Both carry the message's
dedupe key, so a resend after a crash reaches the recipient once where the channel allows.
A channel raises on failure; the worker records the error and retries with back-off.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ChannelError(Exception):
    """The channel refused or failed; the message says how, for staff."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True)
class Outgoing:
    channel: str  # "email" | "sms"
    to: str
    subject: str
    body: str
    dedupe_key: str
    attachments: tuple[Attachment, ...] = field(default=())
    #: Extra email headers (name, value), e.g. List-Unsubscribe on a newsletter.
    headers: tuple[tuple[str, str], ...] = field(default=())


def deliver(outgoing: Outgoing) -> None:
    # The channel modules import this one (for Outgoing): importing them at the top would
    # be a circle.
    from needlecare.messaging.channels import email, sms

    if outgoing.channel == "email":
        email.send_email(outgoing)
    elif outgoing.channel == "sms":
        sms.send_sms(outgoing)
    else:
        raise ChannelError(f"Unknown channel {outgoing.channel!r}.")
