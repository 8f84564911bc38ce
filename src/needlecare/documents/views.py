"""Downloads: the aftercare plan and signed consent (PDF) and the calendar of check-in days
(.ics), for staff from the patient's pages and for the patient from their phone page.

Each view calls one service and answers with the file as an attachment that no cache keeps.
The patient's views resolve the personal link exactly as the phone pages do (recovery's
``patient_page``, which also asks for the date of birth on a device that has not given it).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from needlecare.access import Actor
from needlecare.documents import services
from needlecare.documents.services import DocumentFile
from needlecare.page_actions import submit
from needlecare.recovery.links import current_session
from needlecare.recovery.models import PatientLink
from needlecare.recovery.views import patient_page


def attachment(file: DocumentFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = content_disposition_header(True, file.filename)
    # Patient documents never sit in a shared or browser cache.
    response["Cache-Control"] = "private, no-store"
    return response


# --- staff ----------------------------------------------------------------------------------

@login_required
@require_GET
def aftercare_plan_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: services.read_document(
        services.store_aftercare_pdf(Actor.from_request(request), pk)),
        done=attachment, back=reverse("session-detail", args=[pk]))


@login_required
@require_GET
def consent_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: services.read_document(
        services.store_consent_pdf(Actor.from_request(request), pk)),
        done=attachment, back=reverse("consent-detail", args=[pk]))


@login_required
@require_GET
def session_calendar(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: services.session_calendar(Actor.from_request(request), pk),
                  done=attachment, back=reverse("session-detail", args=[pk]))


@login_required
@require_GET
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    return submit(request, lambda: services.download(Actor.from_request(request), pk),
                  done=attachment, back=reverse("patient-list"))


# --- the patient, through their personal link ----------------------------------------------

def _current_session_id(link: PatientLink) -> int:
    session = current_session(link.patient_id)
    if session is None:
        raise Http404("No treatment yet.")
    return session.pk


@require_GET
@patient_page
def patient_aftercare_pdf(request: HttpRequest, link: PatientLink, token: str) -> HttpResponse:
    session_id = _current_session_id(link)
    return submit(request, lambda: services.read_document(services.store_aftercare_pdf(
        Actor.for_link(link, request), session_id)),
        done=attachment, back=reverse("patient-home", args=[token]))


@require_GET
@patient_page
def patient_calendar(request: HttpRequest, link: PatientLink, token: str) -> HttpResponse:
    session_id = _current_session_id(link)
    return submit(request, lambda: services.session_calendar(Actor.for_link(link, request),
                                                             session_id),
                  done=attachment, back=reverse("patient-home", args=[token]))
