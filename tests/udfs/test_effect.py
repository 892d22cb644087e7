"""udfs.effect directly: attribution (direct, last touch, family, window edges), lead states, uplift and its
interval."""

import random

import pytest

from touchpoint.schemas import schema
from udfs.effect import MAY_HAVE, NEEDS, Lead, LeadState, Order, attribute, defect, lead_of, lead_states, uplift

H = 3_600_000
W = 7 * 24 * H
FAMILY = {"data_package_50": "data_package", "data_package_100": "data_package", "12580": "12580"}


def lead(i: str, t: int, product="data_package_50", msisdn="1", control=False) -> Lead:
    return Lead(f"l-{i}", msisdn, "c", product, t, t + W, control)


def order(i: str, t: int, product="data_package_50", msisdn="1", action="subscribe", lead_id=None) -> Order:
    return Order(f"o-{i}", t, msisdn, product, action, lead_id)


def test_an_order_naming_a_lead_converts_it_and_an_unknown_lead_is_counted():
    leads = [lead("a", 0), lead("b", H)]
    converted, unknown = attribute(leads, [order("1", 2 * H, lead_id="l-a"), order("2", 3 * H, lead_id="l-zz")], FAMILY)
    assert {k: o.order_id for k, o in converted.items()} == {"l-a": "o-1"}
    assert [o.order_id for o in unknown] == ["o-2"]


def test_the_last_touch_within_the_window_wins_for_the_same_product_family():
    leads = [lead("a", 0), lead("b", H, product="data_package_100"), lead("c", 2 * H, product="12580")]
    converted, _ = attribute(leads, [order("1", 3 * H)], FAMILY)
    assert {k: o.order_id for k, o in converted.items()} == {"l-b": "o-1"}  # c is another family


@pytest.mark.parametrize(
    "t, converts",
    [(-1, False), (0, True), (W, True), (W + 1, False)],  # the window includes both edges
)
def test_window_edges(t, converts):
    converted, _ = attribute([lead("a", 0)], [order("1", t)], FAMILY)
    assert ("l-a" in converted) == converts


def test_what_does_not_convert():
    leads = [lead("a", 0)]
    orders = [
        order("1", H, action="unsubscribe"),
        order("2", H, msisdn="2"),  # someone else
        order("3", H, product="12580"),  # another family
    ]
    assert attribute(leads, orders, FAMILY)[0] == {}


def test_an_order_converts_one_lead_and_a_lead_keeps_its_first_order():
    leads = [lead("a", 0), lead("b", H)]
    converted, _ = attribute(leads, [order("2", 3 * H), order("1", 2 * H)], FAMILY)
    # o-1 comes first and takes the last touch, b; o-2 takes the last lead still open, a
    assert {k: o.order_id for k, o in converted.items()} == {"l-b": "o-1", "l-a": "o-2"}
    converted, unknown = attribute(leads, [order("1", 2 * H), order("2", 3 * H, lead_id="l-b")], FAMILY)
    assert {k: o.order_id for k, o in converted.items()} == {"l-b": "o-1"}  # b keeps o-1
    assert [o.order_id for o in unknown] == ["o-2"]


def test_an_order_naming_a_lead_outside_its_window_or_of_someone_else_converts_nothing():
    leads = [lead("a", 0), lead("b", 0, msisdn="2")]
    orders = [order("1", W + 1, lead_id="l-a"), order("2", H, lead_id="l-b")]
    converted, unknown = attribute(leads, orders, FAMILY)
    assert converted == {} and {o.order_id for o in unknown} == {"o-1", "o-2"}


def test_lead_states():
    leads = [lead("a", 0), lead("b", 0), lead("c", 0), lead("d", 0, control=True), lead("e", 0, control=True)]
    converted, _ = attribute(leads[:1], [order("1", H)], FAMILY)
    delivered = {"l-a": 10, "l-b": 10, "l-d": 10}  # a control lead is never delivered, whatever is reported
    now = {"l-a": W + 1, "l-b": W, "l-c": W + 1, "l-d": W, "l-e": W + 1}
    states = {x.lead_id: lead_states([x], delivered, converted, now[x.lead_id])[x.lead_id] for x in leads}
    assert states == {
        "l-a": LeadState("converted", 10, H, "o-1"),
        "l-b": LeadState("delivered", 10),
        "l-c": LeadState("expired"),
        "l-d": LeadState("pending"),
        "l-e": LeadState("expired"),
    }


