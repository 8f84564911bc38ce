"""A stored aftercare record: small, and made back into exactly the plan the patient was given.

The pinned digests (``snapshots/aftercare_digests.json``) hold, for every shipped protocol
version, the SHA-256 of the plan made for a few representative sessions. Records stored in
production carry the same digest, so a change that alters them (in the code or in a protocol
file) would make every stored plan of that version differ from what its patient was given.
Such a change needs a new protocol version; only a change that provably alters no stored plan
(there is none yet) may regenerate the file: ``NEEDLECARE_UPDATE_AFTERCARE_DIGESTS=1 pytest
tests/clinical/test_aftercare_record.py``, with the diff reviewed like code.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needlecare.clinical import aftercare_record
from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.aftercare import AftercarePlan, aftercare
from needlecare.clinical.aftercare_record import (
    RECORD_SCHEMA,
    compact,
    expand,
    is_compact,
    plan_digest,
)
from needlecare.clinical.protocol.loader import (
    ProtocolError,
    available_versions,
    protocol_by_version,
)
from needlecare.clinical.session import SessionFacts

DIGESTS = Path(__file__).parent / "snapshots" / "aftercare_digests.json"
SHIPPED = available_versions()

#: Sessions that between them select every kind of conditional aftercare item: shallow and
#: deep, light and dark skin, face, scalp and body, every device, with and without products.
REPRESENTATIVE: dict[str, dict[str, Any]] = {
    "light-face-pen": {"deepest_depth_mm": 0.5, "zones": ["forehead", "periorbital"],
                       "fitzpatrick": 1, "device": "pen", "products": []},
    "acne-scars-cheeks": {"deepest_depth_mm": 1.5, "zones": ["cheeks"], "fitzpatrick": 4,
                          "device": "pen", "products": ["hyaluronic_acid"]},
    "deep-dark-skin-rf": {"deepest_depth_mm": 2.5, "zones": ["cheeks", "jawline", "neck"],
                          "fitzpatrick": 6, "device": "rf",
                          "products": ["prp", "tranexamic_acid"]},
    "scalp-roller": {"deepest_depth_mm": 1, "zones": ["scalp"], "fitzpatrick": 3,
                     "device": "roller", "products": ["minoxidil"]},
    "body-stamp": {"deepest_depth_mm": 2.0, "zones": ["body", "decolletage"], "fitzpatrick": 5,
                   "device": "stamp",
                   "products": ["growth_factors", "topical_anaesthetic", "vitamin_c"]},
}
SESSION_DATE = dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _fresh_plans() -> Iterator[None]:
    """Each test makes its plans itself, not from what an earlier test left in the cache."""
    aftercare_record._rebuilt.cache_clear()
    yield
    aftercare_record._rebuilt.cache_clear()


def _facts(**fields: Any) -> SessionFacts:
    return SessionFacts(date=SESSION_DATE, **fields)


def _stored(plan: AftercarePlan) -> dict[str, Any]:
    """The record as a JSON column gives it back."""
    return json.loads(json.dumps(compact(plan)))


def _document(plan: AftercarePlan) -> dict[str, Any]:
    return plan.model_dump(mode="json", by_alias=True)


def sessions(label: str) -> st.SearchStrategy[SessionFacts]:
    """Any session the protocol version's vocabulary can describe."""
    edition = protocol_by_version(label).vocabulary
    zones = sorted(vocab.codes_in("zones", edition))
    products = sorted(vocab.codes_in("products", edition))
    return st.builds(
        SessionFacts,
        date=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2999, 12, 31)),
        deepest_depth_mm=st.one_of(
            st.floats(min_value=0.0, max_value=3.0, exclude_min=True, allow_nan=False),
            st.integers(min_value=1, max_value=3)),
        zones=st.lists(st.sampled_from(zones), min_size=1, max_size=len(zones), unique=True),
        fitzpatrick=st.integers(min_value=1, max_value=6),
        device=st.sampled_from(sorted(vocab.codes_in("devices", edition))),
        products=st.lists(st.sampled_from(products), max_size=len(products), unique=True),
    )


# --- the record --------------------------------------------------------------------------------

@pytest.mark.parametrize("label", SHIPPED)
@settings(deadline=None, max_examples=60)
@given(data=st.data())
def test_a_record_is_made_back_into_the_plan_it_stands_for(label: str,
                                                           data: st.DataObject) -> None:
    facts = data.draw(sessions(label))
    plan = aftercare(facts, protocol_by_version(label))
    stored = _stored(plan)
    expanded = expand(stored)
    assert expanded.document == _document(plan)
    assert expanded.protocol_label == label
    assert not expanded.drifted
    # Even every zone and product at once stays a small fraction of the 10 KB budget.
    assert len(json.dumps(stored)) < 1_000


