"""The ``roam_out`` plant: a flight from the airport to a foreign network, and back when the scenario leaves room."""

from __future__ import annotations

from typing import Any

from touchpoint.harness.simulator.plants._shapes import approach
from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import FLIGHT, FOREIGN_VLRS, Sub
from udfs.units import DAY_MS, HOUR_MS, MINUTE_MS


def need_ms(scenario: Scenario) -> int:
    """Scenario time one plant needs."""
    return int(4.5 * HOUR_MS)


def place(scenario: Scenario, sub: Sub, lo: int, hi: int) -> bool:
    rng = sub.rng
    t0 = scenario.pick_start(sub, lo, hi, int(4.5 * HOUR_MS))
    if t0 is None:
        return False
    segs: list[tuple[int, Any, Any]] = []
    t = approach(scenario, sub, segs, t0, scenario.airport, None)
    t_f = t + int(rng.uniform(30, 60) * MINUTE_MS)
    segs.append((t_f, FLIGHT, None))
    t_a = t_f + int(rng.uniform(1.5, 3) * HOUR_MS)
    vlr = rng.choice(FOREIGN_VLRS)
    segs.append((t_a, vlr, ["roam_out"]))
    room = hi - t_a
    if room >= 5 * HOUR_MS:
        t_r = t_a + int(rng.uniform(HOUR_MS, min(3 * DAY_MS, room - 4 * HOUR_MS)))
        segs.append((t_r, FLIGHT, None))
        t_l = t_r + int(rng.uniform(1.5, 3) * HOUR_MS)
        segs.append((t_l, scenario.airport, None))
        end = t_l + 30 * MINUTE_MS
    else:
        end = hi
    sub.tl.overlay(t0, end, segs)
    return True
