"""Recovery services: personal links, patient check-ins, escalations and the worklist.

Each service runs in one transaction, reaches the patient through the access layer (which
writes the audit row in that transaction) and refuses with ``ServiceError`` before writing.
Check-ins of one session are serialised on the session row, so a double-tapped "Send" or two
phones submitting at once never store a check-in twice or open two escalations.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError

from needlecare import clock
from needlecare.access import Actor, Permission, audit, require
from needlecare.accounts.models import Clinic, User
from needlecare.care.aftercare import (
    aftercare_document,
    recorded_session_facts,
    signed_session_facts,
)
from needlecare.care.models import SessionStatus, TreatmentSession
from needlecare.clinical.aftercare import DAILY_DAYS
from needlecare.clinical.protocol.loader import (
    Protocol,
    ProtocolError,
    default_protocol,
    protocol_by_version,
)
from needlecare.clinical.recovery import expected_course
from needlecare.clinical.redness import PhotoMeasurement
from needlecare.clinical.session import SessionFacts
from needlecare.clinical.triage import CheckIn as CheckInDocument
from needlecare.clinical.triage import EarlierCheckIn, TriageReason, TriageResult, triage
from needlecare.clinical.vocabulary import RED_FLAGS, SYMPTOMS
from needlecare.clinical.vocabulary import Level as TriageLevel
from needlecare.compiled import CompiledQuery
from needlecare.errors import Conflict, ServiceError
from needlecare.events import (
    CheckinRecorded,
    EscalationAcknowledged,
    EscalationClosed,
    EscalationOpened,
    EscalationRaised,
    emit,
)
from needlecare.hours import is_open
from needlecare.patients.access import access_patient, access_record, check_access
from needlecare.patients.models import Patient
from needlecare.recovery.advice import patient_advice, patient_reasons, result_protocol
from needlecare.recovery.deadlines import (
    checkin_due_session_dates,
    clinic_deadline,
    local_date,
    local_day_bounds,
)
from needlecare.recovery.links import current_session, own_link, require_usable
from needlecare.recovery.models import (
    LEVEL_RANK,
    CheckIn,
    Escalation,
    EscalationNote,
    EscalationStatus,
    Level,
    Outcome,
    PatientLink,
)
from needlecare.recovery.next_steps import ClinicContact, NextSteps, emergency_signs, next_steps
from needlecare.recovery.results import (
    checkin_document,
    earlier_checkin,
    stored_answers,
    stored_result,
    triage_result,
)
from needlecare.recovery.rules import (
    ActiveEscalation,
    EscalationAction,
    decide_escalation,
    reason_key,
)

ACTIVE_ESCALATION = (EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED)


def _patient_permission(actor: Actor) -> Permission:
    return Permission.PATIENT_SELF if actor.link is not None else Permission.WRITE_CLINICAL


# --- the patient's own pages ------------------------------------------------------------------

@dataclass(frozen=True)
class PatientToday:
    link: PatientLink
    patient: Patient
    #: The session whose aftercare the page shows (the latest signed), if any.
    session: TreatmentSession | None
    facts: SessionFacts | None
    today: dt.date
    day: int
    #: Instruction dicts of the needlecare.aftercare/1 document (with ``basis``).
    instructions: list[dict[str, Any]]
    normal_today: list[dict[str, Any]]
    skin_notes: list[str]
    call_clinic: str
    #: The week block shown after the daily part (from_day, to_day), if any.
    week: tuple[int, int] | None
    plan_finished: bool
    #: The signs for which the patient calls the emergency number, in their words.
    emergency_signs: str = ""
    #: The clinic has the patient's report: its state, shown at the top of the page.
    update: PatientUpdate | None = None


@dataclass(frozen=True)
class EscalationState:
    """How far the clinic has got with a patient's report, as the patient reads it: sent at,
    seen by whom and when, closed by whom with their note to the patient."""

    escalation: Escalation
    #: When the patient's latest report about it reached the clinic.
    sent_at: dt.datetime
    #: The latest note a clinician wrote to the patient about it (never an internal note).
    note: EscalationNote | None

    @property
    def status(self) -> str:
        return self.escalation.status

    @property
    def seen_by(self) -> str:
        return staff_name(self.escalation.acknowledged_by)

    @property
    def closed_by(self) -> str:
        return staff_name(self.escalation.closed_by)

    @property
    def closing_note(self) -> EscalationNote | None:
        closed_at = self.escalation.closed_at
        if self.note is None or closed_at is None or self.note.at < closed_at:
            return None
        return self.note


def escalation_state(escalation: Escalation, sent_at: dt.datetime) -> EscalationState:
    note = (EscalationNote.objects.filter(escalation_id=escalation.pk, to_patient=True)
            .select_related("by").order_by("-at", "-id").first())
    return EscalationState(escalation=escalation, sent_at=sent_at, note=note)


@dataclass(frozen=True)
class PatientUpdate:
    """What the top of the patient's page says while the clinic has their report: the latest
    result, its advice, what happens next and how far the clinic has got."""

    state: EscalationState
    #: The latest check-in of the escalation (the result the patient last saw).
    checkin: CheckIn
    reasons: list[str]
    advice: list[str]
    #: What to do now (None once the escalation is closed: the clinic has dealt with it).
    next: NextSteps | None


def staff_name(user: User | None) -> str:
    """A clinician as a patient reads their name ("Jo Rowe")."""
    if user is None:
        return ""
    return user.get_full_name() or user.username


#: How long a closed escalation stays at the top of the patient's page (until they check in
#: again, at most this long): the clinician's closing note is news for a while, not for ever.
CLOSED_SHOWN_FOR = dt.timedelta(days=7)


def clinic_next_steps(clinic: Clinic, level: str, *, now: dt.datetime,
                      deadline: dt.datetime | None = None,
                      protocol: Protocol | None = None) -> NextSteps:
    """``next_steps`` for a clinic row: its opening hours and closures, its contact details
    and call-back promise."""
    return next_steps(level, now, clinic.hours(), ClinicContact.of(clinic),
                      callback_hours=clinic.urgent_callback_hours,
                      emergency_signs=emergency_signs(protocol or default_protocol()),
                      deadline=deadline)


def checkin_next_steps(checkin: CheckIn, *, now: dt.datetime | None = None
                       ) -> NextSteps | None:
    """What to do now after ``checkin``: for its level, with its escalation's deadline while
    that is still open at this level; None when its escalation is closed."""
    escalation = checkin.escalation
    if escalation is not None and escalation.status == EscalationStatus.CLOSED:
        return None
    deadline = escalation.deadline if escalation is not None \
        and escalation.level == checkin.level else None
    return clinic_next_steps(checkin.clinic, checkin.level, now=now or clock.now(),
                             deadline=deadline,
                             protocol=result_protocol(checkin.protocol_version))


def _patient_update(session: TreatmentSession, now: dt.datetime) -> PatientUpdate | None:
    escalation = (Escalation.objects.filter(session_id=session.pk)
                  .select_related("acknowledged_by", "closed_by", "clinic")
                  .order_by("-opened_at", "-id").first())
    if escalation is None:
        return None
    latest = (CheckIn.objects.filter(session_id=session.pk).select_related("clinic")
              .order_by("-submitted_at", "-id").first())
    if latest is None or latest.escalation_id != escalation.pk:
        return None  # checked in since, and that check-in needed no one
    if escalation.status == EscalationStatus.CLOSED and (
            escalation.closed_at is None or escalation.closed_at + CLOSED_SHOWN_FOR < now):
        return None
    latest.escalation = escalation
    protocol = result_protocol(latest.protocol_version)
    active = escalation.status != EscalationStatus.CLOSED
    return PatientUpdate(
        state=escalation_state(escalation, latest.submitted_at), checkin=latest,
        reasons=patient_reasons(triage_result(latest)),
        advice=patient_advice(triage_result(latest), protocol),
        next=clinic_next_steps(escalation.clinic, escalation.level, now=now,
                               deadline=escalation.deadline, protocol=protocol)
        if active else None)


def patient_today(actor: Actor) -> PatientToday:
    """What the patient's home page shows today: their latest session's aftercare."""
    link = own_link(actor)
    with transaction.atomic():
        patient = access_patient(actor, link.patient_id, permission=Permission.PATIENT_SELF,
                                 action="patient.home")
        require_usable(PatientLink.objects.select_related("clinic").get(pk=link.pk))
        now = clock.now()
        PatientLink.objects.filter(pk=link.pk).update(last_opened_at=now)
        session = current_session(patient.pk)
        today = local_date(now, link.clinic.time_zone)
        if session is None:
            return PatientToday(link=link, patient=patient, session=None, facts=None,
                                today=today, day=0, instructions=[], normal_today=[],
                                skin_notes=[], call_clinic="", week=None, plan_finished=True,
                                emergency_signs=emergency_signs(default_protocol()))
        facts = signed_session_facts(session)
        plan, version = aftercare_document(session)
        update = _patient_update(session, now)
    day = max(0, (today - facts.date).days)
    instructions: list[dict[str, Any]] = []
    normal: list[dict[str, Any]] = []
    notes: list[str] = []
    week = None
    if day <= DAILY_DAYS:
        block: dict[str, Any] = next(
            (d for d in plan.get("days", []) if d.get("day") == day), {})
        instructions = block.get("instructions", [])
        normal = block.get("normal_today", [])
        notes = block.get("skin_notes", [])
    else:
        for block in plan.get("weeks", []):
            if block["from_day"] <= day <= block["to_day"]:
                instructions = block.get("instructions", [])
                week = (block["from_day"], block["to_day"])
        course = expected_course(facts, day)
        normal = [{"symptom": s.symptom, "phase": s.phase, "text": s.patient, "basis": s.basis}
                  for s in course.symptoms if s.phase in ("normal", "fading")]
        notes = course.skin_notes
    last_day = max([d.get("day", 0) for d in plan.get("days", [])]
                   + [w.get("to_day", 0) for w in plan.get("weeks", [])] + [0])
    return PatientToday(
        link=link, patient=patient, session=session, facts=facts, today=today, day=day,
        instructions=instructions, normal_today=normal, skin_notes=notes,
        call_clinic=plan.get("call_clinic", ""), week=week, plan_finished=day > last_day,
        emergency_signs=emergency_signs(result_protocol(version) or default_protocol()),
        update=update)


# --- check-ins --------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordedCheckIn:
    checkin: CheckIn
    #: False when the same answers had already been recorded today (a resubmitted form).
    created: bool
    escalation: Escalation | None


#: How many earlier check-ins of a session go into a new one's history.
PREVIOUS_CHECKINS_USED = 10


@dataclass(frozen=True)
class _Prepared:
    """A check-in worked out before its write transaction: the reads it depends on, the
    document, and the triage result. ``latest`` is the session's newest check-in then: the
    write re-checks it, so nothing decided here can be stale."""

    session: TreatmentSession
    document: CheckInDocument
    previous_ids: list[int]
    fingerprint: str
    latest: int | None
    same: int | None
    sent_today: int
    result: TriageResult | None


@dataclass(frozen=True)
class _Recent:
    """One of the session's latest check-ins, as a new one reads it."""

    pk: int
    answers: dict[str, Any]
    fingerprint: str
    link_id: int | None
    submitted_at: dt.datetime


