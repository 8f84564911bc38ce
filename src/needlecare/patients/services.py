"""Registering, editing, finding and reading patients.

Each function runs in one transaction and reaches patients through the access layer, so every
read and write leaves exactly one audit row that commits or rolls back with the work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from needlecare import clock, names, paging
from needlecare.access import Actor, Permission, audit, changes, record_id, refuse, require
from needlecare.errors import Conflict, NotFound, ServiceError
from needlecare.patients import search
from needlecare.patients.access import access_patient, patients_for
from needlecare.patients.models import Channel, Patient

PAGE_SIZE = 25
#: The longest first or last name, after normalising (the model's and the form's limit).
NAME_MAX_LENGTH = 100
OLDEST_AGE_YEARS = 120


@dataclass(frozen=True)
class PatientDetails:
    """What the registration and edit forms collect."""

    given_name: str
    family_name: str
    date_of_birth: dt.date
    phone: str = ""
    email: str = ""
    preferred_channel: str = "sms"
    # Messaging (issue 4): whether the patient agrees to messages; None leaves it unchanged.
    messages_opt_in: bool | None = None


class PossibleDuplicate(Conflict):
    """A patient with the same name and date of birth is already registered at the clinic."""

    def __init__(self, matches: list[Patient]) -> None:
        super().__init__(
            "possible_duplicate",
            str(_("A patient with this name and date of birth is already registered. "
                  "Check that this is a different person, then tick “Register anyway”.")),
            field=None)
        self.matches = matches


def _clean_details(details: PatientDetails) -> dict[str, Any]:
    """The details as model fields, or a ServiceError naming the first problem."""
    # Invisible characters and compatibility forms removed (needlecare.names), so what is
    # stored is what is seen.
    given = names.normalise(details.given_name)
    family = names.normalise(details.family_name)
    if not given:
        raise ServiceError("required", str(_("Enter the first name.")), field="given_name")
    if not family:
        raise ServiceError("required", str(_("Enter the last name.")), field="family_name")
    for field, value in (("given_name", given), ("family_name", family)):
        if len(value) > NAME_MAX_LENGTH:
            raise ServiceError("too_long", str(
                _("Use at most %(n)d characters.") % {"n": NAME_MAX_LENGTH}), field=field)
    today = clock.localdate()
    if details.date_of_birth > today:
        raise ServiceError("dob_future", str(_("The date of birth cannot be in the future.")),
                           field="date_of_birth")
    if details.date_of_birth < _years_before(today, OLDEST_AGE_YEARS):
        raise ServiceError(
            "dob_too_old",
            str(_("The date of birth is more than %(years)s years ago. Check the year.")
                % {"years": OLDEST_AGE_YEARS}),
            field="date_of_birth")
    phone = details.phone.strip()
    if phone:
        digits = names.phone_digits(phone)
        if not search.PHONE_CHARS.match(phone) or not 7 <= len(digits) <= 15:
            raise ServiceError("phone_invalid", str(_(
                "Enter a phone number of 7 to 15 digits, for example 07700 900123.")),
                field="phone")
    email = names.normalise(details.email)
    channel = details.preferred_channel
    if channel not in Channel.values:
        raise ServiceError("channel_invalid", str(_("Choose how the patient wants messages.")),
                           field="preferred_channel")
    if channel == Channel.SMS and not phone:
        raise ServiceError("channel_needs_phone", str(_(
            "Text messages need a mobile phone number.")), field="phone")
    if channel == Channel.EMAIL and not email:
        raise ServiceError("channel_needs_email", str(_("Email messages need an email address.")),
                           field="email")
    fields = {"given_name": given, "family_name": family,
              "date_of_birth": details.date_of_birth, "phone": phone, "email": email,
              "preferred_channel": channel}
    if details.messages_opt_in is not None:
        fields["messages_opt_in"] = bool(details.messages_opt_in)
    return fields


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def register_patient(actor: Actor, details: PatientDetails, *,
                     confirm_duplicate: bool = False) -> Patient:
    """Register a patient at the actor's clinic.

    A patient with the same date of birth whose name has the same matching key (the same
    letters, ignoring case, accents and look-alike letters of other scripts:
    ``needlecare.names.name_key``) raises ``PossibleDuplicate`` unless the user has confirmed
    that this is a different person."""
    with transaction.atomic():
        require(actor, Permission.REGISTER_PATIENT)
        fields = _clean_details(details)
        key = names.name_key(fields["given_name"], fields["family_name"])
        matches = list(patients_for(actor).filter(
            name_key=key, date_of_birth=fields["date_of_birth"]))
        if matches and not confirm_duplicate:
            raise PossibleDuplicate(matches)
        patient = Patient.objects.create(clinic_id=actor.clinic_id, created_by=actor.user,
                                         **fields)
        audit(actor, "patient.register", patient=patient, obj=patient,
              detail={"duplicate_confirmed_of": [p.pk for p in matches]} if matches else None)
    return patient


def patient_for_edit(actor: Actor, patient_id: int | str) -> Patient:
    """The patient whose details the actor is about to edit (the read is audited)."""
    with transaction.atomic():
        return access_patient(actor, patient_id, permission=Permission.REGISTER_PATIENT)


def check_can_edit(actor: Actor, patient_id: int | str) -> None:
    """Refuse (404/403) an actor who may not edit this patient. Nothing is read or audited:
    a form sent back with errors shows only what the user typed."""
    require(actor, Permission.REGISTER_PATIENT)
    if not patients_for(actor).filter(pk=record_id(patient_id)).exists():
        raise refuse(actor, NotFound("No such patient."), wanted=Patient, wanted_id=patient_id)


def update_patient(actor: Actor, patient_id: int | str, details: PatientDetails) -> Patient:
    """Change a patient's details. The audit row names the fields changed, with their old and
    new values."""
    with transaction.atomic():
        require(actor, Permission.REGISTER_PATIENT)
        # Lock the row first: two desks editing at once must not interleave read and write.
        patient = patients_for(actor).select_for_update().filter(pk=record_id(patient_id)).first()
        if patient is None:
            raise refuse(actor, NotFound("No such patient."), wanted=Patient,
                         wanted_id=patient_id)
        fields = _clean_details(details)
        changed = [name for name, value in fields.items() if getattr(patient, name) != value]
        access_patient(actor, patient.pk, permission=Permission.REGISTER_PATIENT,
                       action="patient.update", detail={
                           "changed": changed,
                           "changes": changes({n: getattr(patient, n) for n in fields},
                                              fields)})
        for name in changed:
            setattr(patient, name, fields[name])
        if changed:
            patient.save()
    return patient


# -- search -------------------------------------------------------------------------------


@dataclass
class PatientSearch:
    query: str
    kind: str  # "all" | "name" | "date_of_birth" | "phone"
    page: paging.Window[Patient]
    #: How many patients match, counted only when asked (the JSON API's ``count``): the
    #: staff pages show "next page" instead of counting a large clinic's whole list.
    count: int | None = None


def search_patients(actor: Actor, query: str = "", page: int | str | None = 1, *,
                    count: bool = False) -> PatientSearch:
    """One page of the clinic's patients matching a name, date of birth or phone number.

    A name matches on every word, anywhere in the name, ignoring case, accents and look-alike
    letters (the patient's ``name_key``); a date is ISO
    (1990-05-17) or day/month/year (17/05/1990); a phone number compares digits only."""
    query = " ".join(query.split())[:100]
    with transaction.atomic():
        kind, queryset = search.matching(patients_for(actor), query)
        # No count: a page of 100,000 patients must not read them all to say how many.
        shown = paging.window(queryset.order_by("family_name", "given_name", "id"),
                              page, PAGE_SIZE)
        total = queryset.count() if count else None
        audit(actor, "patient.search", detail={
            "query": query, "kind": kind, "page": shown.number,
            "patient_ids": [p.pk for p in shown.object_list]})
    return PatientSearch(query=query, kind=kind, page=shown, count=total)
