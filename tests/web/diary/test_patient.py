"""The patient's side: appointments from the personal link (confirm, cancel within the notice
period, rebook into safe slots, medicines before a session, a waiting-list offer), the
pre-visit forms (steps saved as they go, a drawn or typed signature), the clinician's review
(screening only on the confirmed answers, counter-signature), and the public request page."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from needlecare.access import Actor
from needlecare.care import consent_texts
from needlecare.care.models import Consent, Consultation
from needlecare.diary import previsit as previsits
from needlecare.diary import services
from needlecare.diary.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    BookingRequest,
    PreSessionUpdate,
    PreVisit,
    WaitlistEntry,
)
from needlecare.diary.requests import form_stamp
from needlecare.patients.models import Patient
from needlecare.ratelimits.models import RateCounter
from needlecare.recovery.access_log import access_log
from needlecare.recovery.links import live_link, replace_link
from tests.factories import make_patient
from tests.web.care.support import intake_post
from tests.web.diary.support import Diary, london
from tests.web.patients.support import client_for


def phone_for(diary: Diary, patient: Patient | None = None) -> tuple[Client, str]:
    """A phone that has opened the patient's link and given the date of birth."""
    patient = patient or diary.patient
    url = replace_link(Actor(user=diary.jo), patient.pk).url
    token = url.rstrip("/").rsplit("/", 1)[1]
    phone = Client()
    dob = patient.date_of_birth
    phone.post(reverse("patient-verify", args=[token]),
               {"day": dob.day, "month": dob.month, "year": dob.year})
    return phone, token


def test_the_patient_confirms_and_cancels_within_the_notice_period(diary: Diary) -> None:
    soon = diary.book(london(2026, 3, 2, 16, 0))  # within 24 hours
    later = diary.book(london(2026, 3, 9, 10, 0), AppointmentKind.SESSION)
    phone, token = phone_for(diary)
    page = phone.get(reverse("patient-appointments", args=[token])).content.decode()
    assert "Monday 9 March 2026, 10:00" in page
    assert "please call us" in page  # the one tomorrow can only be changed by phone
    phone.post(reverse("patient-appointment-confirm", args=[token, soon.pk]))
    soon.refresh_from_db()
    assert soon.status == AppointmentStatus.CONFIRMED
    refused = phone.post(reverse("patient-appointment-cancel", args=[token, soon.pk]),
                         follow=True).content.decode()
    assert "please call the clinic" in refused
    phone.post(reverse("patient-appointment-cancel", args=[token, later.pk]),
               {"reason": "Going abroad"})
    later.refresh_from_db()
    assert (later.status, later.cancelled_by_patient) == (AppointmentStatus.CANCELLED, True)
    assert later.treatment_session.status == "cancelled"


def test_the_patient_rebooks_into_a_safe_slot(diary: Diary) -> None:
    appointment = diary.book(london(2026, 3, 4, 10, 0))
    phone, token = phone_for(diary)
    url = reverse("patient-appointment-rebook", args=[token, appointment.pk])
    page = phone.get(url).content.decode()
    assert "Monday 2 March, 09:00 with Jo Rowe" in page
    phone.post(url, {"start": london(2026, 3, 5, 11, 0).isoformat(),
                     "practitioner": diary.jo.pk})
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.sequence) == (london(2026, 3, 5, 11, 0), 1)
    # Another patient's appointment is not theirs to move.
    other = diary.book(london(2026, 3, 6, 10, 0),
                       patient=make_patient(diary.clinic, diary.jo, given_name="Robin"))
    assert phone.get(reverse("patient-appointment-rebook", args=[token, other.pk])
                     ).status_code == 404