def _recent(session: TreatmentSession) -> list[_Recent]:
    """The session's latest check-ins, oldest first: triage compares with the most recent
    report of each symptom (only the latest few: a long history made check-ins slow)."""
    rows = (CheckIn.objects.filter(session_id=session.pk).order_by("-submitted_at", "-id")
            .values_list("id", "answers", "fingerprint", "link_id", "submitted_at")
            [:PREVIOUS_CHECKINS_USED])
    return [_Recent(*row) for row in reversed(rows)]


def _today(link: PatientLink, session: TreatmentSession, recent: list[_Recent],
           day: dt.date, start: dt.datetime) -> list[tuple[int, int, int | None, str]]:
    """Today's check-ins of the session and of the link (id, session, link, fingerprint):
    an identical one is returned instead of stored, and the link's count is capped. The
    latest check-ins hold them all unless they are all from today, or the session was done
    today (the link may have checked in about the one before): then they are read."""
    session_day = session.performed_on
    if (len(recent) < PREVIOUS_CHECKINS_USED or recent[0].submitted_at < start) and (
            session_day is not None and session_day < day):
        return [(r.pk, session.pk, r.link_id, r.fingerprint) for r in recent
                if r.submitted_at >= start]
    return list(CheckIn.objects.filter(Q(session_id=session.pk) | Q(link_id=link.pk),
                                       submitted_at__gte=start)
                .values_list("id", "session_id", "link_id", "fingerprint"))


