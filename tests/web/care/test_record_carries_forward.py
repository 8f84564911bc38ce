"""The record carries forward from consultation to session: every intake answer on the
consultation page (the "yes" answers first, grouped as on the form), an alert header on the
patient page, the screening's precautions as a checklist on the chart that signing insists on,
each precaution naming what it is about, and sensible defaults."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal

import pytest

from needlecare.care.answers import intake_answers
from needlecare.care.models import SessionStatus
from needlecare.care.precautions import (
    DONE,
    NOT_NEEDED,
    Precaution,
    PrecautionRecord,
    precautions_of,
)
from needlecare.care.rules import ChartData, SigningFacts, ZoneRow, check_chart_shape, sign_problems
from needlecare.errors import ServiceError
from tests.factories import healthy_intake, make_consultation, make_plan
from tests.web.care.support import book, chart_post, client_for, fresh_clinic, today

TODAY = dt.date(2026, 3, 2)
COLD_SORES = Precaution("cold_sore_history", "Cold sore history", "Decide on antivirals.")
READY = SigningFacts(
    performed_on=TODAY, device="pen", cartridge_lot="LOT-1",
    cartridge_expiry=TODAY + dt.timedelta(days=100), endpoint_reached="pinpoint bleeding",
    interval_reason="", zones=[ZoneRow("cheeks", Decimal("1.50"), 3)],
    depth_ranges={"cheeks": [1.5, 2.0]}, interval_days=28, last_signed_on=None,
    has_valid_consent=True, today=TODAY, precautions=[COLD_SORES])


def text(response: object) -> str:
    return " ".join(response.content.decode().split())  # type: ignore[attr-defined]


# --- the pure rules ---------------------------------------------------------------------------

@pytest.mark.parametrize(("record", "problem"), [
    (None, "the precaution about Cold sore history is not recorded: mark it done or not "
           "needed"),
    (PrecautionRecord(NOT_NEEDED, " "), "the precaution about Cold sore history is marked not "
                                        "needed: say why"),
    (PrecautionRecord(NOT_NEEDED, "Treating the forehead only"), None),
    (PrecautionRecord(DONE), None),
])
def test_signing_refuses_while_a_precaution_is_unrecorded(record: PrecautionRecord | None,
                                                          problem: str | None) -> None:
    facts = dataclasses.replace(READY, precautions_recorded={} if record is None
                                else {COLD_SORES.key: record})
    assert sign_problems(facts) == ([problem] if problem else [])


def test_a_chart_may_only_record_the_screenings_precautions() -> None:
    chart = ChartData(precautions={"made_up": PrecautionRecord(DONE)})
    with pytest.raises(ServiceError, match="not one of this patient's screening"):
        check_chart_shape(chart, today=TODAY, practitioner_ids=(), text_limits={},
                          precaution_keys={"cold_sore_history"})
    chart = ChartData(precautions={"cold_sore_history": PrecautionRecord("maybe")})
    with pytest.raises(ServiceError, match="done or not needed"):
        check_chart_shape(chart, today=TODAY, practitioner_ids=(), text_limits={},
                          precaution_keys={"cold_sore_history"})


def test_every_precaution_names_what_it_is_about_even_from_the_older_protocol() -> None:
    result = {"reasons": [
        {"rule": "isotretinoin", "facts": ["medication:isotretinoin"],
         "precaution": "Discuss both sources with the patient and decide."},
        {"rule": "darker_skin", "facts": ["fitzpatrick:4"], "precaution": "Conservative depth."},
        {"rule": "pregnancy", "facts": ["condition:pregnancy"], "precaution": ""},
    ]}
    found = precautions_of(result)
    assert [(p.key, p.about) for p in found] == [("isotretinoin", "Oral isotretinoin"),
                                                 ("darker_skin", "Fitzpatrick IV")]


def test_every_answer_is_listed_the_yes_answers_first() -> None:
    intake = healthy_intake()
    intake["conditions"]["cold_sore_history"] = True
    intake["medications"]["isotretinoin"] = {"current": False, "last_dose": "2025-12-01"}
    del intake["allergies"]["nickel"]
    groups = {g.key: g for g in intake_answers(intake)}
    assert list(groups) == ["conditions", "allergies", "medications", "procedures"]
    conditions = groups["conditions"].answers
    assert conditions[0].code == "cold_sore_history"
    assert conditions[0].yes
    assert all(not a.yes for a in conditions[1:])
    assert groups["medications"].answers[0].text == "Stopped; last dose 1 December 2025"
    assert [a.text for a in groups["allergies"].answers if a.code == "nickel"] == [
        "Not asked"]
    assert sum(len(g.answers) for g in groups.values()) == sum(
        len(intake[k]) for k in ("conditions", "medications", "procedures")) + len(
        intake["allergies"]) + 1


# --- the pages --------------------------------------------------------------------------------

@pytest.fixture
def cold_sores(db: None) -> dict[str, object]:
    world = fresh_clinic()
    intake = healthy_intake(device="roller")
    intake["conditions"]["cold_sore_history"] = True
    intake["allergies"]["local_anaesthetic"] = True
    consultation = make_consultation(world["patient"], world["clinician"], intake)
    plan = make_plan(consultation, world["clinician"])
    return {**world, "consultation": consultation, "plan": plan,
            "session": book(plan, world["clinician"])}


def test_the_consultation_page_shows_every_answer_yes_first(cold_sores: dict) -> None:
    page = text(client_for(cold_sores["clinician"]).get(
        f"/consultations/{cold_sores['consultation'].pk}/"))
    conditions = page.split('id="answers-conditions"')[1].split("</table>")[0]
    rows = re.findall(r"<th scope=\"row\">([^<]+)</th>", conditions)
    assert rows[0] == "History of cold sores"
    assert len(rows) > 20  # every condition, not only the ones that matter to a rule
    assert "Precautions" in page
    assert "<strong>" in page


def test_the_patient_page_has_an_alert_header(cold_sores: dict) -> None:
    page = text(client_for(cold_sores["clinician"]).get(
        f"/patients/{cold_sores['patient'].pk}/"))
    header = page.split('id="alerts-heading"')[1].split("</section>")[0]
    assert "Local anaesthetic allergy" in header
    assert "History of cold sores" in header
    assert "antiviral" in header
    assert "None open" in header
    assert "signed" in header
    desk = text(client_for(cold_sores["front_desk"]).get(
        f"/patients/{cold_sores['patient'].pk}/"))
    desk_header = desk.split('id="alerts-heading"')[1].split("</section>")[0]
    assert "antiviral" not in desk_header.lower()
    assert "Consent" in desk_header


def test_the_chart_lists_the_precautions_and_signing_needs_them(cold_sores: dict) -> None:
    session = cold_sores["session"]
    client = client_for(cold_sores["clinician"])
    page = text(client.get(f"/sessions/{session.pk}/"))
    assert "Precautions from the screening" in page
    assert 'name="precaution_cold_sore_history"' in page
    # Defaults: today's date, the consultation's device.
    assert f'value="{today().isoformat()}"' in page
    assert re.search(r'<option value="roller" selected>', page)

    refused = client.post(f"/sessions/{session.pk}/sign/", chart_post())
    assert "is not recorded: mark it done or not needed" in text(refused)
    session.refresh_from_db()
    assert session.status == SessionStatus.BOOKED

    no_reason = client.post(f"/sessions/{session.pk}/sign/",
                            chart_post(precaution_cold_sore_history="not_needed",
                                       precaution_cold_sore_history_note=""))
    assert "marked not needed: say why" in text(no_reason)

    # The anaesthetic allergy asks for a precaution too; recorded as not needed, with why.
    others = [p.key for p in precautions_of(cold_sores["consultation"].result)
              if p.key != "cold_sore_history"]
    assert others
    recorded = {f"precaution_{key}": "not_needed" for key in others}
    recorded.update({f"precaution_{key}_note": "No anaesthetic used" for key in others})
    signed = client.post(f"/sessions/{session.pk}/sign/",
                         chart_post(precaution_cold_sore_history="done",
                                    precaution_cold_sore_history_note="Aciclovir started",
                                    **recorded))
    assert signed.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.SIGNED
    assert session.precautions["cold_sore_history"] == {"status": "done",
                                                        "note": "Aciclovir started"}
    shown = text(client.get(f"/sessions/{session.pk}/"))
    assert "Aciclovir started" in shown


def test_an_override_verdict_has_no_default(cold_sores: dict) -> None:
    page = text(client_for(cold_sores["clinician"]).get(
        f"/consultations/{cold_sores['consultation'].pk}/"))
    select = page.split('name="verdict"')[1].split("</select>")[0]
    assert '<option value="" selected>' in select
