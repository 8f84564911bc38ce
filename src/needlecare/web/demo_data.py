"""The synthetic demo clinic that ``needlecare demo`` loads.

Every person, date of birth, phone number (Ofcom's 07700 900xxx drama range) and email address
(@example.test) here is made up. The data go in through the same services the pages use, so
every row has its audit trail, as the staff member (or the patient's link) that would have
made it. The clinic's history is simulated by running each service at the moment it would have
happened: the one clock (``needlecare.clock``, which the services, the deadlines and every
model's creation time read) is held at that moment while the service runs. Nothing else is
faked.

The first owner is the one record made without a service (``web.bootstrap.create_owner``, the
same code as ``needlecare createadmin``), since no owner exists yet to add them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from needlecare import clock
from needlecare.access import Actor
from needlecare.accounts.models import ApiToken, Clinic, User
from needlecare.accounts.services import NewStaff, create_staff
from needlecare.audit.models import AuditChain, AuditEvent
from needlecare.care import services as care
from needlecare.care.models import (
    AftercareRecord,
    Consent,
    Consultation,
    PlanEdit,
    SessionAddendum,
    SessionZone,
    TreatmentPlan,
    TreatmentSession,
)
from needlecare.clinical import vocabulary as vocab
from needlecare.messaging.models import Message
from needlecare.patients.models import Patient
from needlecare.patients.services import PatientDetails, register_patient
from needlecare.recovery import links
from needlecare.recovery import services as recovery
from needlecare.recovery.models import (
    CheckIn,
    Escalation,
    EscalationNote,
    PatientLink,
)
from needlecare.web.bootstrap import NewOwner, create_owner

CLINIC_NAME = "Demo Skin Clinic"
CLINIC_PHONE = "020 7946 0000"  # Ofcom's drama range for London
# A fixed, documented password: the demo holds synthetic data only, and `needlecare demo`
# refuses to run in production.
DEMO_PASSWORD = "needlecare-demo-2026"


@dataclass(frozen=True)
class StaffMember:
    username: str
    role: str
    first_name: str
    last_name: str
    title: str = ""


# Roles as accounts.models.Role values (plain strings: Django's choices are untyped here).
OWNER = StaffMember("demo.owner", "owner", "Priya", "Natarajan", "Clinic lead, RN")
CLINICIAN = StaffMember("demo.clinician", "clinician", "Jo", "Rowe", "Aesthetic nurse")
CLINICIAN_2 = StaffMember("demo.clinician2", "clinician", "Sam", "Okafor", "Dermatology nurse")
FRONT_DESK = StaffMember("demo.desk", "front_desk", "Alex", "Marsh")
STAFF = (OWNER, CLINICIAN, CLINICIAN_2, FRONT_DESK)


class History:
    """Moments in the clinic's zone relative to today, never later than the real now."""

    def __init__(self, time_zone: str) -> None:
        self.now = clock.now()
        self.zone = ZoneInfo(time_zone)
        self.today = self.now.astimezone(self.zone).date()

    def at(self, days_ago: int, hour: int, minute: int = 0) -> dt.datetime:
        day = self.today - dt.timedelta(days=days_ago)
        moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.zone)
        # "Today at 19:00" is still to come in the morning: use a moment just past instead,
        # but still today (a session signed "today" must not be signed yesterday).
        midnight = dt.datetime.combine(self.today, dt.time(0), tzinfo=self.zone)
        return min(moment, max(self.now - dt.timedelta(minutes=5), midnight))

    def future(self, days_ahead: int, hour: int, minute: int = 0) -> dt.datetime:
        day = self.today + dt.timedelta(days=days_ahead)
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.zone)


# --- what each patient went through -------------------------------------------------------------

NO_FLAGS = dict.fromkeys(vocab.RED_FLAGS, False)


