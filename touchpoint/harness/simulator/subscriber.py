"""One subscriber's whole timeline, generated independently from (seed, subscriber index).

A timeline is a list of *segments* ``(t, state, tags)``: from ``t`` on the subscriber is in ``state`` — a cell
index (``>= 0``), :data:`OFF` (powered off: detach … attach), :data:`FLIGHT` (no signal, e.g. on a plane or not
yet in the city) or a ``str`` (abroad: the visited network's PLMN). Every change of state yields one signaling
event (location update / handover / attach / detach); periodic location updates, calls, SMS, xDRs and orders are
then drawn over the time the subscriber is reachable. Planted situations overlay the natural timeline in
disjoint time slots and tag the events that should complete them.

This module holds the timeline and the subscriber; the generator draws them (generator.py), the plants
(plants/) overlay them, and records.py turns them into records.
"""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

from udfs.units import MINUTE_MS

OFF = -1
FLIGHT = -2

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
