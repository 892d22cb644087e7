"""``dial_hotline``: the subscriber calls one of the hotlines (the operator's own, or a rival's)."""

from __future__ import annotations

from typing import Any

from udfs.kinds import Params, Reference, Row, Timeline, TriggerKind, calls_to


def dial_hotline(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    return calls_to(t, "dial_hotline", p.hotline_numbers)


def placeholders(settings: Any) -> dict[str, Any]:
    return {"hotline_numbers": list(settings.triggers.hotline_numbers)}


KIND = TriggerKind(
    name="dial_hotline",
    source="signaling",
    context=("called_number",),
    fires_when="an `mo_call` with `called_number` in `hotline_numbers`.",
    rule=dial_hotline,
    placeholders=placeholders,
)
