"""The ``handset_store_visits`` plant: ``handset_store_visits`` visits to handset stores (sometimes another store each
time), the last one completing it."""

from __future__ import annotations

from typing import Any

from touchpoint.harness.simulator.plants._shapes import approach, outside_neighbour
from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import Sub
from udfs.units import MINUTE_MS


def need_ms(scenario: Scenario) -> int:
    """Scenario time one plant needs."""
    mo = scenario.p.region_entry_min_outside_ms
    return mo + 30 * MINUTE_MS + scenario.tr.handset_store_visits * (mo + 45 * MINUTE_MS)


def place(scenario: Scenario, sub: Sub, lo: int, hi: int) -> bool:
    rng, c, p = sub.rng, scenario.city, scenario.p
    if not scenario.stores:
        return False
    k = scenario.tr.handset_store_visits
    t0 = scenario.pick_start(sub, lo, hi, need_ms(scenario))
    if t0 is None:
        return False
    mo = p.region_entry_min_outside_ms
    segs: list[tuple[int, Any, Any]] = []
    store = rng.choice(scenario.stores)
    s_cell, n = outside_neighbour(scenario, store, rng)
    t = approach(scenario, sub, segs, t0, n, scenario.store_cells)
    t_e = max(t + int(rng.uniform(3, 8) * MINUTE_MS), t0 + mo + int(rng.uniform(5, 10) * MINUTE_MS))
    x = t_e
    for j in range(1, k + 1):
        watched = c.regions[store].watched
        tags = (["region_entry"] if watched else []) + (["handset_store_visits"] if j == k else [])
        segs.append((t_e, s_cell, tags or None))
        segs.append((t_e + int(rng.uniform(2, 6) * MINUTE_MS), s_cell, ["inner"]))
        x = t_e + int(rng.uniform(8, 15) * MINUTE_MS)
        segs.append((x, n, None))
        if j == k:
            break
        if rng.random() < 0.4 and len(scenario.stores) > 1:
            store = rng.choice([s for s in scenario.stores if s != store])
            s_cell, n2 = outside_neighbour(scenario, store, rng)
            t = x
            for cell in scenario.path(n, n2, max_hops=3, avoid=scenario.store_cells):
                t += int(rng.uniform(2, 4) * MINUTE_MS)
                segs.append((t, cell, None))
            if segs[-1][1] != n2:
                t += int(rng.uniform(2, 4) * MINUTE_MS)
                segs.append((t, n2, None))
            n = n2
        t_e = x + mo + int(rng.uniform(5, 20) * MINUTE_MS)
        segs.sort(key=lambda s: s[0])
        if segs[-1][0] >= t_e:
            t_e = segs[-1][0] + 3 * MINUTE_MS
    end = x + int(rng.uniform(5, 10) * MINUTE_MS)
    if end > hi:
        return False
    sub.tl.overlay(t0, end, segs)
    return True
