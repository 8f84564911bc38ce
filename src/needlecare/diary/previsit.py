"""Pre-visit forms: the medical-history intake and the consent, filled on the patient's phone
before a consultation, and what the clinician does with them at the visit.

The patient answers the intake (``needlecare.intake/1``, the document the clinical core
screens) in steps built from the vocabulary, in the patient's wording; each step is saved as
it is sent. Nothing is screened on the patient's answers: the clinician sees them in the
consultation form, pre-filled and marked as the patient's, reviews and confirms them, and only
then does ``care.services.record_consultation`` screen the confirmed answers. The patient never
sees a verdict.

The consent is read and signed ahead, drawn (the strokes are stored as an SVG drawn here from
the points, never as markup the browser sent) or typed, with the time, the text's version and
a SHA-256 of the exact text. It becomes a consent only when a clinician counter-signs it at
the visit (``care.services.sign_consent``, witnessed by them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from needlecare import clock, names
from needlecare.access import Actor, Permission, audit, refuse
from needlecare.care import consent_texts
from needlecare.care import services as care
from needlecare.care.models import Consultation
from needlecare.clinical import vocabulary as vocab
from needlecare.diary.models import (
    UPCOMING,
    Appointment,
    PreSessionUpdate,
    PreVisit,
    PreVisitSignature,
    SignatureKind,
)
from needlecare.errors import Conflict, NotFound, ServiceError
from needlecare.patients.access import access_record
from needlecare.recovery.links import own_link


@dataclass(frozen=True)
class Step:
    key: str
    title: Any
    #: The intake sections this step answers.
    sections: tuple[str, ...]


STEPS = (
    Step("skin", gettext_lazy("Your skin and what you would like treated"),
         ("fitzpatrick", "indications", "zones")),
    Step("conditions", gettext_lazy("Your health"), ("conditions",)),
    Step("medications", gettext_lazy("Medicines"), ("medications",)),
    Step("procedures", gettext_lazy("Recent treatments"), ("procedures",)),
    Step("allergies", gettext_lazy("Allergies"), ("allergies",)),
)
STEP_KEYS = tuple(s.key for s in STEPS)
CONSENT_STEP = "consent"
#: The largest signature accepted: strokes × points (a signature has a few hundred points).
MAX_POINTS = 4000


def step_of(key: str) -> Step:
    for step in STEPS:
        if step.key == key:
            return step
    raise NotFound(_("No such step."))


def _check_fragment(step: Step, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The step's answers in the intake's shape, refusing codes the vocabulary lacks."""
    out: dict[str, Any] = {}
    for section in step.sections:
        if section not in answers:
            continue
        value = answers[section]
        if section == "fitzpatrick":
            if value is not None and (isinstance(value, bool) or value not in range(1, 7)):
                raise ServiceError("invalid_answer", _("Choose one of the skin types."))
            out[section] = value
        elif section in ("indications", "zones"):
            table = vocab.INDICATIONS if section == "indications" else vocab.ZONES
            if not isinstance(value, list) or any(c not in table for c in value):
                raise ServiceError("invalid_answer", _("Choose from the list."))
            out[section] = list(value)
        else:
            table = {"conditions": vocab.CONDITIONS, "medications": vocab.MEDICATIONS,
                     "procedures": vocab.PROCEDURES, "allergies": vocab.ALLERGIES}[section]
            if not isinstance(value, dict) or any(c not in table for c in value):
                raise ServiceError("invalid_answer", _("Choose from the list."))
            out[section] = dict(value)
    return out


def _own_previsit(actor: Actor, previsit_id: int | str, action: str, *,
                  detail: dict[str, Any] | None = None) -> PreVisit:
    own_link(actor)
    previsit = access_record(actor, PreVisit, previsit_id, permission=Permission.PATIENT_SELF,
                             action=action, related=("appointment", "clinic"), detail=detail)
    return previsit


def for_appointment(actor: Actor, appointment_id: int | str) -> PreVisit:
    """The pre-visit forms of one of the patient's appointments."""
    with transaction.atomic():
        own_link(actor)
        appointment = access_record(actor, Appointment, appointment_id,
                                    permission=Permission.PATIENT_SELF, action="previsit.open",
                                    related=("clinic", "type"))
        previsit = PreVisit.objects.filter(appointment=appointment).select_related(
            "appointment", "clinic").first()
        if previsit is None:
            raise NotFound(_("There are no forms to fill for this appointment."))
        return previsit


