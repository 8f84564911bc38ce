from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from needlecare.access import Actor, Permission


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Clinicians start on their worklist; front desk on the patient list."""
    if Actor.from_request(request).can(Permission.VIEW_CLINICAL):
        return redirect("worklist")
    return redirect("patient-list")
