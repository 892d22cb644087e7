"""The 48-hour dynamic behaviour of one subscriber, from the hourly buckets of the ``behaviour`` topic.

The decision job keeps each subscriber's last 48 hourly buckets (compacted by :func:`compact`) and asks
:func:`rollup` for totals over 1 / 12 / 24 / 48 h. A horizon of *h* hours is the *h whole clock hours before
the hour of the trigger*: a trigger at 10:20 sees 09:00–10:00 as its last hour. The hour in progress is not
complete, so it is left out — this keeps decisions deterministic (a replay and a live run agree) and lets
the job decide as soon as event time passes the trigger instead of waiting for the hour to close.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from udfs.campaigns import HORIZONS
from udfs.units import HOUR_MS, MB

#: Buckets older than this (relative to the newest trigger decided) are never read again.
KEEP_HOURS = max(HORIZONS)


class Bucket(NamedTuple):
    """One hour of one subscriber, only the fields the rollup needs (state size matters at 10 M subscribers)."""

    calls_mo: int
    calls_mt: int
    call_seconds: int
    sms: int
    bytes_up: int
    bytes_down: int
    g3_bytes: int
    hotline_dials: int
    distinct_cells: int
    regions: tuple[str, ...]
    roaming: bool
    last_tac: str | None


def compact(record: dict[str, Any]) -> Bucket:
    """A ``behaviour`` record (schemas/behaviour.schema.json) as a :class:`Bucket`; absent counts are 0."""
    g = record.get
    return Bucket(
        g("calls_mo") or 0,
        g("calls_mt") or 0,
        g("call_seconds") or 0,
        g("sms") or 0,
        g("bytes_up") or 0,
        g("bytes_down") or 0,
        g("g3_bytes") or 0,
        g("hotline_dials") or 0,
        g("distinct_cells") or 0,
        tuple(sorted(g("regions") or ())),
        bool(g("roaming")),
        g("last_tac"),
    )


def hour_floor(ts: int) -> int:
    return ts - ts % HOUR_MS


class Behaviour(NamedTuple):
    """What a decision sees: totals per ``<metric>_<h>h``, regions of the last 24 h, the last known TAC."""

    totals: dict[str, float | int | None]
    regions_24h: frozenset[str]
    last_tac: str | None


def rollup(buckets: dict[int, Bucket], trigger_ts: int) -> Behaviour:
    """Totals of the whole hours before ``trigger_ts``'s hour, for every horizon in ``HORIZONS``."""
    current = hour_floor(trigger_ts)
    totals: dict[str, float | int | None] = {}
    past = sorted((h, b) for h, b in buckets.items() if current - KEEP_HOURS * HOUR_MS <= h < current)
    regions_24h: set[str] = set()
    for horizon in HORIZONS:
        start = current - horizon * HOUR_MS
        window = [b for h, b in past if h >= start]
        total_bytes = sum(b.bytes_up + b.bytes_down for b in window)
        g3 = sum(b.g3_bytes for b in window)
        regions = set().union(*(b.regions for b in window)) if window else set()
        if horizon == 24:
            regions_24h = regions
        values = {
            "calls_mo": sum(b.calls_mo for b in window),
            "calls_mt": sum(b.calls_mt for b in window),
            "calls": sum(b.calls_mo + b.calls_mt for b in window),
            "call_minutes": sum(b.call_seconds for b in window) / 60,
            "sms": sum(b.sms for b in window),
            "data_mb": total_bytes / MB,
            "data_mb_up": sum(b.bytes_up for b in window) / MB,
            "data_mb_down": sum(b.bytes_down for b in window) / MB,
            "g3_data_mb": g3 / MB,
            "g3_data_share": g3 / total_bytes if total_bytes else None,
            "hotline_dials": sum(b.hotline_dials for b in window),
            "cell_hours": sum(b.distinct_cells for b in window),
            "distinct_regions": len(regions),
            "roaming_hours": sum(1 for b in window if b.roaming),
            "active_hours": len(window),
        }
        totals |= {f"{k}_{horizon}h": v for k, v in values.items()}
    last_tac = next((b.last_tac for _, b in reversed(past) if b.last_tac), None)
    return Behaviour(totals, frozenset(regions_24h), last_tac)
