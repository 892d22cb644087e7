"""A subscriber's records from its timeline: the signaling of every change of state and the periodic location
updates, the subscriber's own calls, SMS, xDRs and orders, ordinary network traffic, and the planted events, in
ts order with their ids; then the quota plant's sizes settled and the windows in which planted triggers are due."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

from touchpoint.harness.simulator.city import PRODUCTS
from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import (
    _HOURS,
    APP_CUM,
    APP_SCALE,
    APP_TOTAL,
    APPS,
    CHANNELS,
    DATA_CUM,
    FLIGHT,
    OFF,
    QUOTAS,
    RAT_SCALE,
    VOICE_CUM,
    Sub,
    SubResult,
)
from touchpoint.harness.simulator.traffic import ordinary_traffic, poisson
from udfs.kinds import billing_month
from udfs.trigger_kinds import quota_kind
from udfs.units import DAY_MS, HOUR_MS, MB, MINUTE_MS

#: one record before numbering: (t, rank, n, record, tags, topic); rank orders records with the same t (state
#: changes first), n keeps the order they were drawn in, topic is 0 signaling, 1 xDR, 2 orders
Proto = tuple[int, int, int, dict[str, Any], Any, int]
Signaling = Callable[[int, str, Any, bool], dict[str, Any]]


def finish(scenario: Scenario, sub: Sub) -> SubResult:
    """Turn the timeline into records: state changes, periodic location updates, natural activity and the
    planted events; sort by ts, make ts strictly increasing, give ids."""
    sig = signaling(scenario, sub)
    protos: list[Proto] = []
    n = state_changes(scenario, sub, sig, protos)
    n = natural_activity(scenario, sub, sig, protos, n)
    n = ordinary(scenario, sub, sig, protos, n)
    forced(scenario, sub, sig, protos, n)
    protos.sort()
    out_sig, out_x, out_o, ordered, tagged = numbered(scenario, sub, protos)
    profile = None
    if sub.profile is not None:
        if sub.quota_plan is not None and not settle_quota(scenario, sub, out_x):
            tagged = [(t, [g for g in tags if g != "quota"], topic) for t, tags, topic in tagged]
        profile = (sub.profile["data_quota_mb"], sub.profile["data_used_mb"])
    return SubResult(
        out_sig, out_x, out_o, ordered, windows(scenario, tagged), sub.profile, profile, sub.plants_done, sub.trial
    )


def signaling(scenario: Scenario, sub: Sub) -> Signaling:
    """``sig(t, event_type, state, with_imei)``: a signaling record of the subscriber in a cell (``state`` an
    index) or abroad (``state`` the visited PLMN), with the IMEI in the handset at ``t`` when asked."""
    msisdn, imsi = sub.msisdn, sub.imsi
    CID, LAC, RAT = scenario.CID, scenario.LAC, scenario.RAT
    changes = sub.imei_changes
    change_ts = [c[0] for c in changes]
    imei0 = sub.imei

    def imei_at(t: int) -> str:
        if not changes:
            return imei0
        i = bisect_right(change_ts, t)
        return changes[i - 1][1] if i else imei0

    def sig(t: int, et: str, s: Any, with_imei: bool) -> dict[str, Any]:
        if type(s) is int:
            if with_imei:
                return {
                    "event_id": "",
                    "event_type": et,
                    "ts": t,
                    "msisdn": msisdn,
                    "imsi": imsi,
                    "imei": imei_at(t),
                    "lac": LAC[s],
                    "cell_id": CID[s],
                    "rat": RAT[s],
                }
            return {
                "event_id": "",
                "event_type": et,
                "ts": t,
                "msisdn": msisdn,
                "imsi": imsi,
                "lac": LAC[s],
                "cell_id": CID[s],
                "rat": RAT[s],
            }
        if with_imei:
            return {
                "event_id": "",
                "event_type": et,
                "ts": t,
                "msisdn": msisdn,
                "imsi": imsi,
                "imei": imei_at(t),
                "vlr_plmn": s,
            }
        return {"event_id": "", "event_type": et, "ts": t, "msisdn": msisdn, "imsi": imsi, "vlr_plmn": s}

    return sig


def state_changes(scenario: Scenario, sub: Sub, sig: Signaling, protos: list[Proto]) -> int:
    """One signaling event per change of state (attach, detach, handover, location update) and the periodic
    location updates while reachable. Returns the next ``n``."""
    rnd = sub.rng.random
    tl, E = sub.tl, scenario.E
    n = 0
    add = protos.append
    ts, st, tg = tl.ts, tl.st, tl.tg
    nseg = len(ts)
    half_hour = 30 * MINUTE_MS
    for i in range(nseg):
        t = ts[i]
        if t >= E:
            break
        s = st[i]
        end = ts[i + 1] if i + 1 < nseg else E
        if end > E:
            end = E
        on = s != OFF and s != FLIGHT
        if i == 0:
            nxt = t + int(rnd() * 45 * MINUTE_MS)
        else:
            prev = st[i - 1]
            tags = tg[i]
            d = None
            if on:
                if prev == OFF:
                    d = sig(t, "attach", s, True)
                elif type(s) is int and type(prev) is int and prev >= 0 and not tags and rnd() < 0.25:
                    d = sig(t, "handover", s, False)
                else:
                    d = sig(t, "location_update", s, True)
            elif s == OFF and prev != OFF and prev != FLIGHT:
                d = sig(t, "detach", prev, False)
            if d is not None:
                add((t, 0, n, d, tags, 0))
                n += 1
            nxt = t + half_hour + int(rnd() * half_hour)
        if on:
            while nxt < end:
                add((nxt, 1, n, sig(nxt, "location_update", s, True), None, 0))
                n += 1
                nxt += half_hour + int(rnd() * half_hour)
    return n


def natural_activity(scenario: Scenario, sub: Sub, sig: Signaling, protos: list[Proto], n: int) -> int:
    """The subscriber's own calls, SMS, IMEI checks, call forwarding, xDRs and orders, drawn per local day at the
    subscriber's rates and the hours' activity profile. Returns the next ``n``."""
    rng = sub.rng
    rnd = rng.random
    S, E = scenario.S, scenario.E
    ts, st = sub.tl.ts, sub.tl.st
    add = protos.append
    rates = sub.rates
    choices = rng.choices
    hotline = scenario.hotlines[0] if scenario.hotlines else None
    directory = scenario.tr.directory_number
    number = scenario.number
    for day0, _wd in scenario.days:
        if day0 + DAY_MS <= S or day0 >= E:
            continue
        for et in ("mo_call", "mt_call", "mo_sms", "mt_sms", "imei_check", "call_forward_set", "xdr", "order"):
            k = poisson(rng, rates[et])
            if not k:
                continue
            for h in choices(_HOURS, cum_weights=DATA_CUM if et == "xdr" else VOICE_CUM, k=k):
                t = day0 + h * HOUR_MS + int(rnd() * HOUR_MS)
                if t < S or t >= E:
                    continue
                if et == "order":
                    d = natural_order(scenario, sub, t)
                    if d is not None:
                        add((t, 2, n, d, None, 2))
                        n += 1
                    continue
                s = st[bisect_right(ts, t) - 1]
                if s in (OFF, FLIGHT):
                    continue
                if et == "xdr":
                    if type(s) is not int or sub.no_xdr(t):
                        continue
                    d = xdr(scenario, sub, t, s, None)
                    d["app"] = sub.app_used(d["app"], t)
                    add((t, 2, n, d, None, 1))
                    n += 1
                    continue
                d = sig(t, et, s, et == "imei_check")
                if et == "mo_call":
                    r = rnd()
                    d["called_number"] = directory if r < 0.003 else hotline if r < 0.008 and hotline else number(rnd)
                    d["duration_s"] = int(math.exp(rng.gauss(3.8, 0.9)))
                elif et == "mt_call":
                    d["calling_number"] = number(rnd)
                    d["duration_s"] = int(math.exp(rng.gauss(3.8, 0.9)))
                elif et == "mo_sms":
                    d["called_number"] = number(rnd)
                elif et == "mt_sms":
                    d["calling_number"] = number(rnd)
                elif et == "call_forward_set":
                    d["forward_to"] = number(rnd)
                add((t, 2, n, d, None, 0))
                n += 1
    return n


def ordinary(scenario: Scenario, sub: Sub, sig: Signaling, protos: list[Proto], n: int) -> int:
    """Ordinary network traffic on the current cell (traffic.py), after anything else at the same ms. Returns
    the next ``n``."""
    ts, st = sub.tl.ts, sub.tl.st
    S, E = scenario.S, scenario.E
    add = protos.append
    for t, d, topic in ordinary_traffic(
        seed=scenario.seed,
        idx=sub.idx,
        per_hour=scenario.ordinary_per_hour,
        start_ms=S,
        end_ms=E,
        local_hour=scenario.local_hour,
        seg_ts=ts,
        seg_state=st,
        has_data=sub.has_data,
        no_xdr=sub.no_xdr,
        app_used=sub.app_used,
        sig=sig,
        xdr=lambda t, s, sizes: session_xdr(scenario, sub, t, s, sizes),
    ):
        add((t, 3, n, d, None, topic))
        n += 1
    return n


def forced(scenario: Scenario, sub: Sub, sig: Signaling, protos: list[Proto], n: int) -> None:
    """The planted events, where the subscriber can have them (an xDR needs a cell, signaling a handset on)."""
    S, E = scenario.S, scenario.E
    tl, msisdn = sub.tl, sub.msisdn
    add = protos.append
    for t, et, extra, tags in sub.forced:
        if t < S or t >= E:
            continue
        s = tl.state_at(t)
        if et == "order":
            add((t, 1, n, {"order_id": "", "ts": t, "msisdn": msisdn, **extra}, tags, 2))
        elif et == "xdr":
            if type(s) is not int or s < 0:
                continue
            d = xdr(scenario, sub, t, s, extra)
            if tags and "quota" in tags:
                extra["_record"] = d
            add((t, 1, n, d, tags, 1))
        else:
            if s in (OFF, FLIGHT):
                continue
            d = sig(t, et, s, et in ("imei_check", "location_update", "attach"))
            d.update(extra)
            add((t, 1, n, d, tags, 0))
        n += 1


def numbered(scenario: Scenario, sub: Sub, protos: list[Proto]) -> tuple[list, list, list, list, list]:
    """The sorted protos as records: ``ts`` made strictly increasing, ids given, split by topic; with every
    record in order and the tagged ones."""
    E = scenario.E
    last = -1
    out_sig: list[dict[str, Any]] = []
    out_x: list[dict[str, Any]] = []
    out_o: list[dict[str, Any]] = []
    ordered: list[tuple[int, dict[str, Any]]] = []
    tagged: list[tuple[int, Any, int]] = []
    pre = f"-{scenario.seed}-{sub.idx}-"
    sp, xp, op = "s" + pre, "x" + pre, "o" + pre
    for k, (t, _r, _n, d, tags, topic) in enumerate(protos, 1):
        if t <= last:
            t = last + 1
        if t >= E:
            break
        last = t
        d["ts"] = t
        if topic == 0:
            d["event_id"] = sp + str(k)
            out_sig.append(d)
        elif topic == 1:
            d["event_id"] = xp + str(k)
            out_x.append(d)
        else:
            d["order_id"] = op + str(k)
            out_o.append(d)
        ordered.append((topic, d))
        if tags:
            tagged.append((t, tags, topic))
    return out_sig, out_x, out_o, ordered, tagged


def windows(scenario: Scenario, tagged: list[tuple[int, Any, int]]) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    dwell_start = None
    w = scenario.p.zero_usage_window_ms
    for t, tags, _topic in tagged:
        for tag in tags:
            if tag == "inner":
                continue
            if tag == "dwell_start":
                dwell_start = t
            elif tag == "dwell_end":
                if dwell_start is not None:
                    out.append(("dwell", dwell_start + scenario.p.dwell_ms, t))
                dwell_start = None
            elif tag == "quota":
                for q in scenario.p.quota_thresholds_mb:
                    out.append((quota_kind(q), t, t))
            elif tag == "zero_usage":
                out.append(("zero_usage", t + w, t + w))
            else:
                out.append((tag, t, t))
    return out


def settle_quota(scenario: Scenario, sub: Sub, xdrs: list[dict[str, Any]]) -> bool:
    """Give the quota plant's profile and xDR sizes: remaining just above the first threshold before the
    first planted xDR, then each planted xDR crosses its group of thresholds. False if it cannot."""
    groups, protos = sub.quota_plan
    present = {id(x) for x in xdrs}
    recs = [r for p in protos if (r := p.get("_record")) is not None and id(r) in present]
    prof = sub.profile
    th = scenario.p.quota_thresholds_mb
    ok = len(recs) == len(groups)
    if ok:
        first_ts = recs[0]["ts"]
        ns = sum(
            x["bytes_up"] + x["bytes_down"]
            for x in xdrs
            if x["ts"] < first_ts and billing_month(x["ts"], scenario.p.timezone) == scenario.start_month
        )
        a = th[0] + 1 + -(-ns // MB)
        q = next((q for q in QUOTAS if q > a), None)
        ok = q is not None
    if not ok:
        for r in recs:
            r["bytes_up"], r["bytes_down"] = 1000, 20000
        sub.plants_done = [k for k in sub.plants_done if k != "quota"]
        return False
    rng = sub.rng
    prof["data_quota_mb"] = q
    prof["data_used_mb"] = q - a
    remaining = a * MB - ns
    for r, grp in zip(recs, groups):
        lowest = grp[-1]
        pos = th.index(lowest)
        if pos + 1 < len(th):
            nxt = th[pos + 1]
            target = int((nxt + (lowest - nxt) * rng.uniform(0.2, 0.8)) * MB)
        else:
            target = lowest * MB - int(rng.uniform(0.05, 2.0) * MB)
        b = remaining - target
        up = int(b * rng.uniform(0.03, 0.08))
        r["bytes_up"], r["bytes_down"] = up, b - up
        remaining = target
    return True


def xdr(scenario: Scenario, sub: Sub, t: int, s: int, extra: dict[str, Any] | None) -> dict[str, Any]:
    """A closed data session in cell s; natural sizes unless ``extra`` gives them."""
    rng = sub.rng
    rnd = rng.random
    rat = scenario.RAT[s]
    if extra is None:
        app = APPS[bisect_right(APP_CUM, rnd() * APP_TOTAL)]
        b = int(sub.usage_bytes * APP_SCALE[app] * RAT_SCALE[rat] * math.exp(rng.gauss(0.0, 1.0)))
        up = int(b * (0.04 + rnd() * 0.12))
        return {
            "event_id": "",
            "ts": t,
            "msisdn": sub.msisdn,
            "imsi": sub.imsi,
            "lac": scenario.LAC[s],
            "cell_id": scenario.CID[s],
            "rat": rat,
            "apn": "cmnet" if rnd() < 0.85 else "cmwap",
            "app": app,
            "bytes_up": up,
            "bytes_down": b - up,
            "duration_s": int(5 + rnd() * 900),
        }
    return session_xdr(scenario, sub, t, s, {"app": "video", "duration_s": 60 + int(rnd() * 1740)} | extra)


def session_xdr(scenario: Scenario, sub: Sub, t: int, s: int, sizes: dict[str, Any]) -> dict[str, Any]:
    """An xDR of cell s whose app, bytes and duration are all given: it draws nothing (ordinary traffic's
    sessions come from a random stream of their own, traffic.py)."""
    return {
        "event_id": "",
        "ts": t,
        "msisdn": sub.msisdn,
        "imsi": sub.imsi,
        "lac": scenario.LAC[s],
        "cell_id": scenario.CID[s],
        "rat": scenario.RAT[s],
        "apn": "cmnet",
        "app": sizes["app"],
        "bytes_up": sizes["bytes_up"],
        "bytes_down": sizes["bytes_down"],
        "duration_s": sizes["duration_s"],
    }


def natural_order(scenario: Scenario, sub: Sub, t: int) -> dict[str, Any] | None:
    if sub.profile is None:
        return None
    rng = sub.rng
    held = sub.profile["products"]
    if held and rng.random() < 0.15:
        prod, action = rng.choice(held), "unsubscribe"
    else:
        prod, action = rng.choice(list(PRODUCTS)), "subscribe"
    return {
        "order_id": "",
        "ts": t,
        "msisdn": sub.msisdn,
        "product_id": prod,
        "product_kind": PRODUCTS[prod],
        "action": action,
        "channel": rng.choice(CHANNELS),
    }