def _document(session: TreatmentSession, answers: Mapping[str, Any],
              previous: list[EarlierCheckIn], now: dt.datetime | None = None
              ) -> CheckInDocument:
    """The needlecare.checkin/1 document for the patient's answers (``symptoms``,
    ``red_flags``, ``note``), with the session facts and the session's earlier check-ins."""
    zone = ZoneInfo(session.clinic.time_zone)
    try:
        return CheckInDocument.model_validate({
            "session": recorded_session_facts(session).model_dump(mode="json", by_alias=True),
            "reported_at": (now or clock.now()).astimezone(zone),
            "symptoms": dict(answers.get("symptoms", {})),
            "red_flags": dict(answers.get("red_flags", {})),
            "note": answers.get("note", ""),
            "previous": [p.model_dump(mode="json", by_alias=True) for p in previous],
        })
    except ValidationError as exc:
        raise ServiceError("invalid_checkin", str(_(
            "These answers could not be read. Please check them and send them again."))
        ) from exc


def checkin_fingerprint(document: CheckInDocument, session_id: int, time_zone: str) -> str:
    """Same answers, same session, same local day: the same check-in."""
    answers = document.model_dump(mode="json", by_alias=True,
                                  include={"symptoms", "red_flags", "note"})
    canonical = json.dumps({"answers": answers, "session": session_id,
                            "date": local_date(document.reported_at, time_zone).isoformat()},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _snapshot(reasons: Iterable[TriageReason]) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in reasons if r.level is not TriageLevel.EXPECTED]


