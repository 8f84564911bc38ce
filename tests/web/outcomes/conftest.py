from __future__ import annotations

from typing import Any

import pytest

from tests.web.outcomes.support import World, make_world


@pytest.fixture(autouse=True)
def _quiet(settings: Any) -> None:
    settings.MESSAGING_SMS_BACKEND = "memory"
    settings.MESSAGING_ATTACH_DOCUMENTS = False
    settings.PUBLIC_BASE_URL = "https://clinic.example.test"
    return


@pytest.fixture
def world(db: None) -> World:
    return make_world()
