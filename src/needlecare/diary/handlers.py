"""What the diary does when other apps announce something, and the sections it adds to the
patient's pages (registered once, from ``DiaryConfig.ready``)."""

from __future__ import annotations

from needlecare import events, sections
from needlecare.diary import patient_sections, services
from needlecare.events import SessionSigned


def on_session_signed(event: SessionSigned) -> None:
    """The session's appointment is done: the treatment happened."""
    services.session_signed(event.session_id)


def register() -> None:
    events.subscribe(SessionSigned, on_session_signed)
    sections.register(sections.Page.PATIENT_HOME, sections.Section(
        "appointments", 20, "diary/sections/patient_appointments.html",
        patient_sections.patient_appointments))
    sections.register(sections.Page.PATIENT_HOME, sections.Section(
        "pre_visit", 30, "diary/sections/patient_previsit.html",
        patient_sections.patient_previsit))
    sections.register(sections.Page.PATIENT_CHART, sections.Section(
        "appointments", 20, "diary/sections/chart_appointments.html",
        patient_sections.chart_appointments))
