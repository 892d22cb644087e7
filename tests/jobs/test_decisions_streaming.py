"""The decision job streaming over a real broker: campaigns published, paused and added while it runs take
effect without a restart; a do-not-disturb update and a consent revoked apply at once; after stop-with-savepoint
and a restart, campaigns (broadcast state) and cooldowns (keyed state) are still there."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.jobs.test_decisions import HANDSETS, PROFILES, REGIONS, _campaign, _trigger, t
from tests.support import TOUCHPOINT, make_settings
from touchpoint.clients import reference
from touchpoint.clients.kafka_io import RateLimitedProducer, advance_event_time, consume
from touchpoint.config import write_settings
from touchpoint.infra import stack
from touchpoint.runner.embedded import start, wait_running

pytestmark = pytest.mark.slow
#: Campaign and profile changes reach the job through their own Kafka sources: give them this long.
PROPAGATION_S = 3


def _send(settings, key: str, *records: dict) -> None:
    with RateLimitedProducer(settings) as p:
        for r in records:
            p.send(key, json.dumps(r).encode())


class Harness:
    """Produces to the job's input topics and reads its decisions, one step at a time."""

    def __init__(self, settings, bootstrap):
        self.settings, self.bootstrap, self.clock = settings, bootstrap, t(1, 10)
        self.seen: list[dict] = []

    def triggers(self, *records: dict, expect: int) -> list[tuple]:
        """Send triggers, move event time past them, return the next ``expect`` decisions."""
        _send(self.settings, "triggers", *records)
        self.clock = max([self.clock] + [int(r["ts"]) for r in records]) + 60_000
        advance_event_time(self.settings, "triggers", self.clock)
        topic = self.settings.topics.decisions
        got = consume(self.bootstrap, [topic], until=lambda o: len(o[topic]) >= len(self.seen) + expect, timeout_s=60)[
            topic
        ]
        new = [json.loads(x) for x in got][len(self.seen) :]
        self.seen += new
        return sorted((d["trigger_id"], d["campaign_id"], d["result"], d.get("reason")) for d in new)


@pytest.fixture
def harness(broker, tmp_path):
    suffix = uuid.uuid4().hex[:8]
    topics = {
        k: f"{k}-{suffix}"
        for k in (
            "triggers",
            "journey_events",
            "behaviour",
            "campaigns",
            "profiles",
            "regions",
            "handsets",
            "leads",
            "decisions",
            "dlq",
            "uplift",  # what the effect job feeds back: variant counts, paused campaigns (none here)
            "guardrail",
        )
    }
    stack.create_topics(broker, list(topics.values()), 1)
    ref = tmp_path / "reference"
    ref.mkdir()
    (ref / "profiles.csv").write_text(PROFILES)
    (ref / "handsets.csv").write_text(HANDSETS)
    (ref / "regions.csv").write_text(REGIONS)
    settings = make_settings(
        tmp_path / "work",
        broker,
        topics=topics,
        paths={"reference_dir": str(ref)},
        event_time={"idle_timeout_ms": 1000},
        flink={"checkpoint_interval_ms": 1000},
    )
    reference.publish(settings, ref)
    return Harness(settings, broker)