def save_step(actor: Actor, previsit_id: int, step_key: str,
              answers: Mapping[str, Any]) -> PreVisit:
    """Save one step's answers (again, when the patient goes back to it)."""
    step = step_of(step_key)
    fragment = _check_fragment(step, answers)
    with transaction.atomic():
        previsit = _own_previsit(actor, previsit_id, "previsit.save", detail={"step": step.key})
        previsit = PreVisit.objects.select_for_update().get(pk=previsit.pk)
        if previsit.confirmed_at is not None:
            raise Conflict("confirmed", _("The clinic has gone through your answers with you "
                                          "already; tell them at your visit if something "
                                          "changed."))
        stored = dict(previsit.answers)
        stored.update(fragment)
        done = [k for k in STEP_KEYS if k in {*previsit.steps_done, step.key}]
        previsit.answers = stored
        previsit.steps_done = done + [k for k in previsit.steps_done if k not in STEP_KEYS]
        previsit.updated_at = clock.now()
        _complete_if_done(previsit)
        previsit.save(update_fields=["answers", "steps_done", "updated_at", "completed_at"])
        return previsit


def _complete_if_done(previsit: PreVisit) -> None:
    if previsit.completed_at is None and set(STEP_KEYS) | {CONSENT_STEP} <= set(
            previsit.steps_done):
        previsit.completed_at = clock.now()


def signature_svg(strokes: Sequence[Sequence[Sequence[float]]], width: int = 600,
                  height: int = 200) -> str:
    """An SVG of the strokes (lists of [x, y] points, in the canvas's pixels), drawn here:
    nothing the browser sent is kept as markup."""
    total = sum(len(s) for s in strokes)
    if total < 2:
        raise ServiceError("signature_empty", _("Sign in the box with your finger, or type "
                                                "your name instead."), field="signature")
    if total > MAX_POINTS or len(strokes) > 200:
        raise ServiceError("signature_too_large", _("The signature is too large; clear it "
                                                    "and sign again."), field="signature")
    paths = []
    for stroke in strokes:
        points = []
        for point in stroke:
            if len(point) != 2 or not all(isinstance(v, int | float)
                                          and not isinstance(v, bool) for v in point):
                raise ServiceError("signature_invalid", _("The signature could not be read; "
                                                          "clear it and sign again."),
                                   field="signature")
            x, y = (min(max(float(v), 0.0), float(limit)) for v, limit in zip(
                point, (width, height), strict=True))
            points.append(f"{x:.1f} {y:.1f}")
        if points:
            paths.append("M " + " L ".join(points))
    body = "".join(f'<path d="{d}"/>' for d in paths)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}"><g fill="none" stroke="#000" '
            f'stroke-width="2" stroke-linecap="round" stroke-linejoin="round">{body}</g></svg>')


def parse_strokes(raw: str) -> list[list[list[float]]]:
    try:
        strokes = json.loads(raw or "[]")
    except ValueError:
        raise ServiceError("signature_invalid", _("The signature could not be read; clear it "
                                                  "and sign again."), field="signature") from None
    if not isinstance(strokes, list) or not all(isinstance(s, list) for s in strokes):
        raise ServiceError("signature_invalid", _("The signature could not be read; clear it "
                                                  "and sign again."), field="signature")
    return strokes


