"""The ``quota`` plant: xDRs that cross every quota threshold (several in one xDR now and then); their sizes are
settled once the subscriber's natural usage is known."""

from __future__ import annotations

from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import Sub
from udfs.units import HOUR_MS, MINUTE_MS


def need_ms(scenario: Scenario) -> int:
    """Scenario time one plant needs."""
    return int(2.5 * HOUR_MS)


def place(scenario: Scenario, sub: Sub, lo: int, hi: int) -> bool:
    rng = sub.rng
    th = scenario.p.quota_thresholds_mb
    if not th or sub.profile is None:
        return False
    hi = min(hi, scenario.start_month_end - 10 * MINUTE_MS)
    t0 = scenario.pick_start(sub, lo, hi, 2 * HOUR_MS)
    if t0 is None:
        return False
    # group consecutive thresholds: one xDR per group
    groups: list[list[int]] = [[th[0]]]
    for t in th[1:]:
        if rng.random() < 0.35:
            groups[-1].append(t)
        else:
            groups.append([t])
    times = [t0]
    for _ in groups[1:]:
        times.append(times[-1] + int(rng.uniform(8, 40) * MINUTE_MS))
    scenario.ensure_on(sub, t0 - MINUTE_MS, times[-1] + MINUTE_MS)
    sub.masks.append((t0 - 5000, times[-1] + 5000))
    protos = []
    for t in times:
        extra = {"bytes_up": 0, "bytes_down": 0}
        protos.append(extra)
        sub.forced.append((t, "xdr", extra, ["quota"]))
    sub.quota_plan = [groups, protos]
    return True
