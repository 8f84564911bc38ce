"""What the outcomes app does when care and recovery announce something (registered in
``OutcomesConfig.ready``). Each handler runs inside the emitting service's transaction, so
what it writes commits or rolls back with the change.

- A session signed: its row in the sessions summary (date, practitioner, depth overrides); and
  the patient's outcome invitations whose session is now known: the follow-ups once the
  course's last planned session is signed (announced with ``OutcomeInvitationsScheduled``,
  which messaging turns into an invitation and one reminder each).
- A check-in recorded: the invitation day it answers, marked on the session's row.
"""

from __future__ import annotations

from django.db.models import F
from django.db.models.lookups import GreaterThan

from needlecare import clock, events
from needlecare.care.models import SessionStatus, TreatmentPlan, TreatmentSession
from needlecare.clinical.outcomes import assessment_schedule
from needlecare.clinical.protocol.loader import default_protocol
from needlecare.events import (
    CheckinRecorded,
    OutcomeInvitationsScheduled,
    SessionSigned,
    emit,
)
from needlecare.outcomes.course import clinic_today
from needlecare.outcomes.models import (
    ANSWERED_DAY_BITS,
    InvitationStatus,
    OutcomeInvitation,
    SignedSessionFact,
)
from needlecare.outcomes.records import outcomes
from needlecare.outcomes.rules import answered_checkin_day, depth_overrides


def on_session_signed(event: SessionSigned) -> None:
    session = TreatmentSession.objects.select_related("plan", "clinic").get(
        pk=event.session_id)
    assert session.performed_on is not None
    plan = session.plan
    # A session is signed once; announced again (a retried handler), it is counted once.
    SignedSessionFact.objects.bulk_create([SignedSessionFact(
        session=session, clinic_id=session.clinic_id, practitioner_id=session.practitioner_id,
        performed_on=session.performed_on,
        depth_overrides=depth_overrides([(z.zone, z.depth_mm) for z in session.zones.all()],
                                        plan.depth_ranges))], ignore_conflicts=True)
    invitations = _schedule_invitations(plan, session, session.clinic.time_zone)
    if invitations:
        emit(OutcomeInvitationsScheduled(clinic_id=session.clinic_id,
                                         patient_id=session.patient_id, plan_id=plan.pk,
                                         invitation_ids=tuple(i.pk for i in invitations)))


def _schedule_invitations(plan: TreatmentPlan, session: TreatmentSession, time_zone: str
                          ) -> list[OutcomeInvitation]:
    """The patient-reported points anchored on ``session``: the first session's, each
    session's, and the last session's once this one completes the planned course."""
    signed = list(TreatmentSession.objects.filter(plan_id=plan.pk, status=SessionStatus.SIGNED)
                  .order_by("performed_on", "id").values_list("pk", "performed_on"))
    number = next(i for i, (pk, _day) in enumerate(signed, start=1) if pk == session.pk)
    is_last = number == len(signed) and len(signed) >= plan.sessions_planned
    found = outcomes()
    try:
        schedule = assessment_schedule([day for _pk, day in signed], plan.indications, found)
    except ValueError:
        return []  # two sessions on one date, or no indication: no schedule to follow
    today = clinic_today(time_zone)
    anchors = {key: point.anchor for key, point in found.data.schedule.items()}
    wanted = []
    for item in schedule:
        anchor = anchors[item.point]
        if not item.invite_patient or item.answer_by is None or item.remind_on is None:
            continue
        anchored_here = ((anchor == "first_session" and number == 1)
                         or (anchor == "each_session" and item.session == number)
                         or (anchor == "last_session" and is_last))
        if anchored_here and item.answer_by >= today:
            wanted.append(item)
    if is_last:
        # A session signed after the course had ended moves its follow-ups to the new end.
        OutcomeInvitation.objects.filter(
            plan_id=plan.pk, status=InvitationStatus.PENDING,
            point__in=[k for k, a in anchors.items() if a == "last_session"]).exclude(
            session_id=session.pk).update(status=InvitationStatus.CANCELLED)
    created = []
    for item in wanted:
        invitation, new = OutcomeInvitation.objects.get_or_create(
            plan=plan, point=item.point, session=session, defaults={
                "clinic_id": plan.clinic_id, "patient_id": plan.patient_id,
                "label": item.label, "measures": item.patient_measures, "due": item.due,
                "answer_by": item.answer_by, "remind_on": item.remind_on,
                "outcomes_version": found.label, "created_at": clock.now()})
        if new:
            created.append(invitation)
    return created


def invitation_days() -> tuple[int, ...]:
    return tuple(default_protocol().data.aftercare.check_ins.days)


def on_checkin_recorded(event: CheckinRecorded) -> None:
    """Mark the invitation day this check-in answers on the session's summary row."""
    if event.day is None:
        return
    day = answered_checkin_day(event.day, invitation_days())
    if day is None:
        return
    bit = 1 << ANSWERED_DAY_BITS[day]
    # One statement, which changes nothing when the day is marked already: the check-in's own
    # transaction should not get slower for the clinic's numbers.
    (SignedSessionFact.objects.filter(session_id=event.session_id)
     .exclude(GreaterThan(F("answered_days").bitand(bit), 0))
     .update(answered_days=F("answered_days").bitor(bit)))


def register() -> None:
    """Listen to the services' events (called once from OutcomesConfig.ready)."""
    events.subscribe(SessionSigned, on_session_signed)
    events.subscribe(CheckinRecorded, on_checkin_recorded)