def test_campaign_changes_apply_while_running_and_state_survives_a_restart(harness, tmp_path):
    s = harness.settings
    c114 = _campaign("c114", {"trigger": {"kind": "dial_114"}, "cooldown_hours": 24})
    _send(s, "campaigns", c114)
    job = start("decisions", s)
    try:
        wait_running(job)
        assert harness.triggers(_trigger("t-1", 1, "dial_114", t(1, 10)), expect=1) == [("t-1", "c114", "lead", None)]

        # a poisoned trigger (its ts a string: SQL reads the number, the rules meet the string and raise) goes to
        # the DLQ as operator_error; the job does not fail and restart-loop on it, and decides the next trigger
        poisoned = _trigger("t-p", 7, "dial_114", t(1, 10, 5)) | {"ts": str(t(1, 10, 5))}
        assert harness.triggers(poisoned, _trigger("t-q", 7, "dial_114", t(1, 10, 6)), expect=1) == [
            ("t-q", "c114", "lead", None)
        ]
        dead = [json.loads(x) for x in consume(harness.bootstrap, [s.topics.dlq], idle_s=2, timeout_s=30)[s.topics.dlq]]
        assert [(d["source"], d["reason"], json.loads(d["raw"])["trigger_id"]) for d in dead] == [
            ("triggers", "operator_error", "t-p")
        ]
        assert dead[0]["detail"].startswith("TypeError: ")

        # pause c114 and add a hotline campaign, without touching the job
        hot = _campaign("chot", {"trigger": {"kind": "dial_hotline"}, "cooldown_hours": 24})
        _send(s, "campaigns", c114 | {"status": "paused"}, hot)
        time.sleep(PROPAGATION_S)
        assert harness.triggers(
            _trigger("t-2", 7, "dial_114", t(1, 11)), _trigger("t-3", 8, "dial_hotline", t(1, 11, 5)), expect=2
        ) == [("t-2", "c114", "suppressed", "campaign_inactive"), ("t-3", "chot", "lead", None)]

        # a do-not-disturb update applies to the next trigger
        profile = {
            "msisdn": "13900000007",
            "brand": "mzone",
            "plan": "m-28",
            "data_quota_mb": 300,
            "arpu_band": "mid",
            "age_band": "18-24",
            "consent_marketing": True,
            "consent_location": True,
            "do_not_disturb": True,
            "products": ["fetion"],
        }
        _send(s, "profiles", profile)
        time.sleep(PROPAGATION_S)
        assert harness.triggers(_trigger("t-4", 7, "dial_hotline", t(1, 12)), expect=1) == [
            ("t-4", "chot", "suppressed", "do_not_disturb")
        ]

        # 13900000001 revokes marketing consent in the CRM, whose export is published again: no more leads
        ref = s.paths.reference_dir
        revoked = PROFILES.replace("high,25-34,true,true,false,music_club", "high,25-34,false,true,false,music_club")
        assert revoked != PROFILES
        (ref / "profiles.csv").write_text(revoked)
        reference.publish(s, ref)
        time.sleep(PROPAGATION_S)
        assert harness.triggers(_trigger("t-7", 1, "dial_hotline", t(1, 12, 5)), expect=1) == [
            ("t-7", "chot", "suppressed", "no_consent")
        ]

        # location consent revoked mid-stream: location leads stop as soon as the profile change reaches the job.
        # Triggers keep coming meanwhile; from the first decided without consent on, none becomes a lead.
        mall = _campaign("cmall", {"trigger": {"kind": "region_entry", "params": {"region_kind": "mall"}}})
        located = profile | {"msisdn": "13900000006", "do_not_disturb": False}
        _send(s, "campaigns", mall)
        _send(s, "profiles", located)
        time.sleep(PROPAGATION_S)

        def entry(tid: str, minute: int) -> dict:
            return _trigger(tid, 6, "region_entry", t(1, 14, minute), region_id="r1", region_kind="mall")

        assert harness.triggers(entry("t-8", 0), expect=1) == [("t-8", "cmall", "lead", None)]
        _send(s, "profiles", located | {"consent_location": False})
        revoked_at, after = time.monotonic(), []
        for minute in range(1, 40):
            ((tid, _, result, reason),) = harness.triggers(entry(f"t-9-{minute:02d}", minute), expect=1)
            after.append((round(time.monotonic() - revoked_at, 1), tid, result, reason))
            if reason == "no_location_consent":
                break
        assert after[-1][2:] == ("suppressed", "no_location_consent"), after
        assert harness.triggers(entry("t-9-50", 50), expect=1) == [
            ("t-9-50", "cmall", "suppressed", "no_location_consent")
        ]
        leaked = [tid for _, tid, result, _ in after if result == "lead"]  # decided before the change arrived
        print(f"\nlocation consent revoked: decisions after it {after}")

        savepoint = job.stop_with_savepoint(tmp_path / "savepoints")
    finally:
        job.cancel()

    # restart from the savepoint: nothing is republished, yet the campaigns and H's cooldown are known
    job = start("decisions", s, restore=savepoint)
    try:
        wait_running(job)
        assert harness.triggers(
            _trigger("t-5", 8, "dial_hotline", t(1, 13)), _trigger("t-6", 5, "dial_hotline", t(1, 13, 5)), expect=2
        ) == [("t-5", "chot", "suppressed", "cooldown"), ("t-6", "chot", "lead", None)]
    finally:
        job.cancel()
    leads = consume(harness.bootstrap, [s.topics.leads], idle_s=2, timeout_s=30)[s.topics.leads]
    assert sorted(json.loads(x)["trigger_id"] for x in leads) == sorted(["t-1", "t-q", "t-3", "t-6", "t-8", *leaked])


def _run_command_setup(harness, tmp_path) -> Path:
    """For the `touchpoint run decisions` tests: the settings as a config file, campaign c114 published and
    trigger t-1 sent."""
    s = harness.settings
    _send(s, "campaigns", _campaign("c114", {"trigger": {"kind": "dial_114"}, "cooldown_hours": 24}))
    _send(s, "triggers", _trigger("t-1", 1, "dial_114", t(1, 10)))
    return write_settings(s, tmp_path / "config.yaml")


