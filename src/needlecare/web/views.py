from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from needlecare.access import Actor, Permission


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Clinicians start on their worklist; the front desk on today's diary."""
    if Actor.from_request(request).can(Permission.VIEW_CLINICAL):
        return redirect("worklist")
    return redirect("diary-today")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for a load balancer, and the floor of benchmarks/checkin_load.py: the whole
    middleware stack and nothing else (no database query, no template)."""
    return HttpResponse("ok\n", content_type="text/plain")
