"""One subscriber's whole timeline, generated independently from (seed, subscriber index).

A timeline is a list of *segments* ``(t, state, tags)``: from ``t`` on the subscriber is in ``state`` — a cell
index (``>= 0``), :data:`OFF` (powered off: detach … attach), :data:`FLIGHT` (no signal, e.g. on a plane or not
yet in the city) or a ``str`` (abroad: the visited network's PLMN). Every change of state yields one signaling
event (location update / handover / attach / detach); periodic location updates, calls, SMS, xDRs and orders are
then drawn over the time the subscriber is reachable. Planted situations overlay the natural timeline in
disjoint time slots and tag the events that should complete them.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from touchpoint.harness.simulator.city import CATALOGUE, DATA_PACKAGES, PRODUCTS, City
from touchpoint.harness.simulator.traffic import ordinary_per_hour, ordinary_traffic, poisson
from udfs import trigger_kinds
from udfs.journeys import Journey
from udfs.trigger_kinds import quota_kind
from udfs.trigger_rules import Params, billing_month
from udfs.units import DAY_MS, HOUR_MS, MB, MINUTE_MS

OFF = -1
FLIGHT = -2

#: Plants assigned to home subscribers, one per kind in catalogue order ("quota" plants every quota threshold);
#: roam_in comes from the inbound roamers instead.
PLANT_KINDS = tuple(k.name for k in trigger_kinds.KINDS if k.name != "roam_in")
#: Plants start this long after the scenario start and end this long before its end.
PLANT_LEAD_MS = 60 * MINUTE_MS
PLANT_TAIL_MS = 15 * MINUTE_MS

#: Visited networks of planted trips abroad (short-haul from Nanjing: HK CSL, HK CMHK, JP docomo, KR SKT, TW CHT).
FOREIGN_VLRS = ("45400", "45412", "44010", "45005", "46692")
#: (IMSI PLMN, msisdn country code, national number length) of inbound foreign roamers.
FOREIGN_ROAMERS = (("23415", "44", 10), ("310260", "1", 10), ("45400", "852", 8), ("44010", "81", 10))
QUOTAS = (0, 30, 50, 100, 300, 500, 1024)
QUOTA_WEIGHTS = (15, 15, 15, 20, 15, 10, 10)
APPS = ("video", "social", "web", "game", "music", "map", "other")
APP_WEIGHTS = (15, 30, 25, 8, 8, 6, 8)
APP_SCALE = {"video": 6.0, "social": 1.0, "web": 0.8, "game": 1.5, "music": 2.0, "map": 0.8, "other": 0.5}
RAT_SCALE = {"GSM": 0.1, "G3": 0.4, "LTE": 1.0, "NR": 1.6}
BRANDS = (("gotone", 30), ("mzone", 45), ("easyown", 25))
PLANS = {
    "gotone": (("gotone_58", "mid"), ("gotone_88", "high"), ("gotone_128", "high"), ("gotone_188", "vip")),
    "mzone": (("mzone_18", "low"), ("mzone_28", "mid"), ("mzone_38", "mid")),
    "easyown": (("easyown_8", "low"), ("easyown_18", "low")),
}
AGES = ("18-24", "25-34", "35-44", "45-54", "55+")
CHANNELS = ("sms", "app", "web", "shop", "hotline")
#: What a planted trial does: subscribes to the product, never uses the service, uses it below the journey's
#: threshold, cancels the trial (opt-out), or uses it and lets it lapse.
TRIAL_PLANS = ("convert", "no_usage", "low_usage", "opt_out", "lapse")

# local-hour activity profiles
_VOICE = (
    0.2,
    0.1,
    0.05,
    0.05,
    0.05,
    0.1,
    0.4,
    1.0,
    1.5,
    1.6,
    1.6,
    1.5,
    1.5,
    1.4,
    1.5,
    1.5,
    1.6,
    1.7,
    1.8,
    1.8,
    1.7,
    1.5,
    1.1,
    0.5,
)
_DATA = (
    0.6,
    0.3,
    0.15,
    0.1,
    0.1,
    0.15,
    0.5,
    1.2,
    1.4,
    1.2,
    1.1,
    1.2,
    1.6,
    1.4,
    1.1,
    1.1,
    1.2,
    1.4,
    1.6,
    1.8,
    2.0,
    2.2,
    2.0,
    1.3,
)
_HOURS = tuple(range(24))


def _cum(w: tuple[float, ...]) -> list[float]:
    out, s = [], 0.0
    for x in w:
        s += x
        out.append(s)
    return out


APP_CUM = _cum(APP_WEIGHTS)
APP_TOTAL = APP_CUM[-1]
VOICE_CUM = _cum(_VOICE)
DATA_CUM = _cum(_DATA)


def luhn(body: str) -> str:
    """Luhn check digit of a 14-digit IMEI body."""
    total = 0
    for i, ch in enumerate(body):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def make_imei(tac: str, rng: random.Random) -> str:
    body = f"{tac}{rng.randrange(1_000_000):06d}"
    return body + luhn(body)


@dataclass
class Timeline:
    ts: list[int]
    st: list[Any]
    tg: list[Any]

    def add(self, t: int, s: Any, tag: Any = None) -> int:
        if t <= self.ts[-1]:
            t = self.ts[-1] + 1000
        self.ts.append(t)
        self.st.append(s)
        self.tg.append(tag)
        return t

    def state_at(self, t: int) -> Any:
        return self.st[bisect_right(self.ts, t) - 1]

    def crop(self, start: int, end: int) -> None:
        i = bisect_right(self.ts, start) - 1
        j = bisect_left(self.ts, end)
        self.ts = [start] + self.ts[i + 1 : j]
        self.st = self.st[i:j]
        self.tg = [None] + self.tg[i + 1 : j]

    def overlay(self, t0: int, t1: int, new: list[tuple[int, Any, Any]]) -> None:
        """Replace [t0, t1) by ``new`` (first at t0); at t1 the natural state resumes."""
        restore = self.state_at(t1)
        i0 = bisect_left(self.ts, t0)
        i1 = bisect_right(self.ts, t1)
        self.ts[i0:i1] = [n[0] for n in new] + [t1]
        self.st[i0:i1] = [n[1] for n in new] + [restore]
        self.tg[i0:i1] = [n[2] for n in new] + [None]

    def normalize(self) -> None:
        ts, st, tg = [self.ts[0]], [self.st[0]], [self.tg[0]]
        for t, s, g in zip(self.ts[1:], self.st[1:], self.tg[1:]):
            if t <= ts[-1]:
                t = ts[-1] + 1
            if s == st[-1] and not g:
                continue
            ts.append(t)
            st.append(s)
            tg.append(g)
        self.ts, self.st, self.tg = ts, st, tg


@dataclass
class Sub:
    """Per-subscriber generation state."""

    idx: int
    rng: random.Random
    msisdn: str
    imsi: str
    imei: str
    home: int
    work: int = -1
    roamer: bool = False
    tl: Timeline | None = None
    imei_changes: list[tuple[int, str]] = field(default_factory=list)
    forced: list[tuple[int, str, dict[str, Any], Any]] = field(default_factory=list)  # (t, etype, extra, tags)
    masks: list[tuple[int, int]] = field(default_factory=list)  # xDR-free intervals, inclusive
    quota_plan: list[Any] | None = None
    profile: dict[str, Any] | None = None
    has_data: bool = True
    rates: dict[str, float] = field(default_factory=dict)
    usage_bytes: float = 0.0
    plants_done: list[str] = field(default_factory=list)
    avoid: frozenset[int] = frozenset()
    #: a planted trial: its plan (TRIAL_PLANS), and (app, from, to) during which natural xDRs use another app
    trial: str | None = None
    quiet_app: tuple[str, int, int] | None = None

    def no_xdr(self, t: int) -> bool:
        """No xDR may happen at t: a planted stretch without usage (``masks``)."""
        return any(lo <= t <= hi for lo, hi in self.masks)

    def app_used(self, app: str, t: int) -> str:
        """The app a natural xDR at t reports: another one for the trial's app while the trial stays quiet."""
        quiet = self.quiet_app
        return "web" if quiet and app == quiet[0] and quiet[1] <= t <= quiet[2] else app


