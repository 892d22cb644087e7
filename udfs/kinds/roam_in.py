"""``roam_in``: a visitor from another province or country arrives on the network (a tourist, a business trip)."""

from __future__ import annotations

from typing import Any

from udfs.kinds import Params, Reference, Row, Timeline, TriggerKind, row


def roamer_province(e: dict[str, Any], ref: Reference, p: Params) -> tuple[bool, str | None]:
    """Is the event's subscriber an inbound roamer, and from which province? A roamer has an IMSI PLMN (first 5
    digits) not in ``network.home_plmns`` (province None), or is a home-PLMN number whose 7-digit msisdn prefix
    maps to another province in ``number_ranges.csv``."""
    if e["imsi"][:5] not in p.home_plmns:
        return True, None
    prov = ref.number_ranges.get(e["msisdn"][:7])
    if prov is not None and prov != p.home_province:
        return True, prov
    return False, None


def roam_in(t: Timeline, ref: Reference, p: Params) -> list[Row]:
    """Only signaling events count, both as "first event" and for the silence; xDRs and orders neither start a
    visit nor end a silence. ``plmn`` is literally the first 5 digits of the IMSI, so a 3-digit-MNC network such as
    310260 is reported as ``31026`` (the job's PLMN lookup tries 6 digits, then 5)."""
    out = []
    prev_ts: int | None = None
    who = None
    for e in t.signaling:
        if (e["imsi"], e["msisdn"]) != who:  # same subscriber as the previous event: same answer
            who = (e["imsi"], e["msisdn"])
            roamer, prov = roamer_province(e, ref, p)
        if not roamer:
            continue
        ts = e["ts"]
        if prev_ts is None or ts - prev_ts >= p.roam_in_gap_ms:
            out.append(row(e, "roam_in", ts, {"plmn": e["imsi"][:5], "province": prov}))
        prev_ts = ts
    return out


def placeholders(settings: Any) -> dict[str, Any]:
    return {"roam_in_gap_ms": settings.triggers.roam_in_gap_ms}


KIND = TriggerKind(
    name="roam_in",
    source="signaling",
    context=("plmn", "province", "country", "operator"),
    context_note="(`province` is null for a foreign IMSI; `country` and `operator` come from the PLMN table)",
    fires_when=(
        "a signaling event of an inbound roamer — IMSI PLMN (first 5 digits) not in `network.home_plmns`, or a"
        " home-PLMN number whose 7-digit prefix maps to another province in `number_ranges.csv` — that is the"
        " roamer's first event, or the first after a silence of at least `roam_in_gap_hours`."
    ),
    rule=roam_in,
    placeholders=placeholders,
)
