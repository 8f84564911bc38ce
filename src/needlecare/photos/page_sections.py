"""The photos' sections on pages other apps own (``needlecare.sections``): the staff's patient
page (order 40), session and check-in pages, and the patient's home and check-in result pages.

Each context function reaches the photos through the services (access layer, audit rows); it
returns None when there is nothing the viewer may see, and the page leaves the section out.
"""

from __future__ import annotations

from typing import Any

from needlecare import sections
from needlecare.access import Actor, Permission
from needlecare.care.models import TreatmentSession
from needlecare.patients.models import Patient
from needlecare.photos import services
from needlecare.photos.forms import ScopeWithdrawForm
from needlecare.photos.models import MEASURED_VIEWS, PhotoView, Scope
from needlecare.photos.recovery_chart import recovery_chart
from needlecare.photos.scopes import labels
from needlecare.recovery.links import current_session
from needlecare.recovery.models import CheckIn

ORDER = 40


def patient_chart(actor: Actor, patient: Patient) -> dict[str, Any] | None:
    if not actor.can(Permission.VIEW_CLINICAL):
        return None  # photos are clinical: the front desk does not see them
    listing = services.listing_for_page(actor, patient)
    withdrawable = [s for s in listing.in_force.ordered() if s != Scope.CLINICAL_RECORD]
    return {
        "patient": patient, "listing": listing,
        "uses": labels(listing.in_force.ordered()),
        "consent": listing.in_force.consent,
        "can_write": actor.can(Permission.WRITE_CLINICAL),
        "withdraw_form": ScopeWithdrawForm(scopes=withdrawable) if withdrawable else None,
    }


def session_detail(actor: Actor, session: TreatmentSession) -> dict[str, Any] | None:
    if not actor.can(Permission.VIEW_CLINICAL):
        return None
    listing = services.listing_for_page(actor, session.patient, session_id=session.pk)
    return {"session": session, "listing": listing,
            "can_write": actor.can(Permission.WRITE_CLINICAL)}


def checkin_detail(actor: Actor, checkin: CheckIn) -> dict[str, Any] | None:
    if not actor.can(Permission.VIEW_CLINICAL):
        return None
    listing = services.listing_for_page(actor, checkin.patient, checkin_id=checkin.pk)
    return {"checkin": checkin, "listing": listing,
            "chart": recovery_chart(checkin.session)}


def patient_checkin_result(actor: Actor, checkin: CheckIn) -> dict[str, Any] | None:
    listing = services.own_listing_for_page(actor, checkin.patient, checkin_id=checkin.pk)
    return {"checkin": checkin, "listing": listing,
            "can_add": listing.in_force.allows_new_photos}


def patient_home(actor: Actor, patient: Patient) -> dict[str, Any] | None:
    listing = services.own_listing_for_page(actor, patient)
    session = current_session(patient.pk)
    latest = (CheckIn.objects.filter(patient=patient, session=session)
              .order_by("-submitted_at", "-id").first() if session is not None else None)
    chart = recovery_chart(session, for_patient=True) if session is not None else None
    if not listing.photos and latest is None and (chart is None or chart.empty):
        return None
    fronts = listing.by_view.get(str(PhotoView.FRONT), [])
    shown = [s for s in fronts if Scope.SHOWN_TO_PATIENT in s.scopes]
    return {"listing": listing, "latest_checkin": latest, "chart": chart,
            "can_add": listing.in_force.allows_new_photos,
            "sheet_pair": (shown[0].photo, shown[-1].photo) if len(shown) > 1 else None,
            "measured_views": MEASURED_VIEWS}


def register() -> None:
    sections.register(sections.Page.PATIENT_CHART, sections.Section(
        "photos", ORDER, "photos/sections/patient_chart.html", patient_chart))
    sections.register(sections.Page.SESSION_DETAIL, sections.Section(
        "photos", ORDER, "photos/sections/session_detail.html", session_detail))
    sections.register(sections.Page.CHECKIN, sections.Section(
        "photos", ORDER, "photos/sections/checkin_detail.html", checkin_detail))
    sections.register(sections.Page.PATIENT_CHECKIN_RESULT, sections.Section(
        "photos", ORDER, "photos/sections/patient_checkin_result.html",
        patient_checkin_result))
    sections.register(sections.Page.PATIENT_HOME, sections.Section(
        "photos", ORDER, "photos/sections/patient_home.html", patient_home))
