"""The ``dwell`` plant: a visit to a watched mall long enough to dwell, normal or ping-ponging at the border first."""

from __future__ import annotations

from touchpoint.harness.simulator.plants._shapes import visit, visit_need_ms
from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import Sub


def need_ms(scenario: Scenario) -> int:
    """Scenario time one plant needs."""
    return visit_need_ms(scenario, dwell=True)


def place(scenario: Scenario, sub: Sub, lo: int, hi: int) -> bool:
    return visit(scenario, sub, lo, hi, sub.rng.choices(("normal", "pingpong"), (60, 40))[0])
