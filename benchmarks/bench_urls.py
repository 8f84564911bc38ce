"""The product's URLs plus one benchmark-only view: the cheapest audited write a patient's
phone can make through the same path as a check-in.

``minimal_audited_write`` goes through the check-in's decorator (``patient_page``: the link
found by its token's hash, its state checked, no-store headers), checks the device cookie like
the check-in view, is reached by a POST that Django's CSRF middleware checks, writes exactly
one audit row through the product's ``audit`` helper in one transaction (on SQLite an IMMEDIATE
one, as every write), and answers 302. Whatever a check-in costs beyond this is the check-in's
own work: the form, the session's reads and lock, triage, its rows and checks.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_POST

from needlecare.access import Actor, audit
from needlecare.recovery.models import PatientLink
from needlecare.recovery.tokens import device_is_verified
from needlecare.recovery.views import patient_page
from needlecare.urls import urlpatterns as product_urlpatterns

AUDIT_ACTION = "benchmark.audited_write"


@require_POST
@patient_page
def minimal_audited_write(request: HttpRequest, link: PatientLink, token: str) -> HttpResponse:
    if not device_is_verified(request, link):
        return redirect("patient-verify", token=token)
    with transaction.atomic():
        audit(Actor.for_link(link, request), AUDIT_ACTION, obj=link)
    return redirect("patient-home", token=token)


# Under the link's own address, so the device cookie (scoped to /p/<token>/) comes with it.
urlpatterns = [
    path("p/<str:token>/benchmark/audited-write/", minimal_audited_write,
         name="benchmark-audited-write"),
    *product_urlpatterns,
]
