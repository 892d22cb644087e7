"""The decision engine without Flink: behaviour rollup (udfs/behaviour.py), tags (udfs/tags.py), and
``decide`` / ``charge_daily_budget`` (udfs/decisions.py) scenario by scenario, with exact expected results. Every lead
and decision record is checked against its topic schema."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime

import pytest

from touchpoint.config import Decisions, Tags
from touchpoint.schemas import errors
from udfs import variants
from udfs.behaviour import Bucket, compact, rollup
from udfs.campaigns import BEHAVIOUR_METRICS, HORIZONS, parse_campaign
from udfs.contact_policy import Contacts, Policy, decision_id, lead_id, subscriber_block
from udfs.decisions import Decision, Reference, charge_daily_budget, decide, subscriber_fields
from udfs.tags import TAGS, is_g3_subscriber, tags
from udfs.units import HOUR_MS, MB

MSISDN = "13951234567"
NOW = 1_800_000_000_000  # decided_at / created_at: the wall clock, irrelevant to the rules
POLICY = Policy.from_settings(Decisions())  # Shanghai, quiet 21:00-08:00, 3 leads / 48 h, 48 h validity
TAG_CFG = Tags()

G3_TAC, OLD_TAC = "86012345", "35000002"
REF = Reference(
    handsets={
        G3_TAC: {"tac": G3_TAC, "brand": "Huawei", "model": "T8300", "tier": "mid", "g3_capable": True},
        OLD_TAC: {"tac": OLD_TAC, "brand": "Nokia", "model": "1110", "tier": "low", "g3_capable": False},
    },
    regions={
        r: {"region_id": r, "name": name, "kind": kind, "watched": True, "lat": 32.0, "lon": 118.8}
        for r, name, kind in [
            ("r-mall", "Xinjiekou Mall", "mall"),
            ("r-campus", "Nanjing University", "campus"),
            ("r-home", "Gulou Residences", "residential"),
            ("r-office", "Hexi Towers", "office"),
        ]
    },
)
PROFILE = {
    "msisdn": MSISDN,
    "imsi": "460001234567890",
    "brand": "gotone",
    "plan": "gotone-58",
    "data_quota_mb": 500,
    "data_used_mb": 100,
    "arpu_band": "mid",
    "age_band": "25-34",
    "consent_marketing": True,
    "consent_location": True,
    "do_not_disturb": False,
    "products": ["fetion", "data_package_50"],
}
CONTEXT = {
    "dial_114": {"called_number": "114"},
    "region_entry": {"region_id": "r-mall", "region_kind": "mall"},
    "handset_change": {
        "old_imei": "350000020000011",
        "new_imei": "860123450000012",
        "old_tac": OLD_TAC,
        "new_tac": G3_TAC,
        "old_brand": "Nokia",
        "old_model": "1110",
        "old_tier": "low",
        "old_g3_capable": False,
        "new_brand": "Huawei",
        "new_model": "T8300",
        "new_tier": "mid",
        "new_g3_capable": True,
    },
    "quota_0mb": {"threshold_mb": 0, "remaining_bytes": -1000},
}


def ms(local: str) -> int:
    """Shanghai local time (unless an offset is given) as epoch ms."""
    if "+" not in local[10:] and not local.endswith("Z"):
        local += "+08:00"
    return int(datetime.fromisoformat(local).timestamp() * 1000)


def campaign(cid: str = "c-114", kind: str = "dial_114", priority: int = 10, **fields):
    obj = {
        "id": cid,
        "name": f"Campaign {cid}",
        "status": "active",
        "start": "2026-11-01T00:00:00+08:00",
        "end": "2027-01-31T23:59:59+08:00",
        "trigger": {"kind": kind},
        "offer": {"id": f"{cid}-offer", "message": "Dear {brand} customer, try {offer_id}."},
        "channels": ["sms"],
        "priority": priority,
    }
    return parse_campaign(obj | fields)


def trigger(local: str = "2026-11-02T10:20:00", kind: str = "dial_114", msisdn: str = MSISDN, **context) -> dict:
    ts = ms(local)
    return {
        "trigger_id": f"t-{kind}-{msisdn}-{ts}",
        "msisdn": msisdn,
        "kind": kind,
        "ts": ts,
        "detected_at": ts + 1000,
        "context": CONTEXT.get(kind, {}) | context,
    }


class Subscriber:
    """One subscriber's state as the decision job keeps it; ``decide`` checks every output against the schemas."""

    def __init__(self, profile=PROFILE, buckets=None, policy=POLICY):
        self.profile, self.buckets, self.policy, self.contacts = profile, buckets or {}, policy, Contacts()

    def decide(self, trig: dict, campaigns: list) -> list[Decision]:
        ds = decide(trig, campaigns, self.profile, self.buckets, self.contacts, self.policy, REF, TAG_CFG)
        for d in ds:
            check(d)
        return ds