def test_before_a_session_the_clinician_sees_what_changed(diary: Diary) -> None:
    appointment = diary.book(london(2026, 3, 9, 10, 0), AppointmentKind.SESSION)
    phone, token = phone_for(diary)
    url = reverse("patient-presession", args=[token, appointment.pk])
    form = phone.get(url).content.decode()
    assert "Medicines" in form
    answers = {f"m-{code}": "no" for code in previsits.vocab.MEDICATIONS}
    answers |= {f"p-{code}": "no" for code in previsits.vocab.PROCEDURES}
    answers["m-isotretinoin"] = "current"
    assert phone.post(url, answers).status_code == 302
    update = PreSessionUpdate.objects.get(appointment=appointment)
    assert [c["field"] for c in update.changes] == ["medications.isotretinoin"]
    page = client_for(diary.jo).get(reverse("appointment-detail",
                                            args=[appointment.pk])).content.decode()
    assert "no → <strong>yes</strong>" in page


def test_a_freed_slot_offered_to_the_waiting_list_is_booked_from_the_link(
        diary: Diary) -> None:
    waiting = make_patient(diary.clinic, diary.jo, given_name="Robin", messages_opt_in=True)
    entry = services.join_waitlist(diary.actor(), waiting.pk,
                                   diary.type(AppointmentKind.CONSULTATION).pk)
    freed = diary.book(london(2026, 3, 4, 10, 0))
    services.cancel(diary.actor(), freed.pk, "Cannot come.")
    phone, token = phone_for(diary, waiting)
    start = london(2026, 3, 4, 10, 0).isoformat()
    page = phone.get(reverse("patient-offer", args=[token, entry.pk]),
                     {"start": start}).content.decode()
    assert "Book this time" in page
    phone.post(reverse("patient-offer", args=[token, entry.pk]), {"start": start})
    taken = Appointment.objects.get(patient=waiting)
    assert taken.starts_at == london(2026, 3, 4, 10, 0)
    assert WaitlistEntry.objects.get(pk=entry.pk).status == "booked"


# --- pre-visit forms ------------------------------------------------------------------------

def _consultation_with_forms(diary: Diary) -> Appointment:
    return diary.book(london(2026, 3, 4, 10, 0))


def test_the_pre_visit_intake_is_saved_step_by_step(diary: Diary) -> None:
    appointment = _consultation_with_forms(diary)
    phone, token = phone_for(diary)
    url = reverse("patient-previsit", args=[token, appointment.pk])
    first = phone.get(url).content.decode()
    assert "Step 1 of 6" in first
    response = phone.post(url + "?step=skin", {"fitzpatrick": "3", "indications": ["acne_scars"],
                                                "zones": ["cheeks"]})
    assert response["Location"].endswith("?step=conditions")
    conditions = {code: "no" for code in previsits.vocab.CONDITIONS}
    conditions["cold_sore_history"] = "yes"
    first_code = next(iter(conditions))
    conditions[first_code] = "not_sure"
    phone.post(url + "?step=conditions", conditions)
    previsit = PreVisit.objects.get(appointment=appointment)
    assert previsit.steps_done == ["skin", "conditions"]
    assert previsit.answers["fitzpatrick"] == 3
    assert previsit.answers["conditions"]["cold_sore_history"] is True
    assert first_code not in previsit.answers["conditions"]  # "not sure" stays unanswered
    assert previsit.completed_at is None
    # Going back shows what was saved.
    again = phone.get(url + "?step=skin").content.decode()
    assert re.search(r'<input type="radio" name="fitzpatrick" value="3"[^>]*checked', again)
    # Nothing screened: no consultation until the clinician confirms.
    assert not Consultation.objects.filter(patient=diary.patient).exclude(
        pk=diary.plan.consultation_id).exists()


def test_the_patients_access_log_says_in_plain_words_what_the_desk_did(diary: Diary) -> None:
    appointment = diary.book(london(2026, 3, 4, 10, 0))
    services.move(diary.actor(), appointment.pk, london(2026, 3, 5, 10, 0))
    phone, token = phone_for(diary)
    page = phone.get(reverse("patient-access-log", args=[token])).content.decode()
    assert "booked an appointment for you" in page
    assert "moved your appointment" in page
    link = live_link(diary.patient.pk)
    assert link is not None
    whats = {entry.what for entry in access_log(Actor.for_link(link)).page.object_list}
    assert "opened your record" not in whats  # no diary action is left without its words


