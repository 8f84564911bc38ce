"""Who is calling the API, and the ``Actor`` the services are called with.

Staff: a signed-in Django session (unsafe methods then need the CSRF token, as on the pages),
or ``Authorization: Bearer <API token>`` for programs. Either must belong to an active user
with a clinic. Patients: ``Authorization: Bearer <their personal link's token>``, accepted only
by the check-in operations. A link that has expired, been revoked or locked answers 401 with
a code that says which, so the patient's app can tell them to call the clinic.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from needlecare.access import Actor, client_ip
from needlecare.accounts.models import User
from needlecare.accounts.services import API_TOKEN_PREFIX, api_token_user
from needlecare.api.errors import ApiError
from needlecare.recovery.models import PatientLink
from needlecare.recovery.tokens import LinkState, find_link, link_state

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _staff(user: Any) -> User | None:
    if user is not None and user.is_authenticated and user.is_active and user.clinic_id:
        return user
    return None


class StaffToken(HttpBearer):
    """``Authorization: Bearer ncapi_…``: a staff member's API token."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return _staff(api_token_user(token))


class StaffSession(APIKeyCookie):
    """The staff pages' session cookie, with Django's CSRF check on unsafe methods.

    ninja's own ``SessionAuth`` checks CSRF before it knows whether anyone is signed in, so an
    anonymous POST would be told "CSRF failed" instead of "not authenticated"."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = _staff(getattr(request, "user", None))
        if user is None:
            return None
        if request.method not in _SAFE_METHODS and check_csrf(request) is not None:
            raise ApiError(403, "csrf_failed", str(_(
                "Send the CSRF token (the csrftoken cookie) in the X-CSRFToken header.")))
        return user


_LINK_MESSAGES = {
    LinkState.EXPIRED: _("This link has expired. Please call your clinic for a new one."),
    LinkState.REVOKED: _("This link no longer works. Please call your clinic."),
    LinkState.LOCKED: _("This link has been locked. Please call your clinic."),
}


class PatientLinkToken(HttpBearer):
    """``Authorization: Bearer <token of a personal link>``: the patient themself."""

    def authenticate(self, request: HttpRequest, token: str) -> PatientLink | None:
        if token.startswith(API_TOKEN_PREFIX):
            return None
        link = find_link(token)
        if link is None:
            return None
        state = link_state(link)
        if state is not LinkState.USABLE:
            raise ApiError(401, f"link_{state.value}", str(_LINK_MESSAGES[state]))
        return link


STAFF = [StaffToken(), StaffSession()]
PATIENT = [PatientLinkToken()]
PATIENT_OR_STAFF = [PatientLinkToken(), *STAFF]


def actor(request: HttpRequest) -> Actor:
    """The actor of an authenticated request (ninja stores what authenticated in ``auth``)."""
    who = getattr(request, "auth", None)
    if isinstance(who, PatientLink):
        return Actor.for_link(who, request)
    return Actor(user=who, ip_address=client_ip(request))
