"""`touchpoint campaigns publish|validate` and `touchpoint leads tail` against the real broker, plus the
file-level rules of the campaign loader (no broker needed)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from touchpoint import ROOT
from touchpoint.infra import stack
from touchpoint.clients.campaigns import load_file
from touchpoint.cli import main
from touchpoint.schemas import errors
from tests.support import TOUCHPOINT

# kafka-python 3.0 loads its protocol schemas through a deprecated importlib.resources API
pytestmark = pytest.mark.filterwarnings("ignore:.*is deprecated. Use files\\(\\) instead:DeprecationWarning")

EXAMPLES = ROOT / "campaigns"


def run(*args, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([TOUCHPOINT, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def fresh_topic(broker: str, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    stack.create_topics(broker, [name], 1)
    return name


def read_back(broker: str, topic: str, idle_s: float = 2.0) -> list[tuple[bytes | None, bytes]]:
    """(key, value) of every record on a one-partition topic, read until it has been quiet for ``idle_s``."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=broker, group_id=None, enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    out, last = [], time.monotonic()
    while time.monotonic() - last < idle_s:
        for records in consumer.poll(timeout_ms=200).values():
            out += [(r.key, r.value) for r in records]
            last = time.monotonic()
    consumer.close()
    return out


# --- the loader and validation (no broker) ----------------------------------------------------------


def cli(capsys, *args) -> tuple[int, str, str]:
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_validate_examples(capsys):
    rc, out, err = cli(capsys, "campaigns", "validate", str(EXAMPLES))
    ids = [p.stem for p in sorted(EXAMPLES.glob("*.yaml"))]
    kinds = [load_file(p)[0]["trigger"]["kind"] for p in sorted(EXAMPLES.glob("*.yaml"))]
    assert rc == 0 and err == ""
    assert out.splitlines() == [f"valid {i} (active, {k})" for i, k in zip(ids, kinds)]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


MINIMAL = """\
id: {id}
name: Test
status: paused
start: 2026-11-01T00:00:00+08:00
end: 2026-12-01T00:00:00+08:00
trigger: {{kind: dial_114}}
offer: {{id: o, message: "Hi {{brand}}"}}
channels: [sms]
priority: 1
"""


def test_unquoted_yaml_timestamps_stay_strings(tmp_path, capsys):
    f = _write(tmp_path / "c.yaml", MINIMAL.format(id="unquoted"))
    assert load_file(f)[0]["start"] == "2026-11-01T00:00:00+08:00"
    assert cli(capsys, "campaigns", "validate", str(f)) == (0, "valid unquoted (paused, dial_114)\n", "")


def test_list_files_json_files_and_dry_run(tmp_path, capsys):
    two = json.dumps([load_file(EXAMPLES / "dial-114-12580.yaml")[0], load_file(EXAMPLES / "roam-out-pack.yaml")[0]])
    _write(tmp_path / "two.json", two)
    _write(tmp_path / "one.yml", MINIMAL.format(id="one"))
    _write(tmp_path / "notes.txt", "not a campaign")  # other suffixes in a directory are ignored
    rc, out, _ = cli(capsys, "campaigns", "publish", "--dry-run", str(tmp_path))
    assert rc == 0
    assert out.splitlines() == ["valid one (paused, dial_114)", "valid dial-114-12580 (active, dial_114)",
                                "valid roam-out-pack (active, roam_out)"]


@pytest.mark.parametrize("name, text, message", [
    ("bad.yaml", "id: [unclosed", "not valid YAML: "),
    ("bad.json", '{"id": ', "not valid JSON: "),
    ("empty.yaml", "", "holds no campaign"),
    ("bad.yaml", MINIMAL.format(id="x").replace("dial_114", "dial_115"), "trigger.kind: 'dial_115' is not one of"),
    ("bad.yaml", MINIMAL.format(id="x").replace("{brand}", "{name}"), "offer.message: unknown placeholder {name}"),
    ("bad.yaml", MINIMAL.format(id="x").replace("priority: 1", "priority: 1\ncolour: red"),
     "colour: is not a known field"),
])
def test_file_errors_are_one_line(tmp_path, capsys, name, text, message):
    f = _write(tmp_path / name, text)
    rc, out, err = cli(capsys, "campaigns", "validate", str(f))
    assert rc == 1 and out == ""
    assert err.startswith(f"touchpoint: error: campaigns: {f}: {message}") and err.count("\n") == 1, err


def test_list_entry_and_duplicate_errors(tmp_path, capsys):
    good, bad = load_file(EXAMPLES / "dial-114-12580.yaml")[0], load_file(EXAMPLES / "roam-out-pack.yaml")[0]
    f = _write(tmp_path / "list.json", json.dumps([good, dict(bad, priority="high")]))
    assert cli(capsys, "campaigns", "validate", str(f))[2] == (
        f"touchpoint: error: campaigns: {f}[1]: priority: 'high' is not of type 'integer'\n")
    shutil.copy(EXAMPLES / "dial-114-12580.yaml", tmp_path / "a.yaml")
    shutil.copy(EXAMPLES / "dial-114-12580.yaml", tmp_path / "b.yaml")
    f.unlink()
    rc, _, err = cli(capsys, "campaigns", "validate", str(tmp_path))
    assert rc == 1 and err == (f"touchpoint: error: campaigns: {tmp_path / 'b.yaml'}: id: duplicate id "
                               f"'dial-114-12580', also in {tmp_path / 'a.yaml'}\n")
    # the same file named twice is not a duplicate
    assert cli(capsys, "campaigns", "validate", str(tmp_path / "a.yaml"), str(tmp_path / "a.yaml"))[0] == 0


