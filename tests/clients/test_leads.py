"""`touchpoint leads tail` against the real broker: what an outbound system sees, where it resumes, how it stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.clients.topics import fresh_topic, run
from tests.support import TOUCHPOINT
from touchpoint import ROOT
from touchpoint.infra import stack
from touchpoint.schemas import errors

EXAMPLES = ROOT / "campaigns"

# kafka-python 3.0 loads its protocol schemas through a deprecated importlib.resources API
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated. Use files\\(\\) instead:DeprecationWarning")


# --- leads tail -----------------------------------------------------------------------------------


def make_lead(n: int, *, control: bool = False, created_at: int, msisdn: str = "13951234567") -> dict:
    ts = 1_793_586_012_000  # 2026-11-02 10:20:12 in Shanghai
    lead = {
        "lead_id": f"l-{n:020x}",
        "msisdn": msisdn,
        "campaign_id": "dial-114-12580",
        "offer_id": "12580-trial",
        "product_id": "12580",
        "channel": "sms",
        "channels": ["sms", "outbound_call"],
        "message": f'Call 12580 "now" #{n}',
        "trigger_id": f"t-{n:016x}",
        "trigger_kind": "dial_114",
        "trigger_ts": ts,
        "created_at": created_at,
        "deliver_at": ts + 3_600_000 * 11,
        "expires_at": ts + 48 * 3_600_000,
        "attribution_until": ts + 3_600_000 * 11 + 7 * 24 * 3_600_000,
        "control": control,
        "reasons": ["trigger:dial_114", "priority:30"],
    }
    assert errors("leads", lead) == []
    return lead


def produce(broker: str, topic: str, leads: list[dict]) -> None:
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": broker, "acks": "all"})
    for lead in leads:
        p.produce(topic, json.dumps(lead).encode(), key=lead["msisdn"].encode())
    assert p.flush(10) == 0


CREATED = 1_793_586_013_500  # 2026-11-02 10:20:13.5 in Shanghai


@pytest.mark.slow
def test_tail_from_beginning_skips_control(broker):
    topic = fresh_topic(broker, "cli-leads")
    produce(
        broker,
        topic,
        [
            make_lead(1, created_at=CREATED),
            make_lead(2, control=True, created_at=CREATED),
            make_lead(3, created_at=CREATED, msisdn="13800000003"),
        ],
    )
    env = {"TOUCHPOINT_KAFKA__BOOTSTRAP": broker, "TOUCHPOINT_TOPICS__LEADS": topic}
    out = run("leads", "tail", "--max", "2", "--from-beginning", "--timeout", "60", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "2026-11-02 10:20:13 l-00000000000000000001 13951234567 dial-114-12580 sms control=false "
        'deliver_at=2026-11-02T21:20:12 "Call 12580 \\"now\\" #1"',
        "2026-11-02 10:20:13 l-00000000000000000003 13800000003 dial-114-12580 sms control=false "
        'deliver_at=2026-11-02T21:20:12 "Call 12580 \\"now\\" #3"',
    ]
    assert "Traceback" not in out.stderr
    raw = run(
        "leads",
        "tail",
        "--json",
        "--include-control",
        "--from-beginning",
        "--max",
        "3",
        "--timeout",
        "60",
        "--group",
        "raw",
        env=env,
    )
    assert [json.loads(line)["lead_id"] for line in raw.stdout.splitlines()] == [
        "l-00000000000000000001",
        "l-00000000000000000002",
        "l-00000000000000000003",
    ]
    # asking for more than there is: stops at the timeout, exit 1 with one line
    more = run("leads", "tail", "--from-beginning", "--max", "3", "--timeout", "3", "--group", "more", env=env)
    assert more.returncode == 1 and len(more.stdout.splitlines()) == 2
    assert more.stderr.splitlines()[-1] == "touchpoint: error: leads: 2 of 3 leads within 3 s"


@pytest.mark.slow
def test_tail_new_leads_then_resume_after_ctrl_c(broker):
    topic = fresh_topic(broker, "cli-leads-new")
    env = {**os.environ, "TOUCHPOINT_KAFKA__BOOTSTRAP": broker, "TOUCHPOINT_TOPICS__LEADS": topic}
    old = int(time.time() * 1000) - 3_600_000
    produce(broker, topic, [make_lead(1, created_at=old)])  # before the tail started: not "new"
    proc = subprocess.Popen(
        [TOUCHPOINT, "leads", "tail", "--group", "outbound"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        ready = proc.stderr.readline()
        assert ready.startswith(f"leads: following {topic} at {broker} as group outbound, new leads only"), ready
        produce(broker, topic, [make_lead(2, created_at=int(time.time() * 1000))])
        assert " l-00000000000000000002 " in proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(30)
    finally:
        proc.kill()
    rest = proc.stderr.read()
    assert rc == 0 and "Traceback" not in rest and proc.stdout.read() == ""
    # the next run of the group resumes after what it printed, whatever the leads' created_at
    produce(broker, topic, [make_lead(3, created_at=old)])
    out = run("leads", "tail", "--group", "outbound", "--max", "1", "--timeout", "60", env=env)
    assert out.returncode == 0 and [line.split()[2] for line in out.stdout.splitlines()] == ["l-00000000000000000003"]
    assert "from the group's committed offsets" in out.stderr


@pytest.mark.slow
def test_no_broker_is_one_line_exit_1():
    env = {"TOUCHPOINT_KAFKA__BOOTSTRAP": f"127.0.0.1:{stack.free_port()}"}
    out = run("campaigns", "publish", str(EXAMPLES / "dial-114-12580.yaml"), env=env)
    assert out.returncode == 1 and out.stdout == "" and out.stderr.count("\n") == 1
    assert out.stderr.startswith("touchpoint: error: campaigns: 1 of 1 campaigns not published to campaigns at ")
    out = run("leads", "tail", "--timeout", "2", env=env)
    bootstrap = env["TOUCHPOINT_KAFKA__BOOTSTRAP"]
    assert out.returncode == 1 and out.stderr == f"touchpoint: error: leads: no Kafka broker answers at {bootstrap}\n"
