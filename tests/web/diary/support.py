"""A clinic for the diary tests: London, open Monday to Friday 09:00–17:30, two clinicians
(one with her own hours), an owner and a desk, two rooms and one device, and a patient with a
consultation, a treatment consent and a plan (3 sessions, 28 days apart). The clock is
stopped on Monday 2 March 2026 at 08:00 unless a test moves it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from needlecare.access import Actor
from needlecare.accounts.models import Clinic, Role, User
from needlecare.care.models import TreatmentPlan
from needlecare.diary import services
from needlecare.diary.models import (
    Appointment,
    AppointmentKind,
    AppointmentType,
    Device,
    Room,
    WorkingHours,
)
from needlecare.diary.resources import clinic_types
from needlecare.patients.models import Patient
from tests.factories import (
    make_clinic,
    make_consent,
    make_consultation,
    make_patient,
    make_plan,
    make_user,
)

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = {str(day): [["09:00", "17:30"]] for day in range(5)}
MONDAY = dt.date(2026, 3, 2)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


@dataclass
class Diary:
    clinic: Clinic
    jo: User  # clinician, the clinic's hours
    sam: User  # clinician, her own hours (below)
    owner: User
    desk: User
    room_a: Room
    room_b: Room
    pen: Device
    patient: Patient
    plan: TreatmentPlan

    def actor(self, user: User | None = None) -> Actor:
        return Actor(user=user or self.desk)

    def type(self, kind: str) -> AppointmentType:
        return next(t for t in clinic_types(self.clinic.pk) if t.kind == kind)

    def book(self, start: dt.datetime, kind: str = AppointmentKind.CONSULTATION, *,
             user: User | None = None, practitioner: User | None = None,
             patient: Patient | None = None, override: str = "", **extra: Any
             ) -> Appointment:
        patient = patient or self.patient
        if kind == AppointmentKind.SESSION:
            extra.setdefault("plan_id", TreatmentPlan.objects.filter(patient=patient)
                             .latest("id").pk)
        return services.book(self.actor(user), services.Proposal(
            patient_id=patient.pk, type_id=self.type(kind).pk,
            practitioner_id=(practitioner or self.jo).pk, starts_at=start, **extra),
            override_reason=override)


def make_diary() -> Diary:
    clinic = make_clinic(time_zone="Europe/London", opening_hours=WEEKDAYS)
    jo = make_user(clinic, Role.CLINICIAN, first_name="Jo", last_name="Rowe",
                   email="jo@example.test")
    sam = make_user(clinic, Role.CLINICIAN, first_name="Sam", last_name="Okafor",
                    email="sam@example.test")
    owner = make_user(clinic, Role.OWNER, first_name="Priya", last_name="Natarajan")
    desk = make_user(clinic, Role.FRONT_DESK, first_name="Alex", last_name="Marsh")
    patient = make_patient(clinic, jo, given_name="Morgan", family_name="Fairweather",
                           messages_opt_in=True, preferred_channel="email")
    consultation = make_consultation(patient, jo)
    make_consent(patient, jo)
    plan = make_plan(consultation, jo)
    # Sam's own week: Tuesday to Thursday, 10:00–16:00.
    WorkingHours.objects.create(clinic=clinic, practitioner=sam, weekly={
        "1": [["10:00", "16:00"]], "2": [["10:00", "16:00"]], "3": [["10:00", "16:00"]]})
    return Diary(clinic=clinic, jo=jo, sam=sam, owner=owner, desk=desk,
                 room_a=Room.objects.create(clinic=clinic, name="Room A"),
                 room_b=Room.objects.create(clinic=clinic, name="Room B"),
                 pen=Device.objects.create(clinic=clinic, name="Pen 1"),
                 patient=patient, plan=plan)


