"""What happens next after a check-in, given the clock: the pure decision (``next_steps``) at
fixed moments (weekday, night, weekend, holiday, the minute before closing, a clock change),
the words patients read, and the advice that leaves out what the next steps say."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from needlecare.clinical.protocol.loader import available_versions, protocol_by_version
from needlecare.clinical.vocabulary import Level
from needlecare.hours import Hours
from needlecare.recovery.advice import CONTACT_LINES, patient_advice, patient_reasons
from needlecare.recovery.next_steps import (
    ClinicContact,
    emergency_signs,
    next_steps,
    spoken_time,
)

LONDON = ZoneInfo("Europe/London")
WEEKDAYS = Hours("Europe/London", {d: [(dt.time(9), dt.time(17, 30))] for d in range(5)})
CONTACT = ClinicContact(name="Harbour Skin Clinic", phone="020 7946 0000",
                        emergency_number="999", out_of_hours_name="NHS 111",
                        out_of_hours_phone="111")
SIGNS = "difficulty breathing"


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


def steps(level: str, moment: dt.datetime, hours: Hours = WEEKDAYS,
          contact: ClinicContact = CONTACT, **kwargs: object):  # type: ignore[no-untyped-def]
    return next_steps(level, moment, hours, contact, callback_hours=4,
                      emergency_signs=SIGNS, **kwargs)  # type: ignore[arg-type]


def words(level: str, moment: dt.datetime, **kwargs: object) -> str:
    with translation.override("en"):
        html = render_to_string("recovery/_next_steps.html",
                                {"next": steps(level, moment, **kwargs), "heading": "h1"})
    return " ".join(html.split())


def test_urgent_on_a_weekday_afternoon_says_call_now_and_the_call_back_time() -> None:
    # Monday 2 March 2026, 13:05: open; four hours of open time later is 17:05.
    found = steps("urgent", at(2026, 3, 2, 13, 5))
    assert found.open_now
    assert found.call_clinic_now
    assert found.callback_by == at(2026, 3, 2, 17, 5)
    assert not found.show_out_of_hours
    text = words("urgent", at(2026, 3, 2, 13, 5))
    assert "Call the clinic now" in text
    assert "will call you back by 17:05" in text
    assert 'href="tel:02079460000"' in text
    assert "NHS 111" not in text


def test_urgent_at_night_says_closed_until_the_morning_and_whom_to_call_meanwhile() -> None:
    # Tuesday 3 March, 22:40: closed until Wednesday 09:00.
    found = steps("urgent", at(2026, 3, 3, 22, 40))
    assert not found.open_now
    assert found.opens_at == at(2026, 3, 4, 9, 0)
    assert found.callback_by == at(2026, 3, 4, 9, 0)
    text = words("urgent", at(2026, 3, 3, 22, 40))
    assert "The clinic is closed until tomorrow at 09:00" in text
    assert "If you cannot wait, call NHS 111" in text
    assert 'href="tel:111"' in text
    assert "For difficulty breathing:" in text
    assert 'href="tel:999"' in text
    assert "call you back today" not in text


def test_red_flag_on_a_saturday_night_waits_for_monday_morning() -> None:
    # Saturday 7 March, 20:21.
    found = steps("urgent", at(2026, 3, 7, 20, 21))
    assert found.opens_at == at(2026, 3, 9, 9, 0)
    assert "The clinic is closed until Monday at 09:00" in words("urgent", at(2026, 3, 7, 20, 21))


def test_a_holiday_is_closed_like_a_weekend() -> None:
    holiday = Hours("Europe/London", WEEKDAYS.weekly,
                    closed_dates=frozenset({dt.date(2026, 4, 6)}))  # Easter Monday
    found = steps("urgent", at(2026, 4, 6, 11, 0), hours=holiday)
    assert not found.open_now
    assert found.opens_at == at(2026, 4, 7, 9, 0)
    contact = steps("contact_clinic", at(2026, 4, 6, 11, 0), hours=holiday)
    # Within one working day: by closing time of the next working day (Tuesday).
    assert contact.callback_by == at(2026, 4, 7, 17, 30)
    assert contact.show_out_of_hours


def test_the_minute_before_closing_still_says_call_now_and_names_the_out_of_hours_line() -> None:
    found = steps("urgent", at(2026, 3, 2, 17, 29))
    assert found.open_now
    assert found.call_clinic_now
    # Called back first thing tomorrow, like a report that came in at night.
    assert found.callback_by == at(2026, 3, 3, 9, 0)
    assert found.callback_after_closing
    assert found.show_out_of_hours
    text = words("urgent", at(2026, 3, 2, 17, 29))
    assert "Call the clinic now" in text
    assert "call you back by tomorrow at 09:00" in text
    assert "The clinic closes at 17:30" in text
    assert "NHS 111" in text


def test_a_clock_change_keeps_the_wall_clock_opening_time() -> None:
    # The clocks go forward at 01:00 UTC on Sunday 29 March 2026; Monday opens at 09:00 BST.
    saturday_night = dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC)
    found = steps("urgent", saturday_night)
    assert found.opens_at == at(2026, 3, 30, 9, 0)
    assert found.opens_at.astimezone(dt.UTC) == dt.datetime(2026, 3, 30, 8, 0, tzinfo=dt.UTC)
    assert "Monday at 09:00" in words("urgent", saturday_night)
    # Open every day: an urgent report at 16:00 GMT on the Saturday is called back at the
    # next opening, 09:00 BST on the Sunday (08:00 UTC), not an hour out.
    daily = Hours("Europe/London", {d: [(dt.time(9), dt.time(17, 30))] for d in range(7)})
    found = steps("urgent", at(2026, 3, 28, 16, 0), hours=daily)
    assert found.callback_by == at(2026, 3, 29, 9, 0)
    assert found.callback_by.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 8, 0,
                                                                tzinfo=dt.UTC)


def test_emergency_says_call_the_emergency_number_whatever_the_hour() -> None:
    for moment in (at(2026, 3, 2, 11, 0), at(2026, 3, 7, 3, 0)):
        found = steps("emergency", moment)
        assert found.is_emergency
        assert found.callback_by is None
        text = words("emergency", moment)
        assert "Call 999 now" in text
        assert 'href="tel:999"' in text


def test_the_clinics_own_numbers_are_used_never_a_default() -> None:
    elsewhere = ClinicContact(name="Clinique", phone="01 23 45 67 89", emergency_number="112")
    text = words("urgent", at(2026, 3, 7, 20, 21), contact=elsewhere)
    assert 'href="tel:112"' in text
    assert "999" not in text
    # Without an out-of-hours service the words stay general, never a made-up number.
    assert "contact an out-of-hours doctor or urgent care service" in text


def test_an_open_escalations_deadline_is_the_call_back_time() -> None:
    found = steps("urgent", at(2026, 3, 2, 13, 0), deadline=at(2026, 3, 2, 14, 0))
    assert found.callback_by == at(2026, 3, 2, 14, 0)


def test_contact_the_clinic_gives_the_deadline_and_no_out_of_hours_line_while_open() -> None:
    found = steps("contact_clinic", at(2026, 3, 2, 10, 0))
    assert found.callback_by == at(2026, 3, 3, 17, 30)
    assert not found.show_out_of_hours
    assert "The clinic will contact you by tomorrow at 17:30" in words(
        "contact_clinic", at(2026, 3, 2, 10, 0))


def test_moments_are_said_as_a_patient_reads_them() -> None:
    now = at(2026, 3, 7, 20, 21)  # Saturday
    with translation.override("en"):
        assert spoken_time(at(2026, 3, 7, 22, 0), now) == "22:00"
        assert spoken_time(at(2026, 3, 8, 9, 0), now) == "tomorrow at 09:00"
        assert spoken_time(at(2026, 3, 6, 20, 0), now) == "yesterday at 20:00"
        assert spoken_time(at(2026, 3, 9, 9, 0), now) == "Monday at 09:00"
        assert spoken_time(at(2026, 3, 20, 9, 0), now) == "Friday 20 March at 09:00"
        # A clinic open until "24:00" closes at midnight: the end of that day.
        assert spoken_time(at(2026, 3, 9, 0, 0), now) == "the end of tomorrow"
        assert spoken_time(at(2026, 3, 8, 0, 0), now) == "the end of today"


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        steps("urgent", dt.datetime(2026, 3, 2, 12, 0))  # noqa: DTZ001


@pytest.mark.parametrize("label", available_versions())
def test_the_lines_left_out_of_the_advice_say_whom_to_call(label: str) -> None:
    """The next steps replace the protocol's general "call…/contact…" lines; check that the
    lines counted in CONTACT_LINES are exactly those, in every shipped protocol."""
    protocol = protocol_by_version(label)
    for level, count in CONTACT_LINES.items():
        lines = protocol.data.triage.advice[level].patient
        for line in lines[:count]:
            assert "call" in line.lower() or "contact" in line.lower(), (label, level, line)
        for line in lines[count:]:
            assert not line.lower().startswith(("call ", "if the clinic is closed")), line
    assert emergency_signs(protocol)


def test_advice_leaves_out_whom_to_call_and_the_daily_paragraph_above_expected() -> None:
    protocol = protocol_by_version("microneedling-2026.2")
    urgent = list(protocol.data.triage.advice[Level.URGENT].patient)
    result = {"level": "urgent", "advice": [*urgent, protocol.data.aftercare.call_clinic]}
    assert patient_advice(result, protocol) == urgent[2:]
    emergency = [f"{protocol.data.triage.advice[Level.EMERGENCY].patient[0]} Use "
                 f"{protocol.data.triage.emergency_number_hint}.",
                 *protocol.data.triage.advice[Level.EMERGENCY].patient[1:],
                 protocol.data.aftercare.call_clinic]
    kept = patient_advice({"level": "emergency", "advice": emergency}, protocol)
    assert not any("999" in line or "for example" in line for line in kept)
    expected = [*protocol.data.triage.advice[Level.EXPECTED].patient,
                protocol.data.aftercare.call_clinic]
    assert patient_advice({"level": "expected", "advice": expected}, protocol) == expected


def test_each_reason_is_said_once_even_when_several_rules_speak_of_pain() -> None:
    result = {"reasons": [
        {"rule": "severe_pain_flag", "level": "urgent", "subject": "severe_or_increasing_pain",
         "patient": "Severe pain is not part of normal healing."},
        {"rule": "severe_pain", "level": "urgent", "subject": "pain",
         "patient": "Pain this strong is more than we expect."},
        {"rule": "pain_worsening_after_48h", "level": "urgent", "subject": "pain",
         "patient": "Pain that gets worse after the second day is not normal."},
        {"rule": "stronger_than_expected", "level": "contact_clinic", "subject": "pain",
         "patient": "This is stronger than we expect."},
        {"rule": "infection_signs", "level": "urgent", "subject": "pus_or_yellow_crusts",
         "patient": "Pus can be a sign of infection."},
        {"rule": "normal", "level": "expected", "subject": "redness", "patient": "Normal."},
    ]}
    assert patient_reasons(result) == ["Severe pain is not part of normal healing.",
                                       "Pus can be a sign of infection."]
