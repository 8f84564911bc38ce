from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from needlecare.messaging.channels.sms import MemorySmsBackend
from tests.web.messaging.support import START, World, make_world


@pytest.fixture(autouse=True)
def _quiet_channels(settings: Any) -> Iterator[None]:
    # Email goes to Django's locmem outbox (pytest-django), SMS to a list; documents are made
    # only by the test about attachments (WeasyPrint takes a while).
    settings.MESSAGING_SMS_BACKEND = "memory"
    settings.MESSAGING_ATTACH_DOCUMENTS = False
    settings.PUBLIC_BASE_URL = "https://clinic.example.test"
    MemorySmsBackend.outbox.clear()
    yield
    MemorySmsBackend.outbox.clear()


@pytest.fixture
def clock() -> Iterator[Any]:
    """The clock, stopped at START (Monday 2 March 2026, 10:00 in London); tests move it."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db: None, clock: Any) -> World:
    return make_world()


@pytest.fixture
def sms_outbox() -> list[Any]:
    return MemorySmsBackend.outbox
