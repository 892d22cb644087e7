"""The ``call_forward_set`` plant: a ``call_forward_set`` to another number."""

from __future__ import annotations

from touchpoint.harness.simulator.plants._shapes import simple_event
from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import Sub
from udfs.units import MINUTE_MS


def need_ms(scenario: Scenario) -> int:
    """Scenario time one plant needs."""
    return 10 * MINUTE_MS


def place(scenario: Scenario, sub: Sub, lo: int, hi: int) -> bool:
    return simple_event(
        scenario, sub, lo, hi, "call_forward_set", {"forward_to": scenario.number(sub.rng.random)}, "call_forward_set"
    )
