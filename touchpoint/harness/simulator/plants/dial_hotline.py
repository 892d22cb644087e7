"""The ``dial_hotline`` plant: an ``mo_call`` to one of the hotlines (none when no hotline is configured)."""

from __future__ import annotations

from touchpoint.harness.simulator.plants._shapes import simple_event
from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import Sub
from udfs.units import MINUTE_MS


def need_ms(scenario: Scenario) -> int:
    """Scenario time one plant needs."""
    return 10 * MINUTE_MS


def place(scenario: Scenario, sub: Sub, lo: int, hi: int) -> bool:
    if not scenario.hotlines:
        return False
    extra = {"called_number": sub.rng.choice(scenario.hotlines), "duration_s": sub.rng.randint(30, 400)}
    return simple_event(scenario, sub, lo, hi, "mo_call", extra, "dial_hotline")
