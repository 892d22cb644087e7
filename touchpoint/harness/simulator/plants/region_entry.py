"""The ``region_entry`` plant: a visit to a watched mall: a short one (no dwell), a normal one, or one ping-ponging at
the border."""

from __future__ import annotations

from touchpoint.harness.simulator.plants._shapes import visit, visit_need_ms
from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import Sub


def need_ms(scenario: Scenario) -> int:
    """Scenario time one plant needs."""
    return visit_need_ms(scenario, dwell=False)


def place(scenario: Scenario, sub: Sub, lo: int, hi: int) -> bool:
    return visit(scenario, sub, lo, hi, sub.rng.choices(("short", "normal", "pingpong"), (50, 25, 25))[0])
