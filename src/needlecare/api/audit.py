"""/api/v1/audit: the clinic's audit trail, for its owners (newest first, keyset pages)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from needlecare.accounts import trail
from needlecare.api.auth import STAFF, actor
from needlecare.api.errors import responses
from needlecare.api.schemas import MAX_ID, AuditEventOut, AuditPage
from needlecare.errors import ServiceError

router = Router(tags=["audit"], auth=STAFF)
#: A day written YYYY-MM-DD (pydantic's own date would also take "0" as 1 January 1970).
DAY = r"^(\d{4}-\d{2}-\d{2})?$"


def _day(text: str, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ServiceError("date_invalid", str(_("No such day: %(day)s.") % {"day": text}),
                           field=field) from None


@router.get("/audit", response=responses({200: AuditPage}),
            summary="Read the clinic's audit trail (owners)")
def list_audit(
    request: HttpRequest,
    patient: int | None = Query(None, ge=1, le=MAX_ID, description="a patient's id"),
    staff: int | None = Query(None, ge=1, le=MAX_ID,
                              description="a staff member's id: what they did, and what "
                                          "was done to their account"),
    action: str = Query("", max_length=64, pattern=r"^[a-z_.]*$",
                        description="an action, or its start ending with a dot (auth.)"),
    since: str = Query("", pattern=DAY, description="from this day, YYYY-MM-DD (clinic's "
                                                    "time zone)"),
    until: str = Query("", pattern=DAY, description="to this day, inclusive (YYYY-MM-DD)"),
    before: int | None = Query(None, ge=1, le=MAX_ID,
                               description="rows older than this id (the previous `older`)"),
    limit: int = Query(trail.PAGE_SIZE, ge=1, le=trail.MAX_PAGE_SIZE),
) -> AuditPage:
    reader = actor(request)
    page = trail.trail_page(reader, trail.TrailFilter(
        patient=patient, staff=staff, action=action, since=_day(since, "since"),
        until=_day(until, "until")), before=before, size=limit)
    return AuditPage(older=page.older, results=[AuditEventOut(
        id=e.pk, at=e.at, action=e.action, actor_id=e.actor_id, actor=trail.actor_label(e),
        actor_kind=e.actor_kind, actor_role=e.actor_role, patient_id=e.patient_id,
        object_type=e.object_type, object_id=e.object_id, ip_address=e.ip_address,
        detail=trail.detail_for(e, reader), seq=e.seq, hash=e.hash) for e in page.events])