def check(d: Decision) -> None:
    rec = d.record(NOW)
    assert errors("decisions", rec) == []
    assert (d.lead is not None) == (d.result in ("lead", "control"))
    if d.lead is not None:
        assert errors("leads", d.lead | {"created_at": NOW}) == []
        assert d.lead["control"] == (d.result == "control") and rec["lead_id"] == d.lead["lead_id"]
        assert d.lead["deliver_at"] == d.deliver_at


def outcome(ds: list[Decision]) -> list[tuple]:
    return [(d.campaign.id, d.result, d.reason, d.detail) for d in ds]


def bucket(**fields) -> Bucket:
    return compact(fields)


# --- behaviour rollup -----------------------------------------------------------------------------

TRIG_TS = ms("2026-11-02T10:20:00")
HOUR = ms("2026-11-02T10:00:00")


def test_compact_defaults():
    assert compact({"msisdn": MSISDN, "hour_start": HOUR, "regions": ["b", "a"]}) == Bucket(
        0, 0, 0, 0, 0, 0, 0, 0, 0, ("a", "b"), False, None
    )


def test_rollup_horizons():
    buckets = {
        HOUR: bucket(calls_mo=100, bytes_down=100 * MB, regions=["r-campus"], last_tac="OWN"),  # trigger's own hour
        HOUR - 1 * HOUR_MS: bucket(
            calls_mo=1,
            call_seconds=90,
            sms=1,
            bytes_up=MB,
            bytes_down=3 * MB,
            g3_bytes=2 * MB,
            hotline_dials=1,
            distinct_cells=2,
            regions=["r-mall"],
        ),
        HOUR - 10 * HOUR_MS: bucket(calls_mt=2, regions=["r-home", "r-mall"], distinct_cells=1, last_tac="B"),
        HOUR - 22 * HOUR_MS: bucket(sms=5, roaming=True, regions=["r-office"], last_tac="C"),
        HOUR - 48 * HOUR_MS: bucket(calls_mo=1, bytes_down=MB, last_tac="D"),  # the 48th hour back
        HOUR - 49 * HOUR_MS: bucket(calls_mo=1000, bytes_down=1000 * MB, regions=["r-campus"]),  # too old
        HOUR + HOUR_MS: bucket(calls_mo=1000),  # the future
    }
    b = rollup(buckets, TRIG_TS)
    t = b.totals
    # rollup computes exactly the metrics campaigns may name, for every horizon
    assert set(t) == {f"{m}_{h}h" for m in BEHAVIOUR_METRICS for h in HORIZONS}
    assert {k: t[f"{k}_1h"] for k in BEHAVIOUR_METRICS} == {
        "calls_mo": 1,
        "calls_mt": 0,
        "calls": 1,
        "call_minutes": 1.5,
        "sms": 1,
        "data_mb": 4.0,
        "data_mb_up": 1.0,
        "data_mb_down": 3.0,
        "g3_data_mb": 2.0,
        "g3_data_share": 0.5,
        "hotline_dials": 1,
        "cell_hours": 2,
        "distinct_regions": 1,
        "roaming_hours": 0,
        "active_hours": 1,
    }
    assert (t["calls_12h"], t["distinct_regions_12h"], t["cell_hours_12h"], t["active_hours_12h"]) == (3, 2, 3, 2)
    assert (t["sms_24h"], t["roaming_hours_24h"], t["distinct_regions_24h"], t["active_hours_24h"]) == (6, 1, 3, 3)
    assert (t["calls_48h"], t["data_mb_48h"], t["active_hours_48h"], t["distinct_regions_48h"]) == (4, 5.0, 4, 3)
    assert t["g3_data_share_48h"] == pytest.approx(0.4)
    assert b.regions_24h == {"r-mall", "r-home", "r-office"}
    assert b.last_tac == "B"  # the latest past bucket with a TAC (not the trigger's own hour)


def test_rollup_at_an_hour_boundary():
    # a trigger exactly at 10:00 sees 09:00-10:00 as its last hour, and not the 10:00 bucket
    buckets = {HOUR: bucket(calls_mo=5), HOUR - HOUR_MS: bucket(calls_mo=1)}
    assert rollup(buckets, HOUR).totals["calls_mo_1h"] == 1
    assert rollup(buckets, HOUR - 1).totals["calls_mo_1h"] == 0


def test_rollup_without_data():
    b = rollup({HOUR - HOUR_MS: bucket(calls_mo=1)}, TRIG_TS)
    assert b.totals["g3_data_share_1h"] is None and b.totals["data_mb_1h"] == 0  # no bytes: share unknown, not 0
    empty = rollup({}, TRIG_TS)
    assert empty.last_tac is None and empty.regions_24h == frozenset()
    assert {v for k, v in empty.totals.items() if not k.startswith("g3_data_share")} == {0}
    assert [empty.totals[f"g3_data_share_{h}h"] for h in (1, 12, 24, 48)] == [None] * 4


