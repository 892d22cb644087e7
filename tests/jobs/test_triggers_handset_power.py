"""handset_change, power_on and handset_store_visits: hand-written edge cases run through the real trigger job
in replay (one combined input, asserted per msisdn), checked against exact expectations and the reference
detector (touchpoint.harness.simulator.truth) over the same input."""

from __future__ import annotations

import json

import pytest

from tests.jobs.trigger_cases import assert_case, assert_matches_detector, replay_and_detect
from tests.support import csv_header, make_settings

pytestmark = pytest.mark.slow

KINDS = ["handset_change", "power_on", "handset_store_visits"]
T0 = 1_793_548_800_000  # 2026-11-02T00:00:00+08:00
MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000

REFERENCE = {
    "cells": csv_header("cells") + "1001,10,32.0,118.0,LTE,store-A\n"  # watched handset store
    "1002,10,32.0,118.1,LTE,store-B\n"  # unwatched handset store: still a visit
    "1003,10,32.0,118.2,LTE,\n"  # in no region
    "1004,10,32.0,118.3,LTE,mall-1\n",  # a region that is not a store
    "regions": csv_header("regions") + "store-A,Store A,handset_store,true,32.0,118.0\n"
    "store-B,Store B,handset_store,false,32.0,118.1\n"
    "mall-1,Mall 1,mall,true,32.0,118.3\n",
    "handsets": csv_header("handsets") + "35000001,Nokia,N73,mid,false\n86000002,Huawei,C8500,low,true\n",
    "number_ranges": csv_header("number_ranges") + "1380000,JS\n",
    "profiles": csv_header("profiles"),
}
NOKIA, HUAWEI, UNKNOWN = "350000011111111", "860000022222222", "999999993333333"
HANDSET = {
    NOKIA: {"brand": "Nokia", "model": "N73", "tier": "mid", "g3_capable": False},
    HUAWEI: {"brand": "Huawei", "model": "C8500", "tier": "low", "g3_capable": True},
    UNKNOWN: {"brand": None, "model": None, "tier": None, "g3_capable": None},
}

_events: list[dict] = []


def ev(
    msisdn: str,
    ts: int,
    event_type: str = "location_update",
    *,
    cell: int | None = None,
    imei: str | None = None,
    imsi: str | None = None,
) -> dict:
    e = {
        "event_id": f"e{len(_events)}",
        "event_type": event_type,
        "ts": ts,
        "msisdn": msisdn,
        "imsi": imsi or "46000" + msisdn[-10:],
    }
    if imei:
        e["imei"] = imei
    if cell:
        e |= {"lac": 10, "cell_id": cell, "rat": "LTE"}
    _events.append(e)
    return e


def change(old: str, new: str) -> dict:
    ctx = {"old_imei": old, "new_imei": new, "old_tac": old[:8], "new_tac": new[:8]}
    ctx |= {f"old_{k}": v for k, v in HANDSET[old].items()}
    ctx |= {f"new_{k}": v for k, v in HANDSET[new].items()}
    return ctx


EXPECTED: dict[str, list[tuple[str, int, dict]]] = {}

# handset_change: known -> known, known -> unknown TAC; an event without IMEI is skipped; same IMEI again: nothing
m = "13800000001"
ev(m, T0, imei=NOKIA, cell=1003)
ev(m, T0 + 1 * MIN, "mo_sms")
ev(m, T0 + 2 * MIN, imei=HUAWEI)
ev(m, T0 + 3 * MIN, imei=UNKNOWN)
ev(m, T0 + 4 * MIN, imei=UNKNOWN)
EXPECTED[m] = [
    ("handset_change", T0 + 2 * MIN, change(NOKIA, HUAWEI)),
    ("handset_change", T0 + 3 * MIN, change(HUAWEI, UNKNOWN)),
]
# IMEI flip-flop between an unknown and a known TAC: every flip fires
m = "13800000002"
for i, imei in enumerate([UNKNOWN, NOKIA, UNKNOWN, NOKIA]):
    ev(m, T0 + i * MIN, imei=imei)
EXPECTED[m] = [
    ("handset_change", T0 + 1 * MIN, change(UNKNOWN, NOKIA)),
    ("handset_change", T0 + 2 * MIN, change(NOKIA, UNKNOWN)),
    ("handset_change", T0 + 3 * MIN, change(UNKNOWN, NOKIA)),
]
# keyed by IMSI: the SIM moves to a new number; reported with the msisdn of the event carrying the new IMEI
ev("13800000003", T0, imei=NOKIA, imsi="460009990000003")
ev("13800000004", T0 + 10 * MIN, imei=HUAWEI, imsi="460009990000003")
EXPECTED["13800000003"] = []
EXPECTED["13800000004"] = [("handset_change", T0 + 10 * MIN, change(NOKIA, HUAWEI))]

