"""The booking service: free slots only, hours (overridable with a reason), the roles that
perform a type, rooms and devices, the healing rules for sessions (named, with the earliest
safe date, overridable by clinicians only), and what each booking leaves behind."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from needlecare.audit.models import AuditEvent
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.diary import services
from needlecare.diary.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    PreVisit,
    WorkingException,
)
from needlecare.diary.services import BookingRefused
from needlecare.errors import ErrorKind
from needlecare.messaging.models import Message, MessageKind, MessageStatus
from needlecare.recovery.models import Escalation, EscalationStatus
from tests.factories import make_signed_session
from tests.web.diary.support import Diary, london

CONSULTATION = AppointmentKind.CONSULTATION
SESSION = AppointmentKind.SESSION


def codes(exc: pytest.ExceptionInfo[BookingRefused]) -> set[str]:
    return {p.code for p in exc.value.problems}


def test_a_consultation_in_a_free_slot_is_booked_with_its_messages(diary: Diary) -> None:
    appointment = diary.book(london(2026, 3, 4, 10, 0))

    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.ends_at == london(2026, 3, 4, 10, 30)
    assert appointment.block_end == london(2026, 3, 4, 10, 40)  # the 10-minute buffer
    assert appointment.room == diary.room_a  # a free room was chosen
    assert appointment.device is None  # a consultation needs none
    assert PreVisit.objects.filter(appointment=appointment).exists()
    kinds = set(Message.objects.filter(appointment=appointment).values_list("kind", flat=True))
    assert kinds == {MessageKind.APPOINTMENT_BOOKED, MessageKind.APPOINTMENT_REMINDER,
                     MessageKind.PRE_VISIT}
    reminder = Message.objects.get(appointment=appointment,
                                   kind=MessageKind.APPOINTMENT_REMINDER)
    assert reminder.due_at == london(2026, 3, 3, 10, 0)  # 24 hours before
    # Booked for today, there is no time left for a reminder.
    today = diary.book(london(2026, 3, 2, 10, 0))
    assert not Message.objects.filter(appointment=today,
                                      kind=MessageKind.APPOINTMENT_REMINDER).exists()
    assert AuditEvent.objects.filter(action="appointment.booked",
                                     object_id=str(appointment.pk)).exists()


def test_the_same_practitioner_cannot_be_booked_twice(diary: Diary) -> None:
    diary.book(london(2026, 3, 2, 10, 0))
    with pytest.raises(BookingRefused) as refused:
        diary.book(london(2026, 3, 2, 10, 15))
    assert refused.value.code == "slot_taken"
    assert refused.value.kind == ErrorKind.CONFLICT
    assert "practitioner_busy" in codes(refused)
    # Nor inside the buffer after it, nor past a reason: a double booking is never allowed.
    with pytest.raises(BookingRefused):
        diary.book(london(2026, 3, 2, 10, 35), override="The patient insists on this time.")
    # Right after the buffer is free.
    assert diary.book(london(2026, 3, 2, 10, 40)).starts_at == london(2026, 3, 2, 10, 40)


def test_rooms_and_the_device_are_never_in_two_places(diary: Diary) -> None:
    # Sam works on Tuesdays; Jo and Sam book sessions at the same time: one device only.
    other = diary.patient
    diary.book(london(2026, 3, 3, 11, 0), CONSULTATION, room_id=diary.room_b.pk)
    with pytest.raises(BookingRefused) as refused:
        diary.book(london(2026, 3, 3, 11, 0), CONSULTATION, practitioner=diary.sam,
                   room_id=diary.room_b.pk, patient=other)
    assert "room_busy" in codes(refused)
    # Without a room asked for, the free one is chosen.
    booked = diary.book(london(2026, 3, 3, 11, 0), CONSULTATION, practitioner=diary.sam)
    assert booked.room == diary.room_a


def test_outside_working_hours_needs_a_reason_and_is_kept(diary: Diary) -> None:
    with pytest.raises(BookingRefused) as refused:
        diary.book(london(2026, 3, 2, 17, 15))  # ends 17:45, after closing
    assert codes(refused) == {"outside_opening_hours", "outside_working_hours"}
    assert refused.value.kind == ErrorKind.INVALID
    with pytest.raises(BookingRefused, match="at least"):
        diary.book(london(2026, 3, 2, 17, 15), override="late")
    appointment = diary.book(london(2026, 3, 2, 17, 15),
                             override="Jo agreed to stay for this patient.")
    assert appointment.override_rules == ["outside_opening_hours", "outside_working_hours"]
    assert appointment.overridden_by == diary.desk
    booked = AuditEvent.objects.get(action="appointment.booked", object_id=str(appointment.pk))
    assert booked.detail["override"]["reason"] == "Jo agreed to stay for this patient."


def test_a_practitioners_own_week_and_leave_count(diary: Diary) -> None:
    with pytest.raises(BookingRefused) as refused:  # Sam does not work on Mondays
        diary.book(london(2026, 3, 2, 11, 0), practitioner=diary.sam)
    assert codes(refused) == {"outside_working_hours"}
    WorkingException.objects.create(clinic=diary.clinic, practitioner=diary.jo,
                                    starts_on=dt.date(2026, 3, 4), ends_on=dt.date(2026, 3, 4),
                                    reason="Training")
    with pytest.raises(BookingRefused) as refused:
        diary.book(london(2026, 3, 4, 11, 0))
    assert codes(refused) == {"outside_working_hours"}


def test_only_the_roles_a_type_allows_perform_it(diary: Diary) -> None:
    with pytest.raises(BookingRefused) as refused:
        diary.book(london(2026, 3, 2, 11, 0), practitioner=diary.desk,
                   override="The desk cannot treat anyone.")
    assert "role_not_allowed" in codes(refused)


def test_the_past_cannot_be_booked(diary: Diary) -> None:
    with pytest.raises(BookingRefused) as refused:
        diary.book(london(2026, 3, 2, 7, 0), override="Backdating a visit that happened.")
    assert "in_the_past" in codes(refused)


# --- sessions: the healing rules -------------------------------------------------------------

def test_a_session_is_the_booking_of_its_treatment_session(diary: Diary) -> None:
    appointment = diary.book(london(2026, 3, 2, 11, 0), SESSION)
    session = appointment.treatment_session
    assert session is not None
    assert session.status == SessionStatus.BOOKED
    assert session.scheduled_for == appointment.starts_at
    assert session.booked_by == diary.desk
    assert appointment.device == diary.pen


def test_a_session_too_early_names_the_rule_and_the_earliest_safe_date(diary: Diary) -> None:
    make_signed_session(diary.plan, diary.jo, performed_on=dt.date(2026, 2, 23))
    with pytest.raises(BookingRefused) as refused:
        diary.book(london(2026, 3, 2, 11, 0), SESSION)
    assert refused.value.code == "min_interval"
    assert refused.value.earliest_safe_date == dt.date(2026, 3, 23)  # 28 days later
    assert "23 March 2026" in refused.value.message
    # The desk may not book past a clinical rule, whatever the reason.
    with pytest.raises(BookingRefused, match="Only a clinician"):
        diary.book(london(2026, 3, 2, 11, 0), SESSION, override="The patient is travelling.")
    # A clinician may, with the reason kept.
    appointment = diary.book(london(2026, 3, 2, 11, 0), SESSION, user=diary.jo,
                             override="Light session only; reviewed the skin myself.")
    assert appointment.override_rules == ["min_interval"]
    assert appointment.overridden_by == diary.jo
    # On the safe date itself nothing needs overriding.
    later = diary.book(london(2026, 3, 30, 11, 0), SESSION, user=diary.jo,
                       override="Overrides the next-session rule only.")
    assert "min_interval" not in later.override_rules


def test_an_open_escalation_and_no_consent_block_a_session(diary: Diary) -> None:
    last = make_signed_session(diary.plan, diary.jo, performed_on=dt.date(2026, 1, 5))
    Escalation.objects.create(clinic=diary.clinic, patient=diary.patient, session=last,
                              level="contact_clinic", status=EscalationStatus.OPEN,
                              deadline=london(2026, 1, 7, 17), reasons=[],
                              opened_at=london(2026, 1, 6, 19))
    with pytest.raises(BookingRefused) as refused:
        diary.book(london(2026, 3, 2, 11, 0), SESSION)
    assert codes(refused) == {"open_escalation"}
    assert refused.value.earliest_safe_date is None
    diary.patient.consents.update(withdrawn_at=london(2026, 3, 1, 12))
    with pytest.raises(BookingRefused) as refused:
        diary.book(london(2026, 3, 2, 11, 0), SESSION)
    assert codes(refused) == {"open_escalation", "no_consent"}


def test_a_session_before_the_next_booked_one_of_the_course_is_refused(diary: Diary) -> None:
    diary.book(london(2026, 3, 30, 11, 0), SESSION)
    with pytest.raises(BookingRefused) as refused:
        diary.book(london(2026, 3, 16, 11, 0), SESSION)
    assert codes(refused) == {"before_next_session"}


def test_signing_the_session_marks_its_appointment_done(diary: Diary) -> None:
    from needlecare.care import services as care
    from tests.web.messaging.support import chart

    with time_machine.travel(london(2026, 3, 2, 11, 0), tick=False):
        appointment = diary.book(london(2026, 3, 2, 11, 0), SESSION)
    with time_machine.travel(london(2026, 3, 2, 12, 0), tick=False):
        care.sign_session(diary.actor(diary.jo), appointment.treatment_session_id,
                          chart(dt.date(2026, 3, 2)))
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.DONE


# --- moving, cancelling, the day ---------------------------------------------------------------

def test_moving_raises_the_sequence_and_tells_the_patient(diary: Diary) -> None:
    appointment = diary.book(london(2026, 3, 9, 11, 0), SESSION)
    moved = services.move(diary.actor(), appointment.pk, london(2026, 3, 10, 11, 0))
    assert moved.sequence == 1
    assert moved.treatment_session.scheduled_for == london(2026, 3, 10, 11, 0)
    reminders = Message.objects.filter(appointment=appointment,
                                       kind=MessageKind.APPOINTMENT_REMINDER)
    assert {(m.due_at, m.status) for m in reminders} == {
        (london(2026, 3, 8, 11, 0), MessageStatus.CANCELLED),
        (london(2026, 3, 9, 11, 0), MessageStatus.PENDING)}
    assert Message.objects.filter(appointment=appointment,
                                  kind=MessageKind.APPOINTMENT_CHANGED).count() == 1
    with pytest.raises(BookingRefused):
        services.move(diary.actor(), appointment.pk, london(2026, 3, 10, 18, 0))


def test_cancelling_frees_the_slot_and_offers_it_to_the_waiting_list(diary: Diary) -> None:
    from tests.factories import make_patient

    appointment = diary.book(london(2026, 3, 9, 11, 0), SESSION)
    waiting = make_patient(diary.clinic, diary.jo, given_name="Robin", messages_opt_in=True)
    entry = services.join_waitlist(diary.actor(), waiting.pk, diary.type(SESSION).pk)
    services.cancel(diary.actor(), appointment.pk, "Patient has a cold.")

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.treatment_session.status == SessionStatus.CANCELLED
    pending = Message.objects.filter(appointment=appointment, status=MessageStatus.PENDING)
    assert set(pending.values_list("kind", flat=True)) == {MessageKind.APPOINTMENT_CANCELLED}
    offer = Message.objects.get(kind=MessageKind.SLOT_OFFER)
    assert offer.patient == waiting
    assert offer.context["waitlist_entry"] == entry.pk
    # The slot is free again.
    assert diary.book(london(2026, 3, 9, 11, 0)).status == AppointmentStatus.BOOKED
    with pytest.raises(services.Conflict):
        services.cancel(diary.actor(), appointment.pk, "Twice.")


def test_the_days_states(diary: Diary) -> None:
    appointment = diary.book(london(2026, 3, 2, 9, 0), SESSION)
    with pytest.raises(services.Conflict):  # not before its time
        services.set_status(diary.actor(), appointment.pk, AppointmentStatus.NO_SHOW)
    services.confirm(diary.actor(), appointment.pk)
    with time_machine.travel(london(2026, 3, 2, 9, 5), tick=False):
        services.set_status(diary.actor(), appointment.pk, AppointmentStatus.ARRIVED)
        services.set_status(diary.actor(), appointment.pk, AppointmentStatus.IN_PROGRESS)
        with pytest.raises(services.Conflict):
            services.set_status(diary.actor(), appointment.pk, AppointmentStatus.NO_SHOW)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.IN_PROGRESS
    assert appointment.arrived_at == london(2026, 3, 2, 9, 5)


def test_a_patient_who_does_not_come_leaves_the_session_cancelled(diary: Diary) -> None:
    appointment = diary.book(london(2026, 3, 2, 9, 0), SESSION)
    with time_machine.travel(london(2026, 3, 2, 9, 30), tick=False):
        services.set_status(diary.actor(), appointment.pk, AppointmentStatus.NO_SHOW)
    session = TreatmentSession.objects.get(pk=appointment.treatment_session_id)
    assert session.status == SessionStatus.CANCELLED


# --- the next safe slot and whole courses --------------------------------------------------------

def test_the_next_safe_slots_respect_every_rule(diary: Diary) -> None:
    make_signed_session(diary.plan, diary.jo, performed_on=dt.date(2026, 2, 23))
    found = services.next_safe_slots(diary.actor(), diary.patient.pk, diary.type(SESSION).pk,
                                     plan_id=diary.plan.pk, practitioner_id=diary.jo.pk,
                                     count=3)
    assert found.earliest_safe_date == dt.date(2026, 3, 23)
    assert [s.starts_at for s in found.slots] == [london(2026, 3, 23, 9, 0),
                                                   london(2026, 3, 23, 9, 15),
                                                   london(2026, 3, 23, 9, 30)]
    # A booking takes its block (and the device) out of the offer.
    diary.book(london(2026, 3, 23, 9, 0), SESSION, user=diary.jo,
               override="Overrides nothing: on the safe date.")
    after = services.next_safe_slots(diary.actor(), diary.patient.pk,
                                     diary.type(CONSULTATION).pk, practitioner_id=diary.jo.pk,
                                     count=1, not_before=london(2026, 3, 23, 9, 0))
    assert after.slots[0].starts_at == london(2026, 3, 23, 10, 15)  # 60 min + 15 buffer


def test_any_practitioner_offers_the_earliest_of_all(diary: Diary) -> None:
    # Monday 08:00: Jo and Priya (the owner) work the clinic's hours; Sam only from Tuesday.
    diary.book(london(2026, 3, 2, 9, 0), practitioner=diary.owner)
    found = services.next_safe_slots(diary.actor(), diary.patient.pk,
                                     diary.type(CONSULTATION).pk, count=3)
    assert [(s.starts_at, s.practitioner) for s in found.slots] == [
        (london(2026, 3, 2, 9, 0), diary.jo), (london(2026, 3, 2, 9, 15), diary.jo),
        (london(2026, 3, 2, 9, 30), diary.jo)]
    later = services.next_safe_slots(diary.actor(), diary.patient.pk,
                                     diary.type(CONSULTATION).pk, count=8)
    assert (london(2026, 3, 2, 9, 45), diary.owner) in [(s.starts_at, s.practitioner)
                                                        for s in later.slots]


def test_a_whole_course_is_booked_at_the_plans_interval(diary: Diary) -> None:
    booked = services.book_course(diary.actor(), diary.plan.pk, london(2026, 3, 2, 11, 0),
                                  practitioner_id=diary.jo.pk)
    assert [a.starts_at for a in booked] == [london(2026, 3, 2, 11, 0),
                                             london(2026, 3, 30, 11, 0),
                                             london(2026, 4, 27, 11, 0)]
    assert all(a.treatment_session is not None for a in booked)
    with pytest.raises(services.Conflict):
        services.book_course(diary.actor(), diary.plan.pk, london(2026, 5, 4, 11, 0),
                             practitioner_id=diary.jo.pk)


def test_a_course_refused_part_way_books_nothing(diary: Diary) -> None:
    # Jo is away for the whole week the third session would fall in.
    WorkingException.objects.create(clinic=diary.clinic, practitioner=diary.jo,
                                    starts_on=dt.date(2026, 4, 27), ends_on=dt.date(2026, 5, 8),
                                    reason="Leave")
    with pytest.raises(BookingRefused, match="Session 3"):
        services.book_course(diary.actor(), diary.plan.pk, london(2026, 3, 2, 11, 0),
                             practitioner_id=diary.jo.pk)
    assert not Appointment.objects.exists()
