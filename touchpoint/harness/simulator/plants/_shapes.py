"""The shapes several plants share: one forced signaling event, and a visit to a watched mall (entered, maybe
stayed in, maybe ping-ponged at its border)."""

from __future__ import annotations

import random
from typing import Any

from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import Sub
from udfs.units import MINUTE_MS


def visit_need_ms(scenario: Scenario, dwell: bool) -> int:
    """Scenario time of one planted visit to a watched mall: long enough to dwell, or an entry and a short stay."""
    return scenario.p.region_entry_min_outside_ms + scenario.p.dwell_ms + (90 if dwell else 60) * MINUTE_MS


def simple_event(scenario: Scenario, sub: Sub, lo: int, hi: int, etype: str, extra: dict[str, Any], kind: str) -> bool:
    t0 = scenario.pick_start(sub, lo, hi, 5 * MINUTE_MS)
    if t0 is None:
        return False
    scenario.ensure_on(sub, t0, t0 + 2 * MINUTE_MS)
    sub.forced.append((t0 + MINUTE_MS, etype, extra, [kind]))
    return True


def outside_neighbour(scenario: Scenario, region: int, rng: random.Random) -> tuple[int, int]:
    """A (border cell of the region, neighbour cell outside it), preferring neighbours in no region."""
    c = scenario.city
    cells = c.regions[region].cells
    pairs = [(b, n) for b in cells for n in c.neighbours(b) if c.region_of[n] != region]
    free = [pr for pr in pairs if c.region_of[pr[1]] < 0]
    return rng.choice(free or pairs)


def approach(scenario: Scenario, sub: Sub, segs: list, t0: int, target_outside: int, avoid: Any) -> int:
    """Travel from where the subscriber is at t0 to target_outside; returns the arrival time."""
    rng = sub.rng
    cur = scenario.here(sub, t0)
    segs.append((t0, cur, None))
    t = t0
    for cell in scenario.path(cur, target_outside, max_hops=4, avoid=avoid):
        t += int(rng.uniform(2, 5) * MINUTE_MS)
        segs.append((t, cell, None))
    if segs[-1][1] != target_outside:
        t += int(rng.uniform(2, 5) * MINUTE_MS)
        segs.append((t, target_outside, None))
    return t


def visit(scenario: Scenario, sub: Sub, lo: int, hi: int, variant: str) -> bool:
    rng, c, p = sub.rng, scenario.city, scenario.p
    if not scenario.watched_malls:
        return False
    region = rng.choice(scenario.watched_malls)
    rcells = set(c.regions[region].cells)
    b, n = outside_neighbour(scenario, region, rng)
    dur = visit_need_ms(scenario, dwell=variant != "short")
    t0 = scenario.pick_start(sub, lo, hi, dur)
    if t0 is None:
        return False
    segs: list[tuple[int, Any, Any]] = []
    t = approach(scenario, sub, segs, t0, n, rcells)
    t_e = max(
        t + int(rng.uniform(3, 8) * MINUTE_MS),
        t0 + p.region_entry_min_outside_ms + int(rng.uniform(5, 10) * MINUTE_MS),
    )
    is_dwell = variant != "short"
    if variant == "pingpong":
        segs.append((t_e, b, ["region_entry"]))
        t = t_e
        for _ in range(rng.randint(1, 2)):
            t += int(rng.uniform(1, 3) * MINUTE_MS)
            segs.append((t, n, None))
            t += int(rng.uniform(1, 3) * MINUTE_MS)
            segs.append((t, b, None))
        segs[-1] = (t, b, ["dwell_start"])
        stay_start = t
    else:
        segs.append((t_e, b, ["region_entry", "dwell_start"] if is_dwell else ["region_entry"]))
        stay_start = t = t_e
    cells = sorted(rcells)
    if is_dwell:
        while True:
            t += int(rng.uniform(4, 9) * MINUTE_MS)
            segs.append((t, rng.choice(cells), ["inner"]))
            if t >= stay_start + p.dwell_ms:
                break
        x = t + int(rng.uniform(2, 30) * MINUTE_MS)
        segs.append((x, n, ["dwell_end"]))
    else:
        x = stay_start + p.dwell_ms - int(rng.uniform(0.5, 3) * MINUTE_MS)
        while True:
            t += int(rng.uniform(4, 9) * MINUTE_MS)
            if t >= x - 10_000:
                break
            segs.append((t, rng.choice(cells), ["inner"]))
        segs.append((x, n, None))
    if x + 10 * MINUTE_MS > hi:
        return False
    sub.tl.overlay(t0, x + int(rng.uniform(5, 10) * MINUTE_MS), segs)
    return True
