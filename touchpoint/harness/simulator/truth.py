"""Reference trigger detector: docs/triggers.md as plain Python.

This is the ground truth the Flink trigger job is tested against, so it is written to be read: one small
function per trigger kind, each quoting the contract in its docstring and stating how the contract's open
points were resolved. Every function takes **one subscriber's clean timeline** — valid records only, exact
duplicates removed, sorted by ``ts`` — and returns truth rows ``{"msisdn", "kind", "ts", "context"}``.

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

import json
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from touchpoint.harness.simulator.lookups import Reference
from udfs import trigger_kinds
from udfs.trigger_kinds import quota_kind
from udfs.units import HOUR_MS, MB, MINUTE_MS


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


def region_entry(loc: list[tuple[dict[str, Any], str | None]], ref: Reference, p: Params) -> list[dict[str, Any]]:
    """``region_entry``: a location event ``e`` in watched region R such that the subscriber's previous location
    event exists and is **outside** R, and the last location event **in** R before ``e`` is at least
    ``region_entry_min_outside_minutes`` earlier (or there is none). Ping-pong between a border cell and a
    neighbour therefore does not re-trigger. Context: ``region_id``, ``region_kind``."""
    out = []
    for e, r in _entries(loc, p.region_entry_min_outside_ms):
        kind, watched = ref.regions.get(r, (None, False))
        if watched:
            out.append(_row(e, "region_entry", e["ts"], {"region_id": r, "region_kind": kind}))
    return out


def dwell(loc: list[tuple[dict[str, Any], str | None]], ref: Reference, p: Params) -> list[dict[str, Any]]:
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
    for e, r in loc:
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


def handset_store_visits(
    loc: list[tuple[dict[str, Any], str | None]], ref: Reference, p: Params
) -> list[dict[str, Any]]:
    """``handset_store_visits``: a *visit* is an entry (the ``region_entry`` rule) into any region of kind
    ``handset_store``, watched or not. Fires on the visit that makes the number of visits within the trailing
    ``handset_store_days`` days (inclusive) equal to ``handset_store_visits``.

    Inclusive window: visits ``v`` with ``e.ts - v.ts <= days * 86400000`` count (``e`` itself included).
    Context: ``visits`` (the count) and ``region_ids`` (of the counted visits, oldest first)."""
    out = []
    visits: list[tuple[int, str]] = []
    for e, r in _entries(loc, p.region_entry_min_outside_ms):
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


def dial_114(signaling: Iterable[dict[str, Any]], p: Params) -> list[dict[str, Any]]:
    """``dial_114``: an ``mo_call`` with ``called_number`` = ``directory_number`` ["114"]. Context:
    ``called_number``."""
    return [
        _row(e, "dial_114", e["ts"], {"called_number": e["called_number"]})
        for e in signaling
        if e["event_type"] == "mo_call" and e.get("called_number") == p.directory_number
    ]


def dial_hotline(signaling: Iterable[dict[str, Any]], p: Params) -> list[dict[str, Any]]:
    """``dial_hotline``: an ``mo_call`` with ``called_number`` in ``hotline_numbers`` [["10086"]]. Context:
    ``called_number``."""
    return [
        _row(e, "dial_hotline", e["ts"], {"called_number": e["called_number"]})
        for e in signaling
        if e["event_type"] == "mo_call" and e.get("called_number") in p.hotline_numbers
    ]


def _handset_fields(prefix: str, tac: str, ref: Reference) -> dict[str, Any]:
    h = ref.handsets.get(tac)
    return {f"{prefix}_{k}": (h[k] if h else None) for k in ("brand", "model", "tier", "g3_capable")}


def handset_change(signaling: Iterable[dict[str, Any]], ref: Reference) -> list[dict[str, Any]]:
    """``handset_change``: a signaling event whose ``imei`` differs from the ``imei`` of the same IMSI's previous
    signaling event (with an ``imei``). Keyed by IMSI; reported with the msisdn (of the event with the new IMEI).

    Context: ``old_imei``, ``new_imei``, ``old_tac``, ``new_tac`` (first 8 digits), then for old and new the
    handset's ``brand``, ``model``, ``tier``, ``g3_capable`` as ``old_brand`` … ``new_g3_capable`` (null for a TAC
    not in ``handsets.csv``). Accepts events of several IMSIs (grouped internally, each in ``ts`` order)."""
    out = []
    last: dict[str, str] = {}
    for e in signaling:
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


def roam_in(signaling: Iterable[dict[str, Any]], ref: Reference, p: Params) -> list[dict[str, Any]]:
    """``roam_in``: a signaling event of an inbound roamer — IMSI PLMN (first 5 digits) not in
    ``network.home_plmns``, or a home-PLMN number whose 7-digit prefix maps to another province in
    ``number_ranges.csv`` — that is the roamer's first event, or the first after a silence of at least
    ``roam_in_gap_hours`` [24]. Context: ``plmn`` (first 5 IMSI digits), ``province`` (null for a foreign IMSI).

    Only signaling events count, both as "first event" and for the silence."""
    out = []
    prev_ts: int | None = None
    who = None
    for e in signaling:
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


def roam_out(signaling: Iterable[dict[str, Any]], ref: Reference, p: Params) -> list[dict[str, Any]]:
    """``roam_out``: a home subscriber's signaling event with ``vlr_plmn`` not in ``home_plmns``, whose previous
    signaling event was on a home network (``vlr_plmn`` absent or in ``home_plmns``). The first event of a
    subscriber never fires. Context: ``vlr_plmn``. A home subscriber is one that is not an inbound roamer."""
    out = []
    prev_home: bool | None = None
    who = None
    for e in signaling:
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


def power_on(signaling: Iterable[dict[str, Any]], p: Params) -> list[dict[str, Any]]:
    """``power_on``: an ``attach`` whose previous signaling event is a ``detach`` at least
    ``power_on_min_off_hours`` [4] earlier. Context: ``off_minutes`` = whole minutes between them (floored)."""
    out = []
    prev: dict[str, Any] | None = None
    for e in signaling:
        if (
            e["event_type"] == "attach"
            and prev is not None
            and prev["event_type"] == "detach"
            and e["ts"] - prev["ts"] >= p.power_on_min_off_ms
        ):
            out.append(_row(e, "power_on", e["ts"], {"off_minutes": (e["ts"] - prev["ts"]) // MINUTE_MS}))
        prev = e
    return out


def call_forward_set(signaling: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``call_forward_set``: a ``call_forward_set`` event. Context: ``forward_to``."""
    return [
        _row(e, "call_forward_set", e["ts"], {"forward_to": e.get("forward_to")})
        for e in signaling
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


def quota(xdrs: Iterable[dict[str, Any]], profile: tuple[int, int] | None, p: Params) -> list[dict[str, Any]]:
    """``quota_<n>mb`` (``quota_20mb``, ``quota_5mb``, ``quota_0mb`` by default): for a subscriber with
    ``data_quota_mb > 0`` in ``profiles.csv``: remaining = ``(data_quota_mb - data_used_mb) * 1048576 -
    sum(bytes_up + bytes_down)`` of the subscriber's xDRs so far in the billing month (calendar month in
    ``triggers.timezone``; ``data_used_mb`` is the usage of ``triggers.billing_month``, the profile snapshot's
    month, before it). Fires on the xDR that takes remaining from above the threshold to at or below it
    (thresholds ``quota_thresholds_mb``, one kind each). Starting already at or below a threshold never fires it.

    ``profile`` is ``(data_quota_mb, data_used_mb)``. In any other month ``data_used_mb`` is 0. One
    xDR crossing several thresholds fires each of them. Context: ``threshold_mb``, ``remaining_bytes`` (after the
    xDR)."""
    if profile is None or profile[0] <= 0:
        return []
    quota_mb, used_mb = profile
    out = []
    month = None
    remaining = 0
    for x in xdrs:
        ts = x["ts"]
        m = billing_month(ts, p.timezone)
        if m != month:
            month = m
            remaining = (quota_mb - (used_mb if m == p.usage_month else 0)) * MB
        before = remaining
        remaining = before - x["bytes_up"] - x["bytes_down"]
        for t in p.quota_thresholds_mb:
            if before > t * MB >= remaining:
                out.append(_row(x, quota_kind(t), ts, {"threshold_mb": t, "remaining_bytes": remaining}))
    return out


def zero_usage(orders: Iterable[dict[str, Any]], xdrs: list[dict[str, Any]], p: Params) -> list[dict[str, Any]]:
    """``zero_usage``: an ``orders`` record with ``action = subscribe`` and ``product_kind = data_package``,
    followed by no xDR of that subscriber for ``zero_usage_hours`` [24]. ``ts`` = order ts + the window.

    "No xDR for the window" = no xDR with ``order.ts < ts <= order.ts + window``. Returns *candidates*: the caller
    keeps only those whose ``ts`` is not after the last event time in the data (:func:`filter_data_end`).
    Context: ``order_id``, ``product_id``."""
    out = []
    xts = [x["ts"] for x in xdrs]
    w = p.zero_usage_window_ms
    for o in orders:
        if o["action"] != "subscribe" or o["product_kind"] != "data_package":
            continue
        end = o["ts"] + w
        i = bisect_right(xts, o["ts"])
        if i < len(xts) and xts[i] <= end:
            continue
        out.append(_row(o, "zero_usage", end, {"order_id": o["order_id"], "product_id": o["product_id"]}))
    return out


def abnormal_usage(xdrs: Iterable[dict[str, Any]], p: Params) -> list[dict[str, Any]]:
    """``abnormal_usage``: the xDR that takes the subscriber's bytes (up + down) within one UTC clock hour to at
    least ``abnormal_usage_mb`` [500] × 1048576. Once per subscriber-hour. Context: ``hour_start`` (epoch ms),
    ``bytes`` (the hour's total including this xDR)."""
    out = []
    hour = None
    total = 0
    fired = False
    for x in xdrs:
        h = x["ts"] // HOUR_MS * HOUR_MS
        if h != hour:
            hour, total, fired = h, 0, False
        total += x["bytes_up"] + x["bytes_down"]
        if not fired and total >= p.abnormal_usage_bytes:
            fired = True
            out.append(_row(x, "abnormal_usage", x["ts"], {"hour_start": h, "bytes": total}))
    return out


# ------------------------------------------------------------------------------------------------ per subscriber


def detect_subscriber(
    signaling: list[dict[str, Any]],
    xdrs: list[dict[str, Any]],
    orders: list[dict[str, Any]],
    ref: Reference,
    p: Params,
    profile: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """All triggers of one subscriber (one msisdn, one IMSI) from its clean, ts-sorted timeline.

    ``zero_usage`` rows are candidates (see :func:`filter_data_end`). Rows are not sorted."""
    loc = location_events(signaling, ref)
    out = region_entry(loc, ref, p)
    out += dwell(loc, ref, p)
    out += handset_store_visits(loc, ref, p)
    out += dial_114(signaling, p)
    out += dial_hotline(signaling, p)
    out += handset_change(signaling, ref)
    out += roam_in(signaling, ref, p)
    out += roam_out(signaling, ref, p)
    out += power_on(signaling, p)
    out += call_forward_set(signaling)
    out += quota(xdrs, profile, p)
    out += zero_usage(orders, xdrs, p)
    out += abnormal_usage(xdrs, p)
    return out


def filter_data_end(rows: Iterable[dict[str, Any]], data_end_ts: int) -> list[dict[str, Any]]:
    """Drop ``zero_usage`` rows whose moment is after the last event time in the data."""
    return [r for r in rows if r["kind"] != "zero_usage" or r["ts"] <= data_end_ts]


def sort_key(row: dict[str, Any]) -> tuple[int, str, str]:
    """Ground truth order: (ts, msisdn, kind)."""
    return (row["ts"], row["msisdn"], row["kind"])


# ---------------------------------------------------------------------------------------------- whole data sets


def _dedup_sorted(records: Iterable[dict[str, Any]], id_field: str) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for r in records:
        rid = r[id_field]
        if rid in seen:
            continue
        seen.add(rid)
        out.append(r)
    out.sort(key=lambda r: r["ts"])
    return out


def detect(
    signaling: Iterable[dict[str, Any]],
    xdrs: Iterable[dict[str, Any]],
    orders: Iterable[dict[str, Any]],
    ref: Reference,
    p: Params,
) -> list[dict[str, Any]]:
    """All triggers of a whole data set of **valid** records (duplicates allowed, any order).

    Exact duplicates (same ``event_id`` / ``order_id``) count once. ``handset_change`` is keyed by IMSI, every
    other kind by msisdn. ``zero_usage`` is filtered by the largest ``ts`` of any record. Sorted by
    (ts, msisdn, kind); rows have no ``planted`` flag."""
    sig = _dedup_sorted(signaling, "event_id")
    xdr = _dedup_sorted(xdrs, "event_id")
    ords = _dedup_sorted(orders, "order_id")
    data_end = max((r["ts"] for r in (*sig[-1:], *xdr[-1:], *ords[-1:])), default=0)

    by_msisdn: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_imsi: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in sig:
        by_msisdn[e["msisdn"]].append(e)
        by_imsi[e["imsi"]].append(e)
    x_by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for x in xdr:
        x_by[x["msisdn"]].append(x)
    o_by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for o in ords:
        o_by[o["msisdn"]].append(o)

    out: list[dict[str, Any]] = []
    for evs in by_msisdn.values():
        loc = location_events(evs, ref)
        out += region_entry(loc, ref, p)
        out += dwell(loc, ref, p)
        out += handset_store_visits(loc, ref, p)
        out += dial_114(evs, p)
        out += dial_hotline(evs, p)
        out += roam_in(evs, ref, p)
        out += roam_out(evs, ref, p)
        out += power_on(evs, p)
        out += call_forward_set(evs)
    for evs in by_imsi.values():
        out += handset_change(evs, ref)
    for m in set(x_by) | set(o_by):
        xs = x_by.get(m, [])
        out += quota(xs, ref.profiles.get(m), p)
        out += abnormal_usage(xs, p)
        out += zero_usage(o_by.get(m, []), xs, p)
    out = filter_data_end(out, data_end)
    out.sort(key=sort_key)
    return out


def read_valid_jsonl(path: str | Path, topic: str, settings: Any) -> list[dict[str, Any]]:
    """Records of one event file that ``ingest`` would accept: JSON objects valid against
    ``schemas/<topic>.schema.json`` with ``ts`` inside ``settings.ingest`` bounds. (Test helper; slow.)"""
    from jsonschema import Draft202012Validator

    from touchpoint.schemas import schema_path

    schema = json.loads(schema_path(topic).read_text())
    v = Draft202012Validator(schema)
    lo, hi = settings.ingest.ts_min_ms, settings.ingest.ts_max_ms
    out = []
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if isinstance(r, dict) and v.is_valid(r) and lo <= r["ts"] < hi:
                out.append(r)
    return out


def detect_dir(data_dir: str | Path, settings: Any) -> list[dict[str, Any]]:
    """Recompute the ground truth of a ``simulate`` output directory from its files (valid records only)."""
    d = Path(data_dir)
    ref = Reference.load(d / "reference")
    recs = {t: read_valid_jsonl(d / f"{t}.jsonl", t, settings) for t in ("signaling", "xdr", "orders")}
    return detect(recs["signaling"], recs["xdr"], recs["orders"], ref, Params.from_settings(settings))
