"""The patient's own access log: who at the clinic opened their record, when, and why (the
staff member's role and what they did, in plain words), for the last twelve months.

It is read from the audit trail, through the access layer: only the holder of a working
personal link reaches it, only for their own record, and reading it leaves an audit row too.
Refused attempts are not listed (nothing was opened); the patient's own visits are not either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from needlecare import clock
from needlecare.access import Actor, Permission
from needlecare.accounts.models import Role
from needlecare.audit.models import AuditEvent
from needlecare.patients.access import access_patient
from needlecare.recovery.services import own_link

PERIOD = dt.timedelta(days=365)
PAGE_SIZE = 30
SAME_MOMENT = dt.timedelta(minutes=1)

#: What each action means to the patient. Actions not named here are shown by their first
#: part (``_AREAS``), so a new action is never hidden.
_WORDS = {
    "patient.view": _("looked at your details"),
    "patient.update": _("changed your details"),
    "patient.register": _("registered you as a patient"),
    "patient.search": _("found you in a search"),
    "consultation.create": _("recorded your consultation"),
    "consultation.view": _("read your consultation"),
    "screening.override": _("reviewed your suitability for treatment"),
    "consent.sign": _("recorded your signed consent"),
    "consent.view": _("read your consent"),
    "consent.withdraw": _("recorded that you withdrew a consent"),
    "plan.create": _("made your treatment plan"),
    "plan.view": _("read your treatment plan"),
    "plan.edit": _("changed your treatment plan"),
    "session.book": _("booked a treatment session"),
    "session.view": _("read your treatment record"),
    "session.view_booking": _("looked at your appointment"),
    "session.chart": _("wrote your treatment record"),
    "session.sign": _("signed your treatment record"),
    "session.addendum": _("added a note to your treatment record"),
    "session.cancel": _("cancelled a treatment session"),
    "link.issue": _("sent you a link to these pages"),
    "link.create": _("sent you a link to these pages"),
    "link.list": _("looked at your links to these pages"),
    "link.revoke": _("stopped a link to these pages"),
    # One personal link per patient (recovery.links): its own actions.
    "link.view": _("looked at your link to these pages"),
    "link.send": _("sent you your link to these pages"),
    "link.replace": _("sent you a new link to these pages"),
    "link.revoked": _("stopped a link to these pages"),
    "link.unlock": _("unlocked your link after wrong dates of birth"),
    # The diary (its actions are plain strings here: recovery sits below the diary).
    "appointment.book": _("booked an appointment for you"),
    "appointment.booked": _("booked an appointment for you"),
    "appointment.book_course": _("booked your course of sessions"),
    "appointment.override": _("booked your appointment past a diary rule, with a reason"),
    "appointment.move": _("moved your appointment"),
    "appointment.cancel": _("cancelled your appointment"),
    "appointment.confirm": _("confirmed your appointment"),
    "appointment.status": _("noted your arrival or visit in the diary"),
    "previsit.review": _("read the forms you filled before your visit"),
    "previsit.confirm": _("confirmed your answers from before your visit"),
    "previsit.countersign": _("counter-signed the consent you signed on your phone"),
    "presession.changes": _("read your update before a session"),
    "waitlist.add": _("put you on the waiting list"),
    "waitlist.remove": _("took you off the waiting list"),
    "booking_request.matched": _("matched your online request to your record"),
    "checkin.view": _("read one of your check-ins"),
    "escalation.view": _("read your check-in that needed the clinic"),
    "escalation.acknowledge": _("took charge of your check-in that needed the clinic"),
    "escalation.note": _("added a note about your check-in"),
    "escalation.close": _("closed the follow-up of your check-in"),
    "document.download": _("opened a document of yours"),
    "document.aftercare_plan": _("opened your aftercare plan"),
    "document.consent": _("opened your consent form"),
    "document.store": _("stored a document of yours"),
    "message.list": _("looked at the messages sent to you"),
    "message.retry": _("sent a message to you again"),
    "message.cancel": _("cancelled a message to you"),
}
_AREAS = {
    "patient": _("looked at your details"), "consultation": _("opened your consultation"),
    "consent": _("opened your consent"), "plan": _("opened your treatment plan"),
    "session": _("opened your treatment record"), "link": _("worked on your links"),
    "checkin": _("opened your check-ins"), "escalation": _("opened your check-ins"),
    "document": _("opened your documents"), "message": _("opened your messages"),
    "appointment": _("looked at your appointments"),
    "previsit": _("opened the forms you filled before your visit"),
    "presession": _("read your update before a session"),
    "waitlist": _("looked at your place on the waiting list"),
}


def plain_words(action: str) -> str:
    return str(_WORDS.get(action) or _AREAS.get(action.split(".", 1)[0])
               or _("opened your record"))


@dataclass(frozen=True)
class Access:
    at: dt.datetime
    who: str
    role: str
    what: str


@dataclass(frozen=True)
class AccessLog:
    since: dt.datetime
    page: Page  # of Access


def access_log(actor: Actor, page: int | str | None = 1) -> AccessLog:
    """The staff accesses to the link's patient in the last twelve months, newest first."""
    link = own_link(actor)
    since = clock.now() - PERIOD
    with transaction.atomic():
        patient = access_patient(actor, link.patient_id, permission=Permission.PATIENT_SELF,
                                 action="patient.access_log")
        rows = (AuditEvent.objects
                .filter(patient_id=patient.pk, actor_kind=AuditEvent.ActorKind.STAFF,
                        at__gte=since)
                .exclude(action="access.refused")
                .select_related("actor").order_by("-at", "-id"))
        found = Paginator(rows, PAGE_SIZE).get_page(page)
    roles = dict(Role.choices)
    entries: list[Access] = []
    for row in found.object_list:
        entry = Access(at=row.at, who=_who(row), role=str(roles.get(row.actor_role, "")),
                       what=plain_words(row.action))
        # One step often leaves two rows (opening the record, then the change): say it once.
        last = entries[-1] if entries else None
        if (last is not None and (last.who, last.what) == (entry.who, entry.what)
                and last.at - entry.at < SAME_MOMENT):
            continue
        entries.append(entry)
    found.object_list = entries
    return AccessLog(since=since, page=found)


def _who(row: AuditEvent) -> str:
    user = row.actor
    if user is None:
        return str(_("Someone at the clinic"))
    name = user.get_full_name() or user.username
    return f"{name}, {user.title}" if user.title else name
