"""The trigger kinds' rules, in plain Python: docs/triggers.md as code, the specification the triggers job's SQL
recipes (sql/triggers/kinds/) are held equal to, as udfs/ingest_rules.py is the JVM functions'. The simulator's
ground truth runs them (touchpoint/harness/simulator/truth.py); so can anyone who wants to know why a trigger
fired.

Written to be read: one small function per kind, each quoting the contract in its docstring and saying how the
contract's open points were resolved. Every rule has the same shape, ``rule(timeline, ref, params) -> rows``: it
takes **one key's clean timeline** (:class:`Timeline`: valid records only, exact duplicates removed, sorted by
``ts``; the key is the msisdn, or the IMSI for a kind keyed by IMSI) and returns rows ``{"msisdn", "kind", "ts",
"context"}``. :data:`RULES` maps each kind of the catalogue (udfs/trigger_kinds.py) to its rule; a test holds the
two equal, so a kind cannot be catalogued without its rule.

Resolutions of points docs/triggers.md leaves open (the same rules are repeated where they apply):

* "Location event" = a signaling event whose ``cell_id`` is in ``reference/cells.csv``. Signaling events without
  such a cell (abroad, unknown cell) are skipped entirely by the location rules: they neither break a stay nor
  count as "outside".
* ``dwell`` context ``dwell_minutes`` is the configured parameter ``dwell_minutes`` (not the measured stay); the
  measured time is ``ts - stay_start``.
* ``power_on`` context ``off_minutes`` is ``(attach.ts - detach.ts) // 60000`` (whole minutes, floored).
* ``roam_in`` / ``roam_out`` look at signaling events only; xDRs and orders neither start a roamer's visit nor end
  a silence. ``plmn`` is literally the first 5 digits of the IMSI (so a 3-digit-MNC network such as 310260 is
  reported as ``31026``; the trigger job's PLMN lookup should try 6 then 5 digits). A "home subscriber" for
  ``roam_out`` is any subscriber that is not an inbound roamer by the ``roam_in`` rule.
* ``zero_usage``: the order is "followed by no xDR" when no xDR of that msisdn has ``order.ts < ts <= order.ts +
  window`` (an xDR exactly at the end of the window counts as usage: a Flink event-time timer at ``order.ts +
  window`` fires only after every record with ``ts <= order.ts + window`` was seen). Listed only when ``order.ts
  + window <= `` the largest ``ts`` of any valid record (signaling, xdr, orders) in the data.
* ``handset_store_visits``: "within the trailing N days (inclusive)" = visits ``v`` with
  ``e.ts - v.ts <= N * 86400000``. It fires whenever the count becomes exactly equal to N after adding ``e``
  (so it can fire again later once older visits have dropped out of the window).
* ``quota_*``: the billing month of an xDR is the calendar month of its ``ts`` in ``triggers.timezone``. In
  ``triggers.billing_month`` (the profile snapshot's month) the month starts with ``data_used_mb`` used; in any other
  month with 0 used.
  ``remaining_bytes`` in the context is the remaining quota *after* the xDR (may be negative).
* ``abnormal_usage`` context ``bytes`` is the subscriber's total for that UTC hour including the firing xDR;
  ``hour_start`` is the hour's start in epoch ms.
* ``handset_change`` context holds ``old_imei, new_imei, old_tac, new_tac`` then ``old_brand, old_model, old_tier,
  old_g3_capable, new_brand, new_model, new_tier, new_g3_capable`` (null for a TAC not in handsets.csv).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from udfs import trigger_kinds
from udfs.trigger_kinds import quota_kind
from udfs.units import HOUR_MS, MB, MINUTE_MS

Row = dict[str, Any]
Located = list[tuple[dict[str, Any], str | None]]


@dataclass
class Reference:
    """The lookups the rules need, built from the reference data (touchpoint.harness.simulator.lookups reads
    them from the reference files)."""

    #: cell_id -> region_id (None when the cell is in no micro-region). Only cells in this map are "location" cells.
    cell_region: dict[int, str | None] = field(default_factory=dict)
    #: region_id -> (kind, watched)
    regions: dict[str, tuple[str, bool]] = field(default_factory=dict)
    #: tac -> handset row (brand, model, tier, g3_capable)
    handsets: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: msisdn -> (data_quota_mb, data_used_mb)
    profiles: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: 7-digit msisdn prefix -> province code
    number_ranges: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(
        cls,
        cells: Iterable[dict[str, Any]],
        regions: Iterable[dict[str, Any]],
        handsets: Iterable[dict[str, Any]],
        profiles: Iterable[dict[str, Any]],
        number_ranges: Iterable[dict[str, Any]],
    ) -> Reference:
        return cls(
            cell_region={c["cell_id"]: c["region_id"] for c in cells},
            regions={r["region_id"]: (r["kind"], r["watched"]) for r in regions},
            handsets={h["tac"]: {k: h[k] for k in ("brand", "model", "tier", "g3_capable")} for h in handsets},
            profiles={p["msisdn"]: (p["data_quota_mb"], p["data_used_mb"]) for p in profiles},
            number_ranges={n["prefix"]: n["province"] for n in number_ranges},
        )


@dataclass
class Timeline:
    """One key's clean records, each list in ``ts`` order: valid, exact duplicates removed. For a kind keyed by
    msisdn, one subscriber's signaling, xDRs and orders and their profile's ``(data_quota_mb, data_used_mb)``; for a
    kind keyed by IMSI, one IMSI's signaling."""

    signaling: list[dict[str, Any]] = field(default_factory=list)
    xdrs: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    profile: tuple[int, int] | None = None
    _located: Located | None = None

    def located(self, ref: Reference) -> Located:
        """The location events (:func:`location_events`), computed once for every location kind."""
        if self._located is None:
            self._located = location_events(self.signaling, ref)
        return self._located


