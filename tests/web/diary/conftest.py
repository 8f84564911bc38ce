from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine

from tests.web.diary.support import Diary, london, make_diary


@pytest.fixture
def diary(db: None) -> Iterator[Diary]:
    """The diary's clinic, on Monday 2 March 2026 at 08:00 (London), the clock stopped."""
    with time_machine.travel(london(2026, 3, 2, 8, 0), tick=False):
        yield make_diary()
