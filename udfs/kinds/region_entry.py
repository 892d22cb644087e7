"""``region_entry``: the subscriber enters a watched micro-region (a mall, a school, a rival's shop)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from udfs.kinds import Located, Params, Reference, Row, Timeline, TriggerKind, row


def entries(loc: Located, min_outside_ms: int) -> Iterator[tuple[dict[str, Any], str]]:
    """Entries by this kind's definition into any region, watched or not: a location event ``e`` in region R whose
    previous location event exists and is outside R, and whose last location event in R is at least
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


def region_entry(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """The entries (:func:`entries`) into a watched region."""
    out = []
    for e, r in entries(t.located(ref), p.region_entry_min_outside_ms):
        kind, watched = ref.regions.get(r, (None, False))
        if watched:
            out.append(row(e, "region_entry", e["ts"], {"region_id": r, "region_kind": kind}))
    return out


KIND = TriggerKind(
    name="region_entry",
    source="signaling",
    context=("region_id", "region_kind"),
    location=True,
    fires_when=(
        "a location event `e` in watched region R such that the subscriber's previous location event exists and"
        " is **outside** R, and the last location event **in** R before `e` is at least"
        " `region_entry_min_outside_minutes` earlier (or there is none). Ping-pong between a border cell and a"
        " neighbour therefore does not re-trigger."
    ),
    rule=region_entry,
)