def test_a_drawn_signature_is_stored_as_svg_with_the_text_hash(diary: Diary) -> None:
    appointment = _consultation_with_forms(diary)
    phone, token = phone_for(diary)
    url = reverse("patient-previsit-consent", args=[token, appointment.pk])
    strokes = [[[10, 20], [30, 40], [50, 45]], [[60, 60], [90, 70]]]
    refused = phone.post(url, {"strokes": "[]", "understood": "on"}).content.decode()
    assert "Sign in the box" in refused
    mismatch = phone.post(url, {"typed_name": "Someone Else", "understood": "on"})
    assert "exactly as the clinic has it" in mismatch.content.decode()
    phone.post(url, {"strokes": json.dumps(strokes), "understood": "on"})
    signature = PreVisit.objects.get(appointment=appointment).signatures.get()
    text = consent_texts.current("treatment")
    assert signature.text_version == text.version
    assert signature.text_sha256 == hashlib.sha256(text.text.encode()).hexdigest()
    assert signature.svg.startswith("<svg")
    assert 'd="M 10.0 20.0 L 30.0 40.0' in signature.svg
    assert "<script" not in signature.svg


def test_markup_in_the_strokes_never_reaches_the_svg() -> None:
    with pytest.raises(previsits.ServiceError):
        previsits.signature_svg([[["<script>", 1], [2, 3]]])


def test_the_clinician_confirms_the_patients_answers_and_screening_runs_then(
        diary: Diary) -> None:
    appointment = _consultation_with_forms(diary)
    previsit = PreVisit.objects.get(appointment=appointment)
    link_actor = Actor.for_link(replace_link(Actor(user=diary.jo), diary.patient.pk).link)
    previsits.save_step(link_actor, previsit.pk, "skin", {
        "fitzpatrick": 2, "indications": ["acne_scars"], "zones": ["cheeks"]})
    previsits.save_step(link_actor, previsit.pk, "conditions", {"conditions": {
        code: code == "cold_sore_history" for code in previsits.vocab.CONDITIONS}})
    previsits.sign_ahead(link_actor, previsit.pk, typed_name="morgan fairweather",
                         understood=True)
    clinician = client_for(diary.jo)
    url = reverse("previsit-review", args=[previsit.pk])
    page = clinician.get(url).content.decode()
    assert "From the patient, 2 March 2026" in page
    assert re.search(r'name="cond_cold_sore_history" value="yes"[^>]*checked', page)
    assert re.search(r'name="fitzpatrick" value="2"[^>]*checked', page)
    # The clinician completes what the patient left open, then confirms.
    response = clinician.post(url, intake_post())
    previsit.refresh_from_db()
    assert previsit.consultation is not None
    assert response["Location"] == reverse("consultation-detail",
                                           args=[previsit.consultation_id])
    # The consent signed ahead becomes a consent only with the counter-signature.
    signature = previsit.signatures.get()
    before = Consent.objects.count()
    clinician.post(reverse("previsit-countersign", args=[signature.pk]))
    assert Consent.objects.count() == before + 1
    signature.refresh_from_db()
    assert signature.consent.witnessed_by == diary.jo


# --- the public request page --------------------------------------------------------------

def _request(client: Client, slug: str, **fields: Any) -> Any:
    data = {"given_name": "Aisha", "family_name": "Brennan", "phone": "07700 900099",
            "email": "", "preferred_times": "Evenings", "message": "", "website": "",
            "stamp": fields.pop("stamp", None)}
    data.update(fields)
    return client.post(reverse("public-booking", args=[slug]), data)