# --- tags -----------------------------------------------------------------------------------------


def _tags(profile=PROFILE, handset=None, totals=None, kinds=()):
    return tags(profile, handset, totals or {}, set(kinds), TAG_CFG)


def test_tags_from_behaviour():
    assert _tags() == []
    assert _tags(totals={"data_mb_48h": 500}) == ["heavy_data_user"]
    assert _tags(totals={"data_mb_48h": 499.9}) == []
    assert _tags(totals={"calls_48h": 20}) == ["frequent_caller"]
    assert _tags(totals={"calls_48h": 19}) == []
    assert _tags(totals={"hotline_dials_48h": 2}) == ["hotline_caller"]
    assert _tags(totals={"hotline_dials_48h": 1}) == []
    assert _tags(totals={"roaming_hours_48h": 1}) == ["roamer"]
    assert _tags(totals={"roaming_hours_48h": 0}) == []
    assert tags(PROFILE, None, {"roaming_hours_48h": 0}, set(), Tags(roamer_hours_48h=0)) == []  # 0 switches it off
    assert _tags(kinds={"residential", "campus"}) == ["commuter"]
    assert _tags(kinds={"residential", "office", "mall"}) == ["commuter"]
    assert _tags(kinds={"residential", "mall"}) == [] and _tags(kinds={"office"}) == []


def test_tags_from_profile_and_handset():
    g3_handset, old_handset = REF.handsets[G3_TAC], REF.handsets[OLD_TAC]
    assert _tags(handset=g3_handset) == ["g3_capable_non_g3"]
    assert _tags(handset=old_handset) == []
    g3_sub = PROFILE | {"products": ["g3_basic"]}
    assert _tags(g3_sub, handset=g3_handset) == ["g3_subscriber"]
    assert _tags(g3_sub) == ["g3_subscriber"]
    assert _tags(PROFILE | {"arpu_band": "high"}) == ["high_value"]
    assert _tags(PROFILE | {"arpu_band": "vip"}) == ["high_value"]
    assert _tags(PROFILE | {"data_quota_mb": 0}) == ["no_data_plan"]
    assert _tags(None, handset=g3_handset) == []  # no profile: nothing known about products or value
    assert (is_g3_subscriber(None), is_g3_subscriber(PROFILE), is_g3_subscriber(g3_sub)) == (None, False, True)


def test_every_tag_can_hold():
    everything = tags(
        PROFILE | {"arpu_band": "vip", "data_quota_mb": 0},
        REF.handsets[G3_TAC],
        {"data_mb_48h": 1e6, "calls_48h": 99, "hotline_dials_48h": 9, "roaming_hours_48h": 9},
        {"residential", "office"},
        TAG_CFG,
    )
    assert set(everything) | {"g3_subscriber"} == set(TAGS)


def test_subscriber_fields():
    behaviour = rollup({HOUR - HOUR_MS: bucket(regions=["r-home", "r-office", "r-unknown"])}, TRIG_TS)
    f = subscriber_fields(PROFILE, REF.handsets[G3_TAC], behaviour, REF, TAG_CFG)
    assert f == {
        "brand": "gotone",
        "plan": "gotone-58",
        "arpu_band": "mid",
        "age_band": "25-34",
        "data_quota_mb": 500,
        "products": ["fetion", "data_package_50"],
        "g3_subscriber": False,
        "handset_brand": "Huawei",
        "handset_model": "T8300",
        "handset_tier": "mid",
        "g3_capable": True,
        "tags": ["commuter", "g3_capable_non_g3"],
    }
    unknown = subscriber_fields(None, None, behaviour, REF, TAG_CFG)  # behaviour-derived tags need no profile
    assert {k: v for k, v in unknown.items() if v is not None} == {"tags": ["commuter"]}


# --- decide: which campaign, and why not ----------------------------------------------------------


