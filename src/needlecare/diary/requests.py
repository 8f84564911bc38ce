"""Online requests for a consultation from new patients, and what the desk does with them.

The clinic's public page takes a name, a way to reach the person and the times that suit, and
leaves a pending request for the desk: never a patient record, which only the desk makes (by
matching the request to a patient it has, or registering them). Automated abuse is kept out
without a third-party service: a field people never see (bots fill it: their request is
quietly dropped), a signed time stamp (a form sent within seconds of being shown, or hours
later, is refused) and limits of requests per address and per clinic per hour, counted in the
database so that every server process counts the same (``needlecare.ratelimits``, which
stores the address only as a keyed hash).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from needlecare import clock, names
from needlecare.access import Actor, Permission, audit, refuse, require
from needlecare.accounts.models import Clinic
from needlecare.diary.models import BookingRequest, RequestStatus
from needlecare.diary.resources import diary_settings
from needlecare.errors import Conflict, NotFound, ServiceError
from needlecare.patients.access import access_patient, patients_for
from needlecare.patients.models import Patient
from needlecare.patients.services import PatientDetails, register_patient
from needlecare.ratelimits.counting import hit

#: A person needs longer than this to fill the form; a script does not.
FASTEST_HUMAN = dt.timedelta(seconds=3)
#: A form shown longer ago than this is stale (shown again with a fresh stamp).
STALE_AFTER = dt.timedelta(hours=2)
WINDOW = dt.timedelta(hours=1)
#: Requests one clinic accepts per hour from everyone together (a flood from many addresses).
CLINIC_LIMIT_PER_HOUR = 60
_SALT = "needlecare.diary.public-request"


def form_stamp() -> str:
    """The signed moment the form was shown (a hidden field)."""
    return signing.TimestampSigner(salt=_SALT).sign(str(int(clock.now().timestamp())))


def _check_stamp(stamp: str) -> None:
    try:
        shown = int(signing.TimestampSigner(salt=_SALT).unsign(stamp))
    except (signing.BadSignature, ValueError):
        raise ServiceError("form_expired", _("The form was out of date; please send it "
                                             "again.")) from None
    age = clock.now() - dt.datetime.fromtimestamp(shown, tz=dt.UTC)
    if age < FASTEST_HUMAN:
        raise ServiceError("too_fast", _("That was quicker than we expected; please check "
                                         "your details and send the form again."))
    if age > STALE_AFTER:
        raise ServiceError("form_expired", _("The form was out of date; please send it "
                                             "again."))


@dataclass(frozen=True)
class RequestDetails:
    given_name: str
    family_name: str
    date_of_birth: dt.date | None
    phone: str
    email: str
    preferred_times: str
    message: str
    agrees_to_messages: bool = False


def public_clinic(slug: str) -> Clinic:
    clinic = Clinic.objects.filter(slug=slug).first()
    if clinic is None or not diary_settings(clinic.pk).public_requests:
        raise NotFound(_("No such clinic."))
    return clinic


def request_consultation(slug: str, details: RequestDetails, *, stamp: str, honeypot: str,
                         ip: str | None) -> BookingRequest | None:
    """Leave a request for the desk. Returns None for a request dropped as automated."""
    with transaction.atomic():
        clinic = public_clinic(slug)
        if honeypot.strip():
            return None
        _check_stamp(stamp)
        # Counted inside this transaction: a request refused below is not counted.
        too_many = _("We have had many requests from here in the last hour; please try again "
                     "later or call us.")
        hit("public_request", ip or "unknown", limit=diary_settings(clinic.pk).requests_per_hour,
            window=WINDOW, code="too_many_requests", message=too_many)
        hit("public_request_clinic", str(clinic.pk), limit=CLINIC_LIMIT_PER_HOUR,
            window=WINDOW, code="too_many_requests", message=too_many)
        # Identifying text, stored as the patient's would be (needlecare.names).
        given, family = names.normalise(details.given_name), names.normalise(
            details.family_name)
        if not given or not family:
            raise ServiceError("name_required", _("Give your first and last name."),
                               field="given_name" if not given else "family_name")
        phone, email = details.phone.strip(), details.email.strip()
        if not re.search(r"\d{6}", re.sub(r"\D", "", phone)) and not email:
            raise ServiceError("contact_required", _("Give a mobile number or an email "
                                                     "address, so that we can reply."),
                               field="phone")
        request = BookingRequest.objects.create(
            clinic=clinic, given_name=given[:100], family_name=family[:100],
            date_of_birth=details.date_of_birth, phone=phone[:40], email=email[:254],
            preferred_times=details.preferred_times.strip()[:300],
            message=details.message.strip()[:1000],
            agrees_to_messages=details.agrees_to_messages)
        audit(Actor(ip_address=ip), "booking_request.create", obj=request,
              detail={"clinic": clinic.pk}, clinic_id=clinic.pk)
        return request


# --- the desk -----------------------------------------------------------------------------------

def pending(actor: Actor) -> list[BookingRequest]:
    with transaction.atomic():
        require(actor, Permission.BOOK)
        found = list(BookingRequest.objects.filter(clinic_id=actor.clinic_id,
                                                   status=RequestStatus.PENDING)
                     .order_by("created_at", "id"))
        audit(actor, "booking_request.list", detail={"requests": [r.pk for r in found]})
        return found


@dataclass(frozen=True)
class RequestView:
    request: BookingRequest
    matches: list[Patient]


def _own(actor: Actor, pk: int | str, action: str, *, lock: bool = False) -> BookingRequest:
    require(actor, Permission.BOOK)
    found = BookingRequest.objects.filter(pk=pk, clinic_id=actor.clinic_id)
    if lock:
        found = found.select_for_update()
    request = found.first()
    if request is None:
        raise refuse(actor, NotFound(_("No such request.")), wanted=BookingRequest,
                     wanted_id=pk)
    audit(actor, action, obj=request)
    return request


def view_request(actor: Actor, pk: int | str) -> RequestView:
    """A request, with the patients it may be (same name and date of birth, same phone or
    email)."""
    with transaction.atomic():
        request = _own(actor, pk, "booking_request.view")
        # The name compared as the duplicate check does: case, accents and look-alikes folded.
        same = Q(name_key=names.name_key(request.given_name, request.family_name))
        if request.date_of_birth:
            same &= Q(date_of_birth=request.date_of_birth)
        if request.phone:
            same |= Q(phone=request.phone)
        if request.email:
            same |= Q(email__iexact=request.email)
        return RequestView(request, list(patients_for(actor).filter(same)[:10]))


def _settle(actor: Actor, request: BookingRequest, status: Any,
            patient: Patient | None) -> None:
    updated = BookingRequest.objects.filter(pk=request.pk, status=RequestStatus.PENDING).update(
        status=status, patient=patient, handled_by=actor.user, handled_at=clock.now())
    if not updated:
        raise Conflict("handled", _("Someone has dealt with this request already."))


def match(actor: Actor, pk: int | str, patient_id: int | str) -> Patient:
    with transaction.atomic():
        request = _own(actor, pk, "booking_request.match", lock=True)
        patient = access_patient(actor, patient_id, permission=Permission.BOOK,
                                 action="booking_request.matched")
        _settle(actor, request, RequestStatus.MATCHED, patient)
        return patient


def register(actor: Actor, pk: int | str, date_of_birth: dt.date | None = None) -> Patient:
    with transaction.atomic():
        request = _own(actor, pk, "booking_request.register", lock=True)
        born = date_of_birth or request.date_of_birth
        if born is None:
            raise ServiceError("date_of_birth_required", _("Ask the person for their date of "
                                                           "birth to register them."),
                               field="date_of_birth")
        patient = register_patient(actor, PatientDetails(
            given_name=request.given_name, family_name=request.family_name,
            date_of_birth=born, phone=request.phone, email=request.email,
            preferred_channel="sms" if request.phone else "email",
            messages_opt_in=request.agrees_to_messages))
        _settle(actor, request, RequestStatus.REGISTERED, patient)
        return patient


def decline(actor: Actor, pk: int | str) -> BookingRequest:
    with transaction.atomic():
        request = _own(actor, pk, "booking_request.decline", lock=True)
        _settle(actor, request, RequestStatus.DECLINED, None)
        request.refresh_from_db()
        return request
