"""The owner's audit page and its CSV export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from needlecare.access import Actor, record_id
from needlecare.accounts import services, trail
from needlecare.accounts.models import Role


class TrailFilterForm(forms.Form):
    patient = forms.IntegerField(label=_("Patient record number"), required=False,
                                 min_value=1, max_value=2**62)
    staff = forms.TypedChoiceField(label=_("Staff member"), required=False, coerce=int,
                                   empty_value=None)
    action = forms.CharField(label=_("Action"), required=False, max_length=64,
                             help_text=_("For example patient.view, or auth. for every "
                                         "sign-in event."))
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [("", _("Anyone")), *(
            (member.pk, f"{member} ({member.get_role_display()})")
            for member in services.list_staff(actor))]

    def wanted(self) -> trail.TrailFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return trail.TrailFilter(patient=data.get("patient"), staff=data.get("staff"),
                                 action=(data.get("action") or "").strip(),
                                 since=data.get("since"), until=data.get("until"))


def _query(form: TrailFilterForm) -> str:
    kept = {k: v for k, v in form.data.items() if k in form.fields and v}
    return urlencode(sorted(kept.items()))


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    actor = Actor.from_request(request)
    form = TrailFilterForm(request.GET or None, actor=actor)
    wanted = form.wanted() if request.GET else trail.TrailFilter()
    page = trail.trail_page(actor, wanted, before=record_id(request.GET.get("before")))
    roles = dict(Role.choices)
    rows = [{"event": e, "who": trail.actor_label(e), "role": roles.get(e.actor_role, ""),
             "detail": json.dumps(trail.detail_for(e, actor), ensure_ascii=False,
                                  sort_keys=True) if e.detail else ""}
            for e in page.events]
    return render(request, "accounts/audit_list.html", {
        "form": form, "rows": rows, "older": page.older, "query": _query(form),
        "actions": trail.actions(actor), "before": request.GET.get("before"),
        "time_zone": request.user.clinic.time_zone})


CSV_COLUMNS = ["id", "at", "action", "actor_id", "actor", "actor_kind", "actor_role",
               "patient_id", "object_type", "object_id", "ip_address", "detail", "seq", "hash"]


def _cell(value: object) -> object:
    # A spreadsheet runs a cell that starts like a formula; quote it (OWASP's advice).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
@require_GET
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    actor = Actor.from_request(request)
    form = TrailFilterForm(request.GET or None, actor=actor)
    wanted = form.wanted() if request.GET else trail.TrailFilter()
    events = trail.trail_export(actor, wanted)
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for e in events:
            yield writer.writerow([_cell(v) for v in (
                e.pk, e.at.isoformat(), e.action, e.actor_id or "", trail.actor_label(e),
                e.actor_kind, e.actor_role, e.patient_id or "", e.object_type, e.object_id,
                e.ip_address or "",
                json.dumps(trail.detail_for(e, actor), ensure_ascii=False, sort_keys=True),
                e.seq or "", e.hash)])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    response["Cache-Control"] = "no-store, private"
    return response
