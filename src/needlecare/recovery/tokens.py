"""The patient's personal link: the token in its address, and the cookie that remembers a device.

The token is derived: URL-safe base64 of HMAC-SHA256(SECRET_KEY, "needlecare-patient-link:" +
nonce), with a random nonce stored on the link. Only the token's SHA-256 (``access.hash_token``)
is stored, so a copy of the database (nonces included) does not open anyone's link without the
secret key, while the outbox worker can re-derive the token to put it in a message. Rotating
SECRET_KEY invalidates every outstanding link for messaging: its token can no longer be
derived, so the worker records link-bearing messages as not sent until staff issue a new link
(an address the patient already has still opens, by its hash). Links made before nonces existed
have none; they keep working by their stored hash but cannot be re-sent either.

A device that has passed the date-of-birth step gets a signed, HttpOnly cookie scoped to that
one link's address.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from enum import StrEnum

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from needlecare import clock
from needlecare.access import hash_token
from needlecare.recovery.models import PatientLink

TOKEN_BYTES = 32
#: Wrong dates of birth a link accepts before it locks for unverified devices.
MAX_DOB_ATTEMPTS = 5
#: The first lock's length; each further lock of the same link lasts twice as long.
FIRST_LOCK = dt.timedelta(minutes=15)
#: The longest a lock lasts (a clinician can unlock sooner).
LONGEST_LOCK = dt.timedelta(days=7)
_COOKIE_SALT = "needlecare.recovery.patient-device"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_nonce() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def derive_token(nonce: str) -> str:
    """The token of the link with ``nonce`` (43 URL-safe characters)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), b"needlecare-patient-link:" + nonce.encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_for(link: PatientLink) -> str | None:
    """The link's token again, for a message; None for a link made before nonces."""
    return derive_token(link.nonce) if link.nonce else None


def link_url(token: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("patient-home", args=[token])


class LinkState(StrEnum):
    USABLE = "usable"
    EXPIRED = "expired"
    REVOKED = "revoked"
    LOCKED = "locked"


def link_state(link: PatientLink, now: dt.datetime | None = None) -> LinkState:
    """What the link does now: it needs its clinic (``find_link`` loads it) for the
    inactivity period. A locked link still opens on a device that has verified before
    (``patient_page`` checks that)."""
    now = now or clock.now()
    if link.revoked_at is not None:
        return LinkState.REVOKED
    inactivity = dt.timedelta(days=link.clinic.link_inactivity_days)
    if link.last_used_at() + inactivity <= now:
        return LinkState.EXPIRED
    if link.locked_until is not None and link.locked_until > now:
        return LinkState.LOCKED
    return LinkState.USABLE


def lock_length(lock_count: int) -> dt.timedelta:
    """How long the link's next lock lasts, after ``lock_count`` earlier ones."""
    return min(FIRST_LOCK * 2 ** min(lock_count, 20), LONGEST_LOCK)


def find_link(token: str) -> PatientLink | None:
    """The link a token opens, whatever its state; None for a token nobody was given."""
    # A real token is 43 characters; refusing absurd lengths keeps junk out of the hash.
    if not token or len(token) > 200:
        return None
    # Only the clinic comes along: every page shows its name and number, and the services
    # load the session and patient themselves, through the access layer.
    return (PatientLink.objects.select_related("clinic")
            .filter(token_hash=hash_token(token)).first())


# --- the device cookie ----------------------------------------------------------------------

def _cookie_name(link: PatientLink) -> str:
    return f"needlecare_device_{link.pk}"


def _cookie_value(link: PatientLink) -> str:
    # Bound to this link's hash: a cookie from another (or a reissued) link never matches.
    return link.token_hash[:32]


def device_is_verified(request: HttpRequest, link: PatientLink) -> bool:
    value = request.get_signed_cookie(
        _cookie_name(link), default=None, salt=_COOKIE_SALT,
        max_age=settings.PATIENT_DEVICE_COOKIE_DAYS * 24 * 60 * 60)
    return value is not None and secrets.compare_digest(value, _cookie_value(link))


def remember_device(response: HttpResponse, link: PatientLink, token: str) -> None:
    response.set_signed_cookie(
        _cookie_name(link), _cookie_value(link), salt=_COOKIE_SALT,
        max_age=settings.PATIENT_DEVICE_COOKIE_DAYS * 24 * 60 * 60,
        path=reverse("patient-home", args=[token]), httponly=True, samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE)



# --- the clinic's numbers, kept on the patient's phone ----------------------------------------
# When the database is locked or broken, the error page of a patient's link must still say
# whom to call. The link's pages leave the clinic's name and numbers in a signed cookie scoped
# to the link's address; the error pages read it without a database query.

CLINIC_COOKIE = "needlecare_clinic"
_CLINIC_SALT = "needlecare.recovery.clinic-contact"


def clinic_contact(link: PatientLink) -> dict[str, str]:
    clinic = link.clinic
    return {"name": clinic.name, "phone": clinic.phone,
            "emergency_number": clinic.emergency_number,
            "out_of_hours_name": clinic.out_of_hours_name,
            "out_of_hours_phone": clinic.out_of_hours_phone}


def remember_clinic(request: HttpRequest, response: HttpResponse, link: PatientLink,
                    token: str) -> None:
    """Leave the clinic's contact details on the phone (sent again only when they change)."""
    value = json.dumps(clinic_contact(link), sort_keys=True, separators=(",", ":"))
    if request.get_signed_cookie(CLINIC_COOKIE, default=None, salt=_CLINIC_SALT) == value:
        return
    response.set_signed_cookie(
        CLINIC_COOKIE, value, salt=_CLINIC_SALT,
        max_age=settings.PATIENT_DEVICE_COOKIE_DAYS * 24 * 60 * 60,
        path=reverse("patient-home", args=[token]), httponly=True, samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE)


def remembered_clinic(request: HttpRequest) -> dict[str, str] | None:
    """The clinic's contact details a patient's link left on this phone, if any (no database
    query: the error pages call this)."""
    value = request.get_signed_cookie(CLINIC_COOKIE, default=None, salt=_CLINIC_SALT)
    if not value:
        return None
    try:
        found = json.loads(value)
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    return {key: str(found.get(key, "")) for key in (
        "name", "phone", "emergency_number", "out_of_hours_name", "out_of_hours_phone")}