def _run_decisions(config: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [TOUCHPOINT, "run", "decisions", "--config", str(config), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_until(harness, config: Path, done, *extra: str) -> str:
    """Run `touchpoint run decisions` until ``done(decisions so far)`` holds, then SIGTERM it; its output."""
    topic = harness.settings.topics.decisions
    proc = _run_decisions(config, *extra)
    try:
        consume(
            harness.bootstrap,
            [topic],
            until=lambda o: done([json.loads(x) for x in o[topic]]),
            timeout_s=120,
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err[-2000:]
    return out


def test_run_command_stops_with_a_savepoint_and_resumes_from_it(harness, tmp_path):
    """`touchpoint run decisions --savepoint-dir` then `--from-savepoint`: the CLI path of the restart above."""
    s = harness.settings
    config = _run_command_setup(harness, tmp_path)

    out = _run_until(harness, config, lambda d: len(d) >= 1, "--savepoint-dir", str(tmp_path / "sp"))
    savepoint = next(line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("savepoint "))
    _send(s, "triggers", _trigger("t-2", 1, "dial_114", t(1, 11)))
    _run_until(harness, config, lambda d: len(d) >= 2, "--from-savepoint", savepoint)
    got = consume(harness.bootstrap, [s.topics.decisions], idle_s=2, timeout_s=30)[s.topics.decisions]
    assert sorted((d["trigger_id"], d["result"], d.get("reason")) for d in map(json.loads, got)) == [
        ("t-1", "lead", None),
        ("t-2", "suppressed", "cooldown"),
    ]


def test_run_fresh_starts_empty_and_reads_the_definitions_again(harness, tmp_path):
    """`touchpoint run decisions --fresh` after a run: no state, so t-1's cooldown is forgotten, yet the campaign and
    the profiles are read again from their topics (not from the group's committed offsets): t-2 of the same
    subscriber, an hour later, is a lead again, where a resumed run suppresses it (the test below)."""
    from touchpoint.clients.kafka_io import committed
    from touchpoint.flink.pipeline import default_group

    s = harness.settings
    config = _run_command_setup(harness, tmp_path)
    group, triggers = default_group(s, "decisions"), s.topics.triggers
    # stopped once a checkpoint has committed t-1's offset, so that the fresh run does not read t-1 again
    _run_until(
        harness, config, lambda d: len(d) >= 1 and committed(harness.bootstrap, group, [triggers])[triggers] >= 1
    )
    _send(s, "triggers", _trigger("t-2", 1, "dial_114", t(1, 11)))
    _run_until(harness, config, lambda d: any(x["trigger_id"] == "t-2" for x in d), "--fresh")
    got = consume(harness.bootstrap, [s.topics.decisions], idle_s=2, timeout_s=30)[s.topics.decisions]
    assert [(d["result"], d.get("reason")) for d in map(json.loads, got) if d["trigger_id"] == "t-2"] == [
        ("lead", None)
    ]


def test_run_killed_resumes_from_its_latest_checkpoint(harness, tmp_path):
    """`touchpoint run decisions` killed with SIGKILL, then started again the plain way: it resumes from its
    newest retained checkpoint, so campaigns and the cooldown are still known (nothing republished) and the
    trigger sent while it was down is decided once."""
    from touchpoint.flink import checkpoints

    s = harness.settings
    config = _run_command_setup(harness, tmp_path)
    topic = s.topics.decisions
    root = checkpoints.local_root(s, "decisions")

    def newest() -> int:
        done = checkpoints.completed(root) if root.is_dir() else []
        return int(done[-1].name.split("-")[1]) if done else 0

    proc = _run_decisions(config)
    try:
        consume(harness.bootstrap, [topic], until=lambda o: len(o[topic]) >= 1, timeout_s=120)
        # the checkpoint after next began after t-1 was decided: it holds the cooldown and t-1's offset
        target = newest() + 2
        deadline = time.monotonic() + 60
        while newest() < target and time.monotonic() < deadline:
            time.sleep(0.2)
        assert newest() >= target, "no checkpoint completed after the first decision"
    finally:
        proc.kill()  # SIGKILL: no cancel, no savepoint
        proc.communicate(timeout=60)

    _send(s, "triggers", _trigger("t-2", 1, "dial_114", t(1, 11)))
    proc = _run_decisions(config)
    try:
        consume(harness.bootstrap, [topic], until=lambda o: len(o[topic]) >= 2, timeout_s=120)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err[-2000:]
    assert "resuming from checkpoint" in out
    got = consume(harness.bootstrap, [topic], idle_s=2, timeout_s=30)[topic]
    assert sorted({(d["trigger_id"], d["result"], d.get("reason")) for d in map(json.loads, got)}) == [
        ("t-1", "lead", None),
        ("t-2", "suppressed", "cooldown"),
    ]
    leads = consume(harness.bootstrap, [s.topics.leads], idle_s=2, timeout_s=30)[s.topics.leads]
    assert [json.loads(x)["trigger_id"] for x in leads] == ["t-1"]
