from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.outcomes.support import World, make_world


@pytest.fixture(autouse=True)
def _quiet(settings: Any) -> Iterator[None]:
    settings.MESSAGING_SMS_BACKEND = "memory"
    settings.MESSAGING_ATTACH_DOCUMENTS = False
    settings.PUBLIC_BASE_URL = "https://clinic.example.test"
    yield


@pytest.fixture
def world(db: None) -> World:
    return make_world()
