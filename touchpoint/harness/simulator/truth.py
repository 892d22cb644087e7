"""The ground truth: every trigger a data set holds by docs/triggers.md, found by the kinds' rules
(udfs/kinds/) over each subscriber's clean timeline. The Flink trigger job is tested against it.

A timeline is what a rule takes: one key's valid records, exact duplicates removed, sorted by ``ts``. Which key
a kind follows (the msisdn, or the IMSI for ``handset_change``) and which kinds there are come from the catalogue
(udfs/trigger_kinds.py), so nothing here lists kinds. ``zero_usage`` fires at the end of an absence, so its rows
are kept only when that moment is not after the last event time in the data.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from touchpoint.harness.simulator.lookups import load_reference
from udfs.kinds import Params, Reference, Timeline
from udfs.trigger_kinds import KINDS, RULES

__all__ = ["Params", "detect", "detect_dir", "detect_subscriber", "filter_data_end", "read_valid_jsonl", "sort_key"]


def _run(kinds: Iterable[str], t: Timeline, ref: Reference, p: Params) -> list[dict[str, Any]]:
    return [row for kind in kinds for row in RULES[kind](t, ref, p)]


# ------------------------------------------------------------------------------------------------ per subscriber


def detect_subscriber(
    signaling: list[dict[str, Any]],
    xdrs: list[dict[str, Any]],
    orders: list[dict[str, Any]],
    ref: Reference,
    p: Params,
    profile: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """All triggers of one subscriber (one msisdn, one IMSI) from its clean, ts-sorted timeline: every kind's rule.

    ``zero_usage`` rows are candidates (see :func:`filter_data_end`). Rows are not sorted."""
    return _run([k.name for k in KINDS], Timeline(signaling, xdrs, orders, profile), ref, p)


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

    timelines: dict[str, dict[str, Timeline]] = {"msisdn": defaultdict(Timeline), "imsi": defaultdict(Timeline)}
    for e in sig:
        timelines["msisdn"][e["msisdn"]].signaling.append(e)
        timelines["imsi"][e["imsi"]].signaling.append(e)
    for x in xdr:
        timelines["msisdn"][x["msisdn"]].xdrs.append(x)
    for o in ords:
        timelines["msisdn"][o["msisdn"]].orders.append(o)
    out: list[dict[str, Any]] = []
    for key, by_key in timelines.items():
        kinds = [k.name for k in KINDS if k.key == key]
        for who, t in by_key.items():
            t.profile = ref.profiles.get(who) if key == "msisdn" else None
            out += _run(kinds, t, ref, p)
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
    ref = load_reference(d / "reference")
    recs = {t: read_valid_jsonl(d / f"{t}.jsonl", t, settings) for t in ("signaling", "xdr", "orders")}
    return detect(recs["signaling"], recs["xdr"], recs["orders"], ref, Params.from_settings(settings))
