"""The API flags a look-alike name with the same date of birth as a possible duplicate."""

from __future__ import annotations

import pytest

from tests.web.api.conftest import World, call, error_of

pytestmark = pytest.mark.django_db


def _patient(given_name: str, family_name: str) -> dict[str, str]:
    return {"given_name": given_name, "family_name": family_name,
            "date_of_birth": "1988-03-02", "phone": "07700 900123",
            "preferred_channel": "sms"}


def test_a_greek_omicron_in_the_name_answers_409_with_the_match(world: World) -> None:
    first = call("POST", "/patients", world.tokens["front_desk"], _patient("Robin", "Quill"))
    assert first.status_code == 201, first.content
    again = call("POST", "/patients", world.tokens["front_desk"],
                 _patient("R\u03bfbin", "QUILL"))
    assert again.status_code == 409
    error = error_of(again)
    assert error["code"] == "possible_duplicate"
    assert error["matches"] == [first.json()["id"]]
