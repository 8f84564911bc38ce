"""The audit trail as the clinic's owners read it: filtered by patient, staff member, action
and date, newest first, a page at a time (keyset: "older than this id", so a page costs the
same at any depth), or all of it as CSV. Reading the trail is itself audited.

Clinical free text in a change (``access.changes`` marks it) is shown only to a reader whose
role may see clinical records; anyone else sees its SHA-256, enough to tell whether two values
are the same.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from needlecare.access import Actor, Permission, audit, require
from needlecare.accounts.models import Clinic, User
from needlecare.audit.models import AuditEvent

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_EXPORT_CHUNK = 2000


@dataclass(frozen=True)
class TrailFilter:
    patient: int | None = None
    staff: int | None = None
    #: An action ("patient.view"), or the start of several ending with a dot ("auth.").
    action: str = ""
    since: dt.date | None = None
    until: dt.date | None = None

    def described(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v)
                for k, v in asdict(self).items() if v not in (None, "")}


@dataclass(frozen=True)
class TrailPage:
    events: list[AuditEvent]
    #: The id to ask for older rows with (``before``), or None on the last page.
    older: int | None


def _start_of(day: dt.date, zone: ZoneInfo) -> dt.datetime | None:
    """Midnight of ``day`` in the clinic, or None at the ends of the calendar (no bound)."""
    try:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        start.astimezone(dt.UTC)  # the database compares in UTC
    except OverflowError:
        return None
    return start


def _rows(actor: Actor, wanted: TrailFilter) -> QuerySet[AuditEvent]:
    require(actor, Permission.MANAGE_STAFF, wanted=AuditEvent)
    rows = AuditEvent.objects.filter(clinic_id=actor.clinic_id)
    if wanted.patient is not None:
        rows = rows.filter(patient_id=wanted.patient)
    if wanted.staff is not None:
        # What the member did, and what was done to their account (failed sign-ins, resets).
        rows = rows.filter(Q(actor_id=wanted.staff) | Q(
            object_type=User._meta.label_lower, object_id=str(wanted.staff)))
    if wanted.action:
        rows = (rows.filter(action__startswith=wanted.action) if wanted.action.endswith(".")
                else rows.filter(action=wanted.action))
    zone = ZoneInfo(Clinic.objects.get(pk=actor.clinic_id).time_zone)
    since = _start_of(wanted.since, zone) if wanted.since is not None else None
    if since is not None:
        rows = rows.filter(at__gte=since)
    if wanted.until is not None and wanted.until < dt.date.max:
        until = _start_of(wanted.until + dt.timedelta(days=1), zone)
        if until is not None:
            rows = rows.filter(at__lt=until)
    return rows.select_related("actor", "patient").order_by("-id")


def trail_page(actor: Actor, wanted: TrailFilter, *, before: int | None = None,
               size: int = PAGE_SIZE) -> TrailPage:
    """One page of the clinic's trail, newest first (rows older than ``before``)."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    with transaction.atomic():
        rows = _rows(actor, wanted)
        if before is not None:
            rows = rows.filter(pk__lt=before)
        events = list(rows[:size + 1])
        audit(actor, "audit.view", detail={"filter": wanted.described(), "before": before})
    older = events[size - 1].pk if len(events) > size else None
    return TrailPage(events=events[:size], older=older)


def trail_export(actor: Actor, wanted: TrailFilter) -> Iterator[AuditEvent]:
    """Every row the filter finds, newest first, read in chunks (the export is audited
    before the first row is read)."""
    with transaction.atomic():
        _rows(actor, wanted)  # refuses before anything is written
        audit(actor, "audit.export", detail={"filter": wanted.described()})
    return _chunks(actor, wanted)


def _chunks(actor: Actor, wanted: TrailFilter) -> Iterator[AuditEvent]:
    before: int | None = None
    while True:
        rows = _rows(actor, wanted)
        if before is not None:
            rows = rows.filter(pk__lt=before)
        chunk = list(rows[:_EXPORT_CHUNK])
        yield from chunk
        if len(chunk) < _EXPORT_CHUNK:
            return
        before = chunk[-1].pk


#: The distinct actions of one clinic's trail, in order, one seek of the (clinic, action)
#: index each (a "loose index scan"): neither database reads only the distinct values of an
#: index for a DISTINCT, and the trail holds millions of rows.
_ACTIONS_SQL = """
WITH RECURSIVE found(action) AS (
    SELECT MIN(action) FROM audit_auditevent WHERE clinic_id = %(clinic)s
    UNION ALL
    SELECT (SELECT MIN(action) FROM audit_auditevent
            WHERE clinic_id = %(clinic)s AND action > found.action)
    FROM found WHERE found.action IS NOT NULL
)
SELECT action FROM found WHERE action IS NOT NULL"""


def actions(actor: Actor) -> list[str]:
    """The actions the clinic's trail holds, for the filter's suggestions."""
    require(actor, Permission.MANAGE_STAFF, wanted=AuditEvent)
    with connection.cursor() as cursor:
        cursor.execute(_ACTIONS_SQL, {"clinic": actor.clinic_id})
        return [row[0] for row in cursor.fetchall()]


def text_hash(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def detail_for(event: AuditEvent, reader: Actor) -> dict[str, Any]:
    """The row's detail as ``reader`` may see it (clinical free text hashed for a role
    without clinical access)."""
    detail = dict(event.detail or {})
    changed = detail.get("changes")
    if isinstance(changed, dict) and not reader.can(Permission.VIEW_CLINICAL):
        shown: dict[str, Any] = {}
        for name, change in changed.items():
            if isinstance(change, dict) and change.get("clinical_text"):
                change = {**change, "old": text_hash(change.get("old")),
                          "new": text_hash(change.get("new"))}
            shown[name] = change
        detail["changes"] = shown
    return detail


def actor_label(event: AuditEvent) -> str:
    if event.actor is not None:
        return str(event.actor)
    return str(AuditEvent.ActorKind(event.actor_kind).label) if event.actor_kind else ""
