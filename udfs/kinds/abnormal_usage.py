"""``abnormal_usage``: an hour of unusually heavy data use (a bigger plan to offer)."""

from __future__ import annotations

from typing import Any

from udfs.kinds import Params, Reference, Row, Timeline, TriggerKind, row
from udfs.units import HOUR_MS


def abnormal_usage(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``bytes`` is the hour's running total including the firing xDR; ``hour_start`` is in epoch ms."""
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
            out.append(row(x, "abnormal_usage", x["ts"], {"hour_start": h, "bytes": total}))
    return out


def placeholders(settings: Any) -> dict[str, Any]:
    return {"abnormal_usage_bytes": settings.triggers.abnormal_usage_bytes}


KIND = TriggerKind(
    name="abnormal_usage",
    source="xdr",
    context=("hour_start", "bytes"),
    fires_when=(
        "the xDR that takes the subscriber's bytes (up + down) within one UTC clock hour to at least"
        " `abnormal_usage_mb` × 1048576. Once per subscriber-hour."
    ),
    rule=abnormal_usage,
    placeholders=placeholders,
)
