"""``dwell``: the subscriber has stayed in a watched micro-region for a while."""

from __future__ import annotations

from typing import Any

from udfs.kinds import Params, Reference, Row, Timeline, TriggerKind, row


def dwell(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """Settled here: ``dwell_minutes`` in the context is the configured value (not the measured stay, which is
    ``ts - stay_start``); a run that begins with the subscriber's very first location event is not a stay;
    ping-pong out of R and back starts a new stay (the run was broken)."""
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
            out.append(row(e, "dwell", ts, ctx))
        prev_region = r
        have_prev = True
    return out


def placeholders(settings: Any) -> dict[str, Any]:
    t = settings.triggers
    return {"dwell_minutes": t.dwell_minutes, "dwell_ms": t.dwell_ms}


KIND = TriggerKind(
    name="dwell",
    source="signaling",
    context=("region_id", "region_kind", "stay_start", "dwell_minutes"),
    location=True,
    fires_when=(
        "a *stay* in watched region R is a maximal run of consecutive location events in R whose first event has"
        " a previous location event outside R. Fires once per stay, at the first event of the stay with"
        " `ts - stay_start >= dwell_minutes`. A stay that ends before that does not fire."
    ),
    rule=dwell,
    placeholders=placeholders,
)