def test_a_lead_exactly():
    c = campaign(channels=["sms", "outbound_call"])
    trig = trigger()
    (d,) = Subscriber().decide(trig, [c])
    ts = trig["ts"]
    assert d.lead == {
        "lead_id": lead_id(MSISDN, "c-114", trig["trigger_id"]),
        "msisdn": MSISDN,
        "campaign_id": "c-114",
        "offer_id": "c-114-offer",
        "product_id": "c-114-offer",  # no offer.product: the offer itself
        "channel": "sms",
        "channels": ["sms", "outbound_call"],
        "message": "Dear gotone customer, try c-114-offer.",
        "trigger_id": trig["trigger_id"],
        "trigger_kind": "dial_114",
        "trigger_ts": ts,
        "deliver_at": ts,
        "expires_at": ts + 48 * HOUR_MS,
        "attribution_until": ts + 7 * 24 * HOUR_MS,  # decisions.attribution_days
        "control": False,
        "holdout": False,
        "reasons": ["trigger:dial_114", "priority:10"],
    }
    assert d.record(NOW) == {
        "decision_id": decision_id(trig["trigger_id"], "c-114"),
        "trigger_id": trig["trigger_id"],
        "trigger_kind": "dial_114",
        "msisdn": MSISDN,
        "campaign_id": "c-114",
        "trigger_ts": ts,
        "decided_at": NOW,
        "result": "lead",
        "deliver_at": ts,
        "lead_id": d.lead["lead_id"],
    }
    assert d.id == decision_id(trig["trigger_id"], "c-114")


def test_no_matching_campaign_records_nothing():
    sub = Subscriber()
    mall = campaign("c-mall", "region_entry", trigger={"kind": "region_entry", "params": {"region_kind": "mall"}})
    assert sub.decide(trigger(), [mall]) == []  # other kind
    assert sub.decide(trigger(kind="region_entry", region_kind="campus"), [mall]) == []  # params do not match
    assert sub.decide(trigger(), []) == []
    assert sub.contacts == Contacts()


def test_inactive_campaigns():
    paused, ended = campaign("c-paused", status="paused"), campaign("c-ended", status="ended")
    later = campaign("c-later", start="2026-12-01T00:00:00+08:00")
    expired = campaign("c-expired", start="2026-10-01T00:00:00+08:00", end="2026-11-02T10:00:00+08:00")
    ds = Subscriber().decide(trigger(), [paused, ended, later, expired])
    assert outcome(ds) == [
        ("c-ended", "suppressed", "campaign_inactive", "ended"),
        ("c-expired", "suppressed", "campaign_inactive", "outside start/end"),
        ("c-later", "suppressed", "campaign_inactive", "outside start/end"),
        ("c-paused", "suppressed", "campaign_inactive", "paused"),
    ]


@pytest.mark.parametrize(
    "profile, kind, reason",
    [
        (None, "dial_114", "no_profile"),
        (PROFILE | {"consent_marketing": False}, "dial_114", "no_consent"),
        (PROFILE | {"consent_marketing": False, "consent_location": False}, "region_entry", "no_consent"),
        (PROFILE | {"consent_location": False}, "region_entry", "no_location_consent"),
        (PROFILE | {"do_not_disturb": True}, "dial_114", "do_not_disturb"),
        (PROFILE | {"consent_location": False, "do_not_disturb": True}, "region_entry", "no_location_consent"),
    ],
)
def test_subscriber_blocks(profile, kind, reason):
    c = campaign("c-x", kind)
    paused = campaign("c-paused", kind, status="paused")
    ds = Subscriber(profile).decide(trigger(kind=kind), [c, paused])
    assert outcome(ds) == [
        ("c-paused", "suppressed", "campaign_inactive", "paused"),
        ("c-x", "suppressed", reason, None),
    ]


def test_location_consent_only_for_location_kinds():
    no_loc = PROFILE | {"consent_location": False}
    assert outcome(Subscriber(no_loc).decide(trigger(), [campaign()])) == [("c-114", "lead", None, None)]
    quota = campaign("c-quota", "quota_0mb")
    assert outcome(Subscriber(no_loc).decide(trigger(kind="quota_0mb"), [quota])) == [("c-quota", "lead", None, None)]


def test_audience_static_failure_names_the_condition():
    c = campaign(
        audience={
            "static": [
                {"field": "brand", "op": "eq", "value": "gotone"},
                {"field": "products", "op": "not_contains", "value": "fetion"},
            ]
        }
    )
    ds = Subscriber().decide(trigger(), [c])
    assert outcome(ds) == [
        ("c-114", "suppressed", "audience", "products not_contains 'fetion' (is ['fetion', 'data_package_50'])")
    ]


def test_audience_dynamic_failure_names_the_condition():
    c = campaign(audience={"dynamic": [{"field": "data_mb_24h", "op": "gte", "value": 50}]})
    sub = Subscriber(buckets={HOUR - 2 * HOUR_MS: bucket(bytes_down=10 * MB), HOUR: bucket(bytes_down=100 * MB)})
    assert outcome(sub.decide(trigger(), [c])) == [("c-114", "suppressed", "audience", "data_mb_24h gte 50 (is 10.0)")]
    sub.buckets[HOUR - 3 * HOUR_MS] = bucket(bytes_down=40 * MB)
    assert outcome(sub.decide(trigger("2026-11-02T10:21:00"), [c])) == [("c-114", "lead", None, None)]


