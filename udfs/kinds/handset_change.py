"""``handset_change``: a SIM moves into another handset (a new phone, or a G3 upgrade to offer)."""

from __future__ import annotations

from typing import Any

from udfs.kinds import Params, Reference, Row, Timeline, TriggerKind, row

HANDSET_FIELDS = ("brand", "model", "tier", "g3_capable")


def _handset_fields(prefix: str, tac: str, ref: Reference) -> dict[str, Any]:
    h = ref.handsets.get(tac)
    return {f"{prefix}_{k}": (h[k] if h else None) for k in HANDSET_FIELDS}


def handset_change(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """Reported with the msisdn of the event carrying the new IMEI. Accepts events of several IMSIs (grouped
    internally, each in ``ts`` order)."""
    out = []
    last: dict[str, str] = {}
    for e in t.signaling:
        imei = e.get("imei")
        if imei is None:
            continue
        imsi = e["imsi"]
        old = last.get(imsi)
        if old is not None and old != imei:
            old_tac, new_tac = old[:8], imei[:8]
            ctx = {"old_imei": old, "new_imei": imei, "old_tac": old_tac, "new_tac": new_tac}
            ctx.update(_handset_fields("old", old_tac, ref))
            ctx.update(_handset_fields("new", new_tac, ref))
            out.append(row(e, "handset_change", e["ts"], ctx))
        last[imsi] = imei
    return out


KIND = TriggerKind(
    name="handset_change",
    source="signaling",
    context=(
        "old_imei",
        "new_imei",
        "old_tac",
        "new_tac",
        *(f"old_{f}" for f in HANDSET_FIELDS),
        *(f"new_{f}" for f in HANDSET_FIELDS),
    ),
    context_note="(the TACs are the first 8 IMEI digits; the handset fields are null for a TAC not in `handsets.csv`)",
    fires_when=(
        "a signaling event whose `imei` differs from the `imei` of the same IMSI's previous signaling event (with"
        " an `imei`). Keyed by IMSI; reported with the msisdn."
    ),
    rule=handset_change,
    key="imsi",
)
