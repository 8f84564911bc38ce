"""Sections that apps add to shared pages, without the page importing them.

The patient's phone home page (``recovery``) and the staff's patient page (``chart``) show what
several apps hold: appointments, photos, outcomes, reading; the session, check-in and check-in
result pages take sections the same way (photos of that session or check-in). Each app
registers its section for a page in its ``AppConfig.ready()``: a template and a function that
gives the template its context (or None to leave the section out). The page asks for its
sections in order and renders them, so a new feature adds a section in its own app, and the
page's app never imports an app above it (see the layers in docs/architecture.md).

A section's context function reaches its data through the access layer like any service; it
receives the page's actor and subject (the patient, or the record the page shows),
already checked by the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Page(StrEnum):
    #: The patient's own home page (personal link); subject: the patient.
    PATIENT_HOME = "patient_home"
    #: The staff's page of one patient (chart app); subject: the patient.
    PATIENT_CHART = "patient_chart"
    #: A treatment plan's page (care); subject: the plan.
    PLAN = "plan"
    #: A consultation's page (care); subject: the consultation.
    CONSULTATION = "consultation"
    #: The staff's page of one treatment session (care); subject: the session.
    SESSION_DETAIL = "session_detail"
    #: A check-in's page for clinicians (recovery); subject: the check-in.
    CHECKIN = "checkin"
    #: The patient's page after sending a check-in (personal link); subject: the check-in.
    PATIENT_CHECKIN_RESULT = "patient_checkin_result"
    #: An escalation's page (recovery); subject: the escalation.
    ESCALATION = "escalation"


#: (actor, subject) -> the template's context, or None when the section has nothing to show.
ContextFunction = Callable[[Any, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class Section:
    name: str
    #: Where it stands on the page: lower first.
    order: int
    template: str
    context: ContextFunction


@dataclass(frozen=True)
class RenderedSection:
    name: str
    template: str
    context: dict[str, Any]


_registry: dict[Page, dict[str, Section]] = {}


def register(page: Page, section: Section) -> None:
    """Add ``section`` to ``page`` (from ``AppConfig.ready()``; registering again replaces
    the section of the same name)."""
    _registry.setdefault(page, {})[section.name] = section


def sections(page: Page) -> list[Section]:
    return sorted(_registry.get(page, {}).values(), key=lambda s: (s.order, s.name))


def render(page: Page, actor: Any, subject: Any) -> list[RenderedSection]:
    """The page's sections that have something to show, in order, with their context."""
    shown = []
    for section in sections(page):
        context = section.context(actor, subject)
        if context is not None:
            shown.append(RenderedSection(section.name, section.template, context))
    return shown
