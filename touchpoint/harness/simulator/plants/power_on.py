"""The ``power_on`` plant: the handset off for longer than ``power_on_min_off_hours``, then back on."""

from __future__ import annotations

from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import OFF, Sub
from udfs.units import MINUTE_MS


def need_ms(scenario: Scenario) -> int:
    """Scenario time one plant needs."""
    return int(scenario.p.power_on_min_off_ms * 1.5) + 60 * MINUTE_MS


def place(scenario: Scenario, sub: Sub, lo: int, hi: int) -> bool:
    rng = sub.rng
    mo = scenario.p.power_on_min_off_ms
    off = mo + int(rng.uniform(10 * MINUTE_MS, max(20 * MINUTE_MS, 0.4 * mo)))
    t0 = scenario.pick_start(sub, lo, hi, off + 30 * MINUTE_MS)
    if t0 is None:
        return False
    t1 = t0 + off
    cell = scenario.here(sub, t1)
    sub.tl.overlay(t0, t1 + 15 * MINUTE_MS, [(t0, OFF, None), (t1, cell, ["power_on"])])
    return True