Rule = Callable[[Timeline, Reference, "Params"], list[Row]]
#: kind (the quota family: ``quota``) -> its rule; filled by :func:`rule`, in the order of this module
RULES: dict[str, Rule] = {}


def rule(kind: str) -> Callable[[Rule], Rule]:
    """Register the decorated function as the rule of ``kind`` (a name of udfs/trigger_kinds.py)."""

    def register(f: Rule) -> Rule:
        trigger_kinds.spec(kind if kind != "quota" else quota_kind(0))  # a kind the catalogue has
        RULES[kind] = f
        return f

    return register


@dataclass(frozen=True)
class Params:
    """The settings the definitions use, in milliseconds where they are durations."""

    region_entry_min_outside_ms: int
    dwell_minutes: int
    directory_number: str
    hotline_numbers: frozenset[str]
    handset_store_visits: int
    handset_store_window_ms: int
    power_on_min_off_ms: int
    quota_thresholds_mb: tuple[int, ...]
    zero_usage_window_ms: int
    abnormal_usage_bytes: int
    roam_in_gap_ms: int
    home_plmns: frozenset[str]
    home_province: str
    #: billing months are calendar months here (``triggers.timezone``)
    timezone: str
    #: :func:`billing_month` index of ``triggers.billing_month``: the month ``data_used_mb`` belongs to
    usage_month: int

    @property
    def dwell_ms(self) -> int:
        return self.dwell_minutes * MINUTE_MS

    @classmethod
    def from_settings(cls, settings: Any) -> Params:
        t, n = settings.triggers, settings.network
        return cls(
            region_entry_min_outside_ms=t.region_entry_min_outside_ms,
            dwell_minutes=t.dwell_minutes,
            directory_number=t.directory_number,
            hotline_numbers=frozenset(t.hotline_numbers),
            handset_store_visits=t.handset_store_visits,
            handset_store_window_ms=t.handset_store_window_ms,
            power_on_min_off_ms=t.power_on_min_off_ms,
            quota_thresholds_mb=tuple(sorted(set(t.quota_thresholds_mb), reverse=True)),
            zero_usage_window_ms=t.zero_usage_window_ms,
            abnormal_usage_bytes=t.abnormal_usage_bytes,
            roam_in_gap_ms=t.roam_in_gap_ms,
            home_plmns=frozenset(n.home_plmns),
            home_province=n.home_province,
            timezone=t.timezone,
            usage_month=month_index(t.billing_month, t.timezone),
        )

    def kinds(self) -> list[str]:
        """Every truth kind these parameters can produce, in the order of docs/triggers.md."""
        return trigger_kinds.names(self.quota_thresholds_mb)


