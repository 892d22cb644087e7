"""The decision job in replay: a hand-written scenario whose exact leads and decisions are asserted, covering
every contact-policy rule through the real Flink job (ordering, keyed and broadcast state, the budget step)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.support import csv_header, make_settings
from touchpoint.config import load_settings
from touchpoint.runner.embedded import replay
from touchpoint.schemas import errors
from udfs.campaigns import parse_campaign
from udfs.contact_policy import lead_id
from udfs.variants import Counts, thompson

pytestmark = pytest.mark.slow
CST = timezone(timedelta(hours=8))
HOUR = 3_600_000
MB = 1_048_576


def t(day: int, hh: int, mm: int = 0) -> int:
    """ms of 2026-11-(02+day) hh:mm, Asia/Shanghai."""
    return int(datetime(2026, 11, 2 + day, hh, mm, tzinfo=CST).timestamp() * 1000)


PROFILES = (
    csv_header("profiles")
    + """13900000001,460001234500001,gotone,g-88,1024,100,high,25-34,true,true,false,music_club
13900000002,460001234500002,mzone,m-18,0,0,low,18-24,false,true,false,
13900000003,460001234500003,mzone,m-18,0,0,low,18-24,true,false,false,
13900000004,460001234500004,easyown,e-8,0,0,low,55+,true,true,true,
13900000005,460001234500005,gotone,g-58,500,10,mid,35-44,true,true,false,data_package_50
13900000007,460001234500007,mzone,m-28,300,0,mid,18-24,true,true,false,fetion
13900000008,460001234500008,gotone,g-128,2048,0,vip,45-54,true,true,false,g3_basic
13900000009,460001234500009,gotone,g-58,500,0,mid,25-34,true,true,false,
"""
)
HANDSETS = "tac,brand,model,tier,g3_capable\n35000001,Nokia,N1,low,false\n35000002,Huawei,H3,high,true\n"
REGIONS = (
    "region_id,name,kind,watched,lat,lon\nr1,Xinjiekou Mall,mall,true,32.04,118.78\n"
    "r2,Nanda Campus,campus,true,32.05,118.77\n"
)

CAMPAIGNS = {
    "c114": {
        "trigger": {"kind": "dial_114"},
        "priority": 10,
        "cooldown_hours": 24,
        "offer": {"id": "o-12580", "message": "Hi {brand} {msisdn_tail}, try 12580"},
    },
    "c114-vip": {
        "trigger": {"kind": "dial_114"},
        "priority": 20,
        "audience": {"static": [{"field": "arpu_band", "op": "in", "value": ["vip"]}]},
    },
    "cpaused": {"trigger": {"kind": "dial_hotline"}, "status": "paused", "priority": 50},
    "cdata": {
        "trigger": {"kind": "dial_hotline"},
        "priority": 8,
        "audience": {"dynamic": [{"field": "data_mb_24h", "op": "gte", "value": 1}]},
    },
    "chotline2": {"trigger": {"kind": "dial_hotline"}, "priority": 3},
    "cmall": {
        "trigger": {"kind": "region_entry", "params": {"region_kind": "mall"}},
        "priority": 5,
        "offer": {"id": "o-mall", "message": "Welcome to {region_name}"},
    },
    "ccap": {"trigger": {"kind": "abnormal_usage"}, "priority": 1},
    "cbudget": {"trigger": {"kind": "power_on"}, "priority": 1, "daily_budget": 1},
    "ccontrol": {"trigger": {"kind": "call_forward_set"}, "priority": 1, "control_percent": 100},
    "cadaptive": {
        "trigger": {"kind": "quota_20mb"},
        "priority": 1,
        "variants": [{"id": "a"}, {"id": "b", "message": "Offer b for you"}],
        "selection": "adaptive",
    },
    "chandset": {
        "trigger": {"kind": "handset_change", "params": {"new_g3_capable": True}},
        "priority": 1,
        "offer": {"id": "o-bundle", "message": "Your new {handset_model} deserves G3"},
    },
}


def _campaign(cid: str, spec: dict) -> dict:
    base = {
        "id": cid,
        "name": cid,
        "status": "active",
        "start": "2026-11-01T00:00:00+08:00",
        "end": "2027-01-31T23:59:59+08:00",
        "offer": {"id": f"o-{cid}", "message": "Offer for you"},
        "channels": ["sms"],
        "priority": 1,
    }
    return base | spec


def _trigger(tid: str, n: int, kind: str, ts: int, **context) -> dict:
    return {
        "trigger_id": tid,
        "msisdn": f"1390000000{n}",
        "kind": kind,
        "ts": ts,
        "detected_at": ts,
        "context": context,
    }


TRIGGERS = [
    _trigger("t-a1", 1, "dial_114", t(1, 10, 10), called_number="114"),
    _trigger("t-a2", 1, "dial_114", t(1, 11), called_number="114"),
    _trigger("t-h1", 8, "dial_hotline", t(1, 10, 30), called_number="10086"),
    _trigger("t-h2", 8, "dial_hotline", t(1, 12, 30), called_number="10086"),
    _trigger("t-b1", 2, "dial_114", t(1, 10), called_number="114"),
    _trigger("t-c1", 3, "region_entry", t(1, 10), region_id="r1", region_kind="mall"),
    _trigger("t-d1", 4, "dial_114", t(1, 10), called_number="114"),
    _trigger("t-f1", 6, "dial_114", t(1, 10), called_number="114"),
    _trigger("t-g1", 7, "region_entry", t(1, 10), region_id="r1", region_kind="mall"),
    _trigger("t-g2", 7, "region_entry", t(1, 11), region_id="r2", region_kind="campus"),
    _trigger("t-e1", 5, "abnormal_usage", t(1, 10), hour_start=t(1, 10), bytes=600 * MB),
    _trigger("t-e2", 5, "abnormal_usage", t(1, 14), hour_start=t(1, 14), bytes=600 * MB),
    _trigger("t-e3", 5, "abnormal_usage", t(1, 18), hour_start=t(1, 18), bytes=600 * MB),
    _trigger("t-e4", 5, "abnormal_usage", t(2, 9), hour_start=t(2, 9), bytes=600 * MB),
    _trigger("t-e5", 5, "abnormal_usage", t(3, 11), hour_start=t(3, 11), bytes=600 * MB),
    _trigger("t-a3", 1, "power_on", t(1, 13), off_minutes=300),
    _trigger("t-g4", 7, "power_on", t(1, 13, 30), off_minutes=300),
    _trigger("t-h3", 8, "power_on", t(2, 13), off_minutes=300),
    _trigger("t-g3", 7, "call_forward_set", t(1, 15), forward_to="13800000000"),
    _trigger("t-a4", 1, "handset_change", t(1, 22, 30), new_tac="35000002", new_model="H3", new_g3_capable=True),
    _trigger("t-c2", 3, "handset_change", t(1, 12), new_tac="35000001", new_model="N1", new_g3_capable=False),
    *(_trigger(f"t-v{i}", 9, "quota_20mb", t(1, 10 + i), threshold_mb=20, remaining_bytes=0) for i in range(3)),
]

#: The effect job's counts for the adaptive campaign (its variant groups of the uplift topic): the last good
#: record of each variant is what its leads draw from; the others change nothing and go to the DLQ.
COUNTS = {"a": {"leads": 10, "converted": 0, "version": 1}, "b": {"leads": 10, "converted": 9, "version": 2}}


def _counts(variant: str, leads: int, converted: int, version: int) -> str:
    return json.dumps(
        {
            "uplift_id": f"variant|cadaptive|||{variant}",
            "scope": "variant",
            "campaign_id": "cadaptive",
            "variant_id": variant,
            "treatment_leads": leads,
            "treatment_converted": converted,
            "version": version,
        }
    )


#: The guardrail topic: chotline2 paused; cmall paused, then resumed by a marketer; one record no state can be read
#: from (dead-lettered).
GUARDRAIL = [
    json.dumps(
        {
            "campaign_id": "chotline2",
            "state": "paused",
            "by": "guardrail",
            "reason": "uplift interval below zero",
            "ts": 1,
        }
    ),
    json.dumps(
        {"campaign_id": "cmall", "state": "paused", "by": "guardrail", "reason": "uplift interval below zero", "ts": 1}
    ),
    json.dumps({"campaign_id": "cmall", "state": "active", "by": "marketer", "ts": 2}),
    json.dumps({"campaign_id": "c114", "state": "gone", "by": "guardrail", "ts": 3}),
]

UPLIFT = [
    _counts("a", 10, 0, 1),
    _counts("b", 10, 9, 2),
    _counts("a", 50, 50, 1),  # stale: a version already held
    _counts("b", 5, 9, 3),  # corrupt: more conversions than leads
    '{"scope": "variant", "campaign_id": ',  # cut off
    json.dumps({"uplift_id": "campaign|cadaptive||", "scope": "campaign", "campaign_id": "cadaptive"}),  # not counts
]

#: Bad input lines: each reaches the DLQ with its reason and field, none stops the job.
BAD_TRIGGERS = [
    '{"trigger_id": "t-x1", "msisdn": "13900000001", "kind": "dial_114", "ts": 17',  # cut off
    json.dumps({"trigger_id": "t-x2", "msisdn": "13900000001", "ts": t(1, 10)}),
    json.dumps({"trigger_id": "t-x3", "msisdn": "13900000001", "kind": "dial_114", "ts": "soon"}),
]

EXPECTED_DECISIONS = {
    ("t-a1", "c114"): ("lead", None),
    ("t-a1", "c114-vip"): ("suppressed", "audience"),
    ("t-a2", "c114"): ("suppressed", "cooldown"),
    ("t-a2", "c114-vip"): ("suppressed", "audience"),
    ("t-h1", "cpaused"): ("suppressed", "campaign_inactive"),
    ("t-h1", "cdata"): ("suppressed", "audience"),
    ("t-h1", "chotline2"): ("suppressed", "paused_by_guardrail"),
    ("t-h2", "cpaused"): ("suppressed", "campaign_inactive"),
    ("t-h2", "cdata"): ("lead", None),
    ("t-h2", "chotline2"): ("suppressed", "paused_by_guardrail"),
    ("t-b1", "c114"): ("suppressed", "no_consent"),
    ("t-b1", "c114-vip"): ("suppressed", "no_consent"),
    ("t-c1", "cmall"): ("suppressed", "no_location_consent"),
    ("t-d1", "c114"): ("suppressed", "do_not_disturb"),
    ("t-d1", "c114-vip"): ("suppressed", "do_not_disturb"),
    ("t-f1", "c114"): ("suppressed", "no_profile"),
    ("t-f1", "c114-vip"): ("suppressed", "no_profile"),
    ("t-g1", "cmall"): ("lead", None),
    ("t-e1", "ccap"): ("lead", None),
    ("t-e2", "ccap"): ("lead", None),
    ("t-e3", "ccap"): ("lead", None),
    ("t-e4", "ccap"): ("suppressed", "contact_cap"),
    ("t-e5", "ccap"): ("lead", None),
    ("t-a3", "cbudget"): ("lead", None),
    ("t-g4", "cbudget"): ("suppressed", "budget"),
    ("t-h3", "cbudget"): ("lead", None),
    ("t-g3", "ccontrol"): ("control", None),
    ("t-a4", "chandset"): ("lead", "deferred_quiet_hours"),
    ("t-v0", "cadaptive"): ("lead", None),
    ("t-v1", "cadaptive"): ("lead", None),
    ("t-v2", "cadaptive"): ("lead", None),
}


@pytest.fixture(scope="module")
def decided(tmp_path_factory):
    inp = tmp_path_factory.mktemp("dec-in")
    (inp / "reference").mkdir()
    (inp / "reference" / "profiles.csv").write_text(PROFILES)
    (inp / "reference" / "handsets.csv").write_text(HANDSETS)
    (inp / "reference" / "regions.csv").write_text(REGIONS)
    (inp / "campaigns").mkdir()
    for cid, spec in CAMPAIGNS.items():
        (inp / "campaigns" / f"{cid}.json").write_text(json.dumps(_campaign(cid, spec)))
    bad = _campaign("cbad", {"trigger": {"kind": "dial_114"}, "priority": "high"})
    (inp / "campaigns" / "zz-bad.json").write_text(json.dumps(bad))
    # The first trigger is delivered twice (at-least-once upstream): it must be decided once.
    lines = [json.dumps(x) for x in TRIGGERS + [TRIGGERS[0]]] + BAD_TRIGGERS
    (inp / "triggers.jsonl").write_text("".join(x + "\n" for x in lines))
    (inp / "uplift.jsonl").write_text("".join(x + "\n" for x in UPLIFT))
    (inp / "guardrail.jsonl").write_text("".join(x + "\n" for x in GUARDRAIL))
    buckets = [
        # 0.5 MB in the hour before t-h1's hour, 100 MB in t-h1's own hour (not visible to t-h1, visible to t-h2)
        {"msisdn": "13900000008", "hour_start": t(1, 9), "bytes_up": 0, "bytes_down": MB // 2, "last_tac": "35000001"},
        {"msisdn": "13900000008", "hour_start": t(1, 10), "bytes_up": 0, "bytes_down": 100 * MB},
        {"msisdn": "13900000001", "hour_start": t(1, 9), "calls_mo": 1, "last_tac": "35000001"},
    ]
    base = {
        "calls_mo": 0,
        "calls_mt": 0,
        "call_seconds": 0,
        "sms": 0,
        "bytes_up": 0,
        "bytes_down": 0,
        "g3_bytes": 0,
        "hotline_dials": 0,
        "distinct_cells": 1,
        "roaming": False,
    }
    (inp / "behaviour.jsonl").write_text(
        "".join(json.dumps(base | b) + "\n" for b in buckets) + '{"msisdn": "13900000001", "calls_mo": 3}\n'
    )
    out = tmp_path_factory.mktemp("dec-out")
    replay("decisions", make_settings(tmp_path_factory.mktemp("w")), inp, out)

    def read(name):
        return [json.loads(x) for x in (out / f"{name}.jsonl").read_text().splitlines() if x.strip()]

    return read("decisions"), read("leads"), read("dlq")


def test_every_decision_is_the_expected_one(decided):
    decisions, _, _ = decided
    got = {(d["trigger_id"], d["campaign_id"]): (d["result"], d.get("reason")) for d in decisions}
    assert len(decisions) == len(got), "a trigger was decided twice"
    assert got == EXPECTED_DECISIONS
    assert all(errors("decisions", d) == [] for d in decisions)


def test_suppressions_say_why(decided):
    decisions, _, _ = decided
    detail = {(d["trigger_id"], d["campaign_id"]): d.get("detail") for d in decisions}
    # the trigger's own hour (100 MB) is not part of its 24 h behaviour
    assert detail[("t-h1", "cdata")] == "data_mb_24h gte 1 (is 0.5)"
    assert detail[("t-a1", "c114-vip")] == "arpu_band in ['vip'] (is 'high')"
    assert detail[("t-h2", "chotline2")] == "uplift interval below zero"
    assert detail[("t-g4", "cbudget")] == "1 leads on 2026-11-03"


def test_leads_are_exact(decided):
    decisions, leads, _ = decided
    assert all(errors("leads", x) == [] for x in leads)
    got = {(x["trigger_id"], x["campaign_id"]): x for x in leads}
    want = {k for k, (result, _) in EXPECTED_DECISIONS.items() if result in ("lead", "control")}
    assert set(got) == want
    for (tid, cid), lead in got.items():
        trig = next(x for x in TRIGGERS if x["trigger_id"] == tid)
        assert lead["lead_id"] == lead_id(trig["msisdn"], cid, tid)
        assert lead["expires_at"] == trig["ts"] + 48 * HOUR
        assert lead["control"] == (cid == "ccontrol")
    assert got[("t-a1", "c114")]["message"] == "Hi gotone 0001, try 12580"
    assert got[("t-g1", "cmall")]["message"] == "Welcome to Xinjiekou Mall"
    # the handset comes from the trigger (new TAC), not from the last behaviour bucket
    deferred = got[("t-a4", "chandset")]
    assert deferred["message"] == "Your new H3 deserves G3"
    assert deferred["deliver_at"] == t(2, 8) and "deferred:quiet_hours" in deferred["reasons"]
    assert got[("t-a1", "c114")]["deliver_at"] == t(1, 10, 10)
    # the adaptive campaign's leads drew from the effect job's last good counts, and say so
    adaptive = parse_campaign(_campaign("cadaptive", CAMPAIGNS["cadaptive"]))
    counts = {v: Counts(**c) for v, c in COUNTS.items()}
    floor = load_settings().decisions.variant_floor_percent / 100
    for lead in (x for x in leads if x["campaign_id"] == "cadaptive"):
        assert lead["variant_counts"] == COUNTS
        assert lead["variant_id"] == thompson(adaptive, lead["lead_id"], counts, floor).id
    # every decision of a lead names it
    lead_ids = {d["lead_id"] for d in decisions if "lead_id" in d}
    assert lead_ids == {x["lead_id"] for x in leads}


def test_bad_input_goes_to_the_dlq_and_the_rest_runs(decided):
    _, _, dlq = decided
    got = sorted((d["source"], d["reason"], d["detail"].split(":")[0]) for d in dlq)
    assert got == [
        ("behaviour", "missing_field", "hour_start"),
        ("campaigns", "invalid_campaign", "priority"),
        ("guardrail", "invalid_value", "state"),
        ("triggers", "bad_json", got[3][2]),
        ("triggers", "invalid_value", "ts"),
        ("triggers", "missing_field", "kind"),
        ("uplift", "bad_json", got[6][2]),
        ("uplift", "invalid_value", "treatment_converted"),
        ("uplift", "stale_counts", "version 1, held 1"),
    ]
    assert all(errors("dlq", d) == [] for d in dlq)


def journey_steps(out: Path) -> list[dict]:
    """The trial journeys' steps of a replay: triggers for the decision job like the trigger job's."""
    from udfs.journeys import STEP_KIND

    path = out / "journey-events.jsonl"
    return [e for e in map(json.loads, path.open()) if e["kind"] == STEP_KIND] if path.exists() else []


def _sequential_reference(city: Path, settings, out: Path) -> tuple[dict, dict]:
    """The same decisions computed without Flink: every trigger of the replay in ts order through the pure
    rules, with all behaviour buckets and profiles at hand. (decision key -> outcome, lead id -> lead)."""
    from touchpoint.clients.campaigns import files, load_file
    from touchpoint.reference import read_reference_csv
    from udfs.behaviour import compact
    from udfs.campaigns import parse_campaign
    from udfs.contact_policy import Policy
    from udfs.decisions import Reference, decide_in_order

    ref_dir = city / "reference"
    profiles = {r["msisdn"]: r for r in read_reference_csv(ref_dir / "profiles.csv")}
    ref = Reference(
        {r["tac"]: r for r in read_reference_csv(ref_dir / "handsets.csv")},
        {r["region_id"]: r for r in read_reference_csv(ref_dir / "regions.csv")},
    )
    campaigns = [parse_campaign(o) for f in files([str(settings.paths.campaigns)]) for o in load_file(f)]
    buckets: dict[str, dict] = {}
    for b in map(json.loads, (out / "behaviour.jsonl").open()):
        buckets.setdefault(b["msisdn"], {})[b["hour_start"]] = compact(b)
    policy = Policy.from_settings(settings.decisions)
    triggers = list(map(json.loads, (out / "triggers.jsonl").open())) + journey_steps(out)
    decisions, leads = {}, {}
    for record, lead in decide_in_order(triggers, campaigns, profiles, buckets, policy, ref, settings.tags):
        key = (record["trigger_id"], record["campaign_id"])
        decisions[key] = (record["result"], record.get("reason"), record.get("detail"))
        if lead:
            leads[lead["lead_id"]] = lead
    return decisions, leads


def test_city_replay_equals_the_rules_applied_in_order(replayed_city):
    """At city scale (every example campaign, 250 subscribers, 30 h) the job's decisions and leads are exactly
    the pure rules applied trigger by trigger in ts order: the job's keying, ordering, state and budget step
    add nothing and lose nothing."""
    city, settings, out = replayed_city
    want_decisions, want_leads = _sequential_reference(city, settings, out)
    got = [json.loads(x) for x in (out / "decisions.jsonl").open()]
    got_decisions = {(d["trigger_id"], d["campaign_id"]): (d["result"], d.get("reason"), d.get("detail")) for d in got}
    assert len(got) == len(got_decisions)
    results = {r for r, _, _ in want_decisions.values()}
    assert {"lead", "control", "suppressed"} <= results, "the city must exercise leads, control and suppression"
    assert len({c for _, c in want_decisions}) >= 8, "most example campaigns should see decisions"
    assert got_decisions == want_decisions
    got_leads = {x["lead_id"]: x for x in map(json.loads, (out / "leads.jsonl").open())}
    assert {k: {f: v for f, v in x.items() if f != "created_at"} for k, x in got_leads.items()} == want_leads
