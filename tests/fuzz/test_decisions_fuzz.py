"""Hostile definitions and records through the decision job (replay): campaigns as a producer bypassing the CLI
might publish them, profile updates from a CRM, and triggers of any shape. The job finishes, and every line is
accounted for: a campaign is taken or dead-lettered, a profile update is taken or dead-lettered, and a trigger is
decided, dead-lettered, or (another kind) matches no campaign."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import strategies as st

from tests.fuzz.strategies import definitions, fixed_corpus, record_like, replay_output
from tests.jobs.test_decisions import HANDSETS, PROFILES, REGIONS, t
from tests.support import make_settings
from touchpoint import ROOT
from touchpoint.runner.embedded import replay
from udfs.campaigns import CampaignError, parse_campaign

pytestmark = pytest.mark.slow
N = 150  # of each: campaigns, profile updates, triggers

TRIGGER = {"trigger_id": "t", "msisdn": "13900000001", "kind": "dial_114", "ts": t(1, 10), "detected_at": t(1, 10)}
PROFILE = {
    "msisdn": "13900000005",
    "brand": "gotone",
    "plan": "g-58",
    "data_quota_mb": 500,
    "arpu_band": "mid",
    "age_band": "35-44",
    "consent_marketing": True,
    "consent_location": True,
    "do_not_disturb": False,
    "products": ["data_package_50"],
}


def corpus() -> dict[str, list]:
    """N of each input, the same every run (hypothesis explores its strategies, derandomized)."""
    campaign = yaml.safe_load((ROOT / "campaigns" / "dial-114-12580.yaml").read_text())
    out: dict[str, list] = {"campaigns": [], "profiles": [], "triggers": []}

    def collect(data: st.DataObject) -> None:
        c = data.draw(definitions(campaign))
        out["campaigns"].append(c if isinstance(c, dict) else {"not_a_mapping": c})
        out["profiles"].append(data.draw(record_like(PROFILE)))
        out["triggers"].append(data.draw(record_like(TRIGGER)))

    fixed_corpus(N, collect)
    return {k: v[:N] for k, v in out.items()}


def test_hostile_campaigns_profiles_and_triggers_are_each_accounted_for(tmp_path):
    inputs = corpus()
    inp = tmp_path / "in"
    (inp / "reference").mkdir(parents=True)
    (inp / "reference" / "profiles.csv").write_text(PROFILES)
    (inp / "reference" / "handsets.csv").write_text(HANDSETS)
    (inp / "reference" / "regions.csv").write_text(REGIONS)
    (inp / "campaigns").mkdir()
    for i, c in enumerate(inputs["campaigns"]):
        c = dict(c, id=f"c{i:03d}") if isinstance(c.get("id"), str) else c  # one campaign per file, ids apart
        (inp / "campaigns" / f"c{i:03d}.json").write_text(json.dumps(c))
    (inp / "profiles.jsonl").write_text("".join(json.dumps(p) + "\n" for p in inputs["profiles"]))
    triggers = []
    for i, x in enumerate(inputs["triggers"]):
        if isinstance(x, dict) and isinstance(x.get("trigger_id"), str):
            x = dict(x, trigger_id=f"t-{i:03d}")  # every trigger its own id: none is a redelivery
        triggers.append(json.dumps(x))
    (inp / "triggers.jsonl").write_text("".join(line + "\n" for line in triggers))
    (inp / "behaviour.jsonl").write_text("")
    out = tmp_path / "out"
    replay("decisions", make_settings(tmp_path / "work"), inp, out)

    dlq, decisions = replay_output(out, "dlq"), replay_output(out, "decisions")
    by_source: dict[str, list[dict]] = {}
    for d in dlq:
        by_source.setdefault(d["source"], []).append(d)

    # campaigns: exactly the ones the rules refuse are dead letters
    refused = 0
    for c in inputs["campaigns"]:
        try:
            parse_campaign(c)
        except CampaignError:
            refused += 1
    assert len(by_source.get("campaigns", [])) == refused > 0

    # triggers: each one decided, dead-lettered, or of a kind no campaign has (and a dial_114 one is decided if a
    # campaign for it is active, which the valid examples are)
    def ident(v) -> str:  # a trigger id may be any JSON value in these lines
        return json.dumps(v, sort_keys=True)

    decided = {ident(d["trigger_id"]) for d in decisions}
    dead_lines = {d["raw"] for d in by_source.get("triggers", [])}
    dead = [json.loads(raw) for raw in dead_lines if raw.startswith("{")]
    dead_ids = {ident(d.get("trigger_id")) for d in dead}
    dial = 0
    for line in triggers:
        rec = json.loads(line)
        if isinstance(rec, dict) and rec.get("kind") == "dial_114":
            dial += 1
        accounted = line in dead_lines or (
            isinstance(rec, dict)
            and (ident(rec.get("trigger_id")) in decided | dead_ids or rec.get("kind") != "dial_114")
        )
        assert accounted, line
    assert len(decided) + len(dead_lines) >= dial
    assert decided and by_source.get("triggers")

    # profile updates: every dead letter is one of the lines, with a reason
    lines = {json.dumps(p) for p in inputs["profiles"]}
    assert all(d["raw"] in lines and d["reason"] for d in by_source.get("profiles", []))
    assert set(by_source) <= {"campaigns", "triggers", "profiles"}
