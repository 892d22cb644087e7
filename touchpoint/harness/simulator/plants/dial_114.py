"""The ``dial_114`` plant: an ``mo_call`` to the directory number, in daytime when the subscriber is in a cell."""

from __future__ import annotations

from touchpoint.harness.simulator.plants._shapes import simple_event
from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import Sub
from udfs.units import MINUTE_MS


def need_ms(scenario: Scenario) -> int:
    """Scenario time one plant needs."""
    return 10 * MINUTE_MS


def place(scenario: Scenario, sub: Sub, lo: int, hi: int) -> bool:
    extra = {"called_number": scenario.tr.directory_number, "duration_s": sub.rng.randint(20, 200)}
    return simple_event(scenario, sub, lo, hi, "mo_call", extra, "dial_114")
