"""The aftercare plan of a signed session: the facts it is made from, and the document.

One home for "the stored aftercare plan, else compute it", which the patient's pages, the
messages and the PDFs all show.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from needlecare.care.models import AftercareRecord, SessionStatus, TreatmentSession
from needlecare.clinical.aftercare import aftercare
from needlecare.clinical.session import SessionFacts
from needlecare.errors import Conflict


def signed_session_facts(session: TreatmentSession) -> SessionFacts:
    """The facts of a signed session that aftercare, recovery and triage work from."""
    if session.status != SessionStatus.SIGNED or session.performed_on is None:
        raise Conflict("not_signed", _("Only a signed session has session facts."))
    zones = list(session.zones.all())
    codes = list(dict.fromkeys(p["code"] for p in session.products if p.get("code")))
    return SessionFacts(
        date=session.performed_on,
        deepest_depth_mm=float(max(z.depth_mm for z in zones)),
        zones=[z.zone for z in zones],
        fitzpatrick=session.plan.fitzpatrick,
        device=session.device,
        products=codes,
    )


def protocol_label(name: str, version: str) -> str:
    """How a stored snapshot names the protocol that produced it."""
    return f"{name}-{version}"


def aftercare_document(session: TreatmentSession,
                       record: AftercareRecord | None = None) -> tuple[dict[str, Any], str]:
    """The ``needlecare.aftercare/1`` document stored when ``session`` was signed (pass
    ``record`` when already loaded), and its protocol version. A session signed before
    aftercare records were stored gets it made afresh from its facts."""
    if record is None:
        record = AftercareRecord.objects.filter(session_id=session.pk).first()
    if record is not None:
        return record.plan, record.protocol_version
    plan = aftercare(signed_session_facts(session))
    return (plan.model_dump(mode="json", by_alias=True),
            protocol_label(plan.protocol.name, plan.protocol.version))