def _escalate(actor: Actor, session: TreatmentSession, level: str,
              reasons: list[dict[str, Any]], now: dt.datetime,
              current: Escalation | None) -> Escalation:
    """Store what ``decide_escalation`` decides, audit it and announce it."""
    state = None if current is None else ActiveEscalation(
        level=current.level, status=current.status, deadline=current.deadline,
        reasons=current.reasons)
    hours = session.clinic.hours()
    decision = decide_escalation(state, level, reasons,
                                 clinic_deadline(level, now, session.clinic, hours))
    if current is None:
        escalation = Escalation.objects.create(
            clinic_id=session.clinic_id, patient_id=session.patient_id, session=session,
            level=decision.level, reasons=decision.reasons, opened_at=now,
            opened_out_of_hours=not is_open(hours, now), deadline=decision.deadline)
        audit(actor, "escalation.open", patient=session.patient, obj=escalation,
              detail={"level": decision.level, "deadline": decision.deadline.isoformat()})
        emit(EscalationOpened(clinic_id=session.clinic_id, patient_id=session.patient_id,
                              escalation_id=escalation.pk, session_id=session.pk,
                              level=decision.level, deadline=decision.deadline))
        return escalation
    before = {"level": current.level, "deadline": current.deadline.isoformat(),
              "status": current.status}
    current.reasons = decision.reasons
    current.level = decision.level
    current.status = decision.status
    current.deadline = decision.deadline
    if decision.clear_acknowledgement:
        current.acknowledged_by = None
        current.acknowledged_at = None
    current.save(update_fields=["reasons", "level", "status", "deadline", "acknowledged_by",
                                "acknowledged_at"])
    raised = decision.action is EscalationAction.RAISE
    audit(actor, "escalation.raise" if raised else "escalation.update", patient=session.patient,
          obj=current, detail={"before": before, "level": current.level,
                               "deadline": current.deadline.isoformat()})
    if raised:
        emit(EscalationRaised(clinic_id=session.clinic_id, patient_id=session.patient_id,
                              escalation_id=current.pk, session_id=session.pk,
                              level=current.level, previous_level=before["level"],
                              deadline=current.deadline))
    return current


def checkins_per_day() -> int:
    """How many check-ins one personal link may send in a day (``PATIENT_CHECKINS_PER_DAY``)."""
    return int(getattr(settings, "PATIENT_CHECKINS_PER_DAY", 12))


def _prepare(link: PatientLink, session: TreatmentSession, answers: Mapping[str, Any]
             ) -> _Prepared:
    """Everything a check-in decides, from reads alone: on SQLite these run before the write
    lock, so two workers triage in parallel and the lock covers only the writes."""
    clinic = session.clinic
    zone = ZoneInfo(clinic.time_zone)
    recent = _recent(session)
    previous_ids = [r.pk for r in recent]
    document = _document(session, answers, [earlier_checkin(r.answers, zone) for r in recent])
    fingerprint = checkin_fingerprint(document, session.pk, clinic.time_zone)
    day = local_date(clock.now(), clinic.time_zone)
    start, _end = local_day_bounds(day, clinic.time_zone)
    today = _today(link, session, recent, day, start)
    same = next((pk for pk, s, _l, f in today if s == session.pk and f == fingerprint), None)
    latest = previous_ids[-1] if previous_ids else None
    result = None
    if same is None:
        try:
            result = triage(document)
        except ValueError as exc:  # a code the protocol does not know: refused, not ignored
            raise ServiceError("invalid_checkin", str(exc)) from exc
    return _Prepared(session=session, document=document, previous_ids=previous_ids,
                     fingerprint=fingerprint, latest=latest, same=same,
                     sent_today=sum(1 for _pk, _s, ln, _f in today if ln == link.pk),
                     result=result)


def _refuse_past_daily_limit(sent: int, clinic: Clinic) -> None:
    """Refuse a check-in past the day's limit (the clinic's local day), naming whom to call:
    a stuck phone or a script must not flood the worklist, and a patient worried enough to
    send this many needs a voice, not another form."""
    if sent >= checkins_per_day():
        raise Conflict("checkin_limit", str(_(
            "You have already sent %(n)d check-ins today, the most we can take in one day. "
            "If you are worried, call the clinic on %(phone)s. In an emergency, call "
            "%(emergency)s.") % {"n": sent, "phone": clinic.phone,
                                 "emergency": clinic.emergency_number}))


def _current_session(link: PatientLink) -> TreatmentSession:
    """The session a patient's check-in is about: their latest signed one."""
    session = current_session(link.patient_id)
    if session is None:
        raise Conflict("no_treatment", str(_(
            "There is no treatment to check in about yet. Please call your clinic if you "
            "are worried.")))
    return session


def _session_lock_query(session_id: int) -> QuerySet[TreatmentSession]:
    return (TreatmentSession.objects.select_for_update(of=("self",)).filter(pk=session_id)
            .values_list("pk"))