@dataclass
class SubResult:
    signaling: list[dict[str, Any]]
    xdrs: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    ordered: list[tuple[int, dict[str, Any]]]  # (topic index, record) in ts order
    windows: list[tuple[str, int, int]]  # planted (kind, ts_lo, ts_hi)
    profile_row: dict[str, Any] | None
    profile: tuple[int, int] | None
    plants: list[str]
    trial: str | None = None


class Generator:
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

    def subscriber(self, idx: int) -> SubResult:
        if idx < self.n_home:
            sub = self.new_home(idx)
        else:
            sub = self.new_roamer(idx)
        return self.finish(sub)

    def new_home(self, i: int) -> Sub:
        rng = random.Random(f"{self.seed}/sub/{i}")
        msin = (i * 7_654_321 + 1_234_567) % 5_000_000_000
        plmn = self.home_plmns[i % len(self.home_plmns)] if self.home_plmns else "46000"
        imsi = f"{plmn}{msin:010d}"[:15]
        tac = self.random_handset(rng)
        c = self.city
        home = rng.choice(self.residential_cells) if rng.random() < 0.8 else rng.randrange(c.n_cells)
        age = rng.choices(AGES, (18, 30, 25, 15, 12))[0]
        r = rng.random()
        student = age == "18-24" and r < 0.5
        if student:
            work = rng.choice(self.campus_cells)
            # students buy recent phones: most can do G3 (a few draws, so some still cannot)
            for _ in range(3):
                if self.g3_tac(tac):
                    break
                tac = self.random_handset(rng)
        elif r < 0.75:
            work = rng.choice(self.work_cells)
        else:
            work = rng.randrange(c.n_cells)
        sub = Sub(idx=i, rng=rng, msisdn=self.home_msisdn(i), imsi=imsi, imei=make_imei(tac, rng), home=home, work=work)
        # profile
        brand = rng.choices([b for b, _ in BRANDS], [w for _, w in BRANDS])[0]
        plan, arpu = rng.choice(PLANS[brand])
        if arpu == "high" and rng.random() < 0.15:
            arpu = "vip"
        q = rng.choices(QUOTAS, QUOTA_WEIGHTS)[0]
        # most subscribers use about their monthly quota, some far more (they will run out)
        daily_mb = (q / 30 if q else 3.0) * rng.lognormvariate(-0.2, 0.6)
        used = min(q - 1, int(daily_mb * self.days_into_month * rng.uniform(0.5, 1.5))) if q else 0
        g3 = self.g3_tac(tac)
        products = []
        if g3 and rng.random() < 0.4:
            products.append(rng.choice(("g3_basic", "g3_data_100")))
        # (product, share of subscribers holding it, share of students): students live on Fetion and Music Club,
        # the services the G3 association campaigns look for
        for prod, pr, pr_student in (
            ("12580", 0.15, 0.15),
            ("music_club", 0.2, 0.5),
            ("mobile_paper", 0.1, 0.1),
            ("fetion", 0.35, 0.7),
            ("data_package_50", 0.1, 0.1),
        ):
            if rng.random() < (pr_student if student else pr):
                products.append(prod)
        sub.profile = {
            "msisdn": sub.msisdn,
            "imsi": imsi,
            "brand": brand,
            "plan": plan,
            "data_quota_mb": q,
            "data_used_mb": used,
            "arpu_band": arpu,
            "age_band": age,
            "consent_marketing": rng.random() < 0.85,
            "consent_location": rng.random() < 0.8,
            "do_not_disturb": rng.random() < 0.08,
            "products": products,
        }
        sub.has_data = q > 0 or rng.random() < 0.4
        mult = rng.lognormvariate(0, 0.5)
        sub.rates = {
            "mo_call": 2.5 * mult,
            "mt_call": 2.2 * mult,
            "mo_sms": 2.5 * rng.lognormvariate(0, 0.6),
            "mt_sms": 3.0 * rng.lognormvariate(0, 0.4),
            "imei_check": 0.1,
            "call_forward_set": 0.003,
            "xdr": rng.uniform(10, 35) if sub.has_data else 0.0,
            "order": 0.015,
        }
        sub.usage_bytes = daily_mb * MB / max(1.0, sub.rates["xdr"]) / 2.0
        plants = self.plants.get(i, [])
        if "handset_store_visits" in plants:
            # keep the natural timeline out of handset stores, so the planted visits are the ones counted
            sub.avoid = self.store_cells
            while sub.home in sub.avoid:
                sub.home = rng.randrange(c.n_cells)
            while sub.work in sub.avoid:
                sub.work = rng.randrange(c.n_cells)
        self.natural_home(sub)
        self.apply_plants(sub, plants)
        if self.journey is not None and not plants and self.journey.product not in sub.profile["products"]:
            self.plant_trial(sub)
        sub.tl.normalize()
        return sub

    def natural_home(self, sub: Sub) -> None:
        rng = sub.rng
        night_off = rng.random() < 0.15
        works = rng.random() < 0.85
        out_wd = rng.uniform(0.1, 0.4)
        out_we = rng.uniform(0.4, 0.8)
        was_off = night_off and rng.random() < 0.85  # the night before the first day
        tl = Timeline([self.S - 3 * DAY_MS], [OFF if was_off else sub.home], [None])
        c = self.city
        avoid = sub.avoid
        for day0, wd in self.days:
            wake = day0 + int(min(9.5, max(5.5, rng.gauss(7.0, 0.6))) * HOUR_MS)
            if was_off:
                tl.add(wake, sub.home)
            t = wake
            if works and (wd < 5 or rng.random() < 0.1):
                t = self.move(tl, sub.home, sub.work, wake + int(rng.uniform(20, 70) * MINUTE_MS), rng, avoid)
                if rng.random() < 0.25:  # lunch nearby
                    nb = [x for x in c.neighbours(sub.work) if x not in avoid] or [sub.work]
                    lt = max(t + 30 * MINUTE_MS, day0 + int(rng.uniform(11.5, 12.5) * HOUR_MS))
                    lunch = rng.choice(nb)
                    tl.add(lt, lunch)
                    t = tl.add(lt + int(rng.uniform(30, 70) * MINUTE_MS), sub.work)
                end_work = max(t + 2 * HOUR_MS, day0 + int(rng.gauss(17.8, 0.7) * HOUR_MS))
                if rng.random() < out_wd:
                    t = self.outing(tl, sub.work, sub.home, end_work, int(rng.uniform(30, 150) * MINUTE_MS), rng, avoid)
                else:
                    t = self.move(tl, sub.work, sub.home, end_work, rng, avoid)
            elif rng.random() < out_we:
                go = max(t + 30 * MINUTE_MS, day0 + int(rng.uniform(9.5, 16) * HOUR_MS))
                t = self.outing(tl, sub.home, sub.home, go, int(rng.uniform(45, 240) * MINUTE_MS), rng, avoid)
            bed = min(day0 + int(25.5 * HOUR_MS), max(t + 10 * MINUTE_MS, day0 + int(rng.gauss(23.2, 0.8) * HOUR_MS)))
            was_off = night_off and rng.random() < 0.85
            if was_off:
                tl.add(bed, OFF)
        tl.crop(self.S, self.E)
        sub.tl = tl

    def outing(self, tl: Timeline, a: int, home: int, t: int, dur: int, rng: random.Random, avoid: Any = None) -> int:
        region = self.pick_region(rng)
        while avoid and avoid.intersection(self.city.regions[region].cells):
            region = self.pick_region(rng)
        cell = rng.choice(self.city.regions[region].cells)
        t = self.move(tl, a, cell, t, rng, avoid)
        tl.add(t, cell)
        t, last = self.stay(tl, region, cell, t, dur, rng)
        return self.move(tl, last, home, t, rng, avoid)

    def new_roamer(self, idx: int) -> Sub:
        rng = random.Random(f"{self.seed}/roamer/{idx}")
        r = idx - self.n_home
        c = self.city
        if rng.random() < 0.6:
            plmn, cc, nlen = FOREIGN_ROAMERS[r % len(FOREIGN_ROAMERS)]
            national = {"44": "77", "1": "206", "852": "9", "81": "90"}[cc]
            rest = nlen - len(national)
            msisdn = f"{cc}{national}{(r * 7919 + 17) % 10**rest:0{rest}d}"
            imsi = f"{plmn}{r:0{15 - len(plmn)}d}"
            tac = self.random_handset(rng, unknown_p=0.5)
        else:
            prefix, _prov = c.other_prefixes[r % len(c.other_prefixes)]
            msisdn = f"{prefix}{(r // len(c.other_prefixes)) % 10_000:04d}"
            plmn = self.home_plmns[0] if self.home_plmns else "46000"
            imsi = f"{plmn}{5_000_000_000 + r:010d}"
            tac = self.random_handset(rng)
        sub = Sub(idx=idx, rng=rng, msisdn=msisdn, imsi=imsi, imei=make_imei(tac, rng), home=0, roamer=True)
        sub.rates = {
            "mo_call": 2.0,
            "mt_call": 1.5,
            "mo_sms": 2.0,
            "mt_sms": 2.0,
            "imei_check": 0.05,
            "call_forward_set": 0.0,
            "xdr": rng.uniform(5, 25),
            "order": 0.0,
        }
        sub.usage_bytes = rng.lognormvariate(math.log(15), 0.8) * MB / max(1.0, sub.rates["xdr"]) / 2.0
        sub.has_data = True
        # visits: arrive (roam_in), stay, maybe leave and come back after a long silence (roam_in again)
        S, E = self.S, self.E
        span = E - S
        tl = Timeline([S], [FLIGHT], [None])
        arrive = S + MINUTE_MS + int(rng.random() * max(0, 0.7 * span - MINUTE_MS))
        gap = self.p.roam_in_gap_ms
        comes_back = rng.random() < 0.4
        while arrive < E - 30 * MINUTE_MS:
            leave = arrive + int(rng.uniform(4 * HOUR_MS, 3 * DAY_MS))
            port = rng.choice(self.transport_cells)
            hotel = rng.randrange(c.n_cells)
            tl.add(arrive, port, ["roam_in"])
            t = self.move(tl, port, hotel, arrive + int(rng.uniform(15, 60) * MINUTE_MS), rng)
            tl.add(t, hotel)
            while True:
                t += int(rng.uniform(1.5, 12) * HOUR_MS)
                if t >= leave:
                    break
                t = self.outing(tl, hotel, hotel, t, int(rng.uniform(40, 180) * MINUTE_MS), rng)
            if leave >= E:
                break
            t = self.move(tl, hotel, port, max(t, leave), rng)
            gone = tl.add(t + int(rng.uniform(30, 90) * MINUTE_MS), FLIGHT)
            if not comes_back:
                break
            comes_back = False  # at most one return visit
            arrive = gone + gap + int(rng.uniform(0.2, 6) * HOUR_MS)
        tl.crop(S, E)
        tl.normalize()
        sub.tl = tl
        return sub

    # -------------------------------------------------------------------------------------------------- plants
    def plant_need_ms(self, kind: str) -> int:
        """Scenario time one plant of this kind needs."""
        p, tr = self.p, self.tr
        mo = p.region_entry_min_outside_ms
        return {
            "region_entry": mo + p.dwell_ms + 60 * MINUTE_MS,
            "dwell": mo + p.dwell_ms + 90 * MINUTE_MS,
            "dial_114": 10 * MINUTE_MS,
            "dial_hotline": 10 * MINUTE_MS,
            "call_forward_set": 10 * MINUTE_MS,
            "handset_change": 60 * MINUTE_MS,
            "handset_store_visits": mo + 30 * MINUTE_MS + tr.handset_store_visits * (mo + 45 * MINUTE_MS),
            "roam_out": int(4.5 * HOUR_MS),
            "power_on": int(p.power_on_min_off_ms * 1.5) + 60 * MINUTE_MS,
            "quota": int(2.5 * HOUR_MS),
            "zero_usage": p.zero_usage_window_ms + 90 * MINUTE_MS,
            "abnormal_usage": int(2.5 * HOUR_MS),
        }[kind]

    def apply_plants(self, sub: Sub, kinds: list[str]) -> None:
        if not kinds:
            return
        lo, hi = self.S + PLANT_LEAD_MS, self.E - PLANT_TAIL_MS
        usable = hi - lo
        kinds = sorted(kinds, key=lambda k: -self.plant_need_ms(k))
        while kinds and sum(self.plant_need_ms(k) for k in kinds) > usable:
            kinds.pop(0)
        if not kinds:
            return
        need = [self.plant_need_ms(k) for k in kinds]
        scale = usable / sum(need)
        order = list(range(len(kinds)))
        sub.rng.shuffle(order)
        t = lo
        for j in order:
            slot = int(need[j] * scale)
            ok = getattr(self, f"plant_{kinds[j]}")(sub, t, t + slot)
            if ok:
                sub.plants_done.append(kinds[j])
            t += slot

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

    def _simple_event(self, sub: Sub, lo: int, hi: int, etype: str, extra: dict[str, Any], kind: str) -> bool:
        t0 = self.pick_start(sub, lo, hi, 5 * MINUTE_MS)
        if t0 is None:
            return False
        self.ensure_on(sub, t0, t0 + 2 * MINUTE_MS)
        sub.forced.append((t0 + MINUTE_MS, etype, extra, [kind]))
        return True

    def plant_dial_114(self, sub: Sub, lo: int, hi: int) -> bool:
        extra = {"called_number": self.tr.directory_number, "duration_s": sub.rng.randint(20, 200)}
        return self._simple_event(sub, lo, hi, "mo_call", extra, "dial_114")

    def plant_dial_hotline(self, sub: Sub, lo: int, hi: int) -> bool:
        if not self.hotlines:
            return False
        extra = {"called_number": sub.rng.choice(self.hotlines), "duration_s": sub.rng.randint(30, 400)}
        return self._simple_event(sub, lo, hi, "mo_call", extra, "dial_hotline")

    def plant_call_forward_set(self, sub: Sub, lo: int, hi: int) -> bool:
        return self._simple_event(
            sub, lo, hi, "call_forward_set", {"forward_to": self.number(sub.rng.random)}, "call_forward_set"
        )

    def plant_handset_change(self, sub: Sub, lo: int, hi: int) -> bool:
        rng = sub.rng
        t0 = self.pick_start(sub, lo, hi, 45 * MINUTE_MS)
        if t0 is None:
            return False
        self.ensure_on(sub, t0 - 3 * MINUTE_MS, t0)
        sub.forced.append((t0 - 2 * MINUTE_MS, "imei_check", {}, None))
        t1 = t0 + int(rng.uniform(5, 25) * MINUTE_MS)
        cell = self.here(sub, t1)
        sub.tl.overlay(t0, t1 + 10 * MINUTE_MS, [(t0, OFF, None), (t1, cell, ["handset_change"])])
        old_tac = sub.imei[:8]
        new_tac = self.random_handset(rng, exclude_tac=old_tac, unknown_p=0.1)
        sub.imei_changes.append((t1, make_imei(new_tac, rng)))
        return True

    def plant_power_on(self, sub: Sub, lo: int, hi: int) -> bool:
        rng = sub.rng
        mo = self.p.power_on_min_off_ms
        off = mo + int(rng.uniform(10 * MINUTE_MS, max(20 * MINUTE_MS, 0.4 * mo)))
        t0 = self.pick_start(sub, lo, hi, off + 30 * MINUTE_MS)
        if t0 is None:
            return False
        t1 = t0 + off
        cell = self.here(sub, t1)
        sub.tl.overlay(t0, t1 + 15 * MINUTE_MS, [(t0, OFF, None), (t1, cell, ["power_on"])])
        return True

    def _outside_neighbour(self, region: int, rng: random.Random) -> tuple[int, int]:
        """A (border cell of the region, neighbour cell outside it), preferring neighbours in no region."""
        c = self.city
        cells = c.regions[region].cells
        pairs = [(b, n) for b in cells for n in c.neighbours(b) if c.region_of[n] != region]
        free = [pr for pr in pairs if c.region_of[pr[1]] < 0]
        return rng.choice(free or pairs)

    def _approach(self, sub: Sub, segs: list, t0: int, target_outside: int, avoid: Any) -> int:
        """Travel from where the subscriber is at t0 to target_outside; returns the arrival time."""
        rng = sub.rng
        cur = self.here(sub, t0)
        segs.append((t0, cur, None))
        t = t0
        for cell in self.path(cur, target_outside, max_hops=4, avoid=avoid):
            t += int(rng.uniform(2, 5) * MINUTE_MS)
            segs.append((t, cell, None))
        if segs[-1][1] != target_outside:
            t += int(rng.uniform(2, 5) * MINUTE_MS)
            segs.append((t, target_outside, None))
        return t

    def _visit(self, sub: Sub, lo: int, hi: int, variant: str) -> bool:
        rng, c, p = sub.rng, self.city, self.p
        if not self.watched_malls:
            return False
        region = rng.choice(self.watched_malls)
        rcells = set(c.regions[region].cells)
        b, n = self._outside_neighbour(region, rng)
        dur = self.plant_need_ms("dwell" if variant != "short" else "region_entry")
        t0 = self.pick_start(sub, lo, hi, dur)
        if t0 is None:
            return False
        segs: list[tuple[int, Any, Any]] = []
        t = self._approach(sub, segs, t0, n, rcells)
        t_e = max(
            t + int(rng.uniform(3, 8) * MINUTE_MS),
            t0 + p.region_entry_min_outside_ms + int(rng.uniform(5, 10) * MINUTE_MS),
        )
        is_dwell = variant != "short"
        if variant == "pingpong":
            segs.append((t_e, b, ["region_entry"]))
            t = t_e
            for _ in range(rng.randint(1, 2)):
                t += int(rng.uniform(1, 3) * MINUTE_MS)
                segs.append((t, n, None))
                t += int(rng.uniform(1, 3) * MINUTE_MS)
                segs.append((t, b, None))
            segs[-1] = (t, b, ["dwell_start"])
            stay_start = t
        else:
            segs.append((t_e, b, ["region_entry", "dwell_start"] if is_dwell else ["region_entry"]))
            stay_start = t = t_e
        cells = sorted(rcells)
        if is_dwell:
            while True:
                t += int(rng.uniform(4, 9) * MINUTE_MS)
                segs.append((t, rng.choice(cells), ["inner"]))
                if t >= stay_start + p.dwell_ms:
                    break
            x = t + int(rng.uniform(2, 30) * MINUTE_MS)
            segs.append((x, n, ["dwell_end"]))
        else:
            x = stay_start + p.dwell_ms - int(rng.uniform(0.5, 3) * MINUTE_MS)
            while True:
                t += int(rng.uniform(4, 9) * MINUTE_MS)
                if t >= x - 10_000:
                    break
                segs.append((t, rng.choice(cells), ["inner"]))
            segs.append((x, n, None))
        if x + 10 * MINUTE_MS > hi:
            return False
        sub.tl.overlay(t0, x + int(rng.uniform(5, 10) * MINUTE_MS), segs)
        return True

    def plant_region_entry(self, sub: Sub, lo: int, hi: int) -> bool:
        return self._visit(sub, lo, hi, sub.rng.choices(("short", "normal", "pingpong"), (50, 25, 25))[0])

    def plant_dwell(self, sub: Sub, lo: int, hi: int) -> bool:
        return self._visit(sub, lo, hi, sub.rng.choices(("normal", "pingpong"), (60, 40))[0])

    def plant_handset_store_visits(self, sub: Sub, lo: int, hi: int) -> bool:
        rng, c, p = sub.rng, self.city, self.p
        if not self.stores:
            return False
        k = self.tr.handset_store_visits
        t0 = self.pick_start(sub, lo, hi, self.plant_need_ms("handset_store_visits"))
        if t0 is None:
            return False
        mo = p.region_entry_min_outside_ms
        segs: list[tuple[int, Any, Any]] = []
        store = rng.choice(self.stores)
        s_cell, n = self._outside_neighbour(store, rng)
        t = self._approach(sub, segs, t0, n, self.store_cells)
        t_e = max(t + int(rng.uniform(3, 8) * MINUTE_MS), t0 + mo + int(rng.uniform(5, 10) * MINUTE_MS))
        x = t_e
        for j in range(1, k + 1):
            watched = c.regions[store].watched
            tags = (["region_entry"] if watched else []) + (["handset_store_visits"] if j == k else [])
            segs.append((t_e, s_cell, tags or None))
            segs.append((t_e + int(rng.uniform(2, 6) * MINUTE_MS), s_cell, ["inner"]))
            x = t_e + int(rng.uniform(8, 15) * MINUTE_MS)
            segs.append((x, n, None))
            if j == k:
                break
            if rng.random() < 0.4 and len(self.stores) > 1:
                store = rng.choice([s for s in self.stores if s != store])
                s_cell, n2 = self._outside_neighbour(store, rng)
                t = x
                for cell in self.path(n, n2, max_hops=3, avoid=self.store_cells):
                    t += int(rng.uniform(2, 4) * MINUTE_MS)
                    segs.append((t, cell, None))
                if segs[-1][1] != n2:
                    t += int(rng.uniform(2, 4) * MINUTE_MS)
                    segs.append((t, n2, None))
                n = n2
            t_e = x + mo + int(rng.uniform(5, 20) * MINUTE_MS)
            segs.sort(key=lambda s: s[0])
            if segs[-1][0] >= t_e:
                t_e = segs[-1][0] + 3 * MINUTE_MS
        end = x + int(rng.uniform(5, 10) * MINUTE_MS)
        if end > hi:
            return False
        sub.tl.overlay(t0, end, segs)
        return True

    def plant_roam_out(self, sub: Sub, lo: int, hi: int) -> bool:
        rng = sub.rng
        t0 = self.pick_start(sub, lo, hi, int(4.5 * HOUR_MS))
        if t0 is None:
            return False
        segs: list[tuple[int, Any, Any]] = []
        t = self._approach(sub, segs, t0, self.airport, None)
        t_f = t + int(rng.uniform(30, 60) * MINUTE_MS)
        segs.append((t_f, FLIGHT, None))
        t_a = t_f + int(rng.uniform(1.5, 3) * HOUR_MS)
        vlr = rng.choice(FOREIGN_VLRS)
        segs.append((t_a, vlr, ["roam_out"]))
        room = hi - t_a
        if room >= 5 * HOUR_MS:
            t_r = t_a + int(rng.uniform(HOUR_MS, min(3 * DAY_MS, room - 4 * HOUR_MS)))
            segs.append((t_r, FLIGHT, None))
            t_l = t_r + int(rng.uniform(1.5, 3) * HOUR_MS)
            segs.append((t_l, self.airport, None))
            end = t_l + 30 * MINUTE_MS
        else:
            end = hi
        sub.tl.overlay(t0, end, segs)
        return True

    def plant_quota(self, sub: Sub, lo: int, hi: int) -> bool:
        rng = sub.rng
        th = self.p.quota_thresholds_mb
        if not th or sub.profile is None:
            return False
        hi = min(hi, self.start_month_end - 10 * MINUTE_MS)
        t0 = self.pick_start(sub, lo, hi, 2 * HOUR_MS)
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
        self.ensure_on(sub, t0 - MINUTE_MS, times[-1] + MINUTE_MS)
        sub.masks.append((t0 - 5000, times[-1] + 5000))
        protos = []
        for t in times:
            extra = {"bytes_up": 0, "bytes_down": 0}
            protos.append(extra)
            sub.forced.append((t, "xdr", extra, ["quota"]))
        sub.quota_plan = [groups, protos]
        return True

    def plant_zero_usage(self, sub: Sub, lo: int, hi: int) -> bool:
        rng = sub.rng
        w = self.p.zero_usage_window_ms
        hi = min(hi, self.E - 20 * MINUTE_MS)
        t0 = self.pick_start(sub, lo, hi, w + 10 * MINUTE_MS)
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
        t_end = self.E - int(rng.uniform(1, 8) * MINUTE_MS)
        if t_end > t0 + w:
            self.ensure_on(sub, t_end - MINUTE_MS, t_end + MINUTE_MS)
            sub.forced.append((t_end, "location_update", {}, None))
        return True

    def plant_trial(self, sub: Sub) -> None:
        """A free trial of the journey's trial product, for ``trial_fraction`` of the subscribers without other
        plants, with one of the TRIAL_PLANS (its own random stream, so nothing else of the subscriber changes)."""
        j = self.journey
        rng = random.Random(f"{self.seed}/trial/{sub.idx}")
        if rng.random() >= self.trial_fraction:
            return
        lo, hi = self.S + 20 * MINUTE_MS, self.E - j.trial_ms - 20 * MINUTE_MS
        if hi <= lo:
            return
        t0 = lo + int(rng.random() * (hi - lo))
        plan = rng.choice(TRIAL_PLANS)
        sub.trial = plan
        order = {"product_kind": CATALOGUE.get(j.trial_product, ("", "trial"))[1], "channel": rng.choice(CHANNELS)}
        sub.forced.append((t0, "order", {**order, "product_id": j.trial_product, "action": "trial_start"}, None))
        # natural traffic of the service would blur the plan: it goes to another app during the trial
        sub.quiet_app = (j.app, t0 // HOUR_MS * HOUR_MS, t0 + j.trial_ms + HOUR_MS)
        if plan in ("convert", "lapse", "opt_out"):
            total = j.min_bytes * rng.uniform(1.5, 4.0) if plan != "opt_out" else j.min_bytes * rng.uniform(0, 0.8)
        elif plan == "low_usage":
            total = j.min_bytes * rng.uniform(0.05, 0.6)
        else:  # no_usage
            total = 0
        n = rng.randint(2, 4) if total else 0
        for k in range(n):
            t = t0 + int((k + rng.random()) / n * 0.5 * j.trial_ms)
            self.ensure_on(sub, t - MINUTE_MS, t + MINUTE_MS)
            b = max(1, int(total / n))
            extra = {"bytes_up": b // 20, "bytes_down": b - b // 20, "app": j.app, "duration_s": rng.randint(60, 900)}
            sub.forced.append((t, "xdr", extra, None))
        if plan in ("convert", "opt_out"):
            t = t0 + int(rng.uniform(0.55, 0.95) * j.trial_ms)
            product = j.product if plan == "convert" else j.trial_product
            kind = CATALOGUE[product][1] if product in CATALOGUE else "value_added"
            action = "subscribe" if plan == "convert" else "unsubscribe"
            sub.forced.append(
                (t, "order", {**order, "product_kind": kind, "product_id": product, "action": action}, None)
            )

    def plant_abnormal_usage(self, sub: Sub, lo: int, hi: int) -> bool:
        rng = sub.rng
        t0 = self.pick_start(sub, lo, hi, 2 * HOUR_MS)
        if t0 is None:
            return False
        h = -(-t0 // HOUR_MS) * HOUR_MS
        if h + HOUR_MS > hi:
            return False
        self.ensure_on(sub, h, h + HOUR_MS)
        sub.masks.append((h, h + HOUR_MS))
        n = rng.randint(3, 5)
        total = int(self.p.abnormal_usage_bytes * rng.uniform(1.05, 1.3))
        weights = [rng.uniform(0.5, 1.5) for _ in range(n)]
        sw = sum(weights)
        times = sorted(h + int(rng.uniform(3, 57) * MINUTE_MS) for _ in range(n))
        for t, wgt in zip(times, weights):
            b = int(total * wgt / sw)
            up = int(b * rng.uniform(0.02, 0.06))
            extra = {"bytes_up": up, "bytes_down": b - up, "app": "video", "duration_s": rng.randint(600, 3000)}
            sub.forced.append((t, "xdr", extra, ["abnormal_usage"]))
        return True

    # ---------------------------------------------------------------------------------------------- materialise
    def finish(self, sub: Sub) -> SubResult:
        """Turn the timeline into records: state changes, periodic location updates, natural activity and the
        planted events; sort by ts, make ts strictly increasing, give ids."""
        rng = sub.rng
        rnd = rng.random
        tl = sub.tl
        S, E = self.S, self.E
        msisdn, imsi = sub.msisdn, sub.imsi
        CID, LAC, RAT = self.CID, self.LAC, self.RAT
        changes = sub.imei_changes
        change_ts = [c[0] for c in changes]
        imei0 = sub.imei

        def imei_at(t: int) -> str:
            if not changes:
                return imei0
            i = bisect_right(change_ts, t)
            return changes[i - 1][1] if i else imei0

        def sig(t: int, et: str, s: Any, with_imei: bool) -> dict[str, Any]:
            if type(s) is int:
                if with_imei:
                    return {
                        "event_id": "",
                        "event_type": et,
                        "ts": t,
                        "msisdn": msisdn,
                        "imsi": imsi,
                        "imei": imei_at(t),
                        "lac": LAC[s],
                        "cell_id": CID[s],
                        "rat": RAT[s],
                    }
                return {
                    "event_id": "",
                    "event_type": et,
                    "ts": t,
                    "msisdn": msisdn,
                    "imsi": imsi,
                    "lac": LAC[s],
                    "cell_id": CID[s],
                    "rat": RAT[s],
                }
            if with_imei:
                return {
                    "event_id": "",
                    "event_type": et,
                    "ts": t,
                    "msisdn": msisdn,
                    "imsi": imsi,
                    "imei": imei_at(t),
                    "vlr_plmn": s,
                }
            return {"event_id": "", "event_type": et, "ts": t, "msisdn": msisdn, "imsi": imsi, "vlr_plmn": s}

        # protos: (t, rank, n, record, tags, topic); rank orders records with the same t (state changes first)
        protos: list[tuple[int, int, int, dict[str, Any], Any, int]] = []
        add = protos.append
        n = 0
        ts, st, tg = tl.ts, tl.st, tl.tg
        nseg = len(ts)
        half_hour = 30 * MINUTE_MS
        for i in range(nseg):
            t = ts[i]
            if t >= E:
                break
            s = st[i]
            end = ts[i + 1] if i + 1 < nseg else E
            if end > E:
                end = E
            on = s != OFF and s != FLIGHT
            if i == 0:
                nxt = t + int(rnd() * 45 * MINUTE_MS)
            else:
                prev = st[i - 1]
                tags = tg[i]
                d = None
                if on:
                    if prev == OFF:
                        d = sig(t, "attach", s, True)
                    elif type(s) is int and type(prev) is int and prev >= 0 and not tags and rnd() < 0.25:
                        d = sig(t, "handover", s, False)
                    else:
                        d = sig(t, "location_update", s, True)
                elif s == OFF and prev != OFF and prev != FLIGHT:
                    d = sig(t, "detach", prev, False)
                if d is not None:
                    add((t, 0, n, d, tags, 0))
                    n += 1
                nxt = t + half_hour + int(rnd() * half_hour)
            if on:
                while nxt < end:
                    add((nxt, 1, n, sig(nxt, "location_update", s, True), None, 0))
                    n += 1
                    nxt += half_hour + int(rnd() * half_hour)

        # natural calls, SMS, imei checks, call forwarding, xDRs, orders
        rates = sub.rates
        choices = rng.choices
        hotline = self.hotlines[0] if self.hotlines else None
        directory = self.tr.directory_number
        number = self.number
        xdr = self.xdr
        for day0, _wd in self.days:
            if day0 + DAY_MS <= S or day0 >= E:
                continue
            for et in ("mo_call", "mt_call", "mo_sms", "mt_sms", "imei_check", "call_forward_set", "xdr", "order"):
                k = poisson(rng, rates[et])
                if not k:
                    continue
                for h in choices(_HOURS, cum_weights=DATA_CUM if et == "xdr" else VOICE_CUM, k=k):
                    t = day0 + h * HOUR_MS + int(rnd() * HOUR_MS)
                    if t < S or t >= E:
                        continue
                    if et == "order":
                        d = self.natural_order(sub, t)
                        if d is not None:
                            add((t, 2, n, d, None, 2))
                            n += 1
                        continue
                    s = st[bisect_right(ts, t) - 1]
                    if s in (OFF, FLIGHT):
                        continue
                    if et == "xdr":
                        if type(s) is not int or sub.no_xdr(t):
                            continue
                        d = xdr(sub, t, s, None)
                        d["app"] = sub.app_used(d["app"], t)
                        add((t, 2, n, d, None, 1))
                        n += 1
                        continue
                    d = sig(t, et, s, et == "imei_check")
                    if et == "mo_call":
                        r = rnd()
                        d["called_number"] = (
                            directory if r < 0.003 else hotline if r < 0.008 and hotline else number(rnd)
                        )
                        d["duration_s"] = int(math.exp(rng.gauss(3.8, 0.9)))
                    elif et == "mt_call":
                        d["calling_number"] = number(rnd)
                        d["duration_s"] = int(math.exp(rng.gauss(3.8, 0.9)))
                    elif et == "mo_sms":
                        d["called_number"] = number(rnd)
                    elif et == "mt_sms":
                        d["calling_number"] = number(rnd)
                    elif et == "call_forward_set":
                        d["forward_to"] = number(rnd)
                    add((t, 2, n, d, None, 0))
                    n += 1

        # ordinary network traffic on the current cell (traffic.py), after anything else at the same ms
        for t, d, topic in ordinary_traffic(
            seed=self.seed,
            idx=sub.idx,
            per_hour=self.ordinary_per_hour,
            start_ms=S,
            end_ms=E,
            local_hour=self.local_hour,
            seg_ts=ts,
            seg_state=st,
            has_data=sub.has_data,
            no_xdr=sub.no_xdr,
            app_used=sub.app_used,
            sig=sig,
            xdr=lambda t, s, sizes: self.session_xdr(sub, t, s, sizes),
        ):
            add((t, 3, n, d, None, topic))
            n += 1

        # forced (planted) events
        for t, et, extra, tags in sub.forced:
            if t < S or t >= E:
                continue
            s = tl.state_at(t)
            if et == "order":
                add((t, 1, n, {"order_id": "", "ts": t, "msisdn": msisdn, **extra}, tags, 2))
            elif et == "xdr":
                if type(s) is not int or s < 0:
                    continue
                d = xdr(sub, t, s, extra)
                if tags and "quota" in tags:
                    extra["_record"] = d
                add((t, 1, n, d, tags, 1))
            else:
                if s in (OFF, FLIGHT):
                    continue
                d = sig(t, et, s, et in ("imei_check", "location_update", "attach"))
                d.update(extra)
                add((t, 1, n, d, tags, 0))
            n += 1

        protos.sort()
        last = -1
        out_sig: list[dict[str, Any]] = []
        out_x: list[dict[str, Any]] = []
        out_o: list[dict[str, Any]] = []
        ordered: list[tuple[int, dict[str, Any]]] = []
        tagged: list[tuple[int, Any, int]] = []
        pre = f"-{self.seed}-{sub.idx}-"
        sp, xp, op = "s" + pre, "x" + pre, "o" + pre
        for k, (t, _r, _n, d, tags, topic) in enumerate(protos, 1):
            if t <= last:
                t = last + 1
            if t >= E:
                break
            last = t
            d["ts"] = t
            if topic == 0:
                d["event_id"] = sp + str(k)
                out_sig.append(d)
            elif topic == 1:
                d["event_id"] = xp + str(k)
                out_x.append(d)
            else:
                d["order_id"] = op + str(k)
                out_o.append(d)
            ordered.append((topic, d))
            if tags:
                tagged.append((t, tags, topic))

        profile = None
        if sub.profile is not None:
            if sub.quota_plan is not None and not self.settle_quota(sub, out_x):
                tagged = [(t, [g for g in tags if g != "quota"], topic) for t, tags, topic in tagged]
            profile = (sub.profile["data_quota_mb"], sub.profile["data_used_mb"])
        return SubResult(
            out_sig, out_x, out_o, ordered, self.windows(tagged), sub.profile, profile, sub.plants_done, sub.trial
        )

    def windows(self, tagged: list[tuple[int, Any, int]]) -> list[tuple[str, int, int]]:
        out: list[tuple[str, int, int]] = []
        dwell_start = None
        w = self.p.zero_usage_window_ms
        for t, tags, _topic in tagged:
            for tag in tags:
                if tag == "inner":
                    continue
                if tag == "dwell_start":
                    dwell_start = t
                elif tag == "dwell_end":
                    if dwell_start is not None:
                        out.append(("dwell", dwell_start + self.p.dwell_ms, t))
                    dwell_start = None
                elif tag == "quota":
                    for q in self.p.quota_thresholds_mb:
                        out.append((quota_kind(q), t, t))
                elif tag == "zero_usage":
                    out.append(("zero_usage", t + w, t + w))
                else:
                    out.append((tag, t, t))
        return out

    def settle_quota(self, sub: Sub, xdrs: list[dict[str, Any]]) -> bool:
        """Give the quota plant's profile and xDR sizes: remaining just above the first threshold before the
        first planted xDR, then each planted xDR crosses its group of thresholds. False if it cannot."""
        groups, protos = sub.quota_plan
        present = {id(x) for x in xdrs}
        recs = [r for p in protos if (r := p.get("_record")) is not None and id(r) in present]
        prof = sub.profile
        th = self.p.quota_thresholds_mb
        ok = len(recs) == len(groups)
        if ok:
            first_ts = recs[0]["ts"]
            ns = sum(
                x["bytes_up"] + x["bytes_down"]
                for x in xdrs
                if x["ts"] < first_ts and billing_month(x["ts"], self.p.timezone) == self.start_month
            )
            a = th[0] + 1 + -(-ns // MB)
            q = next((q for q in QUOTAS if q > a), None)
            ok = q is not None
        if not ok:
            for r in recs:
                r["bytes_up"], r["bytes_down"] = 1000, 20000
            sub.plants_done = [k for k in sub.plants_done if k != "quota"]
            return False
        rng = sub.rng
        prof["data_quota_mb"] = q
        prof["data_used_mb"] = q - a
        remaining = a * MB - ns
        for r, grp in zip(recs, groups):
            lowest = grp[-1]
            pos = th.index(lowest)
            if pos + 1 < len(th):
                nxt = th[pos + 1]
                target = int((nxt + (lowest - nxt) * rng.uniform(0.2, 0.8)) * MB)
            else:
                target = lowest * MB - int(rng.uniform(0.05, 2.0) * MB)
            b = remaining - target
            up = int(b * rng.uniform(0.03, 0.08))
            r["bytes_up"], r["bytes_down"] = up, b - up
            remaining = target
        return True

    def xdr(self, sub: Sub, t: int, s: int, extra: dict[str, Any] | None) -> dict[str, Any]:
        """A closed data session in cell s; natural sizes unless ``extra`` gives them."""
        rng = sub.rng
        rnd = rng.random
        rat = self.RAT[s]
        if extra is None:
            app = APPS[bisect_right(APP_CUM, rnd() * APP_TOTAL)]
            b = int(sub.usage_bytes * APP_SCALE[app] * RAT_SCALE[rat] * math.exp(rng.gauss(0.0, 1.0)))
            up = int(b * (0.04 + rnd() * 0.12))
            return {
                "event_id": "",
                "ts": t,
                "msisdn": sub.msisdn,
                "imsi": sub.imsi,
                "lac": self.LAC[s],
                "cell_id": self.CID[s],
                "rat": rat,
                "apn": "cmnet" if rnd() < 0.85 else "cmwap",
                "app": app,
                "bytes_up": up,
                "bytes_down": b - up,
                "duration_s": int(5 + rnd() * 900),
            }
        return self.session_xdr(sub, t, s, {"app": "video", "duration_s": 60 + int(rnd() * 1740)} | extra)

    def session_xdr(self, sub: Sub, t: int, s: int, sizes: dict[str, Any]) -> dict[str, Any]:
        """An xDR of cell s whose app, bytes and duration are all given: it draws nothing (ordinary traffic's
        sessions come from a random stream of their own, traffic.py)."""
        return {
            "event_id": "",
            "ts": t,
            "msisdn": sub.msisdn,
            "imsi": sub.imsi,
            "lac": self.LAC[s],
            "cell_id": self.CID[s],
            "rat": self.RAT[s],
            "apn": "cmnet",
            "app": sizes["app"],
            "bytes_up": sizes["bytes_up"],
            "bytes_down": sizes["bytes_down"],
            "duration_s": sizes["duration_s"],
        }

    def natural_order(self, sub: Sub, t: int) -> dict[str, Any] | None:
        if sub.profile is None:
            return None
        rng = sub.rng
        held = sub.profile["products"]
        if held and rng.random() < 0.15:
            prod, action = rng.choice(held), "unsubscribe"
        else:
            prod, action = rng.choice(list(PRODUCTS)), "subscribe"
        return {
            "order_id": "",
            "ts": t,
            "msisdn": sub.msisdn,
            "product_id": prod,
            "product_kind": PRODUCTS[prod],
            "action": action,
            "channel": rng.choice(CHANNELS),
        }
