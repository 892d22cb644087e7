"""The ``handset_change`` plant: the handset switched off for a few minutes and back on with another IMEI (one in ten
an unknown TAC)."""

from __future__ import annotations

from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import OFF, Sub, make_imei
from udfs.units import MINUTE_MS


def need_ms(scenario: Scenario) -> int:
    """Scenario time one plant needs."""
    return 60 * MINUTE_MS


def place(scenario: Scenario, sub: Sub, lo: int, hi: int) -> bool:
    rng = sub.rng
    t0 = scenario.pick_start(sub, lo, hi, 45 * MINUTE_MS)
    if t0 is None:
        return False
    scenario.ensure_on(sub, t0 - 3 * MINUTE_MS, t0)
    sub.forced.append((t0 - 2 * MINUTE_MS, "imei_check", {}, None))
    t1 = t0 + int(rng.uniform(5, 25) * MINUTE_MS)
    cell = scenario.here(sub, t1)
    sub.tl.overlay(t0, t1 + 10 * MINUTE_MS, [(t0, OFF, None), (t1, cell, ["handset_change"])])
    old_tac = sub.imei[:8]
    new_tac = scenario.random_handset(rng, exclude_tac=old_tac, unknown_p=0.1)
    sub.imei_changes.append((t1, make_imei(new_tac, rng)))
    return True