def _row(e: dict[str, Any], kind: str, ts: int, context: dict[str, Any]) -> dict[str, Any]:
    return {"msisdn": e["msisdn"], "kind": kind, "ts": ts, "context": context}


# --------------------------------------------------------------------------------------------------- location


def location_events(signaling: Iterable[dict[str, Any]], ref: Reference) -> list[tuple[dict[str, Any], str | None]]:
    """A *location event* is any signaling event with a ``cell_id`` that is in ``reference/cells.csv``; the
    subscriber's region at that event is the cell's ``region_id``. Returns ``(event, region_id)`` pairs."""
    cr = ref.cell_region
    return [(e, cr[c]) for e in signaling if (c := e.get("cell_id")) is not None and c in cr]


def _entries(loc: list[tuple[dict[str, Any], str | None]], min_outside_ms: int) -> Iterator[tuple[dict[str, Any], str]]:
    """Entries by the ``region_entry`` rule, into any region (watched or not): a location event ``e`` in region R
    whose previous location event exists and is outside R, and whose last location event in R is at least
    ``min_outside_ms`` earlier (or there is none)."""
    last_in: dict[str, int] = {}
    prev_region: str | None = None
    have_prev = False
    for e, r in loc:
        ts = e["ts"]
        if r is not None:
            if have_prev and prev_region != r:
                last = last_in.get(r)
                if last is None or ts - last >= min_outside_ms:
                    yield e, r
            last_in[r] = ts
        prev_region = r
        have_prev = True


