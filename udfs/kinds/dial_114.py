"""``dial_114``: the subscriber calls the directory enquiry number (looking for a shop, a service)."""

from __future__ import annotations

from typing import Any

from udfs.kinds import Params, Reference, Row, Timeline, TriggerKind, calls_to


def dial_114(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    return calls_to(t, "dial_114", frozenset({p.directory_number}))


def placeholders(settings: Any) -> dict[str, Any]:
    return {"directory_number": settings.triggers.directory_number}


KIND = TriggerKind(
    name="dial_114",
    source="signaling",
    context=("called_number",),
    fires_when="an `mo_call` with `called_number` = `directory_number`.",
    rule=dial_114,
    placeholders=placeholders,
)
