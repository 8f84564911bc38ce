"""How a triaged check-in changes its session's escalation: a pure decision.

The service (``services._record``) loads and locks the session's active escalation, asks
``decide_escalation`` what to do, stores the result and announces it. Kept apart from the ORM so
the rules that protect patients (never drop a reason, never lower a level, never move a
deadline later, re-open an acknowledged escalation that becomes more severe) are tested without
a database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from needlecare.clinical.vocabulary import Level


class EscalationAction(StrEnum):
    #: No escalation was active for the session: open one.
    OPEN = "open"
    #: The check-in is more severe than the active escalation: raise its level.
    RAISE = "raise"
    #: Same or lower level: the escalation keeps its level and gains any new reasons.
    UPDATE = "update"


@dataclass(frozen=True)
class ActiveEscalation:
    """What the decision reads of the session's open or acknowledged escalation."""

    level: str
    #: "open" or "acknowledged".
    status: str
    deadline: dt.datetime
    reasons: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class EscalationDecision:
    action: EscalationAction
    level: str
    #: "open" or "acknowledged"; raising an acknowledged escalation opens it again.
    status: str
    deadline: dt.datetime
    reasons: list[dict[str, Any]]
    #: The acknowledgement no longer stands (clear who acknowledged it, and when).
    clear_acknowledgement: bool = False


def reason_key(reason: Mapping[str, Any]) -> tuple[str, str | None]:
    """Two reasons are the same when the same rule fired about the same subject."""
    return reason["rule"], reason.get("subject")


def decide_escalation(current: ActiveEscalation | None, level: str,
                      reasons: Sequence[Mapping[str, Any]],
                      deadline: dt.datetime) -> EscalationDecision:
    """What a check-in of ``level`` (above ``expected``), with its ``reasons`` and the
    ``deadline`` that level carries now, does to the session's active escalation."""
    if Level(level) is Level.EXPECTED:
        raise ValueError("expected healing opens no escalation")
    if current is None:
        return EscalationDecision(EscalationAction.OPEN, level, "open", deadline,
                                  [dict(r) for r in reasons])
    known = {reason_key(r) for r in current.reasons}
    # Never drop a reason: whatever the level, a new red flag joins the list.
    merged = [dict(r) for r in current.reasons] + [dict(r) for r in reasons
                                                   if reason_key(r) not in known]
    # A deadline only ever moves earlier.
    earliest = min(current.deadline, deadline)
    if Level(level).rank > Level(current.level).rank:
        # An acknowledged "call tomorrow" that becomes urgent must be seen again.
        reopen = current.status == "acknowledged"
        return EscalationDecision(EscalationAction.RAISE, level, "open", earliest, merged,
                                  clear_acknowledgement=reopen)
    return EscalationDecision(EscalationAction.UPDATE, current.level, current.status, earliest,
                              merged)
