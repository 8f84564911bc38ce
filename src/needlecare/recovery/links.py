"""The patient's personal link: one per patient, for all their care at the clinic.

It is made the first time a message needs it (or when staff send it), stays valid while the
patient uses it, and stops after the clinic's inactivity period, or when a clinician replaces
or revokes it. "Send the link again" sends the same link; only "Replace" makes a new one (and
the old stops working). Front desk may send it but never sees its token; clinicians and owners
may replace, revoke and unlock it.

Wrong dates of birth count per link: after ``MAX_DOB_ATTEMPTS`` the link is locked for
devices that have not verified before, for 15 minutes the first time and twice as long each
time after; a device that verified keeps working, and a clinician can unlock it. Every
change is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from needlecare import clock
from needlecare.access import Actor, Permission, audit, hash_token
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.errors import Conflict, Gone, NotFound, ServiceError
from needlecare.events import LinkIssued, LinkRevoked, LinkSent, emit
from needlecare.patients.access import access_patient, access_record
from needlecare.patients.models import Patient
from needlecare.recovery.models import PatientLink
from needlecare.recovery.tokens import (
    MAX_DOB_ATTEMPTS,
    LinkState,
    derive_token,
    link_state,
    link_url,
    lock_length,
    new_nonce,
)


@dataclass(frozen=True)
class IssuedLink:
    link: PatientLink
    #: The full address with the token in it. It exists only here: the database keeps a hash.
    url: str


@dataclass(frozen=True)
class LinkStatus:
    patient: Patient
    #: The working link, or None when the patient has none (never made, or revoked).
    link: PatientLink | None
    state: LinkState | None
    #: Earlier links, newest first (revoked ones, with why).
    earlier: list[PatientLink]


def live_link(patient_id: int) -> PatientLink | None:
    """The patient's working (not revoked) link, whatever its state."""
    return (PatientLink.objects.select_related("clinic")
            .filter(patient_id=patient_id, revoked_at__isnull=True).first())


def current_session(patient_id: int) -> TreatmentSession | None:
    """The session whose aftercare a patient's pages show: their latest signed one."""
    return (TreatmentSession.objects.filter(patient_id=patient_id, status=SessionStatus.SIGNED)
            .select_related("clinic", "plan", "patient", "aftercare")
            .order_by("-performed_on", "-signed_at", "-id").first())


def _create(actor: Actor, patient: Patient, action_detail: dict[str, object]) -> IssuedLink:
    nonce = new_nonce()  # the token is derived from it, so messages can carry the link
    token = derive_token(nonce)
    session = current_session(patient.pk)
    try:
        # A savepoint: a link made at the same moment by another request (two workers sending
        # a patient's first messages) makes this one fail the constraint, not the caller's
        # whole transaction.
        with transaction.atomic():
            link = PatientLink.objects.create(
                clinic_id=patient.clinic_id, patient=patient, session=session,
                token_hash=hash_token(token), nonce=nonce, created_by=actor.user)
    except IntegrityError:
        raise Conflict("link_exists", _("The patient has a personal link already; send it "
                                        "again or replace it.")) from None
    audit(actor, "link.create", patient=patient, obj=link,
          detail={**action_detail, "session": session.pk if session else None})
    emit(LinkIssued(clinic_id=link.clinic_id, patient_id=patient.pk, link_id=link.pk))
    return IssuedLink(link=link, url=link_url(token))


def link_status(actor: Actor, patient_id: int | str) -> LinkStatus:
    """The patient's personal link and its state, never its token (front desk may see it)."""
    with transaction.atomic():
        patient = access_patient(actor, patient_id, permission=Permission.BOOK,
                                 action="link.view")
        links = list(PatientLink.objects.filter(patient_id=patient.pk)
                     .select_related("clinic", "created_by"))
    live = next((link for link in links if link.revoked_at is None), None)
    return LinkStatus(patient=patient, link=live,
                      state=link_state(live) if live is not None else None,
                      earlier=[link for link in links if link is not live])


def send_link(actor: Actor, patient_id: int | str) -> PatientLink:
    """Send the patient their personal link again (the same link), or make it and send it
    when they have none."""
    with transaction.atomic():
        patient = access_patient(actor, patient_id, permission=Permission.BOOK,
                                 action="link.send")
        link = live_link(patient.pk)
        if link is None:
            link = _create(actor, patient, {"for": "sending"}).link
        elif link_state(link) is LinkState.EXPIRED:
            raise Conflict("link_expired", _("The link has not been used for so long that it "
                                             "stopped working; replace it to send a new one."))
        emit(LinkSent(clinic_id=link.clinic_id, patient_id=patient.pk, link_id=link.pk))
    return link


def replace_link(actor: Actor, patient_id: int | str, *,
                 confirmed: bool = True) -> IssuedLink:
    """Stop the patient's link working and send them a new one (for a lost phone, or a link
    someone else has seen). Clinicians and owners only; the old address stops at once, so the
    page asks to confirm it."""
    with transaction.atomic():
        patient = access_patient(actor, patient_id, permission=Permission.WRITE_CLINICAL,
                                 action="link.replace")
        if not confirmed:
            raise ServiceError("confirm_required", _(
                "Tick the box to confirm that the old link should stop working."))
        old = live_link(patient.pk)
        if old is not None:
            _revoke(actor, old, _("Replaced by a new link."))
        issued = _create(actor, patient, {"replaces": old.pk if old else None})
        emit(LinkSent(clinic_id=patient.clinic_id, patient_id=patient.pk,
                      link_id=issued.link.pk))
    return issued


