"""Referral for complications: closing an escalation with a referral (one transaction with
recovery's close), a referral for one already closed, the letter with what the recipient
needs, and tracking until the outcome is recorded."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from needlecare.audit.models import AuditEvent
from needlecare.errors import ServiceError
from needlecare.outcomes import referrals
from needlecare.outcomes.models import Referral, ReferralStatus
from needlecare.recovery import services as recovery
from needlecare.recovery.models import Escalation, EscalationStatus
from tests.web.outcomes.support import World, check_in_at, london, sign_on

DAY = dt.date(2026, 10, 5)
SUMMARY = ("Pustules and fever on day 2 after microneedling of the cheeks; started "
           "flucloxacillin, please assess for atypical infection.")


@pytest.fixture
def escalation(world: World) -> Escalation:
    sign_on(world, DAY)
    recorded = check_in_at(world, london(2026, 10, 7, 19),
                           {"redness": (6, "worse")}, flags=("fever_or_chills",))
    assert recorded.escalation is not None
    return recorded.escalation


def _form(**changes: Any) -> dict[str, Any]:
    return {"outcome": "referred_dermatology", "note": "Called the patient.",
            "to": "dermatologist", "recipient": "Dr A. Dermatologist\nSkin Unit, General Hospital",
            "reason": "suspected_infection", "reason_detail": "", "urgency": "urgent",
            "summary": SUMMARY} | changes


@pytest.mark.django_db
def test_closing_with_a_referral_closes_the_escalation_and_records_the_referral(
        world: World, escalation: Escalation) -> None:
    page = world.client().get(reverse("escalation-detail", args=[escalation.pk]))
    assert "Close with a referral" in page.content.decode()
    response = world.client().post(reverse("escalation-referral", args=[escalation.pk]),
                                   _form())
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referral-detail", args=[referral.pk])
    escalation.refresh_from_db()
    assert escalation.status == EscalationStatus.CLOSED
    assert escalation.outcome == "referred_dermatology"
    assert (referral.to, referral.reason, referral.urgency, referral.status) == (
        "dermatologist", "suspected_infection", "urgent", ReferralStatus.AWAITING)
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["escalation.close", "referral.create"]
    assert "Referred to: Dermatologist" in world.client().get(
        reverse("escalation-detail", args=[escalation.pk])).content.decode()


@pytest.mark.django_db
def test_a_refused_referral_leaves_the_escalation_open(world: World,
                                                       escalation: Escalation) -> None:
    response = world.client().post(reverse("escalation-referral", args=[escalation.pk]),
                                   _form(summary="too short"))
    assert "Write your summary for the letter" in response.content.decode()
    escalation.refresh_from_db()
    assert escalation.status == EscalationStatus.OPEN
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_a_refused_close_records_no_referral(world: World, escalation: Escalation) -> None:
    recovery.close_escalation(world.actor(), escalation.pk, "reassured")
    with pytest.raises(ServiceError) as refused:
        referrals.close_with_referral(
            world.actor(), escalation.pk, outcome="referred_dermatology", note="",
            details=referrals.ReferralDetails(to="dermatologist", reason="granuloma",
                                              summary=SUMMARY))
    assert refused.value.code == "already_closed"
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_an_escalation_already_closed_can_still_be_referred(world: World,
                                                            escalation: Escalation) -> None:
    recovery.close_escalation(world.actor(), escalation.pk, "treated")
    page = world.client().get(reverse("escalation-referral", args=[escalation.pk]))
    assert "Outcome of the escalation" not in page.content.decode()
    response = world.client().post(reverse("escalation-referral", args=[escalation.pk]), {
        k: v for k, v in _form(to="patient_doctor", reason="persistent_hyperpigmentation",
                               urgency="routine").items() if k not in ("outcome", "note")})
    assert response.status_code == 302
    assert Referral.objects.get().to == "patient_doctor"


@pytest.mark.django_db
def test_the_letter_holds_the_session_lots_check_ins_reasons_and_summary(
        world: World, escalation: Escalation) -> None:
    with time_machine.travel(london(2026, 10, 8, 9), tick=False):
        referral = referrals.close_with_referral(
            world.actor(), escalation.pk, outcome="referred_dermatology", note="",
            details=referrals.ReferralDetails(to="dermatologist",
                                              reason="suspected_infection", summary=SUMMARY,
                                              recipient="Dr A. Dermatologist",
                                              urgency="urgent"))
        response = world.client().get(reverse("referral-letter", args=[referral.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert "referral-sam-" in response["Content-Disposition"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    for expected in ("Dr A. Dermatologist", "Suspected infection", "Urgent",
                     "CART-1005",  # the cartridge lot
                     "HA glide (lot HA-77)",  # product and lot
                     "7 October 2026",  # the check-in's date
                     "Fever, chills or feeling unwell",  # the warning sign reported
                     "flucloxacillin",  # the clinician's summary
                     "Cheeks: 1.50 mm, 3 passes"):
        assert expected in text, expected
    referral.refresh_from_db()
    assert len(referral.letter_sha256) == 64
    assert AuditEvent.objects.filter(action="referral.letter_issued").exists()


@pytest.mark.django_db
def test_a_referral_is_awaited_until_its_outcome_is_recorded(world: World,
                                                             escalation: Escalation) -> None:
    referral = referrals.close_with_referral(
        world.actor(), escalation.pk, outcome="referred_dermatology", note="",
        details=referrals.ReferralDetails(to="dermatologist", reason="granuloma",
                                          summary=SUMMARY))
    listing = world.client().get(reverse("referral-list")).content.decode()
    assert reverse("referral-detail", args=[referral.pk]) in listing
    response = world.client().post(reverse("referral-outcome", args=[referral.pk]), {
        "outcome": "seen_treated", "outcome_on": timezone.localdate().isoformat(),
        "note": "Intralesional steroid."})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DONE
    assert referral.outcome == "seen_treated"
    assert reverse("referral-detail", args=[referral.pk]) not in world.client().get(
        reverse("referral-list")).content.decode()
    with pytest.raises(ServiceError) as again:
        referrals.record_outcome(world.actor(), referral.pk, outcome="declined",
                                 outcome_on=timezone.localdate())
    assert again.value.code == "outcome_recorded"


@pytest.mark.django_db
def test_the_front_desk_cannot_refer_or_read_letters(world: World,
                                                     escalation: Escalation) -> None:
    desk = world.client(world.front_desk)
    assert desk.post(reverse("escalation-referral", args=[escalation.pk]),
                     _form()).status_code == 403
    referral = referrals.close_with_referral(
        world.actor(), escalation.pk, outcome="referred_dermatology", note="",
        details=referrals.ReferralDetails(to="dermatologist", reason="granuloma",
                                          summary=SUMMARY))
    assert desk.get(reverse("referral-letter", args=[referral.pk])).status_code == 403
