"""Ordinary network traffic: the bulk of what a mobile network's probes see, and no trigger of its own.

A subscriber's own activity (moves, calls, SMS, periodic location updates, a few data sessions, the planted
situations) makes ~3 events per subscriber-hour. A real network makes 20-40x more (docs/performance.md,
"realistic density"): most are service requests, data-session set-ups each followed by its xDR, and
tracking-area updates, all on the cell the subscriber is already on. This module tops a subscriber's activity up
to ``simulator.events_per_subscriber_hour`` with such events, over the hours the subscriber is on a cell of the
city (never while off, out of the network or abroad), following a daily curve around the average.

It changes no location (every event is on the current cell), no handset (the current IMEI), and next to no data
volume (light keep-alive and background sessions), so the planted situations keep their per-day rates and the
trigger rules see what they saw at low density, only much more often. It draws from its own random stream
(seed and subscriber index), so the rest of a city is the same at every density.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

from udfs.units import HOUR_MS

#: What a subscriber's own activity makes per subscriber-hour, measured over a 48 h city at
#: ``events_per_subscriber_hour: 0`` (tests/harness/simulator/test_traffic.py holds it): ordinary traffic adds the rest.
OWN_EVENTS_PER_HOUR = 3.0
#: Share of subscriber-hours on a cell of the city (not off, out of the network or abroad), measured likewise:
#: ordinary traffic is drawn over every hour and kept on a cell, so its rate is divided by this share.
ON_CELL_SHARE = 0.95

#: Relative traffic by local hour: nights about a quarter of the average, the evening busy hour about twice.
_CURVE = (
    0.3, 0.25, 0.25, 0.25, 0.25, 0.3, 0.5, 0.9, 1.2, 1.3, 1.3, 1.3,
    1.4, 1.3, 1.3, 1.3, 1.3, 1.4, 1.6, 1.8, 2.0, 1.9, 1.4, 0.8,
)  # fmt: skip
CURVE = tuple(c * 24 / sum(_CURVE) for c in _CURVE)
#: The local hour of the curve's peak (networks are sized for it)
BUSY_HOUR = max(range(24), key=CURVE.__getitem__)

#: The mix, per draw: a data session (signaling set-up + its xDR: two events), a tracking-area update, else a
#: service request. Subscribers without data make a service request instead of a data session.
DATA_SESSION_SHARE = 0.25
TRACKING_AREA_UPDATE_SHARE = 0.10
_EVENTS_PER_DRAW = 1 + DATA_SESSION_SHARE

#: Light sessions: keep-alive, push and background sync (median 2 KB), so a day of them is ~1 MB and data-plan
#: thresholds are crossed about as often as at low density.
_SESSION_LOG_MEDIAN = math.log(2_000)
_APPS = ("social", "web", "other", "music", "map")
_APP_CUM = (40, 65, 85, 93, 100)


def ordinary_per_hour(events_per_subscriber_hour: float) -> float:
    """Ordinary events per subscriber-hour on top of the subscriber's own activity (0 if that already makes it)."""
    return max(0.0, events_per_subscriber_hour - OWN_EVENTS_PER_HOUR)


def ordinary_traffic(
    *,
    seed: int,
    idx: int,
    per_hour: float,
    start_ms: int,
    end_ms: int,
    local_hour: Callable[[int], int],
    seg_ts: list[int],
    seg_state: list[Any],
    has_data: bool,
    no_xdr: Callable[[int], bool],
    app_used: Callable[[str, int], str],
    sig: Callable[[int, str, int, bool], dict[str, Any]],
    xdr: Callable[[int, int, dict[str, Any]], dict[str, Any]],
) -> list[tuple[int, dict[str, Any], int]]:
    """(t, record, topic index 0 signaling / 1 xDR) for one subscriber, unsorted.

    ``seg_ts``/``seg_state`` are the timeline's segments (a cell index >= 0 is on a cell); ``no_xdr(t)``: no xDR
    may happen at t (a planted zero-usage stretch); ``app_used(app, t)``: the app an xDR reports (a quiet trial's
    app is another); ``sig(t, event_type, cell, with_imei)`` and ``xdr(t, cell, sizes)`` build the records as the
    rest of the generator does (Sub and Generator in subscriber.py)."""
    if per_hour <= 0:
        return []
    rng = random.Random(f"{seed}/traffic/{idx}")
    rnd = rng.random
    draws_per_hour = per_hour / _EVENTS_PER_DRAW / ON_CELL_SHARE
    out: list[tuple[int, dict[str, Any], int]] = []
    add = out.append
    data_share = DATA_SESSION_SHARE if has_data else 0.0
    tau_share = data_share + TRACKING_AREA_UPDATE_SHARE
    for hour in range(start_ms - start_ms % HOUR_MS, end_ms, HOUR_MS):
        k = poisson(rng, draws_per_hour * CURVE[local_hour(hour)])
        for _ in range(k):
            t = hour + int(rnd() * HOUR_MS)
            if t < start_ms or t >= end_ms:
                continue
            s = seg_state[bisect_right(seg_ts, t) - 1]
            if type(s) is not int or s < 0:
                continue
            r = rnd()
            if r < data_share and not no_xdr(t):
                add((t, sig(t, "data_session", s, False), 0))
                b = int(math.exp(rng.gauss(_SESSION_LOG_MEDIAN, 0.7)))
                up = int(b * (0.2 + rnd() * 0.3))
                app = app_used(_APPS[bisect_right(_APP_CUM, rnd() * 100)], t)
                sizes = {"app": app, "bytes_up": up, "bytes_down": b - up, "duration_s": int(1 + rnd() * 60)}
                add((t, xdr(t, s, sizes), 1))
            elif data_share <= r < tau_share:
                add((t, sig(t, "location_update", s, True), 0))
            else:
                add((t, sig(t, "service_request", s, False), 0))
    return out


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw; a normal approximation above 30 (the busy hour of a dense city draws ~100)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    limit = math.exp(-lam)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
