"""Aftercare plans as a patient or clinician would read them."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needlecare.clinical import vocabulary as vocab
from needlecare.clinical.aftercare import (
    AFTERCARE_SCHEMA,
    CATEGORY_ORDER,
    DAILY_DAYS,
    AftercarePlan,
    Instruction,
    aftercare,
    instructions_for_day,
)
from needlecare.clinical.common import basis_of
from needlecare.clinical.protocol.loader import Protocol, default_protocol
from needlecare.clinical.protocol.schema import AftercareCategory, AftercareItem
from needlecare.clinical.session import SessionFacts

PROTOCOL = default_protocol()
ITEMS = PROTOCOL.data.aftercare.items
PLAN_DAYS = PROTOCOL.data.aftercare.plan_days
SESSION_DATE = dt.date(2026, 12, 1)


def session(**changes: Any) -> SessionFacts:
    facts: dict[str, Any] = {"date": SESSION_DATE, "deepest_depth_mm": 1.0,
                             "zones": ["cheeks"], "fitzpatrick": 2}
    facts.update(changes)
    return SessionFacts(**facts)


def ids(instructions: list[Instruction]) -> list[str]:
    return [i.id for i in instructions]


def days_with(plan: AftercarePlan, item_id: str) -> list[int]:
    return [d.day for d in plan.days if item_id in ids(d.instructions)]


def weeks_with(plan: AftercarePlan, item_id: str) -> list[tuple[int, int]]:
    return [(w.from_day, w.to_day) for w in plan.weeks if item_id in ids(w.instructions)]


# --- what the patient is told, day by day -----------------------------------------------------

@pytest.mark.parametrize(("item_id", "days"), [
    ("no_makeup", [0]),
    ("mineral_makeup", list(range(1, 8))),
    ("no_exercise", [0, 1]),
    ("no_swimming", [0, 1, 2]),
    ("no_actives", list(range(7))),
    ("resume_actives", [7, 8, 9, 10]),
    ("spf_daily", list(range(10))),
    ("spf_continue", list(range(10, DAILY_DAYS + 1))),
    ("hyaluronic_gel", list(range(10))),
    ("cleanse_day0", [0]),
])
def test_every_patient_gets_the_core_items_on_the_protocol_days(item_id: str,
                                                                days: list[int]) -> None:
    assert days_with(aftercare(session()), item_id) == days


def test_day_0_has_no_make_up_and_no_exercise() -> None:
    day0 = aftercare(session()).days[0]
    by_category = {i.category: i for i in day0.instructions}
    assert by_category["makeup"].id == "no_makeup"
    assert "No make-up" in by_category["makeup"].text
    assert by_category["exercise"].id == "no_exercise"


def test_make_up_is_allowed_from_day_1() -> None:
    day1 = aftercare(session()).days[1]
    makeup = [i for i in day1.instructions if i.category == "makeup"]
    assert ids(makeup) == ["mineral_makeup"]
    assert "You may wear make-up" in makeup[0].text


@pytest.mark.parametrize("zones", [["scalp"], ["body"]])
def test_make_up_advice_is_only_for_faces_and_necks(zones: list[str]) -> None:
    plan = aftercare(session(zones=zones))
    assert not any(i.category == "makeup" for d in plan.days for i in d.instructions)


def test_pools_and_saunas_are_avoided_for_days_0_to_2_only() -> None:
    plan = aftercare(session())
    assert days_with(plan, "no_swimming") == [0, 1, 2]
    assert "sauna" in plan.days[0].instructions[ids(plan.days[0].instructions)
                                                 .index("no_swimming")].text
    assert not any(i.category == "swimming" for i in plan.days[3].instructions)


def test_actives_are_stopped_for_a_week_and_resume_from_day_7() -> None:
    plan = aftercare(session())
    actives = {d.day: ids([i for i in d.instructions if i.category == "actives"])
               for d in plan.days}
    assert all(actives[day] == ["no_actives"] for day in range(7))
    assert all(actives[day] == ["resume_actives"] for day in range(7, 11))
    assert actives[11] == []


def test_spf_50_daily_for_ten_days_then_keep_using_sunscreen() -> None:
    plan = aftercare(session())
    for day in plan.days:
        (sunscreen,) = [i for i in day.instructions if i.id in ("spf_daily", "spf_continue")]
        if day.day <= 9:
            assert "SPF 50" in sunscreen.text
        else:
            assert sunscreen.text == "Keep using sunscreen every day."
    assert all("spf_continue" in ids(w.instructions) for w in plan.weeks)


LATER_WEEKS = [(15, 21), (22, 28), (29, 35), (36, 42), (43, 49), (50, 56)]


@pytest.mark.parametrize("fitzpatrick", [4, 5, 6])
def test_darker_skin_gets_two_weeks_of_sun_avoidance(fitzpatrick: int) -> None:
    plan = aftercare(session(fitzpatrick=fitzpatrick))
    assert days_with(plan, "sun_avoid_darker_skin") == list(range(15))
    assert days_with(plan, "sun_avoid") == []
    assert plan.days[0].skin_notes  # redness can look darker on this skin


@pytest.mark.parametrize("fitzpatrick", [1, 2, 3])
def test_lighter_skin_gets_one_week_of_sun_avoidance(fitzpatrick: int) -> None:
    plan = aftercare(session(fitzpatrick=fitzpatrick))
    assert days_with(plan, "sun_avoid") == list(range(8))
    assert days_with(plan, "sun_avoid_darker_skin") == []
    assert all(not d.skin_notes for d in plan.days)


@pytest.mark.parametrize("fitzpatrick", [1, 3, 4, 6])
def test_everyone_watches_for_dark_patches_and_late_bumps_for_eight_weeks(
        fitzpatrick: int) -> None:
    # PIH shows 2–8 weeks after treatment in any skin type; late mycobacterial infection
    # takes about three weeks to appear whatever was applied.
    plan = aftercare(session(fitzpatrick=fitzpatrick, products=[]))
    assert days_with(plan, "watch_dark_patches") == [14]
    assert weeks_with(plan, "watch_dark_patches") == LATER_WEEKS
    assert weeks_with(plan, "watch_late_bumps") == LATER_WEEKS


@pytest.mark.parametrize(("products", "watched"), [
    (["vitamin_c"], True),
    (["hyaluronic_acid", "vitamin_c"], True),
    (["growth_factors"], True),
    (["other_cosmeceutical"], True),
    (["hyaluronic_acid"], False),
    (["hyaluronic_acid", "topical_anaesthetic"], False),
    ([], False),
])
def test_firm_bumps_watch_only_after_a_serum_was_applied(products: list[str],
                                                         watched: bool) -> None:
    plan = aftercare(session(products=products))
    assert bool(days_with(plan, "watch_bumps_after_serum")) is watched
    if watched:
        assert days_with(plan, "watch_bumps_after_serum") == list(range(3, 14))


@pytest.mark.parametrize(("zones", "weekly"), [
    (["scalp"], True),
    (["scalp", "forehead"], True),
    (["cheeks", "nose"], False),
    (["body"], False),
])
def test_scalp_sessions_get_the_weekly_next_session_note_on_day_7(zones: list[str],
                                                                   weekly: bool) -> None:
    plan = aftercare(session(zones=zones))
    assert days_with(plan, "scalp_weekly") == ([7] if weekly else [])


def test_the_four_week_next_session_note_appears_in_the_last_week() -> None:
    plan = aftercare(session())
    assert weeks_with(plan, "next_session")[0] == (22, 28)
    assert days_with(plan, "next_session") == []


def test_every_day_says_when_to_call_the_clinic() -> None:
    plan = aftercare(session())
    call = PROTOCOL.data.aftercare.call_clinic
    assert plan.call_clinic == call
    assert [d.day for d in plan.days] == list(range(DAILY_DAYS + 1))
    assert all(d.call_clinic == call for d in plan.days)


@pytest.mark.parametrize("depth", [0.25, 1.0, 2.5])
def test_redness_is_normal_on_day_0(depth: float) -> None:
    day0 = aftercare(session(deepest_depth_mm=depth)).days[0]
    normal = {n.symptom: n for n in day0.normal_today}
    assert normal["redness"].phase == "normal"
    assert "mild sunburn" in normal["redness"].text


def test_normal_today_follows_the_expected_course() -> None:
    plan = aftercare(session(deepest_depth_mm=1.0))
    day = {d.day: {n.symptom: n.phase for n in d.normal_today} for d in plan.days}
    assert "dryness_flaking" not in day[0]  # starts on day 1
    assert day[1]["dryness_flaking"] == "normal"
    assert day[4]["redness"] == "fading"  # medium depth: normal to day 3
    assert "redness" not in day[8]  # more than 7 days is prolonged, not normal


def test_instructions_are_in_reading_order() -> None:
    plan = aftercare(session(fitzpatrick=5, zones=["scalp"], products=["vitamin_c"]))
    rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    blocks = [d.instructions for d in plan.days] + [w.instructions for w in plan.weeks]
    for instructions in blocks:
        ranks = [rank[i.category] for i in instructions]
        assert ranks == sorted(ranks)
    day0 = ids(plan.days[0].instructions)
    assert day0.index("spf_daily") < day0.index("sun_avoid_darker_skin")  # file order


def test_the_reading_order_covers_every_category() -> None:
    assert sorted(CATEGORY_ORDER) == sorted(get_args(AftercareCategory))
    assert len(set(CATEGORY_ORDER)) == len(CATEGORY_ORDER)


# --- weeks after the first two ----------------------------------------------------------------

def test_weeks_cover_the_rest_of_the_plan_in_seven_day_blocks() -> None:
    plan = aftercare(session())
    assert [(w.from_day, w.to_day) for w in plan.weeks] == LATER_WEEKS
    assert plan.weeks[-1].to_day == PLAN_DAYS
    for week in plan.weeks:
        assert week.from_date == SESSION_DATE + dt.timedelta(days=week.from_day)
        assert week.to_date == SESSION_DATE + dt.timedelta(days=week.to_day)
        assert len(ids(week.instructions)) == len(set(ids(week.instructions)))


def test_a_week_lists_what_applies_on_any_of_its_days() -> None:
    s = session(fitzpatrick=6, zones=["scalp", "cheeks"], products=["vitamin_c"])
    plan = aftercare(s)
    for week in plan.weeks:
        expected: set[str] = set()
        for day in range(week.from_day, week.to_day + 1):
            expected |= set(ids(instructions_for_day(s, day)))
        assert set(ids(week.instructions)) == expected


# --- labels, sources and dates ----------------------------------------------------------------

def test_each_instruction_is_labelled_with_its_basis() -> None:
    plan = aftercare(session(fitzpatrick=5, products=["vitamin_c"], zones=["scalp", "cheeks"]))
    seen = {i.id: i for d in plan.days for i in d.instructions}
    seen |= {i.id: i for w in plan.weeks for i in w.instructions}
    for instruction in seen.values():
        item = ITEMS[instruction.id]
        assert instruction.evidence is item.evidence
        assert instruction.basis == basis_of(item.evidence)
        assert instruction.text == item.patient  # never reworded
    assert seen["no_makeup"].basis == "clinic_policy"
    assert seen["spf_daily"].basis == "evidence"


def test_every_source_resolves() -> None:
    plan = aftercare(session(fitzpatrick=4, products=["vitamin_c"], zones=["scalp"]))
    bib = PROTOCOL.data.bibliography
    instructions = [i for d in plan.days for i in d.instructions]
    instructions += [i for w in plan.weeks for i in w.instructions]
    assert instructions
    for instruction in instructions:
        assert [s.key for s in instruction.sources] == ITEMS[instruction.id].sources
        for source in instruction.sources:
            assert source.citation == bib[source.key].citation
            assert source.kind == bib[source.key].kind


def test_dates_are_the_session_date_plus_the_day() -> None:
    s = session(date=dt.date(2026, 12, 28))  # crosses a year end
    plan = aftercare(s)
    for day in plan.days:
        assert day.date == s.date + dt.timedelta(days=day.day)
        for instruction in day.instructions:
            if instruction.to_day is None:
                assert instruction.until_date is None
            else:
                assert instruction.until_date == s.date + dt.timedelta(days=instruction.to_day)
    assert plan.days[14].date == dt.date(2027, 1, 11)


def test_the_plan_round_trips_through_json() -> None:
    plan = aftercare(session(fitzpatrick=5, products=["vitamin_c"], zones=["scalp", "neck"],
                             device="rf"))
    dumped = plan.model_dump(mode="json", by_alias=True)
    assert dumped["schema"] == AFTERCARE_SCHEMA
    assert dumped["session"]["schema"] == "needlecare.session/1"
    assert AftercarePlan.model_validate(dumped) == plan


def test_the_plan_echoes_the_session_and_protocol() -> None:
    s = session(device="roller")
    plan = aftercare(s)
    assert plan.session == s
    assert (plan.protocol.name, plan.protocol.version) == (PROTOCOL.name, PROTOCOL.version)


# --- instructions_for_day (used by triage) ----------------------------------------------------

def test_instructions_for_day_matches_the_plan() -> None:
    s = session(fitzpatrick=4, products=["growth_factors"], zones=["scalp"])
    plan = aftercare(s)
    for day in plan.days:
        assert instructions_for_day(s, day.day) == day.instructions
    assert instructions_for_day(s, 1, PROTOCOL) == plan.days[1].instructions


def test_instructions_for_day_after_the_plan_keeps_open_ended_advice() -> None:
    assert ids(instructions_for_day(session(), 60)) == ["spf_continue", "next_session"]


def test_instructions_for_day_refuses_a_day_before_the_session() -> None:
    with pytest.raises(ValueError, match="day must be 0 or later"):
        instructions_for_day(session(), -1)


def test_todays_soothing_advice_is_there_for_the_first_days() -> None:
    soothing = [day for day in range(10)
                if any(i.category == "soothing" for i in instructions_for_day(session(), day))]
    assert soothing == [0, 1, 2, 3]


# --- the loader's guarantee, checked over many kinds of session ------------------------------

_PRODUCT_SETS = [[], *([p] for p in vocab.PRODUCTS), sorted(vocab.PRODUCTS)]


def test_no_two_instructions_share_a_slot_on_any_day() -> None:
    for fitz, depth, device, products, zones in itertools.product(
            range(1, 7), [0.25, 1.0, 2.0, 3.0], sorted(vocab.DEVICES), _PRODUCT_SETS,
            [["cheeks"], ["scalp", "periorbital", "body"]]):
        s = session(fitzpatrick=fitz, deepest_depth_mm=depth, device=device,
                    products=products, zones=zones)
        for day in range(PLAN_DAYS + 1):
            slots = [ITEMS[i.id].slot for i in instructions_for_day(s, day)]
            assert len(slots) == len(set(slots)), (s, day, slots)


# --- selectors, on a protocol with extra items --------------------------------------------------

def _protocol_with(**items: AftercareItem) -> Protocol:
    base = PROTOCOL.data
    table = base.aftercare.model_copy(update={"items": {**base.aftercare.items, **items}})
    return Protocol(base.model_copy(update={"aftercare": table}), PROTOCOL.path)


def _probe(**selectors: Any) -> AftercareItem:
    return AftercareItem.model_validate({
        "category": "products", "slot": "probe", "from_day": 0, "to_day": 0,
        "patient": "Probe.", "evidence": "P", "sources": ["practice_handouts"], **selectors,
    })


@pytest.mark.parametrize(("selectors", "facts", "applies"), [
    ({"min_depth_mm": 1.0, "max_depth_mm": 2.0}, {"deepest_depth_mm": 0.5}, False),
    ({"min_depth_mm": 1.0, "max_depth_mm": 2.0}, {"deepest_depth_mm": 1.0}, True),
    ({"min_depth_mm": 1.0, "max_depth_mm": 2.0}, {"deepest_depth_mm": 2.0}, True),
    ({"min_depth_mm": 1.0, "max_depth_mm": 2.0}, {"deepest_depth_mm": 2.5}, False),
    ({"fitzpatrick_min": 3, "fitzpatrick_max": 4}, {"fitzpatrick": 2}, False),
    ({"fitzpatrick_min": 3, "fitzpatrick_max": 4}, {"fitzpatrick": 3}, True),
    ({"fitzpatrick_min": 3, "fitzpatrick_max": 4}, {"fitzpatrick": 4}, True),
    ({"fitzpatrick_min": 3, "fitzpatrick_max": 4}, {"fitzpatrick": 5}, False),
    ({"devices_any": ["rf"]}, {"device": "pen"}, False),
    ({"devices_any": ["rf"]}, {"device": "rf"}, True),
    ({"products_any": ["prp", "minoxidil"]}, {"products": ["minoxidil"]}, True),
    ({"products_any": ["prp", "minoxidil"]}, {"products": ["vitamin_c"]}, False),
    ({"zones_any": ["neck"]}, {"zones": ["cheeks", "neck"]}, True),
    ({"zones_any": ["neck"]}, {"zones": ["cheeks"]}, False),
    ({}, {"device": "stamp", "products": [], "zones": ["body"]}, True),
    ({"devices_any": ["rf"], "zones_any": ["neck"]}, {"device": "rf", "zones": ["cheeks"]},
     False),
])
def test_an_item_applies_only_when_all_its_selectors_match(
        selectors: dict[str, Any], facts: dict[str, Any], applies: bool) -> None:
    protocol = _protocol_with(probe=_probe(**selectors))
    s = session(**facts)
    assert ("probe" in ids(instructions_for_day(s, 0, protocol))) is applies
    assert ("probe" in ids(aftercare(s, protocol).days[0].instructions)) is applies
    assert "probe" not in ids(instructions_for_day(s, 0))  # the shipped protocol is untouched


# --- property: any valid session ------------------------------------------------------------

sessions = st.builds(
    SessionFacts,
    date=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2999, 12, 31)),
    deepest_depth_mm=st.one_of(
        st.floats(min_value=0.0, max_value=3.0, exclude_min=True, allow_nan=False),
        st.integers(min_value=1, max_value=3)),
    zones=st.lists(st.sampled_from(sorted(vocab.ZONES)), min_size=1, max_size=4, unique=True),
    fitzpatrick=st.integers(min_value=1, max_value=6),
    device=st.sampled_from(sorted(vocab.DEVICES)),
    products=st.lists(st.sampled_from(sorted(vocab.PRODUCTS)), max_size=4, unique=True),
)


@settings(deadline=None)
@given(sessions)
def test_any_session_gets_a_contiguous_consistent_plan(s: SessionFacts) -> None:
    plan = aftercare(s)
    assert [d.day for d in plan.days] == list(range(DAILY_DAYS + 1))
    for day in plan.days:
        assert day.date == s.date + dt.timedelta(days=day.day)
        for instruction in day.instructions:
            assert instruction.from_day <= day.day
            assert instruction.to_day is None or day.day <= instruction.to_day
        slots = [ITEMS[i.id].slot for i in day.instructions]
        assert len(slots) == len(set(slots))
    treats_skin_that_wears_make_up = not set(s.zones) <= {"scalp", "body"}
    assert ("no_makeup" in ids(plan.days[0].instructions)) is treats_skin_that_wears_make_up
    assert any(n.symptom == "redness" for n in plan.days[0].normal_today)
    assert plan.weeks[0].from_day == DAILY_DAYS + 1
    assert plan.weeks[-1].to_day == PLAN_DAYS
    for week in plan.weeks:
        for instruction in week.instructions:
            assert instruction.from_day <= week.to_day
            assert instruction.to_day is None or week.from_day <= instruction.to_day