def _state_query(session_id: int, link_id: int) -> QuerySet[TreatmentSession]:
    newest = (CheckIn.objects.filter(session_id=OuterRef("pk")).order_by("-submitted_at", "-id")
              .values("id")[:1])
    active = (Escalation.objects.filter(session_id=OuterRef("pk"), status__in=ACTIVE_ESCALATION)
              .order_by("opened_at", "id").values("id")[:1])
    revoked = PatientLink.objects.filter(pk=link_id).values("revoked_at")[:1]
    return (TreatmentSession.objects.filter(pk=session_id)
            .annotate(newest_checkin=Subquery(newest), active_escalation=Subquery(active),
                      link_revoked=Subquery(revoked))
            .values_list("newest_checkin", "active_escalation", "link_revoked"))


# The check-in's reads inside its write transaction, compiled once (they run on every
# check-in, and building their SQL cost more than running them).
_SESSION_LOCK = CompiledQuery(_session_lock_query, arguments=1)
_STATE = CompiledQuery(_state_query, arguments=2)


@dataclass(frozen=True)
class _LockedState:
    newest_checkin: int | None
    active_escalation: int | None
    link_revoked: bool


def _locked_state(session_id: int, link_id: int) -> _LockedState:
    """Inside the write transaction: the session's row lock, then what the check-in's
    decision depended on — the session's newest check-in, its open escalation, and whether
    the link was revoked meanwhile.

    On PostgreSQL the lock is its own statement: a statement that waited for the lock still
    reads with the snapshot it started with, so a check-in committed while it waited would
    be missed (two escalations, a doubled check-in). The read after it sees that check-in.
    SQLite's IMMEDIATE transaction already holds the whole database's lock."""
    if connection.features.has_select_for_update:
        _SESSION_LOCK.rows(session_id)
    [(newest, active, revoked)] = _STATE.rows(session_id, link_id)
    return _LockedState(newest_checkin=newest, active_escalation=active,
                        link_revoked=revoked is not None)


def _store(actor: Actor, link: PatientLink, prepared: _Prepared,
           answers: Mapping[str, Any]) -> RecordedCheckIn:
    """The write transaction of a check-in: re-check, audit, escalate, store, announce."""
    state = _locked_state(prepared.session.pk, link.pk)
    if state.link_revoked:
        require_usable(PatientLink.objects.select_related("clinic").get(pk=link.pk))
    # The access check was made before the reads (submit_checkin); the audit row of the
    # access goes in here, with the check-in it read for.
    patient = prepared.session.patient
    if state.newest_checkin != prepared.latest:
        # Another check-in of the session landed in between: decide again, under the lock.
        prepared = _prepare(link, prepared.session, answers)
    session = prepared.session
    audit(actor, "checkin.submit", patient=patient, obj=session)
    if prepared.same is not None:
        same = CheckIn.objects.select_related("escalation").get(pk=prepared.same)
        return RecordedCheckIn(checkin=same, created=False, escalation=same.escalation)
    _refuse_past_daily_limit(prepared.sent_today, session.clinic)
    result = prepared.result
    assert result is not None  # computed whenever there is no identical check-in
    level = result.level.value
    escalation_id = state.active_escalation
    current = (Escalation.objects.get(pk=escalation_id) if escalation_id is not None
               else None)
    now = clock.now()
    escalation = current
    if result.level is not TriageLevel.EXPECTED:
        escalation = _escalate(actor, session, level, _snapshot(result.reasons), now, current)
    # A check-in made while an escalation is open joins it, even a reassuring one: the
    # clinician reviewing it wants to see how the patient is doing since.
    checkin = CheckIn.objects.create(
        clinic_id=session.clinic_id, patient_id=session.patient_id, session=session, link=link,
        submitted_at=now, answers=stored_answers(prepared.document, prepared.previous_ids),
        result=stored_result(result), level=level,
        protocol_version=f"{result.protocol.name}-{result.protocol.version}",
        fingerprint=prepared.fingerprint, escalation=escalation)
    emit(CheckinRecorded(clinic_id=checkin.clinic_id, patient_id=checkin.patient_id,
                         checkin_id=checkin.pk, session_id=session.pk, level=level,
                         escalation_id=escalation.pk if escalation is not None else None,
                         day=result.day))
    return RecordedCheckIn(checkin=checkin, created=True, escalation=escalation)


def submit_checkin(actor: Actor, answers: Mapping[str, Any]) -> RecordedCheckIn:
    """Triage the patient's answers (``symptoms``, ``red_flags``, ``note``) about their
    latest signed session and store them, opening or raising the session's escalation.

    The reads and the triage come first, outside the write transaction; the transaction
    re-checks what they depended on (the session's newest check-in, the open escalation, the
    link) and decides again if another check-in landed in between. An identical check-in
    (same answers, session and local day) is returned, not stored again. An escalation's
    level never goes down and its deadline never moves later."""
    link = own_link(actor)
    session = _current_session(link)
    # The same refusal as the access layer's, before anything about the session is read.
    check_access(actor, session.patient, _patient_permission(actor), wanted=session)
    prepared = _prepare(link, session, answers)
    with transaction.atomic():
        return _store(actor, link, prepared, answers)


