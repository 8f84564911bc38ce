"""The patient's page: details, actions and the whole story, newest first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from needlecare import sections
from needlecare.access import Actor, Permission
from needlecare.chart import timeline
from needlecare.patients.views import actions_for, link
from needlecare.rights.models import Erasure

# Where each kind of timeline entry is shown in full, and which record's id it takes.
_DETAIL_PAGES = {
    "consultation": ("consultation-detail", "pk"),
    "consent": ("consent-detail", "pk"),
    "consent_withdrawn": ("consent-detail", "pk"),
    "plan": ("plan-detail", "pk"),
    "session": ("session-detail", "pk"),
    "aftercare": ("session-detail", "session_id"),
    "checkin": ("checkin-detail", "pk"),
    "escalation": ("escalation-detail", "pk"),
}
_PLANNABLE = {"suitable", "suitable_with_precautions"}


@login_required
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = Actor.from_request(request)
    record = timeline.patient_record(actor, pk)
    patient = record.patient
    for entry in record.entries:
        if record.clinical:
            name, attribute = _DETAIL_PAGES[entry.kind]
            entry.url = link(name, getattr(entry.record, attribute))
        if entry.kind == "consultation" and actor.can(Permission.WRITE_CLINICAL) \
                and entry.record.effective_verdict in _PLANNABLE:
            entry.actions = actions_for((_("Create a treatment plan"),
                                      link("plan-new", entry.record.pk)))
        if entry.kind == "plan" and entry.record.status == "active" \
                and actor.can(Permission.BOOK):
            entry.actions = actions_for((_("Book a session"),
                                         link("session-book", entry.record.pk)))

    clinical_write = actor.can(Permission.WRITE_CLINICAL)
    actions = actions_for(
        (_("Edit details"),
         link("patient-edit", patient.pk) if actor.can(Permission.REGISTER_PATIENT) else None),
        (_("Start a consultation"),
         link("consultation-new", patient.pk) if clinical_write else None),
        (_("Record treatment consent"),
         link("consent-new", patient.pk, query={"kind": "treatment"})
         if clinical_write else None),
        (_("Record photo consent"),
         link("consent-new", patient.pk, query={"kind": "photos"}) if clinical_write else None),
        (_("Personal link"), link("patient-link", patient.pk)
         if actor.can(Permission.BOOK) else None),
    )
    if actor.can(Permission.BOOK):
        many = len(record.active_plans) > 1
        actions += actions_for(*(
            (_("Book a session (plan of %(date)s)")
             % {"date": date_format(timezone.localtime(plan.created_at), "j F Y")}
             if many else _("Book a session"), link("session-book", plan.pk))
            for plan in record.active_plans))
    if actor.can(Permission.PATIENT_RIGHTS):
        actions += actions_for(
            (_("Export the record"), link("patient-record-export", patient.pk)),
            (_("Erase or anonymise the record"), link("patient-record-erase", patient.pk)))
    return render(request, "chart/patient_detail.html", {
        "record": record, "patient": patient, "entries": record.entries,
        "clinical": record.clinical, "actions": actions,
        "sections": sections.render(sections.Page.PATIENT_CHART, actor, patient),
        "erasure": Erasure.objects.filter(patient=patient).first(),
    })
