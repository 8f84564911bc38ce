"""Who may download what.

Staff routes follow tests/web/routes.py: anonymous visitors are sent to sign in, another
clinic's staff find nothing (404), a role without the permission is refused (403) and a role
with it gets the file. The front desk may print the signed consent (administrative) but not the
aftercare plan (clinical). The patient downloads through their personal link only, after the
date-of-birth step, and only their own session's documents.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from needlecare.access import ROLE_PERMISSIONS, Actor, Permission
from needlecare.accounts.models import Role
from needlecare.audit.models import AuditEvent
from needlecare.care.models import Consent
from needlecare.documents import services
from needlecare.documents.models import PatientDocument
from needlecare.errors import NotFound
from needlecare.recovery.models import PatientLink
from tests.factories import (
    journey_to_signed_session,
    make_consultation,
    make_plan,
    make_signed_session,
)
from tests.web.documents.conftest import pdf_text
from tests.web.patients.support import client_for
from tests.web.recovery.conftest import (
    Linked,
    another_patient,
    signed_days_ago,
    verified_client,
)
from tests.web.routes import Route

pytestmark = pytest.mark.django_db

ROLES = [Role.FRONT_DESK, Role.CLINICIAN, Role.OWNER]


def _consent(journey: dict) -> dict[str, Any]:
    return {"pk": Consent.objects.filter(patient=journey["patient"]).latest("id").pk}


def _stored(kind: str) -> Any:
    def build(journey: dict) -> dict[str, Any]:
        owner = Actor(user=journey["owner"])
        if kind == "consent":
            document = services.store_consent_pdf(owner, _consent(journey)["pk"])
        else:
            document = services.store_aftercare_pdf(owner, journey["session"].pk)
        return {"pk": document.pk}
    return build


#: The staff download routes, in the shape of tests/web/routes.py (the lead may append them
#: there so that tests/web/test_access_personas.py covers them too).
DOCUMENT_ROUTES: list[Route] = [
    Route("session-aftercare-pdf", lambda j: {"pk": j["session"].pk}, "get",
          Permission.VIEW_CLINICAL),
    Route("consent-pdf", _consent, "get", Permission.VIEW_DEMOGRAPHICS),
    Route("session-calendar", lambda j: {"pk": j["session"].pk}, "get", Permission.BOOK),
    Route("document-download", _stored("aftercare_plan"), "get", Permission.VIEW_CLINICAL),
    Route("document-download", _stored("consent"), "get", Permission.VIEW_DEMOGRAPHICS),
]
_IDS = [f"{r.name}-{r.permission.value}" for r in DOCUMENT_ROUTES]


def _get(client: Client, route: Route, journey: dict) -> Any:
    return client.get(reverse(route.name, kwargs=route.kwargs(journey)))


def _least_role_with(permission: Permission) -> str:
    return next(role for role in ROLES if permission in ROLE_PERMISSIONS[role])


def assert_attachment(response: Any, content_type: str, ending: str) -> None:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == content_type
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert disposition.rstrip('"').endswith(ending)
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


# --- staff ------------------------------------------------------------------------------------

@pytest.mark.parametrize("route", DOCUMENT_ROUTES, ids=_IDS)
def test_anonymous_is_sent_to_sign_in(route: Route, journey: dict) -> None:
    response = _get(Client(), route, journey)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("route", DOCUMENT_ROUTES, ids=_IDS)
def test_another_clinics_staff_find_nothing(route: Route, journey: dict) -> None:
    stranger = journey_to_signed_session()[_least_role_with(route.permission)]
    assert _get(client_for(stranger), route, journey).status_code == 404


@pytest.mark.parametrize("route", DOCUMENT_ROUTES, ids=_IDS)
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_file_or_is_refused(route: Route, role: str,
                                               journey: dict) -> None:
    response = _get(client_for(journey[role]), route, journey)
    if route.permission in ROLE_PERMISSIONS[role]:
        ending = ".ics" if route.name == "session-calendar" else ".pdf"
        content_type = "text/calendar" if ending == ".ics" else "application/pdf"
        assert_attachment(response, content_type, ending)
    else:
        assert response.status_code == 403


def test_front_desk_prints_the_signed_consent_but_not_the_aftercare_plan(
        journey: dict) -> None:
    client = client_for(journey["front_desk"])
    consent = _consent(journey)["pk"]
    response = client.get(reverse("consent-pdf", args=[consent]))
    assert_attachment(response, "application/pdf", ".pdf")
    assert journey["patient"].full_name in pdf_text(response.content)

    refused = client.get(reverse("session-aftercare-pdf", args=[journey["session"].pk]))
    assert refused.status_code == 403
    assert not PatientDocument.objects.filter(kind="aftercare_plan").exists()


def test_a_staff_download_is_audited_with_the_staff_member(journey: dict) -> None:
    client_for(journey["clinician"]).get(
        reverse("session-aftercare-pdf", args=[journey["session"].pk]))
    event = AuditEvent.objects.get(action="document.aftercare_plan")
    assert event.actor == journey["clinician"]
    assert event.patient == journey["patient"]


def test_a_booked_session_has_no_plan_to_download_and_the_page_says_so(journey: dict) -> None:
    from tests.web.patients.support import make_booked_session

    booked = make_booked_session(journey["plan"], journey["clinician"])
    client = client_for(journey["clinician"])
    response = client.get(reverse("session-aftercare-pdf", args=[booked.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("session-detail", args=[booked.pk])
    assert "once the session has been signed" in response.content.decode()


def test_staff_pages_offer_the_downloads(journey: dict) -> None:
    from tests.web.patients.support import make_aftercare

    make_aftercare(journey["session"])
    session, patient = journey["session"], journey["patient"]
    consent = _consent(journey)["pk"]
    aftercare_url = reverse("session-aftercare-pdf", args=[session.pk])
    calendar_url = reverse("session-calendar", args=[session.pk])
    consent_url = reverse("consent-pdf", args=[consent])

    clinician = client_for(journey["clinician"])
    page = clinician.get(reverse("patient-detail", args=[patient.pk])).content.decode()
    assert aftercare_url in page
    assert calendar_url in page
    assert consent_url in page
    page = clinician.get(reverse("session-detail", args=[session.pk])).content.decode()
    assert aftercare_url in page
    assert calendar_url in page
    page = clinician.get(reverse("consent-detail", args=[consent])).content.decode()
    assert consent_url in page

    front_desk = client_for(journey["front_desk"])
    page = front_desk.get(reverse("patient-detail", args=[patient.pk])).content.decode()
    assert consent_url in page
    assert aftercare_url not in page


# --- the patient ------------------------------------------------------------------------------

@pytest.fixture
def linked(db: None) -> Linked:
    return signed_days_ago(2)


def test_the_patient_downloads_their_plan_and_calendar_from_the_phone_page(
        linked: Linked) -> None:
    client = verified_client(linked)
    home = client.get(linked.path()).content.decode()
    pdf_url = linked.path("patient-aftercare-pdf")
    ics_url = linked.path("patient-calendar")
    assert "Download your aftercare plan (PDF)" in home
    assert pdf_url in home
    assert "Add check-in days to your calendar (.ics)" in home
    assert ics_url in home

    response = client.get(pdf_url)
    assert_attachment(response, "application/pdf", ".pdf")
    text = pdf_text(response.content)
    assert linked.patient.full_name in text
    assert "SPF 50" in text
    document = PatientDocument.objects.get()
    assert document.created_by is None
    assert document.session_id == linked.session.pk

    response = client.get(ics_url)
    assert_attachment(response, "text/calendar", ".ics")
    assert response.content.startswith(b"BEGIN:VCALENDAR\r\n")

    events = AuditEvent.objects.filter(action__in=["document.aftercare_plan",
                                                   "document.calendar"])
    assert {e.actor_kind for e in events} == {"patient"}


@pytest.mark.parametrize("name", ["patient-aftercare-pdf", "patient-calendar"])
def test_a_new_device_is_asked_for_the_date_of_birth_first(linked: Linked, name: str) -> None:
    response = Client().get(linked.path(name))
    assert response.status_code == 302
    assert response["Location"] == linked.path("patient-verify")
    assert not PatientDocument.objects.exists()


@pytest.mark.parametrize("name", ["patient-aftercare-pdf", "patient-calendar"])
def test_a_device_verified_for_another_patient_is_asked_again(linked: Linked,
                                                              name: str) -> None:
    other = another_patient(linked)
    client = verified_client(other)
    response = client.get(linked.path(name))
    assert response.status_code == 302
    assert response["Location"] == linked.path("patient-verify")


@pytest.mark.parametrize("name", ["patient-aftercare-pdf", "patient-calendar"])
@pytest.mark.parametrize(("change", "status"), [
    ({"revoked_at": timezone.now}, 410),
    ({"created_at": lambda: timezone.now() - dt.timedelta(days=400),
      "last_opened_at": lambda: None, "last_verified_at": lambda: None}, 410),
])
def test_a_closed_link_is_refused_like_the_other_patient_pages(
        linked: Linked, name: str, change: dict, status: int) -> None:
    client = verified_client(linked)
    PatientLink.objects.filter(pk=linked.link.pk).update(
        **{field: make() for field, make in change.items()})
    response = client.get(linked.path(name))
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert response["Cache-Control"] == "no-store, private"
    assert not PatientDocument.objects.exists()


@pytest.mark.parametrize("name", ["patient-aftercare-pdf", "patient-calendar"])
def test_an_unknown_token_finds_nothing(linked: Linked, name: str) -> None:
    response = Client().get(reverse(name, kwargs={"token": "x" * 43}))
    assert response.status_code == 404


def test_another_patients_link_reaches_none_of_this_patients_documents(linked: Linked) -> None:
    other = Actor.for_link(another_patient(linked).link)
    clinician = Actor(user=linked.clinician)
    plan = services.store_aftercare_pdf(clinician, linked.session.pk)
    consent = services.store_consent_pdf(clinician, Consent.objects.filter(
        patient=linked.patient).latest("id").pk)
    for call, pk in [(services.store_aftercare_pdf, linked.session.pk),
                     (services.session_calendar, linked.session.pk),
                     (services.store_consent_pdf, consent.consent_id),
                     (services.download, plan.pk), (services.download, consent.pk)]:
        with pytest.raises(NotFound):
            call(other, pk)


def test_a_link_reaches_all_its_patients_sessions(linked: Linked) -> None:
    """One link for all the patient's care: their other sessions' documents too."""
    plan = make_plan(make_consultation(linked.patient, linked.clinician), linked.clinician)
    other_session = make_signed_session(plan, linked.clinician)
    actor = Actor.for_link(linked.link)
    assert services.store_aftercare_pdf(actor, other_session.pk).session_id \
        == other_session.pk
    assert services.store_aftercare_pdf(actor, linked.session.pk).session_id \
        == linked.session.pk


def test_the_patient_may_download_their_own_consents(linked: Linked) -> None:
    session = linked.session
    consent = Consent.objects.filter(patient=linked.patient).latest("id")
    session.consent = consent
    session.save()
    actor = Actor.for_link(linked.link)
    document = services.store_consent_pdf(actor, consent.pk)
    assert services.download(actor, document.pk).content.startswith(b"%PDF-")

    photos = Consent.objects.create(
        clinic=linked.clinic, patient=linked.patient, kind="photos", text_version="test-1",
        text="Synthetic photo consent.", signed_name=linked.patient.full_name,
        signed_at=timezone.now(), witnessed_by=linked.clinician)
    assert services.store_consent_pdf(actor, photos.pk).consent_id == photos.pk


def test_a_link_revoked_after_the_page_opened_downloads_nothing(linked: Linked) -> None:
    """The view resolved a usable link; the service checks again inside its transaction."""
    from needlecare.errors import ServiceError

    actor = Actor.for_link(linked.link)
    PatientLink.objects.filter(pk=linked.link.pk).update(revoked_at=timezone.now())
    with pytest.raises(ServiceError) as refused:
        services.store_aftercare_pdf(actor, linked.session.pk)
    assert refused.value.code == "link_revoked"
    assert not PatientDocument.objects.exists()
