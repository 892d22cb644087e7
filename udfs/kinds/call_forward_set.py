"""``call_forward_set``: the subscriber forwards calls (often to a second number: a churn signal)."""

from __future__ import annotations

from udfs.kinds import Params, Reference, Row, Timeline, TriggerKind, row


def call_forward_set(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    return [
        row(e, "call_forward_set", e["ts"], {"forward_to": e.get("forward_to")})
        for e in t.signaling
        if e["event_type"] == "call_forward_set"
    ]


KIND = TriggerKind(
    name="call_forward_set",
    source="signaling",
    context=("forward_to",),
    fires_when="a `call_forward_set` event.",
    rule=call_forward_set,
)
