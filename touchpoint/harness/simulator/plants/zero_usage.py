"""The ``zero_usage`` plant: a data package subscribed to and then no xDR for the window (a last event after it, so the
window is complete in the data)."""

from __future__ import annotations

from touchpoint.harness.simulator.city import DATA_PACKAGES
from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import CHANNELS, Sub
from udfs.units import MINUTE_MS


def need_ms(scenario: Scenario) -> int:
    """Scenario time one plant needs."""
    return scenario.p.zero_usage_window_ms + 90 * MINUTE_MS


def place(scenario: Scenario, sub: Sub, lo: int, hi: int) -> bool:
    rng = sub.rng
    w = scenario.p.zero_usage_window_ms
    hi = min(hi, scenario.E - 20 * MINUTE_MS)
    t0 = scenario.pick_start(sub, lo, hi, w + 10 * MINUTE_MS)
    if t0 is None:
        return False
    prod = rng.choice(DATA_PACKAGES)
    sub.forced.append(
        (
            t0,
            "order",
            {
                "product_id": prod,
                "product_kind": "data_package",
                "action": "subscribe",
                "channel": rng.choice(CHANNELS),
            },
            ["zero_usage"],
        )
    )
    sub.masks.append((t0 - 5000, t0 + w + 5000))
    # make sure the data set's last event is not before the end of the window
    t_end = scenario.E - int(rng.uniform(1, 8) * MINUTE_MS)
    if t_end > t0 + w:
        scenario.ensure_on(sub, t_end - MINUTE_MS, t_end + MINUTE_MS)
        sub.forced.append((t_end, "location_update", {}, None))
    return True
