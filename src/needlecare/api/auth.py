"""Who is calling the API, and the ``Actor`` the services are called with.

Staff: a signed-in Django session (unsafe methods then need the CSRF token, as on the pages),
or ``Authorization: Bearer <API token>`` for programs. Either must belong to an active user
with a clinic. Patients: ``Authorization: Bearer <their personal link's token>`` together with
``X-Date-Of-Birth: YYYY-MM-DD``, accepted only by the check-in operations: the phone pages ask a
new device for the date of birth, and the API asks every request for it, counting wrong dates
towards the same lock. A link that has expired, been revoked or locked answers 401 with a code
that says which, so the patient's app can tell them to call the clinic.
"""

from __future__ import annotations

import datetime as dt
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
from needlecare.errors import ServiceError
from needlecare.recovery.links import verify_date_of_birth
from needlecare.recovery.models import PatientLink
from needlecare.recovery.tokens import LinkState, find_link, link_state

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
DATE_OF_BIRTH_HEADER = "X-Date-Of-Birth"


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
        _check_date_of_birth(request, link)
        return link


def _check_date_of_birth(request: HttpRequest, link: PatientLink) -> None:
    """A link's token alone is not enough, as on the phone pages: the patient's date of birth
    must come with it, and wrong dates count towards locking the link."""
    raw = request.headers.get(DATE_OF_BIRTH_HEADER, "").strip()
    if not raw:
        raise ApiError(401, "date_of_birth_required", str(_(
            "Send the patient's date of birth (YYYY-MM-DD) in the X-Date-Of-Birth header.")))
    try:
        date_of_birth = dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(401, "date_of_birth_invalid", str(_(
            "The X-Date-Of-Birth header must be a date written YYYY-MM-DD."))) from None
    try:
        outcome = verify_date_of_birth(Actor.for_link(link, request), date_of_birth)
    except ServiceError:
        outcome = None
    if outcome is None or outcome.locked_until is not None:
        raise ApiError(401, "link_locked", str(_LINK_MESSAGES[LinkState.LOCKED]))
    if not outcome.ok:
        raise ApiError(401, "date_of_birth_mismatch", str(_(
            "That date of birth does not match our records. Tries left: %(left)d.")
            % {"left": outcome.attempts_left}))


STAFF = [StaffToken(), StaffSession()]
PATIENT = [PatientLinkToken()]
PATIENT_OR_STAFF = [PatientLinkToken(), *STAFF]


def actor(request: HttpRequest) -> Actor:
    """The actor of an authenticated request (ninja stores what authenticated in ``auth``)."""
    who = getattr(request, "auth", None)
    if isinstance(who, PatientLink):
        return Actor.for_link(who, request)
    return Actor(user=who, ip_address=client_ip(request))