# power_on: first-event attach, then off for 1 ms less than 4 h: nothing
m = "13800000010"
ev(m, T0, "attach")
ev(m, T0 + HOUR, "detach")
ev(m, T0 + 5 * HOUR - 1, "attach")
EXPECTED[m] = []
# exactly 4 h counts (an exact duplicate of the attach counts once)
m = "13800000011"
ev(m, T0, "detach")
_events.append(dict(ev(m, T0 + 4 * HOUR, "attach")))
EXPECTED[m] = [("power_on", T0 + 4 * HOUR, {"off_minutes": 240})]
# just above; off_minutes floored
m = "13800000012"
ev(m, T0, "detach")
ev(m, T0 + 4 * HOUR + 90_000, "attach")
EXPECTED[m] = [("power_on", T0 + 4 * HOUR + 90_000, {"off_minutes": 241})]
# an attach whose previous event is not a detach: nothing
m = "13800000013"
ev(m, T0, "detach")
ev(m, T0 + HOUR, "mo_sms")
ev(m, T0 + 6 * HOUR, "attach")
ev(m, T0 + 7 * HOUR, "location_update", cell=1003)
ev(m, T0 + 12 * HOUR, "attach")
EXPECTED[m] = []


def visit(m: str, ts: int, cell: int) -> None:
    """An entry: a location event outside any store, then one on the store's cell a minute later."""
    ev(m, ts - MIN, cell=1003)
    ev(m, ts, cell=cell)


# handset_store_visits: k-1 visits (one to the unwatched store); a mall entry and an unknown cell don't count
m = "13800000020"
visit(m, T0, 1001)
ev(m, T0 + 30 * MIN, cell=9999)
ev(m, T0 + 40 * MIN, cell=1001)
visit(m, T0 + DAY, 1002)
visit(m, T0 + 2 * DAY, 1004)
EXPECTED[m] = []
# k visits: one trigger; a 4th visit inside the window makes 4, not k: nothing more
m = "13800000021"
visit(m, T0, 1001)
visit(m, T0 + DAY, 1002)
visit(m, T0 + 2 * DAY, 1001)
visit(m, T0 + 3 * DAY, 1002)
EXPECTED[m] = [("handset_store_visits", T0 + 2 * DAY, {"visits": 3, "region_ids": ["store-A", "store-B", "store-A"]})]
# a visit exactly 7 days earlier is counted
m = "13800000022"
visit(m, T0, 1002)
visit(m, T0 + 3 * DAY, 1001)
visit(m, T0 + 7 * DAY, 1001)
EXPECTED[m] = [("handset_store_visits", T0 + 7 * DAY, {"visits": 3, "region_ids": ["store-B", "store-A", "store-A"]})]
# 1 ms past the edge it is not; once the old visit has left, a new one makes k again and fires
# (the visit leaving is store-A while a later store-A visit stays: the right one must leave the list)
m = "13800000023"
visit(m, T0, 1001)
visit(m, T0 + 3 * DAY, 1002)
visit(m, T0 + 7 * DAY + 1, 1001)
visit(m, T0 + 8 * DAY, 1002)
EXPECTED[m] = [("handset_store_visits", T0 + 8 * DAY, {"visits": 3, "region_ids": ["store-B", "store-A", "store-B"]})]
# ping-pong at a store's border (back within 20 min) is no new visit; back after exactly 20 min is one
m = "13800000024"
visit(m, T0, 1001)
ev(m, T0 + 5 * MIN, cell=1003)
ev(m, T0 + 10 * MIN, cell=1001)
ev(m, T0 + 15 * MIN, cell=1003)
ev(m, T0 + 29 * MIN, cell=1001)
ev(m, T0 + 30 * MIN, cell=1003)
ev(m, T0 + 49 * MIN, cell=1001)  # last in store-A at +29 min: exactly 20 min ago -> visit 2
ev(m, T0 + 50 * MIN, cell=1003)
ev(m, T0 + 55 * MIN, cell=1001)
visit(m, T0 + DAY, 1002)  # visit 3
EXPECTED[m] = [("handset_store_visits", T0 + DAY, {"visits": 3, "region_ids": ["store-A", "store-A", "store-B"]})]


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[list[dict], list[dict]]:
    d = tmp_path_factory.mktemp("hp")
    inp, out = d / "in", d / "out"
    (inp / "reference").mkdir(parents=True)
    for name, text in REFERENCE.items():
        (inp / "reference" / f"{name}.csv").write_text(text)
    events = sorted(_events, key=lambda e: e["ts"])
    (inp / "signaling.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    settings = make_settings(d / "work", triggers={"kinds": KINDS})
    return replay_and_detect(settings, inp, out, events, [], KINDS)


@pytest.mark.parametrize("msisdn", sorted(EXPECTED))
def test_edge_case(run, msisdn):
    got, _ = run
    assert_case(got, msisdn, EXPECTED[msisdn])


def test_equals_reference_detector(run):
    got, want = run
    assert_matches_detector(got, want)
    assert len(want) == sum(len(v) for v in EXPECTED.values())