def test_uplift_by_hand():
    u = uplift(1000, 120, 1000, 30, min_sample=30)
    assert (u.treatment_rate, u.control_rate) == (0.12, 0.03)
    assert u.absolute == pytest.approx(0.09) and u.relative == pytest.approx(3.0)
    # se = sqrt(.12 * .88 / 1000 + .03 * .97 / 1000) = 0.0116060
    assert (u.ci_low, u.ci_high) == (pytest.approx(0.09 - 0.022748, abs=1e-6), pytest.approx(0.09 + 0.022748, abs=1e-6))
    assert u.enough_data


def test_not_enough_data_below_the_minimum_sample():
    u = uplift(1000, 120, 29, 3, min_sample=30)
    assert not u.enough_data and u.absolute is None and u.ci_low is None
    assert (u.treatment_leads, u.control_converted) == (1000, 3)
    assert uplift(100, 10, 100, 0, min_sample=30).relative is None  # no control conversion: no ratio
    with pytest.raises(ValueError):
        uplift(10, 11, 10, 0, min_sample=1)


def test_the_interval_covers_the_true_uplift_about_95_percent_of_the_time():
    rng = random.Random(12)
    pt, pc, n = 0.15, 0.05, 400
    covered = 0
    for _ in range(2000):
        t = sum(rng.random() < pt for _ in range(n))
        c = sum(rng.random() < pc for _ in range(n))
        u = uplift(n, t, n, c, min_sample=30)
        covered += u.ci_low <= pt - pc <= u.ci_high
    assert 0.93 <= covered / 2000 <= 0.97


def test_groups_of_a_lead_and_the_programme_against_the_holdout():
    from udfs.effect import group_id, groups, lead_of

    rec = {
        "lead_id": "l-a",
        "msisdn": "1",
        "campaign_id": "c",
        "product_id": "p",
        "trigger_kind": "dial_114",
        "deliver_at": 1_794_000_000_000,
        "attribution_until": 1_794_000_000_000 + 86_400_000,
        "control": False,
    }
    ids = [group_id(g) for g in groups(rec, "Asia/Shanghai")]
    assert ids == ["campaign|c||", "campaign_day|c||2026-11-07", "trigger_kind||dial_114|", "programme|||"]
    # a campaign's own control lead is not the programme's control; a holdout lead is
    assert "programme|||" not in [group_id(g) for g in groups(rec | {"control": True}, "Asia/Shanghai")]
    assert "programme|||" in [group_id(g) for g in groups(rec | {"control": True, "holdout": True}, "Asia/Shanghai")]
    assert lead_of(rec).until == rec["attribution_until"]


# --- what the rules need of each input ---------------------------------------------------------------------------


def _good_lead() -> dict:
    return {
        "lead_id": "l-1",
        "msisdn": "13900000001",
        "campaign_id": "c",
        "product_id": "p",
        "trigger_kind": "dial_114",
        "trigger_ts": 10,
        "deliver_at": 10,
        "attribution_until": 20,
        "control": False,
    }


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({}, None),
        ({"attribution_until": None}, ("missing_field", "attribution_until")),
        ({"control": "no"}, ("invalid_value", "control: bool expected, got 'no'")),
        ({"deliver_at": True}, ("invalid_value", "deliver_at: int expected, got True")),
        ({"deliver_at": 1.5}, ("invalid_value", "deliver_at: int expected, got 1.5")),
        ({"attribution_until": 9}, ("invalid_value", "attribution_until: before deliver_at")),
        ({"attribution_until": 10}, None),  # a window of one instant is a window
        ({"variant_ids": ["a", 2]}, ("invalid_value", "variant_ids: a list of strings expected, got ['a', 2]")),
        ({"holdout": 1}, ("invalid_value", "holdout: bool expected, got 1")),
    ],
)
def test_a_lead_the_rules_cannot_take_names_its_field(change, problem):
    assert defect("lead", _good_lead() | change) == problem


def test_a_lead_without_a_window_is_not_taken_as_one_of_zero_length():
    record = _good_lead()
    del record["attribution_until"]
    assert defect("lead", record) == ("missing_field", "attribution_until")
    with pytest.raises(KeyError):
        lead_of(record)