def test_a_new_patient_asks_for_a_consultation_and_the_desk_registers_them(
        diary: Diary) -> None:
    slug = diary.clinic.slug
    public = Client()
    assert public.get(reverse("public-booking", args=[slug])).status_code == 200
    stamp = form_stamp()
    with time_machine.travel(london(2026, 3, 2, 8, 1), tick=False):
        response = _request(public, slug, stamp=stamp, date_of_birth="1993-08-21")
    assert response["Location"] == reverse("public-booking-thanks", args=[slug])
    request = BookingRequest.objects.get()
    assert request.status == "pending"
    assert not Patient.objects.filter(family_name="Brennan").exists()
    desk = client_for(diary.desk)
    assert "Aisha Brennan" in desk.get(reverse("diary-requests")).content.decode()
    response = desk.post(reverse("diary-request-act", args=[request.pk]),
                         {"action": "register"})
    patient = Patient.objects.get(family_name="Brennan")
    assert response["Location"].startswith(reverse("diary-book") + f"?patient={patient.pk}")
    request.refresh_from_db()
    assert (request.status, request.patient) == ("registered", patient)


def test_a_request_is_stored_and_matched_by_name_as_a_patient_would_be(diary: Diary) -> None:
    """Invisible characters go; the desk is offered the registered patient whose name differs
    only in case, accents or a look-alike letter (the name key of needlecare.names)."""
    slug = diary.clinic.slug
    stamp = form_stamp()
    patient = diary.patient
    # A zero-width space, upper case, and a Cyrillic "о" for the Latin "o".
    typed = patient.given_name.upper().replace("O", "\u041e") + "\u200b"
    with time_machine.travel(london(2026, 3, 2, 8, 1), tick=False):
        _request(Client(), slug, stamp=stamp, given_name=typed,
                 family_name=patient.family_name, phone="", email="new.address@example.org")
    request = BookingRequest.objects.get()
    assert "\u200b" not in request.given_name
    page = client_for(diary.desk).get(reverse("diary-request", args=[request.pk]))
    assert f'name="patient" value="{patient.pk}"' in page.content.decode()


def test_bots_are_kept_out_without_a_captcha(diary: Diary) -> None:
    slug = diary.clinic.slug
    public = Client()
    stamp = form_stamp()
    too_fast = _request(public, slug, stamp=stamp).content.decode()
    assert "quicker than we expected" in too_fast
    with time_machine.travel(london(2026, 3, 2, 8, 1), tick=False):
        dropped = _request(public, slug, stamp=stamp, website="http://spam.example")
        assert dropped.status_code == 302  # looks accepted to the bot …
        assert not BookingRequest.objects.exists()  # … and nothing was kept
        forged = _request(public, slug, stamp="123:forged").content.decode()
        assert "out of date" in forged
        statuses = [_request(public, slug, stamp=stamp).status_code for _ in range(6)]
        assert statuses == [302] * 5 + [429]
        assert BookingRequest.objects.count() == 5
        # A refused request is not counted (its transaction rolls back); the next is refused
        # all the same.
        assert RateCounter.objects.get(scope="public_request").hits == 5
        assert _request(public, slug, stamp=stamp).status_code == 429
    assert Client().get(reverse("public-booking", args=["no-such-clinic"])).status_code == 404


def test_a_refused_request_says_when_to_try_again_and_no_address_is_kept(
        diary: Diary) -> None:
    slug = diary.clinic.slug
    stamp = form_stamp()
    with time_machine.travel(london(2026, 3, 2, 8, 1), tick=False):
        for _ in range(5):
            _request(Client(), slug, stamp=stamp)
        refused = _request(Client(), slug, stamp=stamp)
    assert refused.status_code == 429
    assert "many requests from here" in refused.content.decode()
    assert refused["Retry-After"] == str(59 * 60)  # the hour's window ends at 09:00
    address = "127.0.0.1"  # the test client's
    plain = hashlib.sha256(address.encode()).hexdigest()
    keys = set(RateCounter.objects.values_list("key", flat=True))
    assert keys
    assert not any(address in key or key in plain for key in keys)
