"""What the education app adds to the rest at start-up (``EducationConfig.ready``): its
sections of the patient's home page, its handlers of the care events, the message kinds it
composes for the outbox, and the built-in hold-backs from promotion."""

from __future__ import annotations

from needlecare import events, sections
from needlecare.education import holdbacks, newsletter, reading
from needlecare.education import sections as education_sections
from needlecare.messaging import composers
from needlecare.messaging.models import MessageKind


def register() -> None:
    sections.register(sections.Page.PATIENT_HOME, sections.Section(
        "reading", 60, "education/section_reading.html", education_sections.reading_section))
    sections.register(sections.Page.PATIENT_HOME, sections.Section(
        "newsletter", 70, "education/section_newsletter.html",
        education_sections.newsletter_section))
    events.subscribe(events.AppointmentBooked, reading.on_appointment_booked)
    events.subscribe(events.SessionSigned, reading.on_session_signed)
    composers.register(MessageKind.READING, reading.compose_reading)
    composers.register(MessageKind.NEWSLETTER, newsletter.compose_newsletter)
    composers.register(MessageKind.SUBSCRIPTION_CONFIRMATION, newsletter.compose_confirmation)
    holdbacks.register_builtin()
