"""The aftercare email carries the documents the documents app makes (aftercare plan, signed
consent, check-in calendar) when it is there."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.core import mail

from tests.web.messaging.support import World, sign, work

pytestmark = pytest.mark.django_db


def _documents_ready() -> bool:
    if not apps.is_installed("needlecare.documents"):
        return False
    try:
        from needlecare.documents import services
    except Exception:
        return False
    return all(hasattr(services, f) for f in ("aftercare_pdf", "consent_pdf", "calendar_ics"))


@pytest.mark.skipif(not _documents_ready(), reason="the documents app is not there yet")
def test_the_aftercare_email_attaches_the_plan_the_consent_and_the_calendar(
        world: World, settings: Any) -> None:
    settings.MESSAGING_ATTACH_DOCUMENTS = True
    sign(world)
    work()
    [email] = mail.outbox
    names = {name: (content, mimetype) for name, content, mimetype in email.attachments}
    assert set(names) == {"aftercare-plan.pdf", "consent.pdf", "check-ins.ics"}
    assert names["aftercare-plan.pdf"][0].startswith(b"%PDF")
    assert names["check-ins.ics"][1] == "text/calendar"
    assert "Attached: your aftercare plan" in email.body


def test_without_the_documents_the_email_still_goes_with_the_link(world: World) -> None:
    sign(world)  # the suite's default: MESSAGING_ATTACH_DOCUMENTS off
    work()
    [email] = mail.outbox
    assert email.attachments == []
    assert "/p/" in email.body
    assert "Attached" not in email.body