def patient_checkin(actor: Actor, checkin_id: int | str) -> CheckIn:
    """A check-in as its patient sees it afterwards (the access layer checks it is theirs)."""
    own_link(actor, "No such check-in.")
    with transaction.atomic():
        return access_record(actor, CheckIn, checkin_id, permission=Permission.PATIENT_SELF,
                             action="checkin.result",
                             related=("clinic", "escalation__acknowledged_by",
                                      "escalation__closed_by"))


# --- the clinicians' side ---------------------------------------------------------------------

_LEVEL_ORDER = Case(
    When(level=Level.EMERGENCY, then=Value(0)),
    When(level=Level.URGENT, then=Value(1)),
    When(level=Level.CONTACT_CLINIC, then=Value(2)),
    default=Value(3), output_field=IntegerField())


def reasons_summary(reasons: Iterable[Mapping[str, Any]]) -> list[str]:
    """Short clinician labels for stored reasons, most severe first, each once."""
    ordered = sorted(reasons, key=lambda r: -LEVEL_RANK.get(r.get("level", ""), 0))
    labels: list[str] = []
    for reason in ordered:
        subject = reason.get("subject")
        term = RED_FLAGS.get(subject) or SYMPTOMS.get(subject) if subject else None
        label = term.display if term is not None else reason.get("clinician", "")
        if reason.get("assumed"):
            label = f"{label} ({_('not answered')})"
        if label not in labels:
            labels.append(label)
    return labels


@dataclass
class Worklist:
    now: dt.datetime
    today: dt.date
    time_zone: str
    escalations: list[Escalation] = field(default_factory=list)
    sessions_today: list[TreatmentSession] = field(default_factory=list)
    due_checkins: list[TreatmentSession] = field(default_factory=list)
    #: Which lists were longer than WORKLIST_SHOWN (only the first are shown).
    more: set[str] = field(default_factory=set)


#: Rows shown in each list of the worklist. A clinic never has this many open escalations on a
#: normal day; the bound keeps the page (and its audit row) small on a day that goes wrong,
#: and the most urgent come first.
WORKLIST_SHOWN = 200


def _first(rows: Any, name: str, more: set[str]) -> list[Any]:
    found = list(rows[:WORKLIST_SHOWN + 1])
    if len(found) > WORKLIST_SHOWN:
        more.add(name)
    return found[:WORKLIST_SHOWN]


def worklist(actor: Actor) -> Worklist:
    """Open escalations (most severe, then soonest due, first), today's sessions and the
    patients due a check-in today. A fixed number of queries however long the lists."""
    require(actor, Permission.VIEW_CLINICAL)
    clinic_id = actor.clinic_id
    with transaction.atomic():
        # The signed-in user's clinic is usually loaded already (the page header shows it).
        clinic = actor.user.clinic if isinstance(actor.user, User) else Clinic.objects.get(
            pk=clinic_id)
        now = clock.now()
        today = local_date(now, clinic.time_zone)
        start, end = local_day_bounds(today, clinic.time_zone)
        more: set[str] = set()
        escalations = _first(
            Escalation.objects.filter(clinic_id=clinic_id, status__in=ACTIVE_ESCALATION)
            .select_related("patient", "acknowledged_by")
            .annotate(level_order=_LEVEL_ORDER).order_by("level_order", "deadline", "id"),
            "escalations", more)
        sessions_today = _first(
            TreatmentSession.objects.filter(clinic_id=clinic_id, scheduled_for__gte=start,
                                            scheduled_for__lt=end)
            .exclude(status=SessionStatus.CANCELLED).select_related("patient")
            .order_by("scheduled_for", "id"), "sessions_today", more)
        checked_today = CheckIn.objects.filter(session_id=OuterRef("pk"), submitted_at__gte=start)
        # Inactivity is judged when the link is used; here "has a link" is enough.
        live_link = PatientLink.objects.filter(patient_id=OuterRef("patient_id"),
                                               revoked_at__isnull=True)
        due = _first(
            TreatmentSession.objects.filter(clinic_id=clinic_id, status=SessionStatus.SIGNED,
                                            performed_on__in=checkin_due_session_dates(today))
            .annotate(checked_in_today=Exists(checked_today), has_link=Exists(live_link))
            .filter(checked_in_today=False).select_related("patient")
            .order_by("performed_on", "patient__family_name", "id"), "due_checkins", more)
        audit(actor, "worklist.view", detail={
            "escalations": [e.pk for e in escalations], "due_checkins": [s.pk for s in due]})
    for escalation in escalations:
        escalation.overdue = escalation.is_overdue(now)
        escalation.summary = reasons_summary(escalation.reasons)
    for session in due:
        session.day = (today - session.performed_on).days
    return Worklist(now=now, today=today, time_zone=clinic.time_zone, escalations=escalations,
                    sessions_today=sessions_today, due_checkins=due, more=more)


ESCALATIONS_PAGE_SIZE = 50


