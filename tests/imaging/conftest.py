"""Fixtures for the imaging tests: a portrait, its face, and the portrait in several files."""

from __future__ import annotations

import pytest

from needlecare.imaging.colour import decode_for_measurement
from needlecare.imaging.landmarks import Face, find_face
from tests.imaging import synthetic


@pytest.fixture(scope="session")
def portrait() -> synthetic.RGB8:
    return synthetic.portrait()


@pytest.fixture(scope="session")
def portrait_jpeg(portrait: synthetic.RGB8) -> bytes:
    return synthetic.encode(portrait)


@pytest.fixture(scope="session")
def portrait_face(portrait_jpeg: bytes) -> Face:
    face = find_face(decode_for_measurement(portrait_jpeg).rgb)
    assert face is not None
    return face