def test_audience_pass_is_listed_in_the_lead_reasons():
    c = campaign(
        audience={
            "static": [{"field": "tags", "op": "contains", "value": "g3_capable_non_g3"}],
            "dynamic": [{"field": "calls_24h", "op": "gte", "value": 1}],
        }
    )
    sub = Subscriber(buckets={HOUR - HOUR_MS: bucket(calls_mo=1, last_tac=G3_TAC)})
    (d,) = sub.decide(trigger(), [c])
    assert d.result == "lead"
    assert d.lead["reasons"] == [
        "trigger:dial_114",
        "priority:10",
        "audience:tags contains g3_capable_non_g3",
        "audience:calls_24h gte 1",
    ]
    sub.buckets = {HOUR - HOUR_MS: bucket(calls_mo=1, last_tac=OLD_TAC)}
    assert outcome(sub.decide(trigger("2026-11-02T10:30:00"), [c]))[0][1:3] == ("suppressed", "audience")


def test_handset_change_uses_the_new_handset():
    c = campaign(
        "c-handset",
        "handset_change",
        trigger={"kind": "handset_change", "params": {"new_g3_capable": True}},
        audience={
            "static": [
                {"field": "g3_capable", "op": "eq", "value": True},
                {"field": "g3_subscriber", "op": "eq", "value": False},
            ]
        },
        offer={"id": "g3-sim", "message": "Your new {handset_brand} {handset_model} is G3-ready."},
    )
    sub = Subscriber(buckets={HOUR - HOUR_MS: bucket(last_tac=OLD_TAC)})  # the behaviour still has the old TAC
    (d,) = sub.decide(trigger(kind="handset_change"), [c])
    assert d.result == "lead" and d.lead["message"] == "Your new Huawei T8300 is G3-ready."
    unknown = trigger("2026-11-02T11:00:00", "handset_change", new_tac="99999999")
    assert outcome(sub.decide(unknown, [c])) == [
        ("c-handset", "suppressed", "audience", "g3_capable eq True (is None)")
    ]


def test_region_message_and_context_placeholders():
    c = campaign(
        "c-mall",
        "region_entry",
        trigger={"kind": "region_entry", "params": {"region_kind": "mall"}},
        offer={
            "id": "mall-10",
            "message": "Welcome to {region_name} ({region_id}), ends {expires_local}. "
            "{campaign_name} for *{msisdn_tail}",
        },
    )
    (d,) = Subscriber().decide(trigger("2026-11-02T15:00:00", "region_entry"), [c])
    assert d.lead["message"] == "Welcome to Xinjiekou Mall (r-mall), ends 2026-11-04 15:00. Campaign c-mall for *4567"
    unknown_region = trigger("2026-11-02T16:00:00", "region_entry", region_id="r-new")
    (d,) = Subscriber().decide(unknown_region, [c])
    assert d.lead["message"].startswith("Welcome to  (r-new)")  # an unknown value renders empty


def test_cooldown():
    c = campaign(cooldown_hours=24)
    sub = Subscriber()
    first = sub.decide(trigger("2026-11-02T10:00:00"), [c])
    assert outcome(first) == [("c-114", "lead", None, None)]
    assert outcome(sub.decide(trigger("2026-11-03T09:59:59"), [c])) == [
        ("c-114", "suppressed", "cooldown", f"last lead at {ms('2026-11-02T10:00:00')}")
    ]
    assert outcome(sub.decide(trigger("2026-11-03T10:00:00"), [c])) == [("c-114", "lead", None, None)]


def test_highest_priority_wins():
    low, high = campaign("c-low", priority=10), campaign("c-high", priority=20)
    assert outcome(Subscriber().decide(trigger(), [low, high])) == [
        ("c-high", "lead", None, None),
        ("c-low", "suppressed", "lower_priority", "c-high"),
    ]


def test_priority_tie_lowest_id_wins():
    b, a, c = campaign("c-b"), campaign("c-a"), campaign("c-c")
    assert outcome(Subscriber().decide(trigger(), [b, c, a])) == [
        ("c-a", "lead", None, None),
        ("c-b", "suppressed", "lower_priority", "c-a"),
        ("c-c", "suppressed", "lower_priority", "c-a"),
    ]


def test_priority_among_eligible_campaigns_only():
    high = campaign("c-high", priority=20, audience={"static": [{"field": "brand", "op": "eq", "value": "mzone"}]})
    low = campaign("c-low", priority=10)
    assert outcome(Subscriber().decide(trigger(), [high, low])) == [
        ("c-high", "suppressed", "audience", "brand eq 'mzone' (is 'gotone')"),
        ("c-low", "lead", None, None),
    ]