def test_missing_paths(tmp_path, capsys):
    assert cli(capsys, "campaigns", "validate", str(tmp_path / "nope"))[2] == (
        f"touchpoint: error: campaigns: {tmp_path / 'nope'}: not found\n")
    assert cli(capsys, "campaigns", "validate", str(tmp_path))[2] == (
        f"touchpoint: error: campaigns: {tmp_path}: no *.yaml, *.yml, *.json files\n")


# --- publishing to the broker ---------------------------------------------------------------------


@pytest.mark.slow
def test_publish_examples(broker):
    topic = fresh_topic(broker, "cli-campaigns")
    out = run("campaigns", "publish", str(EXAMPLES),
              env={"TOUCHPOINT_KAFKA__BOOTSTRAP": broker, "TOUCHPOINT_TOPICS__CAMPAIGNS": topic})
    assert out.returncode == 0, out.stderr
    files = sorted(EXAMPLES.glob("*.yaml"))
    objs = [load_file(p)[0] for p in files]
    assert out.stdout.splitlines() == [f"published {o['id']} ({o['status']}, {o['trigger']['kind']})" for o in objs]
    got = read_back(broker, topic)
    assert [k.decode() for k, _ in got] == [p.stem for p in files]  # keyed by id, in file order
    for (_, value), obj in zip(got, objs):
        assert json.loads(value) == obj                                  # exactly the file's content
        assert value == json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()  # compact


@pytest.mark.slow
def test_invalid_file_publishes_nothing(broker, tmp_path):
    topic = fresh_topic(broker, "cli-campaigns-bad")
    env = {"TOUCHPOINT_KAFKA__BOOTSTRAP": broker, "TOUCHPOINT_TOPICS__CAMPAIGNS": topic}
    for p in sorted(EXAMPLES.glob("*.yaml"))[:3]:
        shutil.copy(p, tmp_path / p.name)
    bad = tmp_path / "zz-bad.yaml"
    bad.write_text((EXAMPLES / "mall-entry-shop.yaml").read_text().replace("id: mall-entry-shop", "id: zz-bad")
                   .replace("- {field: age_band, op: in,", "- {field: shoe_size, op: in,"))
    out = run("campaigns", "publish", str(tmp_path), env=env)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.startswith(f"touchpoint: error: campaigns: {bad}: audience.static[0].field: unknown field "
                                 "'shoe_size'") and out.stderr.count("\n") == 1
    # neither validate nor a dry run publishes
    assert run("campaigns", "validate", str(EXAMPLES), env=env).returncode == 0
    assert run("campaigns", "publish", "--dry-run", str(EXAMPLES), env=env).returncode == 0
    assert read_back(broker, topic) == []


# --- leads tail -----------------------------------------------------------------------------------


def make_lead(n: int, *, control: bool = False, created_at: int, msisdn: str = "13951234567") -> dict:
    ts = 1_793_586_012_000  # 2026-11-02 10:20:12 in Shanghai
    lead = {"lead_id": f"l-{n:020x}", "msisdn": msisdn, "campaign_id": "dial-114-12580", "offer_id": "12580-trial",
            "channel": "sms", "channels": ["sms", "outbound_call"],
            "message": f"Call 12580 \"now\" #{n}", "trigger_id": f"t-{n:016x}", "trigger_kind": "dial_114",
            "trigger_ts": ts, "created_at": created_at, "deliver_at": ts + 3_600_000 * 11,
            "expires_at": ts + 48 * 3_600_000, "control": control, "reasons": ["trigger:dial_114", "priority:30"]}
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
    produce(broker, topic, [make_lead(1, created_at=CREATED), make_lead(2, control=True, created_at=CREATED),
                            make_lead(3, created_at=CREATED, msisdn="13800000003")])
    env = {"TOUCHPOINT_KAFKA__BOOTSTRAP": broker, "TOUCHPOINT_TOPICS__LEADS": topic}
    out = run("leads", "tail", "--max", "2", "--from-beginning", "--timeout", "60", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        '2026-11-02 10:20:13 l-00000000000000000001 13951234567 dial-114-12580 sms control=false '
        'deliver_at=2026-11-02T21:20:12 "Call 12580 \\"now\\" #1"',
        '2026-11-02 10:20:13 l-00000000000000000003 13800000003 dial-114-12580 sms control=false '
        'deliver_at=2026-11-02T21:20:12 "Call 12580 \\"now\\" #3"']
    assert "Traceback" not in out.stderr
    raw = run("leads", "tail", "--json", "--include-control", "--from-beginning", "--max", "3", "--timeout", "60",
              "--group", "raw", env=env)
    assert [json.loads(line)["lead_id"] for line in raw.stdout.splitlines()] == [
        "l-00000000000000000001", "l-00000000000000000002", "l-00000000000000000003"]
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
    proc = subprocess.Popen([TOUCHPOINT, "leads", "tail", "--group", "outbound"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