def sign_ahead(actor: Actor, previsit_id: int, *, strokes: str = "", typed_name: str = "",
               understood: bool, user_agent: str = "") -> PreVisitSignature:
    """The patient signs the current treatment consent text on their phone."""
    text = consent_texts.current("treatment")
    with transaction.atomic():
        previsit = _own_previsit(actor, previsit_id, "previsit.sign")
        patient = previsit.patient
        if not understood:
            raise ServiceError("not_understood", _("Tick the box to confirm you have read and "
                                                   "understood the text."), field="understood")
        typed = names.normalise(typed_name)
        if typed:
            # As a consent signed at the clinic (care.sign_consent): the stored name's form.
            if typed.casefold() != names.normalise(patient.full_name).casefold():
                raise ServiceError("name_mismatch", _("Type your full name exactly as the "
                                                      "clinic has it: %(name)s.")
                                   % {"name": patient.full_name}, field="typed_name")
            svg, kind = "", SignatureKind.TYPED
        else:
            svg, kind = signature_svg(parse_strokes(strokes)), SignatureKind.DRAWN
        signature = PreVisitSignature.objects.create(
            previsit=previsit, consent_kind=text.kind, text_version=text.version,
            text_sha256=hashlib.sha256(text.text.encode("utf-8")).hexdigest(), kind=kind,
            svg=svg, typed_name=typed, signed_at=clock.now(), signed_ip=actor.ip_address,
            user_agent=user_agent[:400])
        previsit = PreVisit.objects.select_for_update().get(pk=previsit.pk)
        if CONSENT_STEP not in previsit.steps_done:
            previsit.steps_done = [*previsit.steps_done, CONSENT_STEP]
        previsit.updated_at = clock.now()
        _complete_if_done(previsit)
        previsit.save(update_fields=["steps_done", "updated_at", "completed_at"])
        return signature


# --- the clinician at the visit -----------------------------------------------------------------

def for_review(actor: Actor, previsit_id: int | str) -> PreVisit:
    with transaction.atomic():
        return access_record(actor, PreVisit, previsit_id, permission=Permission.WRITE_CLINICAL,
                             action="previsit.review",
                             related=("appointment", "clinic", "consultation"))


def confirm(actor: Actor, previsit_id: int | str, answers: Mapping[str, Any]) -> PreVisit:
    """The clinician confirms the answers (as reviewed with the patient): the consultation
    is recorded and screened on them now."""
    with transaction.atomic():
        previsit = access_record(actor, PreVisit, previsit_id,
                                 permission=Permission.WRITE_CLINICAL, action="previsit.confirm")
        previsit = PreVisit.objects.select_for_update().get(pk=previsit.pk)
        if previsit.confirmed_at is not None:
            raise Conflict("confirmed", _("These answers were confirmed already."))
        consultation = care.record_consultation(actor, previsit.patient_id, answers)
        previsit.consultation = consultation
        previsit.confirmed_at = clock.now()
        previsit.confirmed_by = actor.user
        previsit.save(update_fields=["consultation", "confirmed_at", "confirmed_by"])
        return previsit


def countersign(actor: Actor, signature_id: int | str, user_agent: str = "") -> Any:
    """The clinician counter-signs a consent the patient signed ahead: it becomes the
    patient's consent, witnessed by them. Refused when the text changed since."""
    with transaction.atomic():
        signature = PreVisitSignature.objects.select_related("previsit").filter(
            pk=signature_id).first()
        if signature is None:
            raise refuse(actor, NotFound(_("No such signature.")), wanted=PreVisitSignature,
                         wanted_id=signature_id)
        previsit = access_record(actor, PreVisit, signature.previsit_id,
                                 permission=Permission.WRITE_CLINICAL,
                                 action="previsit.countersign",
                                 detail={"signature": signature.pk})
        signature = PreVisitSignature.objects.select_for_update().get(pk=signature.pk)
        if signature.consent_id is not None:
            raise Conflict("countersigned", _("This consent was counter-signed already."))
        text = consent_texts.current(signature.consent_kind)
        if text.version != signature.text_version:
            raise Conflict("text_changed", _("The consent text has changed since the patient "
                                             "signed it; they need to read and sign the new "
                                             "one with you."))
        patient = previsit.patient
        consent = care.sign_consent(actor, patient.pk, kind=signature.consent_kind,
                                    signed_name=signature.typed_name or patient.full_name,
                                    understood=True, user_agent=user_agent)
        signature.consent = consent
        signature.countersigned_by = actor.user
        signature.countersigned_at = clock.now()
        signature.save(update_fields=["consent", "countersigned_by", "countersigned_at"])
        return consent


