"""The aftercare plan and signed consent PDFs: they open, and hold what the patient needs to
read, checked on the text extracted from them."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.utils import timezone

from needlecare.access import Actor
from needlecare.care import consent_texts
from needlecare.care import services as care
from needlecare.care.aftercare import record_aftercare
from needlecare.care.models import AftercareRecord, SessionStatus
from needlecare.documents import pdf, services
from needlecare.errors import ServiceError
from tests.web.documents.conftest import pdf_pages, pdf_text, sign_treatment_consent
from tests.web.patients.support import make_booked_session

pytestmark = pytest.mark.django_db


def _with_stored_plan(journey: dict[str, Any]) -> Any:
    """The journey's session with the aftercare record signing makes."""
    session = journey["session"]
    record_aftercare(session)
    return session


# --- the aftercare plan ------------------------------------------------------------------------

def test_aftercare_pdf_is_a_two_page_handout(journey: dict) -> None:
    session = _with_stored_plan(journey)
    patient, clinic = journey["patient"], journey["clinic"]
    clinic.out_of_hours_name, clinic.out_of_hours_phone = "NHS 111", "111"
    clinic.emergency_number = "112"
    clinic.opening_hours = {str(d): [["09:00", "17:30"]] for d in range(5)}
    clinic.save()
    session.refresh_from_db()
    content = services.aftercare_pdf(session)

    assert content.startswith(b"%PDF-")
    pages = pdf_pages(content)
    assert len(pages) <= 2
    text = pdf_text(content)
    assert patient.full_name in text
    assert "17 May 1990" in text  # date of birth
    assert session.performed_on.strftime("%-d %B %Y") in text
    # When to call, and whom: the clinic's own values.
    assert "When to call, and whom" in text
    assert "call 112 now" in text
    assert "999" not in text
    assert "Monday to Friday 09:00–17:30" in text
    assert "NHS 111 on 111" in text
    assert "pus or yellow crusts" in text
    # Each instruction once, grouped by the day it starts, with how long it lasts.
    assert text.count("SPF 50") == 1
    assert "From the day of your treatment" in text
    assert "From day 1 " in text
    assert "(until " in text
    assert "Day 3 · " not in text  # no longer a diary of every day
    # The check-in days.
    assert "Your check-in days" in text
    assert "(day 7)" in text
    assert "microneedling-2026.2" in text


def test_every_page_carries_the_clinics_name_and_phone(journey: dict) -> None:
    pages = pdf_pages(services.aftercare_pdf(_with_stored_plan(journey)))
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert journey["clinic"].name in page, number
        assert "020 7946 0000" in page, number
        assert f"{number} / {len(pages)}" in page


def test_the_patients_handout_carries_no_evidence_tags(journey: dict) -> None:
    text = pdf_text(services.aftercare_pdf(_with_stored_plan(journey)))
    # Evidence tags ("Clinic policy") belong on staff pages, not on the patient's handout.
    assert "Keep using sunscreen every day." in text
    assert "Clinic policy" not in text


def test_a_session_signed_before_plans_were_stored_still_gets_its_plan(journey: dict) -> None:
    assert not AftercareRecord.objects.filter(session=journey["session"]).exists()
    text = pdf_text(services.aftercare_pdf(journey["session"]))
    assert "SPF 50" in text
    assert "From day 14 " in text


def test_the_same_plan_renders_to_the_same_bytes(journey: dict) -> None:
    session = _with_stored_plan(journey)
    assert services.aftercare_pdf(session) == services.aftercare_pdf(session)


def test_a_booked_session_has_no_aftercare_plan_yet(journey: dict) -> None:
    booked = make_booked_session(journey["plan"], journey["clinician"])
    with pytest.raises(ServiceError) as refused:
        services.aftercare_pdf(booked)
    assert refused.value.code == "session_not_signed"
    assert booked.status == SessionStatus.BOOKED


def test_names_with_markup_are_printed_as_typed(journey: dict) -> None:
    patient, clinic = journey["patient"], journey["clinic"]
    patient.family_name = 'O\'Neil <img src="http://198.51.100.7/x.png">'
    patient.save()
    clinic.name = 'Skin & Co "North"; </style> {x}'
    clinic.save()
    session = journey["session"]
    session.refresh_from_db()
    pages = pdf_pages(services.aftercare_pdf(session))
    assert 'O\'Neil <img src="http://198.51.100.7/x.png">' in pages[0]
    for page in pages:  # the page header, from CSS, shows the name exactly too
        assert 'Skin & Co "North"; </style> {x}' in page


