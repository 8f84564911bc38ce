"""The API's request and response documents.

Requests are strict: unknown fields are errors (a typo is never silently ignored), clinical
scores are integers that refuse ``true``/``false``, answers are ``true``/``false`` and nothing
that merely looks like them, dates are ``YYYY-MM-DD``, and text may not hold characters the
databases cannot store. Range and length constraints come before validators in each
``Annotated`` so the OpenAPI document keeps its ``minimum``/``maxLength``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Annotated, Any

from django.utils.translation import gettext_lazy as _
from ninja import Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    create_model,
)

from needlecare.clinical.common import Basis
from needlecare.clinical.vocabulary import RED_FLAGS, SYMPTOMS, Trend
from needlecare.patients.models import Channel
from needlecare.recovery.models import EscalationStatus, Level, Outcome

# --- field types ------------------------------------------------------------------------------

# PostgreSQL cannot store NUL in text, and a lone surrogate cannot be encoded at all.
NO_NUL = r"^[^\x00]*$"
#: Largest id a database key holds; a larger one would be a database error, not "not found".
MAX_ID = 2**63 - 1
MAX_PAGE = 1_000_000


def _storable(value: str) -> str:
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise ValueError(str(_("Text must not contain unpaired surrogate characters.")))
    return value


Name = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_NUL),
                AfterValidator(_storable)]
PatientNote = Annotated[str, Field(max_length=4000, pattern=NO_NUL), AfterValidator(_storable)]
StaffNote = Annotated[str, Field(max_length=10000, pattern=NO_NUL), AfterValidator(_storable)]
RequiredStaffNote = Annotated[str, Field(min_length=1, max_length=10000, pattern=NO_NUL),
                              AfterValidator(_storable)]


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> Any:
    # pydantic alone would also take numbers (Unix time) and week dates for a date.
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError(str(_("Enter the date as YYYY-MM-DD.")))
    return dt.date.fromisoformat(value)


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


# Empty, or an address Django's EmailValidator also accepts (a subset of it: ASCII only), so
# the OpenAPI document states the whole rule.
EMAIL_ADDRESS_PATTERN = (r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                         r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
EMAIL_PATTERN = r"^$|" + EMAIL_ADDRESS_PATTERN
Email = Annotated[str, Field(max_length=254, pattern=EMAIL_PATTERN,
                             description="empty, or an email address")]
# Empty, or 7 to 15 digits with spaces ( ) . - between them, perhaps after a +: what
# registration accepts (it strips the ends first, so it takes a little more).
PHONE_PATTERN = r"^$|^\+?[ ().\-]*(?:[0-9][ ().\-]*){7,15}$"
Phone = Annotated[str, Field(max_length=40, pattern=PHONE_PATTERN,
                             description="mobile phone; needed for text messages")]


#: What a value that does not match a pattern is told (pydantic would quote the pattern).
PATTERN_MESSAGES = {
    NO_NUL: _("Text must not contain NUL characters."),
    EMAIL_PATTERN: _("Enter a valid email address, or leave it empty."),
    EMAIL_ADDRESS_PATTERN: _("Enter a valid email address."),
    PHONE_PATTERN: _("Enter a phone number of 7 to 15 digits, for example 07700 900123."),
}


def _json_integer(value: Any) -> Any:
    # JSON has one number type: 3.0 is the integer 3 (as JSON Schema says), but true, "3" and
    # 3.5 are not integers, and pydantic's lax mode would read true as 1.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(str(_("Enter a whole number.")))
    return value


Score = Annotated[StrictInt, Field(ge=0, le=10, description="0 (none) to 10 (worst)"),
                  BeforeValidator(_json_integer)]


class Input(Schema):
    model_config = ConfigDict(extra="forbid")


# --- patients ---------------------------------------------------------------------------------

class PatientIn(Input):
    given_name: Name
    family_name: Name
    date_of_birth: IsoDate
    phone: Phone = ""
    email: Email = ""
    preferred_channel: Channel = Channel("sms")
    confirm_duplicate: StrictBool = Field(
        False, description="register even though a patient with the same name and date of "
                           "birth exists (answered 409 possible_duplicate otherwise)")


class PatientSummary(Schema):
    id: int
    given_name: str
    family_name: str
    date_of_birth: dt.date


class PatientPage(Schema):
    query: str
    kind: str = Field(description="how the query was read: all, name, date_of_birth or phone")
    page: int
    pages: int
    count: int
    results: list[PatientSummary]


class PatientOut(PatientSummary):
    phone: str
    email: str
    preferred_channel: str
    created_at: dt.datetime


class Appointment(Schema):
    id: int
    scheduled_for: dt.datetime
    status: str


class ConsultationItem(Schema):
    id: int
    created_at: dt.datetime
    verdict: str
    effective_verdict: str
    protocol_version: str


class PlanItem(Schema):
    id: int
    created_at: dt.datetime
    status: str
    indications: list[str]
    zones: list[str]
    sessions_planned: int
    interval_days: int
    summary: str


class SessionItem(Schema):
    id: int
    scheduled_for: dt.datetime
    status: str
    performed_on: dt.date | None
    summary: str


class CheckInItem(Schema):
    id: int
    submitted_at: dt.datetime
    level: str
    escalation_id: int | None


class EscalationItem(Schema):
    id: int
    level: str
    status: str
    opened_at: dt.datetime
    deadline: dt.datetime
    overdue: bool


class ClinicalSummary(Schema):
    consultations: list[ConsultationItem]
    plans: list[PlanItem]
    sessions: list[SessionItem]
    checkins: list[CheckInItem]
    escalations: list[EscalationItem]


class PatientDetail(Schema):
    patient: PatientOut
    appointments: list[Appointment]
    clinical: ClinicalSummary | None = Field(
        description="for clinicians and owners; null for front desk")


# --- check-ins --------------------------------------------------------------------------------

class SymptomAnswer(Input):
    severity: Score | None = Field(None, description="0 (none) to 10 (worst); missing is "
                                                        "read as 10")
    trend: Trend | None = Field(None, description="since yesterday; missing is read as worse")


if TYPE_CHECKING:
    SymptomAnswers = Input
    RedFlagAnswers = Input
else:
    SymptomAnswers = create_model(
        "SymptomAnswers", __base__=Input,
        **{code: (SymptomAnswer | None, Field(None, description=term.patient))
           for code, term in SYMPTOMS.items()})
    RedFlagAnswers = create_model(
        "RedFlagAnswers", __base__=Input,
        **{code: (StrictBool | None, Field(None, description=f"{term.patient}? Unanswered "
                                                             "(missing or null) is read as yes"))
           for code, term in RED_FLAGS.items()})


class CheckInIn(Input):
    """The patient's answers. The session is the one the patient's link was made for."""

    symptoms: SymptomAnswers = Field(default_factory=SymptomAnswers,
                                     description="the symptoms the patient has; leave out "
                                                 "those they do not have")
    red_flags: RedFlagAnswers = Field(default_factory=RedFlagAnswers,
                                      description="every warning sign, answered true or false")
    note: PatientNote = Field("", description="the patient's own words")

    def answers(self) -> dict[str, Any]:
        """In the shape ``recovery.services.build_checkin`` reads."""
        symptoms = {code: answer.model_dump(mode="json")
                    for code, answer in self.symptoms if answer is not None}
        flags = {code: answer for code, answer in self.red_flags if answer is not None}
        return {"symptoms": symptoms, "red_flags": flags, "note": self.note.strip()}


class PatientReason(Schema):
    text: str = Field(description="what the patient is told")
    level: Level
    basis: Basis = Field(description="clinic_policy is the clinic's own rule, not evidence")
    assumed: bool = Field(description="fired because an answer was missing")


class ClinicianReason(Schema):
    rule: str
    level: Level
    subject: str | None
    assumed: bool
    text: str = Field(description="what the clinician reads")
    basis: Basis


class CheckInClinical(Schema):
    patient_id: int
    session_id: int
    escalation_id: int | None
    answers: dict[str, Any] = Field(description="symptoms, red_flags and note as sent")
    reasons: list[ClinicianReason]


class NextSteps(Schema):
    """What the patient should do now, from the clinic's hours and settings at the time of
    the request (the same decision the patient's pages and messages show)."""

    open_now: bool = Field(description="the clinic is open now")
    closes_at: dt.datetime | None = Field(description="when it closes, if open now")
    opens_at: dt.datetime | None = Field(description="when it next opens, if closed now")
    callback_by: dt.datetime | None = Field(
        description="by when the clinic will have called back (urgent) or contacted the "
                    "patient (contact the clinic)")
    call_clinic_now: bool = Field(description="urgent while open: the patient calls now")
    call_emergency_now: bool = Field(description="emergency: call the emergency number now")
    show_out_of_hours: bool = Field(
        description="the out-of-hours service applies (closed now, or closing before the "
                    "call back)")
    clinic_phone: str
    out_of_hours_name: str
    out_of_hours_phone: str
    emergency_number: str
    emergency_signs: str = Field(description="the signs for which to call the emergency "
                                             "number, in the patient's words")


class CheckInResult(Schema):
    id: int
    submitted_at: dt.datetime
    day: int = Field(description="days since the session (0 = the session day)")
    level: Level
    advice: list[str] = Field(description="what to do, without the general lines about whom "
                                          "to call: next_steps says that with the clinic's own "
                                          "numbers and hours")
    next_steps: NextSteps | None = Field(
        None, description="what to do now; absent once the clinic has closed the escalation")
    reasons: list[PatientReason]
    assumed: list[str] = Field(description="answers that were missing and read as the worst "
                                           "(an unanswered warning sign as yes)")
    escalated: bool = Field(description="the clinic has been asked to review it")
    protocol_version: str
    clinical: CheckInClinical | None = Field(
        None, description="for clinicians; absent for the patient")


# --- escalations ------------------------------------------------------------------------------

class EscalationOut(Schema):
    id: int
    patient_id: int
    patient_name: str
    session_id: int
    level: Level
    status: EscalationStatus
    reasons: list[str] = Field(description="short labels, most severe first")
    opened_at: dt.datetime
    deadline: dt.datetime
    overdue: bool
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    outcome: str | None
    closed_by: str | None
    closed_at: dt.datetime | None


class EscalationPage(Schema):
    status: EscalationStatus | None
    page: int
    pages: int
    count: int
    results: list[EscalationOut]


class NoteOut(Schema):
    id: int
    text: str
    by: str
    at: dt.datetime


class EscalationDetailOut(EscalationOut):
    reasons_detail: list[ClinicianReason]
    checkins: list[CheckInItem]
    notes: list[NoteOut]


class NoteIn(Input):
    text: RequiredStaffNote


#: A clinician's note to the patient (shown on their page and sent by text message or email).
NoteToPatient = Annotated[str, Field(max_length=1000, pattern=NO_NUL),
                          AfterValidator(_storable)]


class CloseIn(Input):
    outcome: Outcome
    #: Stays internal.
    note: StaffNote = ""
    note_to_patient: NoteToPatient = ""


# --- the audit trail (owners) -------------------------------------------------------------------

class AuditEventOut(Schema):
    id: int
    at: dt.datetime
    action: str
    actor_id: int | None = Field(description="the staff member who acted, if any")
    actor: str = Field(description="their name, or the kind of actor")
    actor_kind: str = Field(description="staff, patient (personal link), system or anonymous")
    actor_role: str
    patient_id: int | None
    object_type: str
    object_id: str
    ip_address: str | None
    detail: dict[str, Any]
    seq: int | None = Field(description="place in the clinic's hash chain; null until sealed")
    hash: str


class AuditPage(Schema):
    results: list[AuditEventOut]
    older: int | None = Field(description="pass as `before` for the next, older page")
