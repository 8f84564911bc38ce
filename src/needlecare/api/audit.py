"""/api/v1/audit: the clinic's audit trail, for its owners (newest first, keyset pages)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest
from ninja import Query, Router

from needlecare.accounts import trail
from needlecare.api.auth import STAFF, actor
from needlecare.api.errors import responses
from needlecare.api.schemas import MAX_ID, AuditEventOut, AuditPage

router = Router(tags=["audit"], auth=STAFF)


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
    since: Annotated[dt.date | None,
                     Query(description="from this day (clinic's time zone)")] = None,
    until: Annotated[dt.date | None, Query(description="to this day, inclusive")] = None,
    before: int | None = Query(None, ge=1, le=MAX_ID,
                               description="rows older than this id (the previous `older`)"),
    limit: int = Query(trail.PAGE_SIZE, ge=1, le=trail.MAX_PAGE_SIZE),
) -> AuditPage:
    reader = actor(request)
    page = trail.trail_page(reader, trail.TrailFilter(
        patient=patient, staff=staff, action=action, since=since, until=until),
        before=before, size=limit)
    return AuditPage(older=page.older, results=[AuditEventOut(
        id=e.pk, at=e.at, action=e.action, actor_id=e.actor_id, actor=trail.actor_label(e),
        actor_kind=e.actor_kind, actor_role=e.actor_role, patient_id=e.patient_id,
        object_type=e.object_type, object_id=e.object_id, ip_address=e.ip_address,
        detail=trail.detail_for(e, reader), seq=e.seq, hash=e.hash) for e in page.events])
