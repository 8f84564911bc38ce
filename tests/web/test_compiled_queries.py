"""Queries compiled once: the same rows as the queryset they were made from, on both
databases, whatever ids they are run with."""

from __future__ import annotations

import pytest
from django.db.models import QuerySet

from needlecare.compiled import CompiledQuery
from needlecare.patients.models import Patient
from tests.factories import make_clinic, make_patient, make_user

pytestmark = pytest.mark.django_db


def _patients_of(clinic_id: int, patient_id: int) -> QuerySet[Patient, tuple[int, str]]:
    return (Patient.objects.filter(clinic_id=clinic_id, pk__gte=patient_id,
                                   family_name__startswith="P")
            .order_by("pk").values_list("pk", "family_name"))


def test_a_compiled_query_answers_as_its_queryset_for_any_ids() -> None:
    compiled = CompiledQuery(_patients_of, arguments=2)
    clinics = [make_clinic(), make_clinic()]
    for clinic in clinics:
        owner = make_user(clinic)
        for n in range(3):
            make_patient(clinic, owner, family_name=f"Patient {n}")
        make_patient(clinic, owner, family_name="Other")
    for clinic in clinics:
        for patient in Patient.objects.filter(clinic=clinic):
            expected = list(_patients_of(clinic.pk, patient.pk))
            assert compiled.rows(clinic.pk, patient.pk) == expected
    assert compiled.rows(clinics[0].pk, 10**9) == []


def test_an_argument_the_sql_does_not_use_is_refused() -> None:
    compiled = CompiledQuery(lambda clinic_id, unused: Patient.objects.filter(
        clinic_id=clinic_id).values_list("pk"), arguments=2)
    with pytest.raises(ValueError, match=r"arguments \[1\]"):
        compiled.rows(1, 2)
    with pytest.raises(TypeError):
        CompiledQuery(_patients_of, arguments=2).rows(1)