def test_contact_cap():
    c = campaign()  # no cooldown
    sub = Subscriber()
    for hour in (10, 11, 12):
        assert outcome(sub.decide(trigger(f"2026-11-02T{hour}:00:00"), [c]))[0][1] == "lead"
    assert outcome(sub.decide(trigger("2026-11-02T13:00:00"), [c])) == [
        ("c-114", "suppressed", "contact_cap", "3 leads in 48 h")
    ]
    assert outcome(sub.decide(trigger("2026-11-04T09:59:59"), [c]))[0][2] == "contact_cap"
    # exactly 48 h after the first lead it leaves the window: one more is allowed
    assert outcome(sub.decide(trigger("2026-11-04T10:00:00"), [c])) == [("c-114", "lead", None, None)]
    assert outcome(sub.decide(trigger("2026-11-04T10:30:00"), [c]))[0][2] == "contact_cap"


def test_contact_cap_counts_all_campaigns():
    sub = Subscriber()
    for i, hour in enumerate((10, 11, 12)):
        sub.decide(trigger(f"2026-11-02T{hour}:00:00"), [campaign(f"c-{i}")])
    assert outcome(sub.decide(trigger("2026-11-02T13:00:00"), [campaign("c-9")]))[0][2] == "contact_cap"


def test_quiet_hours_defer_to_08_00():
    trig = trigger("2026-11-02T22:00:00")
    (d,) = Subscriber().decide(trig, [campaign()])
    assert outcome([d]) == [("c-114", "lead", "deferred_quiet_hours", None)]
    assert d.deliver_at == ms("2026-11-03T08:00:00") == d.lead["deliver_at"]
    assert d.lead["expires_at"] == trig["ts"] + 48 * HOUR_MS
    assert d.lead["reasons"] == ["trigger:dial_114", "priority:10", "deferred:quiet_hours"]
    assert d.record(NOW)["reason"] == "deferred_quiet_hours"


def test_quiet_hours_boundaries():
    (d,) = Subscriber().decide(trigger("2026-11-02T20:59:59"), [campaign()])
    assert (d.reason, d.deliver_at) == (None, ms("2026-11-02T20:59:59"))
    (d,) = Subscriber().decide(trigger("2026-11-02T21:00:00"), [campaign()])
    assert (d.reason, d.deliver_at) == ("deferred_quiet_hours", ms("2026-11-03T08:00:00"))
    (d,) = Subscriber().decide(trigger("2026-11-03T07:59:59"), [campaign()])
    assert (d.reason, d.deliver_at) == ("deferred_quiet_hours", ms("2026-11-03T08:00:00"))
    (d,) = Subscriber().decide(trigger("2026-11-03T08:00:00"), [campaign()])
    assert (d.reason, d.deliver_at) == (None, ms("2026-11-03T08:00:00"))


@pytest.mark.parametrize("validity_h, result", [(6, "suppressed"), (10, "suppressed"), (10.01, "lead")])
def test_quiet_hours_suppress_a_lead_that_expires_first(validity_h, result):
    policy = replace(POLICY, lead_validity_ms=round(validity_h * HOUR_MS))
    (d,) = Subscriber(policy=policy).decide(trigger("2026-11-02T22:00:00"), [campaign()])
    if result == "suppressed":  # 22:00 + 10 h = 08:00: expired the moment it could be delivered
        assert outcome([d]) == [("c-114", "suppressed", "quiet_hours", "expires before quiet hours end")]
    else:
        assert outcome([d]) == [("c-114", "lead", "deferred_quiet_hours", None)]


def test_control_group():
    c = campaign("c-ctl", control_percent=100)
    sub = Subscriber()
    trig = trigger()
    (d,) = sub.decide(trig, [c])
    assert outcome([d]) == [("c-ctl", "control", None, None)]
    assert d.lead["control"] is True and d.lead["reasons"] == ["trigger:dial_114", "priority:10", "control_group"]
    assert d.record(NOW)["result"] == "control"
    assert sub.contacts.leads == [] and sub.contacts.last_lead == {"c-ctl": trig["ts"]}


def test_control_leads_do_not_count_toward_the_cap():
    ctl, real = campaign("c-ctl", control_percent=100), campaign("c-real")
    sub = Subscriber()
    for minute in range(4):
        assert outcome(sub.decide(trigger(f"2026-11-02T10:0{minute}:00"), [ctl]))[0][1] == "control"
    for minute in range(3):
        assert outcome(sub.decide(trigger(f"2026-11-02T11:0{minute}:00"), [real]))[0][1] == "lead"
    assert outcome(sub.decide(trigger("2026-11-02T12:00:00"), [real]))[0][2] == "contact_cap"


def test_control_obeys_cooldown():
    ctl = campaign("c-ctl", control_percent=100, cooldown_hours=24)
    sub = Subscriber()
    sub.decide(trigger("2026-11-02T10:00:00"), [ctl])
    assert outcome(sub.decide(trigger("2026-11-02T11:00:00"), [ctl]))[0][2] == "cooldown"