def intake(history: History, days_ago: int, *, fitzpatrick: int = 2,
           indications: tuple[str, ...] = ("acne_scars",), zones: tuple[str, ...] = ("cheeks",),
           conditions: Mapping[str, bool] | None = None,
           procedures: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A consultation's answers: every question asked, "no" unless given."""
    day = history.today - dt.timedelta(days=days_ago)
    return {
        "assessed_on": day.isoformat(), "planned_date": (day + dt.timedelta(days=7)).isoformat(),
        "fitzpatrick": fitzpatrick, "indications": list(indications), "zones": list(zones),
        "device": "pen",
        "conditions": {**dict.fromkeys(vocab.CONDITIONS, False), **(conditions or {})},
        "medications": dict.fromkeys(vocab.MEDICATIONS, False),
        "procedures": {**dict.fromkeys(vocab.PROCEDURES, False), **(procedures or {})},
        "allergies": dict.fromkeys(vocab.ALLERGIES, False),
    }


@dataclass(frozen=True)
class CheckInSpec:
    day: int  # days after the session
    symptoms: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    note: str = ""
    hour: int = 19


@dataclass(frozen=True)
class Follow:
    """What the clinic did about the escalation (after the last check-in)."""

    acknowledge: bool = False
    outcome: str = ""
    note: str = ""


@dataclass(frozen=True)
class PatientSpec:
    given_name: str
    family_name: str
    date_of_birth: dt.date
    phone_suffix: int
    stage: str
    registered_by: StaffMember = FRONT_DESK
    clinician: StaffMember = CLINICIAN
    intake: dict[str, Any] = field(default_factory=dict)
    indications: tuple[str, ...] = ("acne_scars",)
    zones: tuple[str, ...] = ("cheeks",)
    fitzpatrick: int = 2
    conditions: Mapping[str, bool] = field(default_factory=dict)
    procedures: Mapping[str, Any] = field(default_factory=dict)
    #: For a signed session: how many days ago it was done.
    session_days_ago: int | None = None
    checkins: tuple[CheckInSpec, ...] = ()
    follow: Follow | None = None
    #: Book the next session of the course for today (after the signed one).
    next_session_today: bool = False
    #: A booked session today (hour), optionally with a draft chart.
    booked_today_at: int | None = None
    draft_chart: bool = False
    photo_consent: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


D = dt.date
HEALING = {"redness": (3, "better"), "swelling": (2, "better")}
PATIENTS: tuple[PatientSpec, ...] = (
    # Registered only.
    PatientSpec("Imogen", "Ashcombe", D(1991, 2, 14), 1, "registered"),
    PatientSpec("Tobias", "Wrenfield", D(1984, 9, 3), 2, "registered"),
    PatientSpec("Leonie", "Carrow", D(1999, 12, 21), 3, "registered"),
    PatientSpec("Rafael", "Dunmore", D(1977, 6, 30), 4, "registered", registered_by=OWNER),
    # Screened, with each verdict.
    PatientSpec("Hana", "Pellow", D(1993, 4, 8), 5, "screened"),
    PatientSpec("Marcus", "Thistlewood", D(1988, 1, 19), 6, "screened", fitzpatrick=4,
                conditions={"cold_sore_history": True}),
    PatientSpec("Saoirse", "Blakeney", D(1995, 7, 11), 7, "screened",
                procedures={"laser_non_ablative": "@-3"}),
    PatientSpec("Dev", "Ranasinghe", D(1982, 3, 27), 8, "screened",
                conditions={"keloid_history": True}, clinician=CLINICIAN_2),
    PatientSpec("Orla", "Fenwick", D(1990, 10, 5), 9, "screened", fitzpatrick=3,
                indications=("fine_lines",), zones=("forehead", "periorbital")),
    # Consented, and planned.
    PatientSpec("Quentin", "Hargreave", D(1986, 8, 16), 10, "consented", photo_consent=True),
    PatientSpec("Yasmin", "Osei-Lambert", D(1997, 5, 2), 11, "planned", fitzpatrick=5,
                indications=("dyschromia_melasma",)),
    PatientSpec("Elliot", "Marchbank", D(1979, 11, 23), 12, "planned",
                indications=("stretch_marks",), zones=("body",), clinician=CLINICIAN_2),
    # Booked for today.
    PatientSpec("Freya", "Holloway", D(1992, 9, 9), 13, "booked", booked_today_at=14),
    PatientSpec("Nikhil", "Acharya", D(1985, 2, 28), 14, "booked", booked_today_at=15,
                draft_chart=True, fitzpatrick=4),
    # Signed today, and yesterday with no check-in yet (both due on the worklist soon).
    PatientSpec("Beatrix", "Lowther", D(1989, 6, 6), 15, "signed", session_days_ago=0),
    PatientSpec("Robin", "Ashdown", D(1990, 5, 17), 16, "signed", session_days_ago=1,
                photo_consent=True),
    # Expected healing.
    PatientSpec("Callum", "Brightwater", D(1994, 3, 13), 17, "signed", session_days_ago=1,
                checkins=(CheckInSpec(1, {"redness": (4, "same"), "swelling": (3, "better")},
                                      hour=8),)),
    PatientSpec("Maya", "Kettering", D(1983, 12, 1), 18, "signed", session_days_ago=2,
                checkins=(CheckInSpec(1, {"redness": (4, "same")}), CheckInSpec(2, HEALING))),
    PatientSpec("Ivo", "Sandgate", D(1976, 4, 18), 19, "signed", session_days_ago=7,
                clinician=CLINICIAN_2, fitzpatrick=3, indications=("fine_lines",),
                zones=("forehead",),
                checkins=(CheckInSpec(1, {"redness": (5, "same")}),
                          CheckInSpec(3, {"redness": (3, "better"),
                                          "dryness_flaking": (3, "same")}),
                          CheckInSpec(7, {"dryness_flaking": (1, "better")}, hour=9))),
    # Contact the clinic: open, and acknowledged.
    PatientSpec("Tamsin", "Goodwin", D(1996, 8, 29), 20, "signed", session_days_ago=2,
                checkins=(CheckInSpec(2, {"redness": (3, "better")}, flags=("firm_bumps",),
                                      note="Small hard bumps along my jaw since yesterday."),)),
    PatientSpec("Kofi", "Asante-Reid", D(1987, 1, 7), 21, "signed", session_days_ago=7,
                fitzpatrick=5, indications=("acne_scars",),
                checkins=(CheckInSpec(3, {"redness": (3, "better")}),
                          CheckInSpec(7, {}, flags=("new_dark_patches",), hour=9)),
                follow=Follow(acknowledge=True)),
    # Urgent: one overdue since last night, one from this morning.
    PatientSpec("Harriet", "Vance", D(1992, 11, 15), 22, "signed", session_days_ago=3,
                checkins=(CheckInSpec(1, {"redness": (5, "same")}),
                          CheckInSpec(2, {"redness": (6, "worse"), "pain": (5, "worse")},
                                      flags=("pus_or_yellow_crusts", "fever_or_chills"),
                                      note="Yellow crusts on my cheek and I feel hot.",
                                      hour=20))),
    PatientSpec("Oscar", "Pemberton", D(1981, 7, 4), 23, "signed", session_days_ago=2,
                clinician=CLINICIAN_2,
                checkins=(CheckInSpec(2, {}, flags=("blisters_or_cold_sores",), hour=8,
                                      note="Tingling and small blisters on my lip."),)),
    # Emergency.
    PatientSpec("Lucia", "Ferreira-Hart", D(1998, 2, 10), 24, "signed", session_days_ago=1,
                checkins=(CheckInSpec(1, {"swelling": (8, "worse")},
                                      flags=("breathing_or_throat_swelling", "hives_or_rash"),
                                      note="My lips are swelling and my throat feels tight.",
                                      hour=9),)),
    # A closed escalation, a month ago; the next session of the course is booked for today.
    PatientSpec("Gideon", "Farrow", D(1980, 10, 31), 25, "signed", session_days_ago=30,
                checkins=(CheckInSpec(1, {"redness": (5, "same")}),
                          CheckInSpec(3, {"redness": (4, "better")}, flags=("hives_or_rash",),
                                      note="An itchy rash around the treated area.")),
                follow=Follow(outcome="seen_in_clinic",
                              note="Seen the next morning: contact reaction to the serum; "
                                   "settled within two days."),
                next_session_today=True),
    PatientSpec("Anouk", "Villiers", D(1985, 5, 25), 26, "signed", session_days_ago=30,
                clinician=CLINICIAN_2, checkins=(CheckInSpec(1, HEALING),
                                                 CheckInSpec(3, {"redness": (2, "better")}))),
    # More of the daily mix.
    PatientSpec("Wilf", "Treharne", D(1973, 9, 17), 27, "registered"),
    PatientSpec("Esme", "Calloway", D(2001, 1, 29), 28, "screened", conditions={
        "active_acne": True}),
    PatientSpec("Jonah", "Kilbride", D(1994, 6, 12), 29, "consented"),
    PatientSpec("Priyanka", "Sethi-Moore", D(1988, 4, 3), 30, "signed", session_days_ago=3,
                fitzpatrick=4, checkins=(CheckInSpec(1, {"redness": (4, "same")}),
                                         CheckInSpec(3, HEALING))),
    PatientSpec("Bram", "Oyelaran", D(1991, 12, 8), 31, "planned", photo_consent=True),
)
#: The patient whose fresh personal link the command prints, to try the phone pages.
TRY_ME = "Robin Ashdown"

_STAGES = ("registered", "screened", "consented", "planned", "booked", "signed")


# --- loading -------------------------------------------------------------------------------------

@dataclass
class Loaded:
    clinic: Clinic
    created: bool
    patients: int
    try_me_url: str = ""
    try_me_dob: dt.date | None = None


def demo_clinic() -> Clinic | None:
    return Clinic.objects.filter(name=CLINIC_NAME).first()


def load(*, reset: bool = False) -> Loaded:
    """Load the demo clinic unless it is there already (``reset`` rebuilds it). Either way,
    issue a fresh personal link for the try-me patient (revoking the previous one)."""
    with transaction.atomic():
        clinic = demo_clinic()
        if clinic is not None and reset:
            remove(clinic)
            clinic = None
        created = clinic is None
        if clinic is None:
            clinic = _build()
    loaded = Loaded(clinic=clinic, created=created,
                    patients=Patient.objects.filter(clinic=clinic).count())
    _issue_try_me_link(loaded)
    return loaded


def _actor(user: User) -> Actor:
    return Actor(user=user)


def _build() -> Clinic:
    history = History(Clinic._meta.get_field("time_zone").default)
    users: dict[str, User] = {}
    with clock.at(history.at(60, 9)):
        owner = create_owner(NewOwner(
            clinic_name=CLINIC_NAME, clinic_phone=CLINIC_PHONE, username=OWNER.username,
            password=DEMO_PASSWORD, first_name=OWNER.first_name, last_name=OWNER.last_name,
            email="priya.natarajan@example.test", title=OWNER.title))
        users[OWNER.username] = owner
        for member in STAFF[1:]:
            users[member.username] = create_staff(_actor(owner), NewStaff(
                username=member.username, first_name=member.first_name,
                last_name=member.last_name, role=member.role, password=DEMO_PASSWORD,
                title=member.title,
                email=f"{member.first_name}.{member.last_name}@example.test".lower()))
    clinic = owner.clinic
    assert clinic is not None
    for n, spec in enumerate(PATIENTS):
        _patient(spec, users, history, n)
    return clinic


def _patient(spec: PatientSpec, users: dict[str, User], history: History, n: int) -> None:
    # The course starts two weeks before the session (or lately, for the earlier stages).
    start = (spec.session_days_ago + 14) if spec.session_days_ago is not None else 10 - n % 7
    clinician = _actor(users[spec.clinician.username])
    desk = _actor(users[spec.registered_by.username])
    stage = _STAGES.index(spec.stage)

    with clock.at(history.at(start + 3, 9, 10 + n)):
        patient = register_patient(desk, PatientDetails(
            given_name=spec.given_name, family_name=spec.family_name,
            date_of_birth=spec.date_of_birth, phone=f"07700 900{spec.phone_suffix:03d}",
            email=f"{spec.given_name}.{spec.family_name}@example.test".lower().replace(" ", ""),
            preferred_channel="sms" if n % 4 else "email",
            # Most demo patients agreed to messages; a few did not, so the outbox shows
            # what a clinic sees for them too (recorded as not sent, with the reason).
            messages_opt_in=n % 6 != 5))
    if stage < _STAGES.index("screened"):
        return

    procedures = {code: _when(history, start, value) for code, value in spec.procedures.items()}
    with clock.at(history.at(start, 10, 5 + n)):
        consultation = care.record_consultation(clinician, patient.pk, intake(
            history, start, fitzpatrick=spec.fitzpatrick, indications=spec.indications,
            zones=spec.zones, conditions=spec.conditions, procedures=procedures))
    if stage < _STAGES.index("consented"):
        return

    with clock.at(history.at(start, 10, 40 + n % 10)):
        care.sign_consent(clinician, patient.pk, kind="treatment", signed_name=spec.full_name,
                          understood=True, user_agent="Demo clinic tablet")
        if spec.photo_consent:
            care.sign_consent(clinician, patient.pk, kind="photos", signed_name=spec.full_name,
                              understood=True, photo_uses=["clinical_record"],
                              user_agent="Demo clinic tablet")
    if stage < _STAGES.index("planned"):
        return

    with clock.at(history.at(start, 10, 50 + n % 10)):
        plan = care.create_plan(clinician, consultation.pk, spec.indications, spec.zones)
    if stage < _STAGES.index("booked"):
        return

    if spec.booked_today_at is not None:
        with clock.at(history.at(start, 11)):
            session = care.book_session(desk, plan.pk, history.future(0, spec.booked_today_at,
                                                                      30 if n % 2 else 0))
        if spec.draft_chart:
            with clock.at(history.at(0, 8, 30)):
                care.save_chart(clinician, session.pk, _chart(plan, history.today,
                                                              users, spec, complete=False))
        return

    assert spec.session_days_ago is not None
    days_ago = spec.session_days_ago
    session_day = history.today - dt.timedelta(days=days_ago)
    with clock.at(history.at(start, 11)):
        session = care.book_session(desk, plan.pk, dt.datetime.combine(
            session_day, dt.time(9 + n % 6, 0), tzinfo=history.zone))
    with clock.at(history.at(days_ago, 9 + n % 6, 50)):
        care.sign_session(clinician, session.pk, _chart(plan, session_day, users, spec))
    with clock.at(history.at(days_ago, 9 + n % 6, 55)):
        link = links.send_link(clinician, session.patient_id)
        if spec.next_session_today:
            care.book_session(desk, plan.pk, history.future(0, 16))
    patient_actor = Actor.for_link(PatientLink.objects.select_related("clinic").get(
        pk=link.pk))
    for checkin in spec.checkins:
        with clock.at(history.at(days_ago - checkin.day, checkin.hour, n)):
            recovery.submit_checkin(patient_actor, {
                "symptoms": {code: {"severity": s, "trend": t}
                             for code, (s, t) in checkin.symptoms.items()},
                "red_flags": NO_FLAGS | dict.fromkeys(checkin.flags, True),
                "note": checkin.note})
    if spec.follow is not None:
        _follow_up(spec.follow, session, clinician, history, days_ago, spec.checkins[-1])


def _when(history: History, start: int, value: Any) -> Any:
    """A procedure answer of "@-N": the date N days before the consultation."""
    if isinstance(value, str) and value.startswith("@-"):
        return (history.today - dt.timedelta(days=start + int(value[2:]))).isoformat()
    return value


def _chart(plan: TreatmentPlan, performed_on: dt.date, users: dict[str, User],
           spec: PatientSpec, *, complete: bool = True) -> care.ChartData:
    rows = tuple(care.ZoneRow(zone=zone, depth_mm=Decimal(str(low)).quantize(Decimal("0.01")),
                              passes=3)
                 for zone, (low, _high) in plan.depth_ranges.items())
    return care.ChartData(
        performed_on=performed_on if complete else None,
        practitioner_id=users[spec.clinician.username].pk, device="pen",
        device_model="Synthetic Pen 3", cartridge_lot=f"DEMO-CART-{performed_on:%y%m}",
        cartridge_expiry=performed_on + dt.timedelta(days=400),
        anaesthetic="lidocaine 5% cream", anaesthetic_minutes=30,
        zones=rows if complete else rows[:1],
        endpoint_reached="uniform pinpoint bleeding" if complete else "",
        products=({"code": "hyaluronic_acid", "name": "Demo HA glide serum",
                   "lot": f"DEMO-HA-{performed_on:%y%m}"},),
        immediate_reaction="expected erythema" if complete else "",
    )


def _follow_up(follow: Follow, session: TreatmentSession, clinician: Actor, history: History,
               days_ago: int, last: CheckInSpec) -> None:
    escalation = Escalation.objects.get(session=session)
    day = days_ago - last.day
    if follow.acknowledge:
        with clock.at(history.at(day, last.hour, 40)):
            recovery.acknowledge_escalation(clinician, escalation.pk)
    if follow.outcome:
        with clock.at(history.at(max(0, day - 1), 9, 15)):
            recovery.acknowledge_escalation(clinician, escalation.pk)
            recovery.add_escalation_note(clinician, escalation.pk,
                                         "Called the patient back; booked to be seen.")
        with clock.at(history.at(max(0, day - 1), 12, 30)):
            recovery.close_escalation(clinician, escalation.pk, follow.outcome, follow.note)


def _issue_try_me_link(loaded: Loaded) -> None:
    given, family = TRY_ME.split(" ", 1)
    patient = Patient.objects.filter(clinic=loaded.clinic, given_name=given,
                                     family_name=family).first()
    session = (TreatmentSession.objects.filter(patient=patient, status="signed")
               .order_by("-performed_on").first()) if patient else None
    clinician = User.objects.filter(username=CLINICIAN.username).first()
    if patient is None or session is None or clinician is None:
        return
    issued = links.replace_link(_actor(clinician), patient.pk)
    loaded.try_me_url = issued.url
    loaded.try_me_dob = patient.date_of_birth


# --- removing ---------------------------------------------------------------------------------

def remove(clinic: Clinic) -> None:
    """Delete the demo clinic and everything in it, audit trail included (synthetic data only:
    the command refuses to run in production). Children first: every foreign key protects."""
    staff = list(User.objects.filter(clinic=clinic))
    steps: list[Callable[[], Any]] = [
        lambda: AuditEvent.objects.filter(clinic=clinic).delete(),
        lambda: AuditChain.objects.filter(clinic=clinic).delete(),
        lambda: ApiToken.objects.filter(user__in=staff).delete(),
        lambda: AuditEvent.objects.filter(actor__in=staff).delete(),
        lambda: AuditEvent.objects.filter(patient__clinic=clinic).delete(),
        lambda: Message.objects.filter(clinic=clinic).delete(),  # outbox (issue 4)
        lambda: EscalationNote.objects.filter(escalation__clinic=clinic).delete(),
        lambda: CheckIn.objects.filter(clinic=clinic).delete(),
        lambda: Escalation.objects.filter(clinic=clinic).delete(),
        lambda: PatientLink.objects.filter(clinic=clinic).delete(),
        lambda: AftercareRecord.objects.filter(session__clinic=clinic).delete(),
        lambda: SessionAddendum.objects.filter(session__clinic=clinic).delete(),
        lambda: SessionZone.objects.filter(session__clinic=clinic).delete(),
        lambda: TreatmentSession.objects.filter(clinic=clinic).delete(),
        lambda: PlanEdit.objects.filter(plan__clinic=clinic).delete(),
        lambda: TreatmentPlan.objects.filter(clinic=clinic).delete(),
        lambda: Consent.objects.filter(clinic=clinic).delete(),
        lambda: Consultation.objects.filter(clinic=clinic).delete(),
        lambda: Patient.objects.filter(clinic=clinic).delete(),
        lambda: User.objects.filter(clinic=clinic).delete(),
        lambda: clinic.delete(),
    ]
    with transaction.atomic():
        for step in steps:
            step()