def test_a_record_names_the_protocol_and_the_facts_and_nothing_else() -> None:
    plan = aftercare(_facts(**REPRESENTATIVE["acne-scars-cheeks"]))
    stored = _stored(plan)
    assert stored == {
        "schema": RECORD_SCHEMA,
        "protocol": {"name": "microneedling", "version": "2026.2"},
        "session": {"schema": "needlecare.session/1", "date": "2026-12-01",
                    "deepest_depth_mm": 1.5, "zones": ["cheeks"], "fitzpatrick": 4,
                    "device": "pen", "products": ["hyaluronic_acid"]},
        "sha256": plan_digest(_document(plan)),
    }
    assert is_compact(stored)
    assert not is_compact(_document(plan))
    # What it replaces: about 100 KB.
    assert len(json.dumps(_document(plan))) > 50 * len(json.dumps(stored))


def test_a_record_is_made_from_the_version_it_names_not_the_default() -> None:
    old = protocol_by_version(SHIPPED[0])
    plan = aftercare(_facts(**REPRESENTATIVE["acne-scars-cheeks"]), old)
    expanded = expand(_stored(plan))
    assert expanded.protocol_label == old.label
    assert expanded.document["protocol"] == {"name": old.name, "version": old.version}
    assert expanded.document == _document(plan)


def test_each_reader_gets_its_own_copy() -> None:
    stored = _stored(aftercare(_facts(**REPRESENTATIVE["light-face-pen"])))
    first = expand(stored).document
    first["days"][0]["instructions"].clear()
    assert expand(stored).document["days"][0]["instructions"]


def test_a_plan_changed_since_signing_is_made_again_and_flagged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    plan = aftercare(_facts(**REPRESENTATIVE["acne-scars-cheeks"]))
    stored = _stored(plan)

    def reworded(session: SessionFacts, protocol: Any = None) -> AftercarePlan:
        # A code change that rewords day 0's first instruction without a version bump.
        made = aftercare(session, protocol)
        day0 = made.days[0]
        first = day0.instructions[0].model_copy(update={"text": "Reworded."})
        changed = day0.model_copy(update={"instructions": [first, *day0.instructions[1:]]})
        return made.model_copy(update={"days": [changed, *made.days[1:]]})

    monkeypatch.setattr(aftercare_record, "aftercare", reworded)
    expanded = expand(stored)
    assert expanded.drifted
    assert expanded.document["days"][0]["instructions"][0]["text"] == "Reworded."


def test_a_record_of_a_version_that_does_not_load_can_be_made_from_another() -> None:
    stored = _stored(aftercare(_facts(**REPRESENTATIVE["acne-scars-cheeks"]),
                               protocol_by_version(SHIPPED[0])))
    stored["protocol"]["version"] = "1999.1"
    with pytest.raises(ProtocolError, match=r"no shipped protocol 'microneedling-1999\.1'"):
        expand(stored)
    fallback = expand(stored, protocol_label=SHIPPED[-1])
    assert fallback.protocol_label == SHIPPED[-1]
    assert fallback.drifted  # the document names another version than the one signed


# --- pinned plans of every shipped protocol version --------------------------------------------

def _digests() -> dict[str, dict[str, str]]:
    return {label: {name: plan_digest(_document(aftercare(_facts(**facts),
                                                          protocol_by_version(label))))
                    for name, facts in REPRESENTATIVE.items()}
            for label in SHIPPED}


def test_the_plans_of_every_shipped_protocol_version_are_unchanged() -> None:
    observed = _digests()
    if os.environ.get("NEEDLECARE_UPDATE_AFTERCARE_DIGESTS") == "1":
        DIGESTS.parent.mkdir(exist_ok=True)
        DIGESTS.write_text(json.dumps(observed, indent=1, sort_keys=True) + "\n")
    pinned = json.loads(DIGESTS.read_text())
    assert sorted(pinned) == sorted(observed), (
        "every shipped protocol version has pinned plans: regenerate the file once for a new "
        "version (see this module's docstring)")
    changed = [f"{label} / {name}" for label, plans in observed.items()
               for name, digest in plans.items() if pinned[label].get(name) != digest]
    assert not changed, (
        "these plans differ from the ones pinned, and so would every stored aftercare record "
        "of that protocol version: put the change in a new protocol version instead: "
        + ", ".join(changed))
