"""Builders for the documents tests: files go to a temporary folder, PDFs are read back as text
with pypdf, and a treatment consent is signed with the real text through the care service."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pypdf
import pytest

from needlecare.access import Actor
from needlecare.care import services as care
from needlecare.care.models import Consent, ConsentKind
from needlecare.patients.models import Patient


@pytest.fixture(autouse=True)
def media_dir(settings: Any, tmp_path: Path) -> Path:
    media = tmp_path / "media"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(media)}}}
    return media


def pdf_pages(content: bytes) -> list[str]:
    """The text of each page, with runs of white space made single spaces (lines wrap)."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def pdf_text(content: bytes) -> str:
    return " ".join(pdf_pages(content))


def sign_treatment_consent(patient: Patient, clinician: Any) -> Consent:
    return care.sign_consent(Actor(user=clinician), patient.pk, kind=ConsentKind.TREATMENT,
                             signed_name=patient.full_name, understood=True)
