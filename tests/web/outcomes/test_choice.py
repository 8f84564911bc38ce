"""Choosing a treatment on the consultation's page: the comparison shows each risk rule of the
alternatives file on the rows it names, for a patient who has what it depends on; the clinician
records the choice and why (audited); the patient's copy is a PDF in plain words; options the
clinic does not offer are marked "refer"."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.urls import reverse
from pypdf import PdfReader

from needlecare.audit.models import AuditEvent
from needlecare.clinical.protocol.alternatives_loader import default_alternatives
from needlecare.outcomes.models import TreatmentChoice
from tests.factories import healthy_intake, make_consultation
from tests.web.outcomes.support import World

RULES = default_alternatives().data.risks
PATIENT_RULES = sorted(key for key, rule in RULES.items() if not rule.always)
GENERAL_RULES = sorted(key for key, rule in RULES.items() if rule.always)


def _intake_for(rule_key: str) -> dict[str, Any]:
    """A consultation in which everything the rule depends on holds."""
    rule = RULES[rule_key]
    intake = healthy_intake(fitzpatrick=rule.fitzpatrick_min or 2,
                            zones=list(rule.zones_any[:1]) or ["cheeks"])
    for fact in rule.facts_any[:1]:
        section, _sep, code = fact.partition(":")
        intake[{"condition": "conditions", "medication": "medications",
                "allergy": "allergies", "procedure": "procedures"}[section]][code] = True
    return intake


def _row(page: str, option: str) -> str:
    found = re.search(rf'<tr class="option-{option}[^"]*" id="option-{option}">(.*?)</tr>',
                      page, re.S)
    assert found, option
    return found.group(1)


def _page(world: World, consultation_pk: int, query: str = "") -> str:
    response = world.client().get(reverse("consultation-alternatives",
                                          args=[consultation_pk]) + query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("rule_key", PATIENT_RULES)
def test_each_risk_rule_shows_on_the_rows_it_names(world: World, rule_key: str) -> None:
    consultation = make_consultation(world.patient, world.clinician, _intake_for(rule_key))
    page = _page(world, consultation.pk)
    for option in default_alternatives().data.options:
        shown = f'data-risk="{rule_key}"' in _row(page, option)
        assert shown == (option in RULES[rule_key].options), (rule_key, option)


@pytest.mark.django_db
@pytest.mark.parametrize("rule_key", GENERAL_RULES)
def test_each_general_risk_shows_for_everyone(world: World, rule_key: str) -> None:
    page = _page(world, world.consultation.pk)
    for option in RULES[rule_key].options:
        assert RULES[rule_key].clinician.split(".")[0][:40] in _row(page, option)


@pytest.mark.django_db
def test_fitzpatrick_v_with_acne_scars_shows_the_pigmentation_risk_of_ablative_laser_and_peels(
        world: World) -> None:
    consultation = make_consultation(world.patient, world.clinician, healthy_intake(
        fitzpatrick=5, indications=["acne_scars"], zones=["cheeks"]))
    page = _page(world, consultation.pk)
    assert 'data-risk="darker_skin_ablative_laser"' in _row(page, "ablative_fractional_laser")
    assert 'data-risk="darker_skin_medium_peel"' in _row(page, "medium_peel")
    assert "Fitzpatrick" in _row(page, "medium_peel")  # the reason, in words
    healthy = _page(world, world.consultation.pk)
    assert "data-risk=" not in healthy


@pytest.mark.django_db
def test_an_unanswered_question_shows_the_risk_as_possible(world: World) -> None:
    intake = healthy_intake(zones=["perioral"])
    del intake["conditions"]["cold_sore_history"]
    consultation = make_consultation(world.patient, world.clinician, intake)
    row = _row(_page(world, consultation.pk), "microneedling")
    assert 'data-risk="cold_sores"' in row
    assert "Possible" in row
    assert "Not answered:" in row


@pytest.mark.django_db
def test_scar_types_narrow_what_each_option_suits(world: World) -> None:
    page = _page(world, world.consultation.pk, "?scar_types=icepick")
    assert "option-not-fitting" in re.search(r'<tr class="option-subcision[^"]*"',
                                             page).group(0)  # type: ignore[union-attr]
    assert "option-not-fitting" not in re.search(
        r'<tr class="option-tca_cross_punch[^"]*"', page).group(0)  # type: ignore[union-attr]


@pytest.mark.django_db
def test_the_clinician_chooses_with_a_reason_and_prints_the_patient_s_copy(
        world: World) -> None:
    client = world.client()
    url = reverse("consultation-alternatives-choose", args=[world.consultation.pk])
    refused = client.post(url, {"option": "subcision", "reason": "short"})
    assert "at least 10 characters" in refused.content.decode()
    assert not TreatmentChoice.objects.exists()
    done = client.post(url, {"option": "microneedling", "scar_types": ["rolling"],
                             "reason": "Rolling scars on fair skin; she prefers little "
                                       "downtime."})
    assert done.status_code == 302
    choice = TreatmentChoice.objects.get()
    assert choice.option == "microneedling"
    assert choice.scar_types == ["rolling"]
    assert choice.comparison["schema"] == "needlecare.alternatives/1"
    assert AuditEvent.objects.filter(action="alternatives.choose",
                                     detail__option="microneedling").exists()
    consultation_page = client.get(reverse("consultation-detail",
                                           args=[world.consultation.pk])).content.decode()
    assert "little downtime" in consultation_page
    pdf = client.get(reverse("treatment-choice-copy", args=[choice.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Your treatment options" in text
    assert "little downtime" in text
    assert "Clinic policy" in text  # practice-only statements are labelled as such


@pytest.mark.django_db
def test_options_the_clinic_does_not_offer_show_as_refer(world: World) -> None:
    owner = world.client(world.owner)
    assert world.client().get(reverse("clinic-offerings")).status_code == 403
    response = owner.post(reverse("clinic-offerings"),
                          {"not_offered": ["ablative_fractional_laser", "dermal_filler"]})
    assert response.status_code == 302
    page = _page(world, world.consultation.pk)
    assert "Refer: not offered here" in _row(page, "ablative_fractional_laser")
    assert "Refer: not offered here" not in _row(page, "microneedling")
    assert AuditEvent.objects.filter(action="clinic.offerings").exists()


@pytest.mark.django_db
def test_the_front_desk_cannot_open_the_comparison(world: World) -> None:
    response = world.client(world.front_desk).get(
        reverse("consultation-alternatives", args=[world.consultation.pk]))
    assert response.status_code == 403
