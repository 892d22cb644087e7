"""``roam_out``: a home subscriber leaves for another country's network (a roaming pack to offer)."""

from __future__ import annotations

from udfs.kinds import Params, Reference, Row, Timeline, TriggerKind, row
from udfs.kinds.roam_in import roamer_province


def roam_out(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """A home subscriber is one that is not an inbound roamer by the ``roam_in`` rule; only signaling events
    count."""
    out = []
    prev_home: bool | None = None
    who = None
    for e in t.signaling:
        if (e["imsi"], e["msisdn"]) != who:
            who = (e["imsi"], e["msisdn"])
            roamer = roamer_province(e, ref, p)[0]
        if roamer:
            continue
        vlr = e.get("vlr_plmn")
        home = vlr is None or vlr in p.home_plmns
        if not home and prev_home:
            out.append(row(e, "roam_out", e["ts"], {"vlr_plmn": vlr}))
        prev_home = home
    return out


KIND = TriggerKind(
    name="roam_out",
    source="signaling",
    context=("vlr_plmn", "country", "operator"),
    context_note="(`country` and `operator` come from the PLMN table)",
    location=True,
    fires_when=(
        "a home subscriber's signaling event with `vlr_plmn` not in `home_plmns`, whose previous signaling event"
        " was on a home network (`vlr_plmn` absent or in `home_plmns`). The first event of a subscriber never fires."
    ),
    rule=roam_out,
)