def _revoke(actor: Actor, link: PatientLink, reason: str, *, audited: bool = False) -> None:
    changed = PatientLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=clock.now(), revoked_reason=reason[:200])
    if changed:
        if not audited:  # revoked as part of another change (a replacement)
            audit(actor, "link.revoked", patient=link.patient, obj=link,
                  detail={"reason": reason})
        emit(LinkRevoked(clinic_id=link.clinic_id, patient_id=link.patient_id,
                         link_id=link.pk))


def revoke_link(actor: Actor, link_id: int | str, reason: str) -> PatientLink:
    """Stop a personal link working (the patient has none until one is sent again).
    Revoking a revoked link changes nothing."""
    reason = reason.strip()
    with transaction.atomic():
        link = access_record(actor, PatientLink, link_id, permission=Permission.WRITE_CLINICAL,
                             action="link.revoke", detail={"reason": reason})
        if not reason:
            raise ServiceError("reason_required", _("Say why the link should stop working."),
                               field="reason")
        _revoke(actor, link, reason, audited=True)  # the access row above records it
        link.refresh_from_db()
    return link


def unlock_link(actor: Actor, link_id: int | str) -> PatientLink:
    """Let unverified devices try the date of birth again (a clinician who has spoken to the
    patient)."""
    with transaction.atomic():
        link = access_record(actor, PatientLink, link_id, permission=Permission.WRITE_CLINICAL,
                             action="link.unlock",
                             detail=lambda found: {"locked_until": found.locked_until
                                                   .isoformat() if found.locked_until
                                                   else None,
                                                   "failed": found.failed_dob_attempts})
        if link.revoked_at is not None:
            raise Conflict("link_revoked", _("This link was revoked; send the patient a new "
                                             "one instead."))
        PatientLink.objects.filter(pk=link.pk).update(locked_until=None, failed_dob_attempts=0)
        link.refresh_from_db()
    return link


def link_for_staff(actor: Actor, link_id: int | str) -> PatientLink:
    """A link, for a staff page about it (audited as a view)."""
    with transaction.atomic():
        return access_record(actor, PatientLink, link_id, permission=Permission.BOOK,
                             action="link.view")


def first_link(patient_id: int) -> PatientLink | None:
    """The link for the patient's first message, made by the system (audited) unless the
    patient has a working one already; None when theirs was revoked (staff decide then)."""
    with transaction.atomic():
        patient = Patient.objects.select_for_update().get(pk=patient_id)
        link = live_link(patient.pk)
        if link is not None:
            return link
        if PatientLink.objects.filter(patient_id=patient.pk).exists():
            return None
        return _create(Actor(), patient, {"for": "messages"}).link


# --- the date-of-birth step -----------------------------------------------------------------

@dataclass(frozen=True)
class VerifyOutcome:
    ok: bool
    attempts_left: int
    #: Until when unverified devices are refused (set when this attempt locked the link).
    locked_until: dt.datetime | None


def own_link(actor: Actor, missing: str = "No such link.") -> PatientLink:
    """The personal link a patient acts through (a staff actor has none)."""
    if not isinstance(actor.link, PatientLink):
        raise NotFound(missing)
    return actor.link


def require_usable(link: PatientLink, *, verified_device: bool = True) -> None:
    """Refuse a link that no longer works; a lock stops only unverified devices."""
    state = link_state(link)
    if state is LinkState.LOCKED and verified_device:
        return
    if state is not LinkState.USABLE:
        raise Gone(f"link_{state.value}", _("This link no longer works. Please call your "
                                            "clinic."))


def verify_date_of_birth(actor: Actor, date_of_birth: dt.date) -> VerifyOutcome:
    """Check the date of birth typed on a new device. Wrong dates count towards a lock."""
    link = own_link(actor)
    with transaction.atomic():
        patient = access_patient(actor, link.patient_id, permission=Permission.PATIENT_SELF,
                                 action="link.verify")
        current = PatientLink.objects.select_for_update().select_related("clinic").get(
            pk=link.pk)
        require_usable(current, verified_device=False)
        now = clock.now()
        if date_of_birth == patient.date_of_birth:
            current.failed_dob_attempts = 0
            current.last_verified_at = now
            current.save(update_fields=["failed_dob_attempts", "last_verified_at"])
            return VerifyOutcome(ok=True, attempts_left=MAX_DOB_ATTEMPTS, locked_until=None)
        current.failed_dob_attempts += 1
        locked_until = None
        if current.failed_dob_attempts >= MAX_DOB_ATTEMPTS:
            locked_until = now + lock_length(current.lock_count)
            current.locked_until = locked_until
            current.lock_count += 1
            current.failed_dob_attempts = 0
        current.save(update_fields=["failed_dob_attempts", "locked_until", "lock_count"])
        audit(actor, "link.verify_failed", patient=patient, obj=current,
              detail={"failed_attempts": current.failed_dob_attempts,
                      "locked_until": locked_until.isoformat() if locked_until else None})
    left = 0 if locked_until else MAX_DOB_ATTEMPTS - current.failed_dob_attempts
    return VerifyOutcome(ok=False, attempts_left=left, locked_until=locked_until)