def list_escalations(actor: Actor, status: str | None = None,
                     page: int | str | None = 1) -> Page:
    """One page of the clinic's escalations, optionally in one status (the JSON API's list).

    Active ones come most severe, then soonest due, first, like the worklist; closed ones
    most recently closed first."""
    require(actor, Permission.VIEW_CLINICAL)
    if status is not None and status not in EscalationStatus.values:
        raise ServiceError("status_invalid", str(_("Choose open, acknowledged or closed.")),
                           field="status")
    with transaction.atomic():
        queryset = Escalation.objects.filter(clinic_id=actor.clinic_id).select_related(
            "patient", "acknowledged_by", "closed_by")
        if status is not None:
            queryset = queryset.filter(status=status)
        if status == EscalationStatus.CLOSED:
            queryset = queryset.order_by("-closed_at", "-id")
        else:
            queryset = queryset.annotate(level_order=_LEVEL_ORDER).order_by(
                "level_order", "deadline", "id")
        shown = Paginator(queryset, ESCALATIONS_PAGE_SIZE).get_page(page)
        audit(actor, "escalation.list", detail={
            "status": status, "page": shown.number,
            "escalations": [e.pk for e in shown.object_list]})
    return shown


@dataclass(frozen=True)
class EscalationDetail:
    escalation: Escalation
    checkins: list[CheckIn]
    notes: list[EscalationNote]
    overdue: bool


def escalation_detail(actor: Actor, escalation_id: int | str) -> EscalationDetail:
    with transaction.atomic():
        escalation = access_record(actor, Escalation, escalation_id,
                                   permission=Permission.VIEW_CLINICAL, action="escalation.view",
                                   related=("session", "clinic", "acknowledged_by",
                                            "closed_by"))
        checkins = list(escalation.checkins.order_by("submitted_at", "id"))
        notes = list(escalation.notes.select_related("by"))
    overdue = escalation.is_overdue()
    return EscalationDetail(escalation=escalation, checkins=checkins, notes=notes,
                            overdue=overdue)


#: The longest note to the patient (it is also sent by text message or email).
PATIENT_NOTE_MAX = 1000


def _patient_note(escalation: Escalation, actor: Actor, text: str) -> EscalationNote | None:
    """Store the note to the patient written with an acknowledgement or a closure."""
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > PATIENT_NOTE_MAX:
        raise ServiceError("note_too_long", str(_(
            "Keep the note to the patient to %(n)d characters: it is also sent by text "
            "message.") % {"n": PATIENT_NOTE_MAX}), field="note_to_patient")
    return EscalationNote.objects.create(escalation=escalation, text=text, by=actor.user,
                                         to_patient=True)


def acknowledge_escalation(actor: Actor, escalation_id: int | str,
                           note_to_patient: str = "") -> Escalation:
    """A clinician has seen it and is dealing with it. A note to the patient, if written, is
    shown on their page and sent to them; the patient's page also says who has seen it."""
    with transaction.atomic():
        escalation = access_record(actor, Escalation, escalation_id,
                                   permission=Permission.WRITE_CLINICAL,
                                   action="escalation.acknowledge",
                                   detail={"note_to_patient": bool(note_to_patient.strip())})
        changed = Escalation.objects.filter(pk=escalation.pk, status=EscalationStatus.OPEN
                                            ).update(status=EscalationStatus.ACKNOWLEDGED,
                                                     acknowledged_by=actor.user,
                                                     acknowledged_at=clock.now())
        if not changed:
            raise Conflict("not_open", str(_(
                "This escalation is no longer open: it has already been acknowledged or "
                "closed.")))
        escalation.refresh_from_db()
        note = _patient_note(escalation, actor, note_to_patient)
        emit(EscalationAcknowledged(
            clinic_id=escalation.clinic_id, patient_id=escalation.patient_id,
            escalation_id=escalation.pk, session_id=escalation.session_id,
            patient_note_id=note.pk if note is not None else None))
    return escalation


def add_escalation_note(actor: Actor, escalation_id: int | str, text: str) -> EscalationNote:
    text = (text or "").strip()
    with transaction.atomic():
        escalation = access_record(actor, Escalation, escalation_id,
                                   permission=Permission.WRITE_CLINICAL,
                                   action="escalation.note")
        if not text:
            raise ServiceError("note_empty", str(_("Write the note first.")), field="text")
        return EscalationNote.objects.create(escalation=escalation, text=text, by=actor.user)


