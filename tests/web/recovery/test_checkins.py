"""Check-ins from the patient's phone: triage, the result page, escalations."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import threading
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from needlecare.access import Actor
from needlecare.audit.models import AuditEvent
from needlecare.clinical.vocabulary import RED_FLAGS
from needlecare.recovery import services
from needlecare.recovery.advice import patient_reasons
from needlecare.recovery.forms import CheckInForm
from needlecare.recovery.models import CheckIn, Escalation, EscalationStatus, PatientLink
from needlecare.recovery.results import checkin_document, triage_result
from tests.web.recovery.conftest import (
    NORMAL_DAY_2,
    Linked,
    answers,
    signed_days_ago,
    verified_client,
)
from tests.web.sqlite_file import sqlite_on_disk

pytestmark = pytest.mark.django_db


def submit(linked: Linked, data: dict[str, str], client: Client | None = None
           ) -> tuple[Client, HttpResponse]:
    client = client or verified_client(linked)
    response = client.post(linked.path("patient-checkin"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client, client.get(response["Location"])


def main_text(page: str) -> str:
    return page.split('<main id="main"', 1)[1]


def test_a_normal_day_2_check_in_is_expected_healing(linked: Linked) -> None:
    _, response = submit(linked, answers(NORMAL_DAY_2))
    checkin = CheckIn.objects.get()
    assert checkin.level == "expected"
    assert checkin.escalation is None
    assert not Escalation.objects.exists()
    assert checkin.protocol_version == "microneedling-2026.2"
    assert checkin.result["day"] == 2
    assert triage_result(checkin)["unanswered"] == []
    assert checkin.answers["symptoms"]["redness"] == {"severity": 3, "trend": "better"}
    assert checkin.link_id == linked.link.pk
    page = response.content.decode()
    assert "This sounds like normal healing" in page
    assert "Call the clinic now" not in page
    assert AuditEvent.objects.filter(action="checkin.submit", actor_kind="patient").exists()


def test_pus_and_fever_open_an_urgent_escalation(linked: Linked) -> None:
    before = timezone.now()
    _, response = submit(linked, answers(flags=["pus_or_yellow_crusts", "fever_or_chills"]))
    checkin = CheckIn.objects.get()
    escalation = Escalation.objects.get()
    assert checkin.level == escalation.level == "urgent"
    assert checkin.escalation == escalation
    assert escalation.status == EscalationStatus.OPEN
    hours = (escalation.deadline - before).total_seconds() / 3600
    assert 3.9 < hours <= 4.01  # the clinic's urgent call-back window
    assert {r["subject"] for r in escalation.reasons} == {"pus_or_yellow_crusts",
                                                          "fever_or_chills"}
    page = main_text(response.content.decode())
    assert "Call the clinic now" in page
    assert 'href="tel:02079460000"' in page
    assert linked.clinic.phone in page
    assert "signs of infection" in page  # the reason, in the patient's words
    assert AuditEvent.objects.filter(action="escalation.open").count() == 1


def test_a_breathing_problem_says_call_emergency_services_first(linked: Linked) -> None:
    _, response = submit(linked, answers(flags=["breathing_or_throat_swelling"]))
    escalation = Escalation.objects.get()
    assert escalation.level == "emergency"
    minutes = (escalation.deadline - timezone.now()).total_seconds() / 60
    assert 55 < minutes <= 60
    page = main_text(response.content.decode())
    first_heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    # The clinic's emergency number, in the heading and as a tap-to-call link.
    assert first_heading == f"Call {linked.clinic.emergency_number} now"
    assert page.index('href="tel:999"') < page.index("tel:02079460000")


def test_contact_clinic_promises_a_call_within_one_working_day(db: None) -> None:
    linked = signed_days_ago(5)
    _, response = submit(linked, answers({"redness": (3, "worse")}))
    escalation = Escalation.objects.get()
    assert escalation.level == "contact_clinic"
    page = " ".join(response.content.decode().split())
    # The deadline in words (closing time of the next working day of a clinic open 24/7).
    assert "The clinic will contact you by the end of tomorrow" in page
    assert linked.clinic.phone in page


def test_resubmitting_the_same_form_stores_nothing_new(linked: Linked) -> None:
    data = answers(flags=["pus_or_yellow_crusts"])
    client, first = submit(linked, data)
    _, second = submit(linked, data, client)
    assert CheckIn.objects.count() == 1
    assert Escalation.objects.count() == 1
    assert first.request["PATH_INFO"] == second.request["PATH_INFO"]


def test_a_later_worse_check_in_raises_the_open_escalation(linked: Linked) -> None:
    client, _ = submit(linked, answers({"redness": (3, "better")}, flags=["new_dark_patches"]))
    escalation = Escalation.objects.get()
    assert escalation.level == "contact_clinic"
    first_deadline = escalation.deadline
    submit(linked, answers(flags=["pus_or_yellow_crusts"]), client)
    submit(linked, answers(flags=["pus_or_yellow_crusts", "breathing_or_throat_swelling"]),
           client)
    escalation.refresh_from_db()
    assert Escalation.objects.count() == 1
    assert escalation.level == "emergency"
    assert escalation.deadline < first_deadline
    assert escalation.checkins.count() == 3
    subjects = [r["subject"] for r in escalation.reasons]
    # Nothing dropped: the first red flag is still there with the new ones, each once.
    assert subjects.count("new_dark_patches") == 1
    assert subjects.count("pus_or_yellow_crusts") == 1
    assert "breathing_or_throat_swelling" in subjects
    assert AuditEvent.objects.filter(action="escalation.raise").count() == 2


def test_a_calmer_check_in_never_lowers_the_escalation(linked: Linked) -> None:
    client, _ = submit(linked, answers(flags=["pus_or_yellow_crusts"]))
    escalation = Escalation.objects.get()
    deadline = escalation.deadline
    submit(linked, answers(flags=["new_dark_patches"]), client)
    submit(linked, answers(NORMAL_DAY_2), client)
    escalation.refresh_from_db()
    assert escalation.level == "urgent"
    assert escalation.deadline == deadline
    assert "new_dark_patches" in [r["subject"] for r in escalation.reasons]
    # The reassuring check-in joins the open escalation so the clinician sees it too.
    assert escalation.checkins.count() == 3


def test_raising_an_acknowledged_escalation_puts_it_back_on_the_list(linked: Linked) -> None:
    client, _ = submit(linked, answers(flags=["new_dark_patches"]))
    escalation = Escalation.objects.get()
    services.acknowledge_escalation(Actor(user=linked.clinician), escalation.pk)
    submit(linked, answers(flags=["fever_or_chills"]), client)
    escalation.refresh_from_db()
    assert escalation.level == "urgent"
    assert escalation.status == EscalationStatus.OPEN
    assert escalation.acknowledged_at is None


def test_a_closed_escalation_is_not_reused(linked: Linked) -> None:
    client, _ = submit(linked, answers(flags=["new_dark_patches"]))
    first = Escalation.objects.get()
    services.close_escalation(Actor(user=linked.clinician), first.pk, "reassured")
    submit(linked, answers(flags=["fever_or_chills"]), client)
    assert Escalation.objects.count() == 2
    assert Escalation.objects.exclude(pk=first.pk).get().level == "urgent"


def test_a_missing_warning_sign_answer_re_shows_the_form_and_stores_nothing(
        linked: Linked) -> None:
    client = verified_client(linked)
    data = answers(NORMAL_DAY_2)
    del data["flag_breathing_or_throat_swelling"]
    response = client.post(linked.path("patient-checkin"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your answers were not sent yet" in page
    assert 'href="#flag-breathing_or_throat_swelling"' in page
    assert page.count("Please answer yes or no.") == 1
    # What the patient had filled in is kept.
    assert 'name="redness_severity"' in page
    assert re.search(r'name="redness_severity" value="3"[^>]*checked', page)
    assert not CheckIn.objects.exists()
    assert not Escalation.objects.exists()


def test_a_ticked_symptom_needs_its_strength_and_direction(linked: Linked) -> None:
    client = verified_client(linked)
    data = answers()
    data["pain_present"] = "on"
    response = client.post(linked.path("patient-checkin"), data)
    page = response.content.decode()
    assert "Choose how strong it is, from 0 to 10." in page
    assert "Choose better, the same or worse." in page
    assert not CheckIn.objects.exists()


def test_the_less_usual_symptoms_wait_under_something_else_until_one_is_answered(
        linked: Linked) -> None:
    client = verified_client(linked)
    page = client.get(linked.path("patient-home")).content.decode()
    closed = re.search(r'<details class="more-symptoms"( open)?>(.*?)</details>', page, re.S)
    assert closed is not None
    assert closed.group(1) is None
    assert 'id="symptom-itching"' in closed.group(2)
    assert 'id="symptom-redness"' not in closed.group(2)

    # A half-answered symptom in there comes back with the section open at the question.
    data = answers(NORMAL_DAY_2)
    data["scabs_severity"] = "2"
    page = client.post(linked.path("patient-checkin"), data).content.decode()
    reopened = re.search(r'<details class="more-symptoms"( open)?>(.*?)</details>', page, re.S)
    assert reopened is not None
    assert reopened.group(1) == " open"
    assert 'href="#symptom-scabs"' in page
    assert not CheckIn.objects.exists()


def test_the_engine_stays_strict_for_other_clients(linked: Linked) -> None:
    # A client that leaves a red-flag question out gets it read as "yes".
    actor = Actor.for_link(linked.link)
    flags = {code: False for code in RED_FLAGS}
    del flags["breathing_or_throat_swelling"]
    answers = {"symptoms": {}, "red_flags": flags}
    recorded = services.submit_checkin(actor, answers)
    assert recorded.checkin.level == "emergency"
    assert triage_result(recorded.checkin)["reasons"][0]["assumed"] is True
    again = services.submit_checkin(actor, answers)
    assert not again.created
    assert again.checkin.pk == recorded.checkin.pk


def test_earlier_check_ins_are_part_of_the_document(linked: Linked) -> None:
    client, _ = submit(linked, answers({"pain": (2, "same")}))
    submit(linked, answers({"pain": (4, "same")}), client)
    first, latest = CheckIn.objects.order_by("id")
    # The earlier check-in is named, not copied; the whole document reads it back.
    assert latest.answers["previous_checkins"] == [first.pk]
    document = checkin_document(latest, linked.session.clinic.time_zone)
    assert [p.symptoms["pain"].severity for p in document.previous] == [2]
    # A rising severity counts as worsening whatever the patient ticked.
    assert latest.level == "urgent"


def test_a_check_in_row_stays_small_and_still_says_what_the_patient_was_told(
        linked: Linked) -> None:
    client, _ = submit(linked, answers(NORMAL_DAY_2))
    for _day in range(9):
        submit(linked, answers({"redness": (5, "same"), "pain": (3, "same")},
                               note=f"Still red ({_day})."), client)
    _, response = submit(linked, answers({"redness": (8, "worse"), "pain": (6, "worse")},
                                         flags=["pus_or_yellow_crusts", "fever_or_chills"],
                                         note="Yellow crusts on my cheek and I feel hot."),
                         client)
    latest = CheckIn.objects.order_by("-id").first()
    assert latest is not None
    assert latest.level == "urgent"
    # The budget: 2 KB for the answers and the result together, ten earlier
    # check-ins and several reasons included (a whole result was about 12 KB).
    stored = json.dumps(latest.answers) + json.dumps(latest.result)
    assert len(stored.encode()) <= 2048
    told = triage_result(CheckIn.objects.get(pk=latest.pk))
    assert {r["rule"] for r in told["reasons"]} >= {"infection_signs", "fever"}
    page = main_text(response.content.decode())
    for reason in patient_reasons(told):
        assert html.escape(reason, quote=False) in page
    assert told["advice"][0].startswith("Call the clinic now")


def test_a_check_in_worked_out_before_another_landed_is_decided_again(
        linked: Linked) -> None:
    # The reads and the triage run before the write transaction; another check-in of the
    # session may land in between. The write sees it and decides again: the later check-in
    # compares with it and joins the escalation it opened, never a second one.
    actor = Actor.for_link(linked.link)
    flags = {code: code == "fever_or_chills" for code in RED_FLAGS}
    late = {"symptoms": {"pain": {"severity": 6, "trend": "same"}}, "red_flags": flags}
    stale = services._prepare(linked.link, linked.session, late)
    assert stale.previous_ids == []
    assert stale.result is not None
    first = services.submit_checkin(actor, {
        "symptoms": {"pain": {"severity": 2, "trend": "same"}},
        "red_flags": {code: code == "pus_or_yellow_crusts" for code in RED_FLAGS}})
    assert first.escalation is not None
    with transaction.atomic():
        second = services._store(actor, linked.link, stale, late)
    assert second.created
    assert second.checkin.answers["previous_checkins"] == [first.checkin.pk]
    assert second.escalation == first.escalation
    assert Escalation.objects.count() == 1
    # Compared with the first check-in, pain rose from 2 to 6: worsening, whatever was ticked.
    rules = {r["rule"] for r in triage_result(second.checkin)["reasons"]}
    assert "pain_worsening_after_48h" in rules
    assert "pain_worsening_after_48h" not in {r.rule for r in stale.result.reasons}


def test_a_revoked_link_cannot_record_a_check_in(linked: Linked) -> None:
    actor = Actor.for_link(linked.link)  # the link as the request found it, before revoking
    PatientLink.objects.filter(pk=linked.link.pk).update(revoked_at=timezone.now())
    with pytest.raises(services.ServiceError):
        services.submit_checkin(actor, {"symptoms": {}, "red_flags": {}})
    assert not CheckIn.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submissions_open_one_escalation(tmp_path: Path) -> None:
    with sqlite_on_disk(tmp_path):
        linked = signed_days_ago(2)
        forms = [CheckInForm(answers(flags=["pus_or_yellow_crusts"])),
                 CheckInForm(answers(flags=["fever_or_chills"]))]
        assert all(form.is_valid() for form in forms)
        barrier = threading.Barrier(len(forms))
        errors: list[BaseException] = []

        def run(form: CheckInForm) -> None:
            try:
                barrier.wait(timeout=10)
                services.submit_checkin(Actor.for_link(linked.link), form.answers())
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run, args=(form,)) for form in forms]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors
        assert CheckIn.objects.count() == 2
        escalation = Escalation.objects.get()
        assert escalation.checkins.count() == 2
        assert {r["subject"] for r in escalation.reasons} == {"pus_or_yellow_crusts",
                                                              "fever_or_chills"}


def test_a_check_in_on_the_session_day_is_day_0(db: None) -> None:
    linked = signed_days_ago(0)
    submit(linked, answers({"redness": (5, "same"), "swelling": (4, "same")}))
    checkin = CheckIn.objects.get()
    assert checkin.result["day"] == 0
    assert dt.date.fromisoformat(checkin.answers["session"]["date"]) == timezone.localdate()