def test_what_the_rules_need_is_what_the_schemas_type():
    json_types = {"string": str, "integer": int, "boolean": bool, "array": list}
    for kind, schema_name in (("lead", "leads"), ("delivered", "outcomes"), ("order", "orders")):
        props = schema(schema_name)["properties"]
        for name, kind_of in [*NEEDS[kind].items(), *MAY_HAVE[kind].items()]:
            options = props[name].get("anyOf") or [props[name]]
            declared = set()
            for o in options:
                t = o.get("type", "string" if all(isinstance(v, str) for v in o.get("enum", [1])) else None)
                declared |= {json_types.get(x) for x in (t if isinstance(t, list) else [t])}
            assert kind_of in declared, (kind, name, options)


def test_a_variant_is_measured_against_its_campaigns_one_control_group():
    from udfs.effect import group_counts

    base = {"campaign_id": "c", "trigger_kind": "dial_114", "deliver_at": 1_794_000_000_000, "holdout": False}
    leads = [
        base | {"lead_id": "t-a1", "control": False, "variant_id": "a"},
        base | {"lead_id": "t-a2", "control": False, "variant_id": "a"},
        base | {"lead_id": "t-b1", "control": False, "variant_id": "b"},
        base | {"lead_id": "k-1", "control": True, "variant_ids": ["a", "b"]},
    ]
    counts = group_counts(leads, {"t-a1", "k-1"}, "Asia/Shanghai")
    assert counts["variant|c|||a"] == [2, 1, 1, 1]
    assert counts["variant|c|||b"] == [1, 0, 1, 1]
    assert counts["campaign|c||"] == [3, 1, 1, 1]  # the campaign's own group is as it was


def test_the_guardrail_trips_only_on_an_interval_wholly_below_zero():
    from touchpoint.schemas import errors
    from udfs.effect import guardrail_trips, pause_record

    harmful = uplift(200, 0, 200, 100, 30)
    assert harmful.ci_high < 0 and guardrail_trips(harmful)
    assert not guardrail_trips(uplift(200, 20, 200, 30, 30))  # worse, but the interval reaches zero
    assert not guardrail_trips(uplift(20, 0, 20, 10, 30))  # not enough data
    assert not guardrail_trips(uplift(200, 40, 200, 10, 30))  # helps
    # 95 % below zero, 99 % not: the guardrail's interval is the wider one
    borderline = uplift(200, 20, 200, 36, 30)
    assert borderline.ci_high < 0 and not guardrail_trips(borderline)
    record = pause_record("c", harmful, 17, 1_794_000_000_000)
    assert errors("guardrail", record) == []
    assert (record["state"], record["by"], record["uplift_version"]) == ("paused", "guardrail", 17)
    assert record["ci_high"] > harmful.ci_high  # the 99 % interval that tripped it


def test_the_guardrail_looks_when_the_smaller_arm_doubles_and_judges_a_wait_later():
    from udfs.effect import Watch, guardrail, guardrail_looks

    assert [guardrail_looks(uplift(500, 0, n, 0, 30), 30) for n in (29, 30, 59, 60, 119, 120, 480)] == [
        0,
        1,
        1,
        2,
        2,
        3,
        5,
    ]
    assert guardrail_looks(uplift(45, 0, 500, 0, 30), 30) == 1  # the smaller arm, whichever it is
    harmful, harmless, fresh = uplift(60, 0, 60, 30, 30), uplift(60, 30, 60, 30, 30), uplift(60, 0, 60, 0, 30)
    # no wait: judged on the record that makes the look due
    assert guardrail(harmful, 100, Watch(1), 30, 0) == (Watch(2), True)
    assert guardrail(harmful, 100, Watch(2), 30, 0) == (Watch(2), False)  # no new look: wait for the next one
    assert guardrail(harmless, 100, Watch(1), 30, 0) == (Watch(2), False)  # a look, no harm
    # a wait: the look falls due on a burst of fresh leads (no answers yet) and is judged on the uplift a wait later
    watch, pause = guardrail(fresh, 1_000, Watch(1), 30, 500)
    assert (watch, pause) == (Watch(1, 1_500), False)
    assert guardrail(fresh, 1_499, watch, 30, 500) == (watch, False)  # not yet
    assert guardrail(harmful, 1_500, watch, 30, 500) == (Watch(2), True)  # the answers are in: harm
    assert guardrail(harmless, 1_500, watch, 30, 500) == (Watch(2), False)
