"""``quota_<n>mb``: the subscriber's monthly data allowance runs low (one kind per threshold)."""

from __future__ import annotations

from typing import Any

from udfs.kinds import Params, Reference, Row, Timeline, TriggerKind, billing_month, row
from udfs.units import MB


def quota_kind(threshold_mb: int) -> str:
    """The kind of one quota threshold: 20 -> ``quota_20mb``."""
    return f"quota_{threshold_mb}mb"


def quota(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """The timeline's ``profile`` is ``(data_quota_mb, data_used_mb)``. ``remaining_bytes`` is the value after
    the xDR (may be negative); one xDR crossing several thresholds fires each of them."""
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
                out.append(row(x, quota_kind(mb), ts, {"threshold_mb": mb, "remaining_bytes": remaining}))
    return out


def threshold_placeholders(kind: str, threshold_mb: int) -> dict[str, Any]:
    """The placeholders of one threshold's rendering of the family's one recipe."""
    return {"kind": kind, "threshold_mb": threshold_mb, "threshold_bytes": threshold_mb * MB}


KIND = TriggerKind(
    name="quota",
    source="xdr",
    context=("threshold_mb", "remaining_bytes"),
    per_threshold=True,
    fires_when=(
        "one kind per threshold n in `quota_thresholds_mb`, i.e. `quota_20mb`, `quota_5mb`, `quota_0mb` by default."
        " For a subscriber with `data_quota_mb > 0` in `profiles.csv`: remaining = `(data_quota_mb - data_used_mb)"
        " * 1048576 - sum(bytes_up + bytes_down)` of the subscriber's xDRs so far in the billing month (calendar"
        " month in `timezone`; `data_used_mb` is the usage of `billing_month`, the month of the profile snapshot,"
        " and counts in that month only). Fires on the xDR that takes remaining from above n MB to at or below it."
        " Starting already at or below a threshold never fires it."
    ),
    rule=quota,
)
