"""The JSON API under /api/v1/ (django-ninja); OpenAPI at /api/openapi.json.

Each router module holds one resource; ``errors.install`` gives every failure the same JSON
shape, and ``auth`` says who may call what.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.openapi.views import openapi_view

from needlecare.api import (
    appointments,
    audit,
    checkins,
    education,
    errors,
    escalations,
    outcomes,
    patients,
    photos,
)


def docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The documentation page (Swagger UI, served from our own static files) asks for a staff
    sign-in unless API_DOCS_PUBLIC opens it (the default outside production). The OpenAPI
    document itself stays open: programs read it."""
    if getattr(view, "func", None) is not openapi_view:
        return view

    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if settings.API_DOCS_PUBLIC or (user.is_authenticated and user.is_active):
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path())

    return guarded


api = NinjaAPI(title="Needlecare API", version="1", urls_namespace="api",
               openapi_url="/openapi.json", docs_url="/docs", docs_decorator=docs_access,
               description="Patients, appointments, check-ins, escalations, photos, outcomes "
                           "and the numbers of one clinic. Staff "
                           "authenticate with a session (plus CSRF token) or an API token "
                           "(`Authorization: Bearer ncapi_…`); patients send check-ins with "
                           "their personal link's token as the bearer token. Every error is "
                           '`{"error": {"code", "message", "fields"?}}`.')
errors.install(api)
api.add_router("/v1/", patients.router)
api.add_router("/v1/", checkins.router)
api.add_router("/v1/", escalations.router)
api.add_router("/v1/", outcomes.router)
api.add_router("/v1/", outcomes.numbers_router)
api.add_router("/v1/", education.router)
api.add_router("/v1/", appointments.router)
api.add_router("/v1/", photos.router)
api.add_router("/v1/", audit.router)

# Mounted last: an address under /api/ that names nothing is a JSON 404 too, not a web page.
_unknown = Router()


@_unknown.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/v1/{path:rest}",
                        include_in_schema=False)
def unknown(request: HttpRequest, rest: str) -> HttpResponse:
    raise Http404(rest)


api.add_router("", _unknown)