def test_redelivered_trigger_yields_nothing():
    sub = Subscriber()
    trig = trigger()
    assert outcome(sub.decide(trig, [campaign()]))[0][1] == "lead"
    before = copy.deepcopy(sub.contacts)
    assert sub.decide(copy.deepcopy(trig), [campaign()]) == []
    assert sub.contacts == before


def test_redelivered_suppressed_trigger_yields_nothing():
    sub = Subscriber(PROFILE | {"do_not_disturb": True})
    trig = trigger()
    assert outcome(sub.decide(trig, [campaign()]))[0][2] == "do_not_disturb"
    assert sub.decide(trig, [campaign()]) == []


# --- budgets --------------------------------------------------------------------------------------


def _lead_for(msisdn: str, local: str, c) -> Decision:
    (d,) = Subscriber(PROFILE | {"msisdn": msisdn}).decide(trigger(local, msisdn=msisdn), [c])
    return d


def _charge(spent: dict, d: Decision) -> tuple[dict, dict | None]:
    """The job's budget step on a decision's record: (record, lead left)."""
    record = d.record(NOW)
    return record, charge_daily_budget(spent, d.campaign.daily_budget, record, d.lead, POLICY.timezone)


def test_daily_budget():
    c = campaign(daily_budget=2)
    spent: dict[str, int] = {}
    day1 = [_charge(spent, _lead_for(f"1390000000{i}", f"2026-11-02T1{i}:00:00", c)) for i in range(3)]
    assert [(r["result"], r.get("reason"), r.get("detail")) for r, _ in day1] == [
        ("lead", None, None),
        ("lead", None, None),
        ("suppressed", "budget", "2 leads on 2026-11-02"),
    ]
    assert [lead is None for _, lead in day1] == [False, False, True]
    assert "lead_id" not in day1[2][0] and "deliver_at" not in day1[2][0]
    assert errors("decisions", day1[2][0]) == []
    # the budget day is local: 00:30 in Shanghai is the next day although it is still 11-02 in UTC
    record, lead = _charge(spent, _lead_for("13900000009", "2026-11-03T00:30:00", c))
    assert record["result"] == "lead" and lead is not None
    assert spent == {"2026-11-02": 2, "2026-11-03": 1}


def test_control_leads_do_not_spend_the_budget():
    c = campaign(daily_budget=1, control_percent=100)
    spent: dict[str, int] = {}
    charged = [_charge(spent, _lead_for(f"1390000000{i}", "2026-11-02T10:00:00", c)) for i in range(3)]
    assert [(r["result"], lead is not None) for r, lead in charged] == [("control", True)] * 3 and spent == {}


def test_suppressed_decisions_and_unlimited_budgets_pass():
    d = _lead_for("13900000001", "2026-11-02T10:00:00", campaign())  # no daily_budget
    spent: dict[str, int] = {}
    record, lead = _charge(spent, d)
    assert record["result"] == "lead" and lead is d.lead and spent == {}
    d.suppress("audience", "x")
    record, lead = _charge({"2026-11-02": 99}, d)
    assert (record["result"], record["reason"], lead) == ("suppressed", "audience", None)


def test_the_campaign_names_the_product_and_its_attribution_window():
    offer = {"id": "o", "message": "Dear {brand} customer, try {offer_id}.", "product": "12580"}
    c = campaign(offer=offer, attribution_days=2)
    (d,) = Subscriber().decide(trigger(), [c])
    assert d.lead["product_id"] == "12580"
    assert d.lead["attribution_until"] == d.lead["deliver_at"] + 2 * 24 * HOUR_MS


def test_a_subscriber_in_the_global_holdout_gets_only_control_leads():
    from udfs.contact_policy import in_holdout

    policy = Policy(holdout_percent=100)
    assert in_holdout(MSISDN, 100)
    (d,) = Subscriber(policy=policy).decide(trigger(), [campaign()])
    assert d.result == "control" and d.lead["control"] and d.lead["holdout"]
    assert d.lead["reasons"][-1] == "holdout"


def test_every_reason_given_before_the_audience_is_listed_for_the_backtest():
    from udfs.contact_policy import BEFORE_AUDIENCE

    location = Policy(location_kinds=frozenset({"region_entry"}))
    given = {
        subscriber_block(None, "dial_114", POLICY),
        subscriber_block(PROFILE | {"consent_marketing": False}, "dial_114", POLICY),
        subscriber_block(PROFILE | {"consent_location": False}, "region_entry", location),
        subscriber_block(PROFILE | {"do_not_disturb": True}, "dial_114", POLICY),
    }
    (inactive,) = Subscriber().decide(trigger(), [campaign(status="paused")])
    (guarded,) = decide(trigger(), [campaign()], PROFILE, {}, Contacts(), POLICY, REF, TAG_CFG, None, {"c-114": "x"})
    assert given | {inactive.reason, guarded.reason} == set(BEFORE_AUDIENCE)


