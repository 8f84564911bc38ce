"""Message kinds that an app above messaging composes itself.

Messaging sends what the services decide, and listens to their events; but some messages belong
to an app that sits above messaging because it schedules through the outbox (education: reading
timed to a patient's stage, the newsletter). Such an app registers a composer for its kinds in
its ``AppConfig.ready()``; ``compose.prepare`` hands a row of a registered kind to it. A
composer takes the row and the moment and returns what to send and the copy to store, as
``prepare`` does, or raises ``compose.Skip`` (with the reason staff see) or ``compose.Defer``.
Everything else (claims, retries, back-off, audit, the outbox page) stays messaging's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from needlecare.messaging.channels import Outgoing

#: (message row, now) -> (what to send, what to store).
Composer = Callable[[Any, dt.datetime], tuple[Outgoing, Outgoing]]

_composers: dict[str, Composer] = {}


def register(kind: Any, composer: Composer) -> None:
    """Compose messages of ``kind`` with ``composer`` (registering again replaces it)."""
    _composers[str(kind)] = composer


def composer_for(kind: str) -> Composer | None:
    return _composers.get(kind)
