"""``zero_usage``: a data package was bought and not used (a subscriber who may need help, or a refund)."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from udfs.kinds import Params, Reference, Row, Timeline, TriggerKind, row


def zero_usage(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """ "No xDR for the window" = no xDR with ``order.ts < ts <= order.ts + window`` (an xDR exactly at the end
    counts as usage: an event-time timer at ``order.ts + window`` fires only after every record with ``ts <=
    order.ts + window`` was seen). Returns *candidates*: the caller keeps those whose ``ts`` is not after the
    largest ``ts`` of any valid record (signaling, xDR, orders) in the data."""
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
        out.append(row(o, "zero_usage", end, {"order_id": o["order_id"], "product_id": o["product_id"]}))
    return out


def day_to_second(ms: int) -> str:
    """A duration as a SQL ``DAY TO SECOND`` interval literal: 90_061_001 -> ``'1 01:01:01.001'``."""
    days, ms = divmod(ms, 86_400_000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    return f"{days} {hours:02d}:{minutes:02d}:{ms // 1000:02d}.{ms % 1000:03d}"


def placeholders(settings: Any) -> dict[str, Any]:
    w = settings.triggers.zero_usage_window_ms
    return {"zero_usage_ms": w, "zero_usage_interval": day_to_second(w)}


KIND = TriggerKind(
    name="zero_usage",
    source="orders",
    context=("order_id", "product_id"),
    fires_when=(
        "an `orders` record with `action = subscribe` and `product_kind = data_package`, followed by no xDR of that"
        " subscriber for `zero_usage_hours`. `ts` = order ts + the window; listed only when that moment is not"
        " after the last event time in the data."
    ),
    rule=zero_usage,
    placeholders=placeholders,
)