def close_escalation(actor: Actor, escalation_id: int | str, outcome: str,
                     note: str = "", note_to_patient: str = "") -> Escalation:
    """Close with an outcome. Closing one nobody acknowledged acknowledges it as well.
    ``note`` stays internal; ``note_to_patient`` is shown on the patient's page and sent."""
    note = (note or "").strip()
    with transaction.atomic():
        escalation = access_record(actor, Escalation, escalation_id,
                                   permission=Permission.WRITE_CLINICAL,
                                   action="escalation.close",
                                   detail={"outcome": outcome,
                                           "note_to_patient": bool(note_to_patient.strip())})
        if outcome not in Outcome.values:
            raise ServiceError("outcome_required", str(_(
                "Choose the outcome before closing.")), field="outcome")
        current = Escalation.objects.select_for_update().get(pk=escalation.pk)
        if current.status == EscalationStatus.CLOSED:
            raise Conflict("already_closed", str(_("This escalation is already closed.")))
        now = clock.now()
        current.status = EscalationStatus.CLOSED
        current.outcome = outcome
        current.closed_by = actor.user
        current.closed_at = now
        if current.acknowledged_at is None:
            current.acknowledged_by = actor.user
            current.acknowledged_at = now
        current.save(update_fields=["status", "outcome", "closed_by", "closed_at",
                                    "acknowledged_by", "acknowledged_at"])
        if note:
            EscalationNote.objects.create(escalation=current, text=note, by=actor.user)
        patient_note = _patient_note(current, actor, note_to_patient)
        emit(EscalationClosed(
            clinic_id=current.clinic_id, patient_id=current.patient_id,
            escalation_id=current.pk, session_id=current.session_id, outcome=outcome,
            patient_note_id=patient_note.pk if patient_note is not None else None))
    return current


def checkin_detail(actor: Actor, checkin_id: int | str) -> CheckIn:
    with transaction.atomic():
        return access_record(actor, CheckIn, checkin_id, permission=Permission.VIEW_CLINICAL,
                             action="checkin.view", related=("session", "escalation", "clinic"))


# --- redness measured on photos after a check-in ---------------------------------------------

@dataclass(frozen=True)
class PhotoFindings:
    #: The triage result of the check-in's answers with the photos (the level can only be the
    #: same or higher than the one the patient was shown).
    result: dict[str, Any]
    #: Reasons the photos added, above expected healing (empty when they added none).
    added: list[dict[str, Any]]
    escalation: Escalation | None


def _photo_protocol(checkin: CheckIn) -> Protocol:
    # The rules the check-in was triaged with, unless they do not read photos (2026.1).
    try:
        protocol = protocol_by_version(checkin.protocol_version)
    except ProtocolError:
        protocol = default_protocol()
    return protocol if protocol.data.photo_redness is not None else default_protocol()


def add_photo_findings(actor: Actor, checkin_id: int,
                       photos: Sequence[PhotoMeasurement]) -> PhotoFindings:
    """Triage a stored check-in again with the redness measured on its session's photos,
    which arrive after the check-in (the patient adds them from the result page, and the
    measurement may run in the worker).

    Photos only add: a reason they make fire goes to the session's escalation through the
    same path as a check-in's (opened, raised, or joined; never lowered, its deadline never
    later), so a red flag found on a photo is never lost. The check-in keeps the result the
    patient was shown; the finding is audited on it. Called by the photos app once the photo
    has passed the access layer at upload (the worker has no actor of its own); ``actor`` is
    who or what sent the photo, for the audit rows.
    """
    with transaction.atomic():
        checkin = CheckIn.objects.select_related("patient").get(pk=checkin_id)
        # The session's row lock, as for a check-in: one escalation per session.
        session = (TreatmentSession.objects.select_for_update(of=("self",))
                   .select_related("clinic", "patient", "plan").get(pk=checkin.session_id))
        protocol = _photo_protocol(checkin)
        try:
            document = checkin_document(checkin, session.clinic.time_zone, photos)
            result = triage(document, protocol)
        except (ValidationError, ValueError) as exc:
            raise ServiceError("photo_findings_invalid", str(_(
                "The photo measurements could not be read with this check-in."))) from exc
        shown = {reason_key(r) for r in triage_result(checkin).get("reasons", [])}
        added = [r for r in _snapshot(result.reasons) if reason_key(r) not in shown]
        escalation = checkin.escalation
        if added:
            current = (Escalation.objects.select_for_update()
                       .filter(session_id=session.pk, status__in=ACTIVE_ESCALATION)
                       .order_by("opened_at", "id").first())
            already = {reason_key(r) for r in current.reasons} if current is not None else set()
            if current is None or any(reason_key(r) not in already for r in added):
                level = max((r["level"] for r in added), key=lambda v: LEVEL_RANK[Level(v)])
                escalation = _escalate(actor, session, level, added, clock.now(), current)
            else:
                escalation = current
            if checkin.escalation_id is None:
                CheckIn.objects.filter(pk=checkin.pk, escalation__isnull=True).update(
                    escalation=escalation)
        audit(actor, "checkin.photo_findings", patient=session.patient, obj=checkin,
              detail={"photos": len(photos), "level": result.level.value,
                      "added": [r["rule"] for r in added],
                      "escalation": escalation.pk if escalation is not None else None})
    return PhotoFindings(result=result.model_dump(mode="json", by_alias=True), added=added,
                         escalation=escalation)