def test_documents_fetch_nothing_from_the_network_or_outside_static() -> None:
    fetcher = pdf.url_fetcher()
    static_css = (pdf.STATIC_DIR / "needlecare" / "needlecare.css").resolve()
    for url in ["http://198.51.100.7/x.png", "https://example.com/a.css",
                "ftp://example.com/x", "data:text/plain,hello", "file:///etc/passwd",
                (pdf.STATIC_DIR / ".." / "settings.py").resolve().as_uri()]:
        with pytest.raises(pdf.RefusedFetch):
            pdf._allowed_path(url)
    assert pdf._allowed_path(static_css.as_uri()) == static_css
    assert fetcher is not None


# --- the signed consent ------------------------------------------------------------------------

def test_consent_pdf_holds_the_exact_signed_text_version_name_and_witness(
        journey: dict) -> None:
    consent = sign_treatment_consent(journey["patient"], journey["clinician"])
    text = pdf_text(services.consent_pdf(consent))

    signed = consent_texts.TEXTS["treatment-2026.1"]
    assert signed.title in text
    for sentence in [
        "Microneedling (also called collagen induction therapy) uses a device with many very "
        "fine, sterile needles to make tiny punctures in the top layers of the skin.",
        "These effects normally settle within 7 days.",
        "Redness, like mild sunburn, usually for 1 to 3 days.",
    ]:
        assert sentence in consent.text
        assert sentence in text, sentence
    assert "treatment-2026.1" in text
    assert f"Signed by {journey['patient'].full_name}" in text
    assert f"Witnessed by {journey['clinician'].get_full_name()}" in text
    assert hashlib.sha256(consent.text.encode()).hexdigest() in text.replace(" ", "")
    assert "Valid" in text
    assert "withdrawn" not in text.lower()


def test_consent_time_is_the_clinics_local_time(journey: dict) -> None:
    clinic = journey["clinic"]
    clinic.time_zone = "Australia/Sydney"
    clinic.save()
    consent = sign_treatment_consent(journey["patient"], journey["clinician"])
    consent.signed_at = dt.datetime(2026, 3, 2, 22, 30, tzinfo=dt.UTC)  # 09:30 on the 3rd
    text = pdf_text(services.consent_pdf(consent))
    assert "3 March 2026, 09:30 (Australia/Sydney)" in text


def test_a_withdrawn_consent_shows_the_withdrawal_but_not_its_reason(journey: dict) -> None:
    consent = sign_treatment_consent(journey["patient"], journey["clinician"])
    withdrawn = care.withdraw_consent(Actor(user=journey["owner"]), consent.pk,
                                      "Changed her mind after reading about pigmentation.")
    with timezone.override("Europe/London"):
        at = timezone.localtime(withdrawn.withdrawn_at).strftime("%-d %B %Y, %H:%M")
    text = pdf_text(services.consent_pdf(withdrawn))
    assert "This consent has been withdrawn and is no longer valid." in text
    assert f"Withdrawn on {at} (Europe/London), recorded by " \
           f"{journey['owner'].get_full_name()}." in text
    assert "pigmentation." not in text  # the reason stays in the clinical record
    # The signed text is still there, unchanged.
    assert "These effects normally settle within 7 days." in text


def test_photo_consent_lists_the_uses_agreed(journey: dict) -> None:
    consent = care.sign_consent(Actor(user=journey["clinician"]), journey["patient"].pk,
                                kind="photos", signed_name=journey["patient"].full_name,
                                understood=True, photo_uses=["clinical_record", "teaching"])
    text = pdf_text(services.consent_pdf(consent))
    assert "Photographs may be used for My clinical record at this clinic Teaching, " \
           "anonymised (name removed and face not recognisable) Status Valid" in text


def test_a_machine_without_pango_is_told_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from needlecare.documents.apps import pdf_rendering_works

    assert pdf_rendering_works() == []

    def missing() -> None:
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(pdf, "weasyprint", missing)
    (warning,) = pdf_rendering_works()
    assert warning.id == "documents.W001"
    assert "libpango-1.0-0" in warning.hint


def test_warming_up_the_renderer_never_stops_the_worker(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    from needlecare.documents import pdf

    def broken(html: str) -> bytes:
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(pdf, "html_to_pdf", broken)
    pdf.warm_up()  # a machine without Pango still sends messages, with links instead of PDFs
