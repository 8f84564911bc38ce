"""Choosing a treatment at a consultation: microneedling beside its alternatives for this
patient, the clinician's choice and why, and the patient's printable copy.

The comparison is the clinical core's (``clinical.alternatives.compare_alternatives``, from the
consultation's intake and screening through ``request_from_screening``), with the options the
clinic does not provide marked "refer" (``ClinicOfferings``, set by the owner). A choice keeps
the comparison the clinician saw, so the patient's copy can always be made again as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from pydantic import ValidationError

from needlecare import clock
from needlecare.access import Actor, Permission, audit, require
from needlecare.care.models import Consultation
from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.alternatives import (
    Comparison,
    compare_alternatives,
    request_from_screening,
)
from needlecare.clinical.protocol.alternatives_loader import default_alternatives
from needlecare.clinical.protocol.alternatives_schema import ScarType
from needlecare.clinical.screening import Intake, ScreeningResult
from needlecare.documents.pdf import render_pdf
from needlecare.errors import ServiceError
from needlecare.outcomes.models import ClinicOfferings, TreatmentChoice
from needlecare.patients.access import access_record

MIN_REASON = 10
SCAR_TYPES: tuple[str, ...] = get_args(ScarType)


def not_offered(clinic_id: int) -> list[str]:
    found = ClinicOfferings.objects.filter(clinic_id=clinic_id).values_list(
        "not_offered", flat=True).first()
    options = default_alternatives().data.options
    return [key for key in (found or []) if key in options]


def effective_screening(consultation: Consultation) -> ScreeningResult:
    """The stored screening with a clinician's override applied (as planning reads it)."""
    screening = ScreeningResult.model_validate(consultation.result)
    effective = consultation.effective_verdict
    if effective != screening.verdict.value:
        verdict = vocab.Verdict(effective)
        update: dict[str, object] = {"verdict": verdict}
        if verdict is not vocab.Verdict.DEFER:
            update.update(defer_until=None, resolve_when=[])
        screening = screening.model_copy(update=update)
    return screening


def _check_scar_types(scar_types: Sequence[str]) -> list[ScarType]:
    unknown = [s for s in scar_types if s not in SCAR_TYPES]
    if unknown:
        raise ServiceError("scar_type_invalid", _("Choose scar types from the list."),
                           field="scar_types")
    return list(dict.fromkeys(scar_types))  # type: ignore[arg-type]


def _compare(consultation: Consultation, scar_types: Sequence[str]) -> Comparison:
    try:
        intake = Intake.model_validate(consultation.intake)
        request = request_from_screening(intake, effective_screening(consultation),
                                         _check_scar_types(scar_types))
    except (ValueError, ValidationError) as exc:
        if isinstance(exc, ServiceError):
            raise
        raise ServiceError("cannot_compare", _(
            "This consultation cannot be compared with the alternatives: %(why)s")
            % {"why": exc}) from None
    return compare_alternatives(request, not_offered(consultation.clinic_id))


@dataclass(frozen=True)
class ChoicePage:
    consultation: Consultation
    comparison: Comparison
    scar_types: list[str]
    choices: list[TreatmentChoice]


def comparison(actor: Actor, consultation_id: int | str,
               scar_types: Sequence[str] = ()) -> ChoicePage:
    """The comparison for a consultation (and the choices recorded for it so far)."""
    with transaction.atomic():
        consultation = access_record(actor, Consultation, consultation_id,
                                     permission=Permission.VIEW_CLINICAL,
                                     action="alternatives.view", related=("clinic",))
        result = _compare(consultation, scar_types)
        choices = list(consultation.treatment_choices.select_related("chosen_by"))
    return ChoicePage(consultation=consultation, comparison=result,
                      scar_types=list(result.scar_types), choices=choices)


def choose_treatment(actor: Actor, consultation_id: int | str, *, option: str, reason: str,
                     scar_types: Sequence[str] = ()) -> TreatmentChoice:
    """Record the clinician's choice, their reason and the comparison they saw."""
    reason = (reason or "").strip()
    with transaction.atomic():
        consultation = access_record(actor, Consultation, consultation_id,
                                     permission=Permission.WRITE_CLINICAL,
                                     action="alternatives.choose", related=("clinic",),
                                     detail={"option": option})
        result = _compare(consultation, scar_types)
        if option not in {row.option for row in result.rows}:
            raise ServiceError("option_invalid", _("Choose one of the treatments compared."),
                               field="option")
        if len(" ".join(reason.split())) < MIN_REASON:
            raise ServiceError("reason_required", _(
                "Write why (at least %(n)d characters): the patient's copy and the record "
                "keep it.") % {"n": MIN_REASON}, field="reason")
        return TreatmentChoice.objects.create(
            clinic_id=consultation.clinic_id, patient_id=consultation.patient_id,
            consultation=consultation, option=option, reason=reason,
            scar_types=list(result.scar_types),
            comparison=result.model_dump(mode="json", by_alias=True),
            alternatives_version=result.alternatives, chosen_by=actor.user)


def set_offerings(actor: Actor, not_offered_now: Sequence[str]) -> ClinicOfferings:
    """The owner marks the treatments the clinic does not provide."""
    options = default_alternatives().data.options
    with transaction.atomic():
        require(actor, Permission.MANAGE_CLINIC)
        unknown = [o for o in not_offered_now if o not in options]
        if unknown:
            raise ServiceError("option_invalid", _("Choose treatments from the list."),
                               field="not_offered")
        if "microneedling" in not_offered_now:
            raise ServiceError("microneedling_offered", _(
                "Needlecare is for clinics that offer microneedling."), field="not_offered")
        offerings, _created = ClinicOfferings.objects.update_or_create(
            clinic_id=actor.clinic_id, defaults={
                "not_offered": sorted(set(not_offered_now)), "updated_by": actor.user,
                "updated_at": clock.now()})
        audit(actor, "clinic.offerings", obj=offerings,
              detail={"not_offered": offerings.not_offered})
        return offerings


@dataclass(frozen=True)
class PatientCopy:
    content: bytes
    filename: str
    content_type: str = "application/pdf"


def patient_copy(actor: Actor, choice_id: int | str) -> PatientCopy:
    """The patient's printable copy of the comparison and the choice, in the patient's words
    (PDF). Read in one transaction, rendered outside it."""
    with transaction.atomic():
        choice = access_record(actor, TreatmentChoice, choice_id,
                               permission=Permission.VIEW_CLINICAL, action="alternatives.print",
                               related=("clinic", "consultation", "chosen_by"))
    saved = Comparison.model_validate(choice.comparison)
    chosen = next((row for row in saved.rows if row.option == choice.option), None)
    context = {"clinic": choice.clinic, "patient": choice.patient, "choice": choice,
               "comparison": saved, "chosen": chosen}
    with timezone.override(ZoneInfo(choice.clinic.time_zone)):
        content = render_pdf("outcomes/choice_pdf.html", context)
    name = slugify(choice.patient.full_name) or "patient"
    day = choice.chosen_at.astimezone(ZoneInfo(choice.clinic.time_zone)).date()
    return PatientCopy(content=content, filename=f"treatment-options-{name}-{day:%Y-%m-%d}.pdf")
