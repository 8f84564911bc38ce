"""Apps add sections to the patient's home page and the staff's patient page through a
registry, and a section with nothing to show is left out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from needlecare import sections
from tests.web.patients.support import client_for
from tests.web.recovery.conftest import Linked, verified_client

pytestmark = pytest.mark.django_db

TEMPLATE = "<section id='probe'>{{ section.words }} for {{ section.who }}</section>"


@pytest.fixture
def probe_section(settings: Any) -> Iterator[list[Any]]:
    seen: list[Any] = []

    def context(actor: Any, patient: Any) -> dict[str, Any] | None:
        seen.append((actor, patient))
        return None if patient.given_name == "Nobody" else {
            "words": "Probe section", "who": patient.given_name}

    template = dict(settings.TEMPLATES[0])
    options = dict(template["OPTIONS"])
    options["loaders"] = [
        ("django.template.loaders.locmem.Loader", {"tests/probe.html": TEMPLATE}),
        "django.template.loaders.filesystem.Loader",
        "django.template.loaders.app_directories.Loader"]
    settings.TEMPLATES = [{**template, "APP_DIRS": False, "OPTIONS": options}]
    saved = {page: dict(sections._registry.get(page, {})) for page in sections.Page}
    for page in sections.Page:
        sections.register(page, sections.Section("probe", 1, "tests/probe.html", context))
    try:
        yield seen
    finally:
        sections._registry.clear()
        sections._registry.update(saved)


def test_a_registered_section_appears_on_both_patient_pages(linked: Linked,
                                                            probe_section: list[Any]) -> None:
    home = verified_client(linked).get(linked.path()).content.decode()
    assert f"Probe section for {linked.patient.given_name}" in home
    chart = client_for(linked.clinician).get(f"/patients/{linked.patient.pk}/")
    assert f"Probe section for {linked.patient.given_name}" in chart.content.decode()
    assert [actor.kind for actor, _ in probe_section] == ["patient", "staff"]


def test_a_section_with_nothing_to_show_is_left_out(linked: Linked,
                                                    probe_section: list[Any]) -> None:
    linked.patient.given_name = "Nobody"
    linked.patient.save()
    home = verified_client(linked).get(linked.path()).content.decode()
    assert "probe" not in home
    assert probe_section