@rule("region_entry")
def region_entry(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``region_entry``: a location event ``e`` in watched region R such that the subscriber's previous location
    event exists and is **outside** R, and the last location event **in** R before ``e`` is at least
    ``region_entry_min_outside_minutes`` earlier (or there is none). Ping-pong between a border cell and a
    neighbour therefore does not re-trigger. Context: ``region_id``, ``region_kind``."""
    out = []
    for e, r in _entries(t.located(ref), p.region_entry_min_outside_ms):
        kind, watched = ref.regions.get(r, (None, False))
        if watched:
            out.append(_row(e, "region_entry", e["ts"], {"region_id": r, "region_kind": kind}))
    return out


@rule("dwell")
def dwell(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``dwell``: a *stay* in watched region R is a maximal run of consecutive location events in R whose first
    event has a previous location event outside R. Fires once per stay, at the first event of the stay with
    ``ts - stay_start >= dwell_minutes``. A stay that ends before that does not fire.

    Context: ``region_id``, ``region_kind``, ``stay_start`` (ts of the stay's first event) and ``dwell_minutes``
    (the configured parameter). A run that begins with the subscriber's very first location event is not a stay.
    Ping-pong out of R and back starts a new stay (the run was broken)."""
    out = []
    stay_region: str | None = None
    stay_start = 0
    fired = False
    prev_region: str | None = None
    have_prev = False
    t_ms = p.dwell_ms
    for e, r in t.located(ref):
        ts = e["ts"]
        if not have_prev or r != prev_region:
            stay_region = None
            if have_prev and r is not None and ref.regions.get(r, (None, False))[1]:
                stay_region, stay_start, fired = r, ts, False
        if stay_region is not None and not fired and ts - stay_start >= t_ms:
            fired = True
            ctx = {
                "region_id": r,
                "region_kind": ref.regions[r][0],
                "stay_start": stay_start,
                "dwell_minutes": p.dwell_minutes,
            }
            out.append(_row(e, "dwell", ts, ctx))
        prev_region = r
        have_prev = True
    return out


@rule("handset_store_visits")
def handset_store_visits(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``handset_store_visits``: a *visit* is an entry (the ``region_entry`` rule) into any region of kind
    ``handset_store``, watched or not. Fires on the visit that makes the number of visits within the trailing
    ``handset_store_days`` days (inclusive) equal to ``handset_store_visits``.

    Inclusive window: visits ``v`` with ``e.ts - v.ts <= days * 86400000`` count (``e`` itself included).
    Context: ``visits`` (the count) and ``region_ids`` (of the counted visits, oldest first)."""
    out = []
    visits: list[tuple[int, str]] = []
    for e, r in _entries(t.located(ref), p.region_entry_min_outside_ms):
        if ref.regions.get(r, (None, False))[0] != "handset_store":
            continue
        ts = e["ts"]
        visits.append((ts, r))
        visits = [v for v in visits if ts - v[0] <= p.handset_store_window_ms]
        if len(visits) == p.handset_store_visits:
            out.append(
                _row(e, "handset_store_visits", ts, {"visits": len(visits), "region_ids": [v[1] for v in visits]})
            )
    return out


# ---------------------------------------------------------------------------------------------------- signaling


def _calls_to(t: Timeline, kind: str, numbers: frozenset[str]) -> list[Row]:
    """``kind`` on every ``mo_call`` whose ``called_number`` is one of ``numbers``. Context: ``called_number``."""
    return [
        _row(e, kind, e["ts"], {"called_number": e["called_number"]})
        for e in t.signaling
        if e["event_type"] == "mo_call" and e.get("called_number") in numbers
    ]


@rule("dial_114")
def dial_114(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``dial_114``: an ``mo_call`` with ``called_number`` = ``directory_number``. Context:
    ``called_number``."""
    return _calls_to(t, "dial_114", frozenset({p.directory_number}))


@rule("dial_hotline")
def dial_hotline(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``dial_hotline``: an ``mo_call`` with ``called_number`` in ``hotline_numbers``. Context:
    ``called_number``."""
    return _calls_to(t, "dial_hotline", p.hotline_numbers)


def _handset_fields(prefix: str, tac: str, ref: Reference) -> dict[str, Any]:
    h = ref.handsets.get(tac)
    return {f"{prefix}_{k}": (h[k] if h else None) for k in ("brand", "model", "tier", "g3_capable")}


@rule("handset_change")
def handset_change(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``handset_change``: a signaling event whose ``imei`` differs from the ``imei`` of the same IMSI's previous
    signaling event (with an ``imei``). Keyed by IMSI; reported with the msisdn (of the event with the new IMEI).

    Context: ``old_imei``, ``new_imei``, ``old_tac``, ``new_tac`` (first 8 digits), then for old and new the
    handset's ``brand``, ``model``, ``tier``, ``g3_capable`` as ``old_brand`` … ``new_g3_capable`` (null for a TAC
    not in ``handsets.csv``). Accepts events of several IMSIs (grouped internally, each in ``ts`` order)."""
    out = []
    last: dict[str, str] = {}
    for e in t.signaling:
        imei = e.get("imei")
        if imei is None:
            continue
        imsi = e["imsi"]
        old = last.get(imsi)
        if old is not None and old != imei:
            old_tac, new_tac = old[:8], imei[:8]
            ctx = {"old_imei": old, "new_imei": imei, "old_tac": old_tac, "new_tac": new_tac}
            ctx.update(_handset_fields("old", old_tac, ref))
            ctx.update(_handset_fields("new", new_tac, ref))
            out.append(_row(e, "handset_change", e["ts"], ctx))
        last[imsi] = imei
    return out


def roamer_province(e: dict[str, Any], ref: Reference, p: Params) -> tuple[bool, str | None]:
    """Is the event's subscriber an inbound roamer, and from which province? A roamer has an IMSI PLMN (first 5
    digits) not in ``network.home_plmns`` (province None), or is a home-PLMN number whose 7-digit msisdn prefix
    maps to another province in ``number_ranges.csv``."""
    if e["imsi"][:5] not in p.home_plmns:
        return True, None
    prov = ref.number_ranges.get(e["msisdn"][:7])
    if prov is not None and prov != p.home_province:
        return True, prov
    return False, None


@rule("roam_in")
def roam_in(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``roam_in``: a signaling event of an inbound roamer — IMSI PLMN (first 5 digits) not in
    ``network.home_plmns``, or a home-PLMN number whose 7-digit prefix maps to another province in
    ``number_ranges.csv`` — that is the roamer's first event, or the first after a silence of at least
    ``roam_in_gap_hours``. Context: ``plmn`` (first 5 IMSI digits), ``province`` (null for a foreign IMSI).

    Only signaling events count, both as "first event" and for the silence."""
    out = []
    prev_ts: int | None = None
    who = None
    for e in t.signaling:
        if (e["imsi"], e["msisdn"]) != who:  # same subscriber as the previous event: same answer
            who = (e["imsi"], e["msisdn"])
            roamer, prov = roamer_province(e, ref, p)
        if not roamer:
            continue
        ts = e["ts"]
        if prev_ts is None or ts - prev_ts >= p.roam_in_gap_ms:
            out.append(_row(e, "roam_in", ts, {"plmn": e["imsi"][:5], "province": prov}))
        prev_ts = ts
    return out


@rule("roam_out")
def roam_out(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``roam_out``: a home subscriber's signaling event with ``vlr_plmn`` not in ``home_plmns``, whose previous
    signaling event was on a home network (``vlr_plmn`` absent or in ``home_plmns``). The first event of a
    subscriber never fires. Context: ``vlr_plmn``. A home subscriber is one that is not an inbound roamer."""
    out = []
    prev_home: bool | None = None
    who = None
    for e in t.signaling:
        if (e["imsi"], e["msisdn"]) != who:
            who = (e["imsi"], e["msisdn"])
            roamer = roamer_province(e, ref, p)[0]
        if roamer:
            continue
        vlr = e.get("vlr_plmn")
        home = vlr is None or vlr in p.home_plmns
        if not home and prev_home:
            out.append(_row(e, "roam_out", e["ts"], {"vlr_plmn": vlr}))
        prev_home = home
    return out


@rule("power_on")
def power_on(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``power_on``: an ``attach`` whose previous signaling event is a ``detach`` at least
    ``power_on_min_off_hours`` earlier. Context: ``off_minutes`` = whole minutes between them (floored)."""
    out = []
    prev: dict[str, Any] | None = None
    for e in t.signaling:
        if (
            e["event_type"] == "attach"
            and prev is not None
            and prev["event_type"] == "detach"
            and e["ts"] - prev["ts"] >= p.power_on_min_off_ms
        ):
            out.append(_row(e, "power_on", e["ts"], {"off_minutes": (e["ts"] - prev["ts"]) // MINUTE_MS}))
        prev = e
    return out


@rule("call_forward_set")
def call_forward_set(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``call_forward_set``: a ``call_forward_set`` event. Context: ``forward_to``."""
    return [
        _row(e, "call_forward_set", e["ts"], {"forward_to": e.get("forward_to")})
        for e in t.signaling
        if e["event_type"] == "call_forward_set"
    ]


# ------------------------------------------------------------------------------------------------------ data


@lru_cache(maxsize=8)
def _month_starts(tz: str) -> tuple[int, ...]:
    z = ZoneInfo(tz)
    return tuple(int(datetime(y, m, 1, tzinfo=z).timestamp() * 1000) for y in range(1969, 2302) for m in range(1, 13))


def billing_month(ts: int, tz: str) -> int:
    """Index of the calendar month (in ``tz``) that contains ``ts``; equal indexes = same billing month."""
    return bisect_right(_month_starts(tz), ts)


def month_index(month: str, tz: str) -> int:
    """The :func:`billing_month` index of ``yyyy-MM``."""
    year, number = map(int, month.split("-"))
    return billing_month(int(datetime(year, number, 1, tzinfo=ZoneInfo(tz)).timestamp() * 1000), tz)


@rule("quota")
def quota(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``quota_<n>mb`` (``quota_20mb``, ``quota_5mb``, ``quota_0mb`` by default): for a subscriber with
    ``data_quota_mb > 0`` in ``profiles.csv``: remaining = ``(data_quota_mb - data_used_mb) * 1048576 -
    sum(bytes_up + bytes_down)`` of the subscriber's xDRs so far in the billing month (calendar month in
    ``triggers.timezone``; ``data_used_mb`` is the usage of ``triggers.billing_month``, the profile snapshot's
    month, before it). Fires on the xDR that takes remaining from above the threshold to at or below it
    (thresholds ``quota_thresholds_mb``, one kind each). Starting already at or below a threshold never fires it.

    The timeline's ``profile`` is ``(data_quota_mb, data_used_mb)``. In any other month ``data_used_mb`` is 0. One
    xDR crossing several thresholds fires each of them. Context: ``threshold_mb``, ``remaining_bytes`` (after the
    xDR)."""
    if t.profile is None or t.profile[0] <= 0:
        return []
    quota_mb, used_mb = t.profile
    out = []
    month = None
    remaining = 0
    for x in t.xdrs:
        ts = x["ts"]
        m = billing_month(ts, p.timezone)
        if m != month:
            month = m
            remaining = (quota_mb - (used_mb if m == p.usage_month else 0)) * MB
        before = remaining
        remaining = before - x["bytes_up"] - x["bytes_down"]
        for mb in p.quota_thresholds_mb:
            if before > mb * MB >= remaining:
                out.append(_row(x, quota_kind(mb), ts, {"threshold_mb": mb, "remaining_bytes": remaining}))
    return out


@rule("zero_usage")
def zero_usage(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``zero_usage``: an ``orders`` record with ``action = subscribe`` and ``product_kind = data_package``,
    followed by no xDR of that subscriber for ``zero_usage_hours``. ``ts`` = order ts + the window.

    "No xDR for the window" = no xDR with ``order.ts < ts <= order.ts + window``. Returns *candidates*: the caller
    keeps only those whose ``ts`` is not after the last event time in the data.
    Context: ``order_id``, ``product_id``."""
    out = []
    xts = [x["ts"] for x in t.xdrs]
    w = p.zero_usage_window_ms
    for o in t.orders:
        if o["action"] != "subscribe" or o["product_kind"] != "data_package":
            continue
        end = o["ts"] + w
        i = bisect_right(xts, o["ts"])
        if i < len(xts) and xts[i] <= end:
            continue
        out.append(_row(o, "zero_usage", end, {"order_id": o["order_id"], "product_id": o["product_id"]}))
    return out


@rule("abnormal_usage")
def abnormal_usage(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``abnormal_usage``: the xDR that takes the subscriber's bytes (up + down) within one UTC clock hour to at
    least ``abnormal_usage_mb`` × 1048576. Once per subscriber-hour. Context: ``hour_start`` (epoch ms),
    ``bytes`` (the hour's total including this xDR)."""
    out = []
    hour = None
    total = 0
    fired = False
    for x in t.xdrs:
        h = x["ts"] // HOUR_MS * HOUR_MS
        if h != hour:
            hour, total, fired = h, 0, False
        total += x["bytes_up"] + x["bytes_down"]
        if not fired and total >= p.abnormal_usage_bytes:
            fired = True
            out.append(_row(x, "abnormal_usage", x["ts"], {"hour_start": h, "bytes": total}))
    return out