def test_a_budget_keeps_a_week_of_days_not_every_day():
    from udfs.decisions import BUDGET_DAYS_KEPT, charge_daily_budget

    spent: dict[str, int] = {}
    day_ms = 86_400_000
    for d in range(30):  # a month of one lead a day
        record = {"result": "lead", "trigger_ts": 1_793_548_800_000 + d * day_ms}
        assert charge_daily_budget(spent, 5, record, {"lead_id": f"l{d}"}, "Asia/Shanghai") is not None
    assert len(spent) == BUDGET_DAYS_KEPT + 1 and all(n == 1 for n in spent.values())


# --- offer variants ------------------------------------------------------------------------------------------------

VARIANTS = [
    {"id": "plain"},
    {"id": "call", "offer": "c-114-call", "message": "Call us about {offer_id}.", "channel": "outbound_call"},
]


def test_a_treatment_lead_offers_one_variant_and_says_which():
    c = campaign(channels=["sms", "outbound_call"], variants=VARIANTS)
    by_variant = {}
    for i in range(40):
        (d,) = Subscriber().decide(trigger(f"2026-11-02T10:{i:02d}:00"), [c])
        by_variant.setdefault(d.lead["variant_id"], d.lead)
        assert "variant_ids" not in d.lead and d.lead["reasons"][-1] == f"variant:{d.lead['variant_id']} (even)"
    plain, call = by_variant["plain"], by_variant["call"]
    assert (plain["offer_id"], plain["channel"], plain["channels"]) == ("c-114-offer", "sms", ["sms", "outbound_call"])
    assert plain["message"] == "Dear gotone customer, try c-114-offer."
    assert (call["offer_id"], call["product_id"]) == ("c-114-call", "c-114-call")
    assert (call["channel"], call["channels"]) == ("outbound_call", ["outbound_call", "sms"])
    assert call["message"] == "Call us about c-114-call."


def test_an_even_split_is_stable_and_about_even():
    c = campaign(variants=[{"id": v} for v in "abc"])
    got = [variants.even(c, f"l-{i}") for i in range(3000)]
    assert got == [variants.even(c, f"l-{i}") for i in range(3000)]  # the same lead, the same variant
    shares = {v.id: sum(g.id == v.id for g in got) / len(got) for v in c.variants}
    assert all(abs(share - 1 / 3) < 0.03 for share in shares.values()), shares


def test_a_control_lead_offers_no_variant_and_names_them_all():
    c = campaign(control_percent=100, variants=VARIANTS, channels=["sms", "outbound_call"])
    (d,) = Subscriber().decide(trigger(), [c])
    assert d.result == "control" and "variant_id" not in d.lead
    assert d.lead["variant_ids"] == ["plain", "call"] and d.lead["offer_id"] == "c-114-offer"


def test_an_adaptive_lead_records_the_counts_it_drew_from_and_draws_again_from_them():
    c = campaign(channels=["sms", "outbound_call"], variants=VARIANTS, selection="adaptive")
    counts = {"c-114": {"plain": variants.Counts(40, 1, 9), "call": variants.Counts(38, 9, 11)}}
    policy = replace(POLICY, variant_floor=0.1)
    seen = set()
    for i in range(30):
        trig = trigger(f"2026-11-02T10:{i:02d}:00")
        (d,) = decide(trig, [c], PROFILE, {}, Contacts(), policy, REF, TAG_CFG, counts)
        check(d)
        lead = d.lead
        recorded = {v: variants.Counts(**x) for v, x in lead["variant_counts"].items()}
        assert recorded == counts["c-114"]
        assert variants.thompson(c, lead["lead_id"], recorded, 0.1).id == lead["variant_id"]
        assert lead["reasons"][-1] == f"variant:{lead['variant_id']} (adaptive)"
        seen.add(lead["variant_id"])
    assert seen == {"plain", "call"}


def test_a_campaign_the_guardrail_paused_is_suppressed_with_its_reason_and_the_next_one_wins():
    harmful, other = campaign("c-harm", priority=30), campaign("c-other", priority=5)
    paused = {"c-harm": "uplift interval below zero"}
    ds = decide(trigger(), [harmful, other], PROFILE, {}, Contacts(), POLICY, REF, TAG_CFG, None, paused)
    for d in ds:
        check(d)
    assert outcome(ds) == [
        ("c-harm", "suppressed", "paused_by_guardrail", "uplift interval below zero"),
        ("c-other", "lead", None, None),
    ]
