"""The patient's rights (rights app) over the outcomes app's rows: an outcome recorded after
the last session keeps the clinical record for its retention period, and a full erasure
removes the free text a clinician wrote about the patient (the adverse event's description,
the reason for the chosen treatment, the referral's summary and notes)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from needlecare.outcomes import choice, records, referrals
from needlecare.outcomes.models import AdverseEvent, Referral, TreatmentChoice
from needlecare.rights import services as rights
from needlecare.rights.models import ErasureScope
from tests.web.outcomes.support import World, check_in_at, london, sign_on

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 10, 5)
SUMMARY = "Sam Example: pustules and fever on day 2 after microneedling of the cheeks."


def test_an_outcome_after_the_last_session_moves_the_last_clinical_day(world: World) -> None:
    sign_on(world, DAY)
    later = DAY + dt.timedelta(days=91)
    with time_machine.travel(london(later.year, later.month, later.day, 10), tick=False):
        records.record_outcome(world.actor(), world.plan.pk, measure="goodman_baron_grade",
                               point="three_months_after", assessed_on=later,
                               values={"grade": 2})
    assert rights.last_clinical_day(world.patient) == later


def test_a_full_erasure_removes_the_outcomes_free_text(world: World) -> None:
    session = sign_on(world, DAY)
    recorded = check_in_at(world, london(2026, 10, 7, 19), {"redness": (6, "worse")},
                           flags=("fever_or_chills",))
    assert recorded.escalation is not None
    with time_machine.travel(london(2026, 10, 8, 9), tick=False):
        records.record_adverse_event(world.actor(), session.pk, type="pih", severity=2,
                                     onset=DAY + dt.timedelta(days=2), note="Sam's left cheek")
        choice.choose_treatment(world.actor(), world.consultation.pk, option="microneedling",
                                reason="Sam prefers little downtime.")
        referrals.close_with_referral(
            world.actor(), recorded.escalation.pk, outcome="referred_dermatology", note="",
            details=referrals.ReferralDetails(to="dermatologist", reason="suspected_infection",
                                              summary=SUMMARY, reason_detail="Sam's fever"))

    with time_machine.travel(london(2036, 1, 5, 9), tick=False):
        erasure = rights.erase_record(world.actor(world.owner), world.patient.pk,
                                      confirm_name=world.patient.full_name)
    assert erasure.scope == ErasureScope.FULL
    assert AdverseEvent.objects.get().note == ""
    assert TreatmentChoice.objects.get().reason == rights.ERASED
    referral = Referral.objects.get()
    assert (referral.summary, referral.reason_detail) == (rights.ERASED, "")
