"""``power_on``: a handset comes back on after hours switched off (back from a flight, a long night)."""

from __future__ import annotations

from typing import Any

from udfs.kinds import Params, Reference, Row, Timeline, TriggerKind, row
from udfs.units import MINUTE_MS


def power_on(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """``off_minutes`` is ``(attach.ts - detach.ts) // 60000`` (whole minutes, floored)."""
    out = []
    prev: dict[str, Any] | None = None
    for e in t.signaling:
        if (
            e["event_type"] == "attach"
            and prev is not None
            and prev["event_type"] == "detach"
            and e["ts"] - prev["ts"] >= p.power_on_min_off_ms
        ):
            out.append(row(e, "power_on", e["ts"], {"off_minutes": (e["ts"] - prev["ts"]) // MINUTE_MS}))
        prev = e
    return out


def placeholders(settings: Any) -> dict[str, Any]:
    return {"power_on_min_off_ms": settings.triggers.power_on_min_off_ms}


KIND = TriggerKind(
    name="power_on",
    source="signaling",
    context=("off_minutes",),
    fires_when="an `attach` whose previous signaling event is a `detach` at least `power_on_min_off_hours` earlier.",
    rule=power_on,
    placeholders=placeholders,
)
