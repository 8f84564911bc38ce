from __future__ import annotations

from typing import Any

import pytest

from tests.factories import journey_to_signed_session


@pytest.fixture
def journey(db: None) -> dict[str, Any]:
    """A clinic with one user per role and a patient with a signed session today."""
    return journey_to_signed_session()
