"""``handset_store_visits``: the subscriber has been shopping for a phone (several handset-store visits)."""

from __future__ import annotations

from typing import Any

from udfs.kinds import Params, Reference, Row, Timeline, TriggerKind, row
from udfs.kinds.region_entry import entries


def handset_store_visits(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """Inclusive window: visits ``v`` with ``e.ts - v.ts <= days * 86400000`` count (``e`` itself included). It
    fires whenever the count becomes exactly N, so it can fire again once older visits have left the window.
    ``region_ids`` oldest first."""
    out = []
    visits: list[tuple[int, str]] = []
    for e, r in entries(t.located(ref), p.region_entry_min_outside_ms):
        if ref.regions.get(r, (None, False))[0] != "handset_store":
            continue
        ts = e["ts"]
        visits.append((ts, r))
        visits = [v for v in visits if ts - v[0] <= p.handset_store_window_ms]
        if len(visits) == p.handset_store_visits:
            out.append(
                row(e, "handset_store_visits", ts, {"visits": len(visits), "region_ids": [v[1] for v in visits]})
            )
    return out


def placeholders(settings: Any) -> dict[str, Any]:
    t = settings.triggers
    return {"handset_store_days": t.handset_store_days, "handset_store_visits": t.handset_store_visits}


KIND = TriggerKind(
    name="handset_store_visits",
    source="signaling",
    context=("visits", "region_ids"),
    context_note="(of the counted visits, in order)",
    location=True,
    fires_when=(
        "a *visit* is an entry (the `region_entry` rule) into any region of kind `handset_store`, watched or not."
        " Fires on the visit that makes the number of visits within the trailing `handset_store_days` days"
        " (inclusive) equal to `handset_store_visits`."
    ),
    rule=handset_store_visits,
    placeholders=placeholders,
)
