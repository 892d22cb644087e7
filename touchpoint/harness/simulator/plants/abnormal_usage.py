"""The ``abnormal_usage`` plant: a clock hour of heavy video xDRs over ``abnormal_usage_mb``."""

from __future__ import annotations

from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import Sub
from udfs.units import HOUR_MS, MINUTE_MS


def need_ms(scenario: Scenario) -> int:
    """Scenario time one plant needs."""
    return int(2.5 * HOUR_MS)


def place(scenario: Scenario, sub: Sub, lo: int, hi: int) -> bool:
    rng = sub.rng
    t0 = scenario.pick_start(sub, lo, hi, 2 * HOUR_MS)
    if t0 is None:
        return False
    h = -(-t0 // HOUR_MS) * HOUR_MS
    if h + HOUR_MS > hi:
        return False
    scenario.ensure_on(sub, h, h + HOUR_MS)
    sub.masks.append((h, h + HOUR_MS))
    n = rng.randint(3, 5)
    total = int(scenario.p.abnormal_usage_bytes * rng.uniform(1.05, 1.3))
    weights = [rng.uniform(0.5, 1.5) for _ in range(n)]
    sw = sum(weights)
    times = sorted(h + int(rng.uniform(3, 57) * MINUTE_MS) for _ in range(n))
    for t, wgt in zip(times, weights):
        b = int(total * wgt / sw)
        up = int(b * rng.uniform(0.02, 0.06))
        extra = {"bytes_up": up, "bytes_down": b - up, "app": "video", "duration_s": rng.randint(600, 3000)}
        sub.forced.append((t, "xdr", extra, ["abnormal_usage"]))
    return True
