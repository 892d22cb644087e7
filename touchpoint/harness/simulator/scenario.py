"""The scenario every subscriber is drawn in: the city's lookups, the time span and its local days, the billing
month, the settings the drawing reads; and what is done to any timeline (moving along cells, staying, picking a
start for a planted situation). The generator (generator.py), the plants (plants/) and records.py read it."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

from touchpoint.harness.simulator.city import City
from touchpoint.harness.simulator.subscriber import (
    Sub,
    Timeline,
    _cum,
)
from touchpoint.harness.simulator.traffic import ordinary_per_hour
from udfs.journeys import Journey
from udfs.kinds import Params, billing_month
from udfs.units import DAY_MS, HOUR_MS, MINUTE_MS


class Scenario:
    """Everything about the simulated city and span that does not depend on one subscriber."""

    def __init__(
        self,
        city: City,
        settings: Any,
        seed: int,
        start_ms: int,
        end_ms: int,
        n_home: int,
        plants: dict[int, list[str]],
    ):
        self.city = city
        self.seed = seed
        self.S = start_ms
        self.E = end_ms
        self.n_home = n_home
        self.plants = plants
        self.p = Params.from_settings(settings)
        #: the journey trials are planted for (the engine sets it: the first of the city's journeys), and how often
        self.journey: Journey | None = None
        self.trial_fraction = settings.simulator.trial_fraction
        self.tr = settings.triggers
        self.hotlines = list(settings.triggers.hotline_numbers)
        self.ordinary_per_hour = ordinary_per_hour(settings.simulator.events_per_subscriber_hour)
        self.home_plmns = list(settings.network.home_plmns)
        from datetime import datetime, timedelta
        from zoneinfo import ZoneInfo

        tz = ZoneInfo(settings.simulator.timezone)
        # local days that overlap [start, end); the night before the first one only decides the initial state
        first = datetime.fromtimestamp(start_ms / 1000, tz).date()
        last = datetime.fromtimestamp((end_ms - 1) / 1000, tz).date()
        self.days: list[tuple[int, int]] = []
        d = first
        while d <= last:
            self.days.append((int(datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() * 1000), d.weekday()))
            d += timedelta(days=1)
        self.tz_off = int(datetime.fromtimestamp(start_ms / 1000, tz).utcoffset().total_seconds() * 1000)
        # the billing month of the start (triggers.timezone) and its end: quota plants fit inside it
        billing_tz = ZoneInfo(self.p.timezone)
        self.start_month = billing_month(start_ms, self.p.timezone)
        sd = datetime.fromtimestamp(start_ms / 1000, billing_tz)
        nm = datetime(sd.year + (sd.month == 12), sd.month % 12 + 1, 1, tzinfo=billing_tz)
        self.start_month_end = int(nm.timestamp() * 1000)
        ms = datetime(sd.year, sd.month, 1, tzinfo=billing_tz)
        self.days_into_month = (start_ms - int(ms.timestamp() * 1000)) / DAY_MS
        # cell lookups
        c = city
        self.CID, self.LAC, self.RAT, self.REG = c.cell_id, c.lac, c.rat, c.region_of
        self.residential_cells = [x for ri in c.by_kind["residential"] for x in c.regions[ri].cells] or list(
            range(c.n_cells)
        )
        self.work_cells = [x for ri in c.by_kind["office"] for x in c.regions[ri].cells] or list(range(c.n_cells))
        self.campus_cells = [x for ri in c.by_kind["campus"] for x in c.regions[ri].cells] or self.work_cells
        self.outing_kinds = ("mall", "scenic", "transport", "campus", "handset_store", "office", "residential")
        self.outing_weights = (45, 20, 8, 5, 4, 8, 10)
        self.watched_malls = [i for i in c.by_kind["mall"] if c.regions[i].watched] or [
            i for i, r in enumerate(c.regions) if r.watched
        ]
        self.stores = c.by_kind["handset_store"]
        self.store_cells = frozenset(x for ri in self.stores for x in c.regions[ri].cells)
        tr = c.by_kind["transport"]
        self.airport = c.regions[tr[0]].cells[0] if tr else 0
        self.transport_cells = [x for ri in tr for x in c.regions[ri].cells] or [0]
        self.handsets = c.handsets
        tw = {"low": 3.0, "mid": 3.0, "high": 1.5}
        self.handset_cum = _cum(tuple(tw[h["tier"]] for h in c.handsets))
        self.tacs = frozenset(h["tac"] for h in c.handsets)
        cap = len(c.home_prefixes) * 10_000
        self.msisdn_cap = cap
        self.msisdn_mul = next(a for a in range(7919, 10**6) if math.gcd(a, cap) == 1)
        self.msisdn_add = random.Random(f"{seed}/numbers").randrange(cap)

    # ------------------------------------------------------------------------------------------------- helpers
    def local_hour(self, t: int) -> int:
        return ((t + self.tz_off) // HOUR_MS) % 24

    def path(self, a: int, b: int, max_hops: int = 10, avoid: frozenset[int] | set[int] | None = None) -> list[int]:
        """Cells passed going from a to b in a straight line (at most max_hops of them, b last)."""
        side = self.city.side
        ra, ca = divmod(a, side)
        rb, cb = divmod(b, side)
        dr, dc = rb - ra, cb - ca
        dist = abs(dr) + abs(dc)
        if dist == 0:
            return []
        hops = dist if dist < max_hops else max_hops
        out, last = [], a
        for k in range(1, hops + 1):
            cell = (ra + dr * k // hops) * side + ca + dc * k // hops
            if cell != last and (not avoid or cell not in avoid or cell == b):
                out.append(cell)
                last = cell
        return out

    def move(self, tl: Timeline, a: int, b: int, t: int, rng: random.Random, avoid: Any = None) -> int:
        """Travel from cell a to b leaving at t; returns the arrival time."""
        p = self.path(a, b, avoid=avoid)
        if not p:
            return t
        side = self.city.side
        dist = abs(a // side - b // side) + abs(a % side - b % side)
        dur = (90.0 if dist > 76 else 6 + dist * 1.1) * (0.8 + 0.45 * rng.random()) * MINUTE_MS
        n = len(p)
        ts, st, tg = tl.ts, tl.st, tl.tg
        last = ts[-1]
        for k, cell in enumerate(p, start=1):
            t_k = t + int(dur * k / n)
            if t_k <= last:
                t_k = last + 1000
            ts.append(t_k)
            st.append(cell)
            tg.append(None)
            last = t_k
        return last

    def stay(self, tl: Timeline, region: int, cell: int, t: int, dur: int, rng: random.Random) -> tuple[int, int]:
        """Stay in a region for dur, hopping between its cells now and then; returns (end, last cell)."""
        cells = self.city.regions[region].cells
        end = t + dur
        if len(cells) > 1:
            t += int(rng.uniform(10, 30) * MINUTE_MS)
            while t < end:
                cell = rng.choice(cells)
                t = tl.add(t, cell)
                t += int(rng.uniform(10, 30) * MINUTE_MS)
        return end, cell

    def pick_region(self, rng: random.Random) -> int:
        while True:
            kind = rng.choices(self.outing_kinds, self.outing_weights)[0]
            lst = self.city.by_kind.get(kind)
            if lst:
                return rng.choice(lst)

    def g3_tac(self, tac: str) -> bool:
        return next(h["g3_capable"] for h in self.handsets if h["tac"] == tac)

    def random_handset(self, rng: random.Random, exclude_tac: str | None = None, unknown_p: float = 0.0) -> str:
        if rng.random() < unknown_p:
            while True:
                tac = f"35{rng.randrange(1_000_000):06d}"
                if tac not in self.tacs:
                    return tac
        while True:
            h = rng.choices(self.handsets, cum_weights=self.handset_cum)[0]
            if h["tac"] != exclude_tac:
                return h["tac"]

    @staticmethod
    def number(rnd: Callable[[], float]) -> str:
        """A called/calling party: a mobile number or a Nanjing landline (11 digits)."""
        r = rnd()
        if r < 0.8:
            return f"1{'3458'[int(r * 5)]}{int(rnd() * 1e9):09d}"
        return f"025{int(rnd() * 1e8):08d}"

    # ------------------------------------------------------------------------------------------------ subscribers
    def home_msisdn(self, i: int) -> str:
        j = (i * self.msisdn_mul + self.msisdn_add) % self.msisdn_cap
        return f"{self.city.home_prefixes[j // 10_000]}{j % 10_000:04d}"

    def pick_start(self, sub: Sub, lo: int, hi: int, dur: int) -> int | None:
        """A start in [lo, hi - dur], preferring daytime and a moment the subscriber is in a cell."""
        if hi - dur < lo:
            return None
        rng, tl = sub.rng, sub.tl
        first = None
        for _ in range(16):
            t = lo + int(rng.random() * (hi - dur - lo))
            if first is None:
                first = t
            if 8 <= self.local_hour(t) <= 19 and isinstance(tl.state_at(t), int) and tl.state_at(t) >= 0:
                return t
        for _ in range(16):
            t = lo + int(rng.random() * (hi - dur - lo))
            if isinstance(tl.state_at(t), int) and tl.state_at(t) >= 0:
                return t
        return first

    def here(self, sub: Sub, t: int) -> int:
        s = sub.tl.state_at(t)
        return s if isinstance(s, int) and s >= 0 else sub.home

    def ensure_on(self, sub: Sub, t0: int, t1: int) -> None:
        """Make sure the subscriber is in a cell during [t0, t1]."""
        tl = sub.tl
        i0 = bisect_right(tl.ts, t0) - 1
        i1 = bisect_right(tl.ts, t1)
        if all(isinstance(s, int) and s >= 0 for s in tl.st[i0:i1]):
            return
        tl.overlay(t0, t1, [(t0, self.here(sub, t0), None)])
