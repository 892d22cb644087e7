"""Variant selection (udfs/variants.py): an even split, and Thompson sampling that is reproducible from the lead
id and the counts it recorded, moves to the truly better variant, and keeps its floor of exploration; the
effect job's records read as counts, the bad ones named."""

from __future__ import annotations

import random

import pytest

from udfs import variants
from udfs.campaigns import parse_campaign
from udfs.variants import NO_COUNTS, Counts, counts_of, thompson


def _definition() -> dict:
    return {
        "id": "c-even",
        "name": "Even",
        "status": "active",
        "start": "2026-11-01T00:00:00+08:00",
        "end": "2027-01-31T23:59:59+08:00",
        "trigger": {"kind": "dial_114"},
        "offer": {"id": "o", "message": "m"},
        "variants": [{"id": "a"}, {"id": "b"}],
        "channels": ["sms"],
        "priority": 1,
    }


CAMPAIGN = parse_campaign(
    _definition()
    | {"id": "c-adaptive", "variants": [{"id": "weak"}, {"id": "strong", "message": "better"}], "selection": "adaptive"}
)
#: the simulated truth: each variant's conversion rate
TRUE_RATE = {"weak": 0.05, "strong": 0.20}


def _run(n: int, floor: float, update_every: int = 50, seed: int = 7) -> list[str]:
    """``n`` treatment leads through Thompson sampling, the counts refreshed every ``update_every`` leads (as the
    effect job's records arrive), conversions drawn from TRUE_RATE; the variant of each lead."""
    rng = random.Random(seed)
    tally = {v: [0, 0] for v in TRUE_RATE}
    seen: dict[str, Counts] = {}
    chosen = []
    for i in range(n):
        if i % update_every == 0:
            seen = {v: Counts(leads, conv, i) for v, (leads, conv) in tally.items()}
        v = thompson(CAMPAIGN, f"l-{i}", seen, floor).id
        chosen.append(v)
        tally[v][0] += 1
        tally[v][1] += rng.random() < TRUE_RATE[v]
    return chosen


def test_the_same_lead_and_counts_draw_the_same_variant():
    counts = {"weak": Counts(100, 5, 3), "strong": Counts(90, 12, 4)}
    first = [thompson(CAMPAIGN, f"l-{i}", counts, 0.1) for i in range(200)]
    assert first == [thompson(CAMPAIGN, f"l-{i}", counts, 0.1) for i in range(200)]
    assert {v.id for v in first} == {"weak", "strong"}  # a draw, not a rule


def test_the_share_moves_to_the_truly_better_variant():
    chosen = _run(3000, floor=0.1)
    late = chosen[-1000:]
    assert late.count("strong") / len(late) > 0.8
    assert chosen[:100].count("strong") < 80  # it starts undecided


def test_the_floor_keeps_every_variant_measured():
    counts = {"weak": Counts(10_000, 100, 1), "strong": Counts(10_000, 3_000, 1)}  # weak is surely worse
    share = sum(thompson(CAMPAIGN, f"l-{i}", counts, 0.1).id == "weak" for i in range(4000)) / 4000
    assert 0.08 < share < 0.12  # the floor: 2 variants x 10 % explored evenly -> 10 % each
    assert sum(thompson(CAMPAIGN, f"l-{i}", counts, 0.0).id == "weak" for i in range(4000)) == 0


def test_without_counts_the_draw_is_about_even():
    share = sum(thompson(CAMPAIGN, f"l-{i}", {}, 0.0).id == "weak" for i in range(4000)) / 4000
    assert 0.45 < share < 0.55


def test_choose_follows_the_campaigns_selection():
    even = parse_campaign({**_definition(), "selection": "even"})
    assert all(variants.choose(even, f"l-{i}", {}, 0.1) == variants.even(even, f"l-{i}") for i in range(50))
    assert all(variants.choose(CAMPAIGN, f"l-{i}", {}, 0.1) == thompson(CAMPAIGN, f"l-{i}", {}, 0.1) for i in range(50))


GOOD = {
    "uplift_id": "variant|c|||a",
    "scope": "variant",
    "campaign_id": "c",
    "variant_id": "a",
    "treatment_leads": 10,
    "treatment_converted": 2,
    "version": 7,
}


@pytest.mark.parametrize(
    ("change", "want"),
    [
        ({}, ("c", "a", Counts(10, 2, 7))),
        ({"variant_id": None}, ("missing_field", "variant_id")),
        ({"treatment_leads": "10"}, ("invalid_value", "treatment_leads: a count expected, got '10'")),
        ({"version": -1}, ("invalid_value", "version: a count expected, got -1")),
        ({"treatment_converted": 11}, ("invalid_value", "treatment_converted: more than treatment_leads")),
    ],
)
def test_an_effect_record_reads_as_counts_or_names_its_defect(change, want):
    assert counts_of(GOOD | change) == want


def test_no_counts_is_a_uniform_prior():
    assert Counts(0, 0, 0) == NO_COUNTS and NO_COUNTS.record() == {"leads": 0, "converted": 0, "version": 0}