def initial_for_consultation(answers: Mapping[str, Any], *, today: dt.date
                             ) -> tuple[dict[str, Any], set[str]]:
    """The consultation form's initial values from the patient's answers, and the names of
    the fields the patient answered (marked on the form as theirs)."""
    initial: dict[str, Any] = {"assessed_on": today, "planned_date": today}
    answered: set[str] = set()
    if answers.get("fitzpatrick"):
        initial["fitzpatrick"] = answers["fitzpatrick"]
        answered.add("fitzpatrick")
    for name in ("indications", "zones"):
        if answers.get(name):
            initial[name] = list(answers[name])
            answered.add(name)
    for prefix, section in (("cond", "conditions"), ("allergy", "allergies")):
        for code, value in (answers.get(section) or {}).items():
            initial[f"{prefix}_{code}"] = "yes" if value else "no"
            answered.add(f"{prefix}_{code}")
    for code, value in (answers.get("medications") or {}).items():
        if isinstance(value, dict):
            initial[f"med_{code}"] = "stopped"
            if value.get("last_dose"):
                initial[f"med_{code}_last_dose"] = dt.date.fromisoformat(value["last_dose"])
        else:
            initial[f"med_{code}"] = "current" if value else "no"
        answered.add(f"med_{code}")
    for code, value in (answers.get("procedures") or {}).items():
        if isinstance(value, str):
            initial[f"proc_{code}"] = "dated"
            initial[f"proc_{code}_date"] = dt.date.fromisoformat(value)
        else:
            initial[f"proc_{code}"] = "undated" if value else "no"
        answered.add(f"proc_{code}")
    return initial, answered


# --- before a session: medicines and recent treatments ------------------------------------------

def _label(section: str, code: str) -> str:
    table = vocab.MEDICATIONS if section == "medications" else vocab.PROCEDURES
    return table[code].display if code in table else code


def _text(value: Any) -> str:
    if value is None:
        return str(_("not asked"))
    if value is True:
        return str(_("yes"))
    if value is False:
        return str(_("no"))
    if isinstance(value, dict):
        last = value.get("last_dose")
        return str(_("stopped, last dose %(day)s") % {"day": last} if last else _("stopped"))
    return str(value)


def changes_since(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What differs between the consultation's answers and today's, for the clinician."""
    out = []
    for section in ("medications", "procedures"):
        old, new = before.get(section) or {}, now.get(section) or {}
        for code in sorted(set(old) | set(new)):
            if code in new and old.get(code) != new[code]:
                out.append({"field": f"{section}.{code}", "label": _label(section, code),
                            "before": old.get(code), "now": new[code],
                            "before_text": _text(old.get(code)), "now_text": _text(new[code])})
    return out


def before_session_form_data(actor: Actor, appointment_id: int | str
                             ) -> tuple[Appointment, dict[str, Any], PreSessionUpdate | None]:
    """The appointment, the answers the patient last gave (or the consultation's), and what
    they sent for it already."""
    with transaction.atomic():
        own_link(actor)
        appointment = access_record(actor, Appointment, appointment_id,
                                    permission=Permission.PATIENT_SELF,
                                    action="presession.open", related=("type", "clinic"))
        update = PreSessionUpdate.objects.filter(appointment=appointment).first()
        base = _consultation_answers(appointment.patient_id)
    return appointment, (update.answers if update else base), update


def _consultation_answers(patient_id: int) -> dict[str, Any]:
    latest = Consultation.objects.filter(patient_id=patient_id).order_by(
        "-created_at", "-id").first()
    intake = latest.intake if latest else {}
    return {"medications": intake.get("medications", {}),
            "procedures": intake.get("procedures", {})}


def submit_before_session(actor: Actor, appointment_id: int | str,
                          answers: Mapping[str, Any]) -> PreSessionUpdate:
    """The patient confirms or updates their medicines and recent treatments before a
    session; what changed since the consultation is kept for the clinician."""
    fragment = {**_check_fragment(step_of("medications"), answers),
                **_check_fragment(step_of("procedures"), answers)}
    with transaction.atomic():
        own_link(actor)
        appointment = access_record(actor, Appointment, appointment_id,
                                    permission=Permission.PATIENT_SELF,
                                    action="presession.submit", related=("type",))
        if appointment.status not in UPCOMING:
            raise Conflict("not_upcoming", _("This appointment is no longer to come."))
        changes = changes_since(_consultation_answers(appointment.patient_id), fragment)
        update, _created = PreSessionUpdate.objects.update_or_create(
            appointment=appointment, defaults={
                "clinic_id": appointment.clinic_id, "patient_id": appointment.patient_id,
                "answers": fragment, "changes": changes, "submitted_at": clock.now(),
                "reviewed_by": None, "reviewed_at": None})
        audit(actor, "presession.changes", patient=appointment.patient, obj=update,
              detail={"changes": [c["field"] for c in changes]})
        return update
