"""A real standalone Flink cluster started from the PyFlink package (`touchpoint cluster up`), every step through
the CLI as an operator runs it:

- ingest submitted at parallelism 2 over 4 partitions loses nothing when a TaskManager is killed with SIGKILL
  mid-stream (the job restarts from its checkpoint once `cluster up` has replaced the TaskManager); `jobs stop`
  takes a savepoint that `submit --from-savepoint` resumes from, and `jobs cancel` ends it;
- the pipeline's events and decisions jobs at parallelism 2, over raw lines keyed as a network's producers may
  key them and across a stop with a savepoint while the producers go on, give exactly the outputs of a replay of
  the same city, with no late record, and its leads respect the contact cap;
- the decision job at parallelism 2, a TaskManager killed halfway through the triggers, decides exactly as the
  pure rules do (after de-duplication by id), none over the contact cap."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.jobs.test_ingest import _expected_valid, _key
from tests.support import make_settings, run_cli
from touchpoint import ROOT
from touchpoint.clients.kafka_io import RateLimitedProducer, consume
from touchpoint.config import write_settings
from touchpoint.infra import stack
from touchpoint.runner.cluster import local, rest

pytestmark = pytest.mark.slow

RAW = ("signaling", "xdr", "orders")
OUTPUTS = ("signaling_normalised", "xdr_normalised", "orders_normalised", "dlq")
TOPICS = RAW + OUTPUTS


def cli(config, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return run_cli(*args, "--config", str(config), timeout=timeout)


@pytest.fixture(scope="module")
def cluster(broker, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    topics = {k: f"cluster-{k}-{time.time_ns()}" for k in TOPICS}
    settings = make_settings(
        tmp / "work",
        broker,
        topics=topics,
        kafka={"partitions": 4},
        flink={"checkpoint_interval_ms": 1000},
        # 2 TaskManagers x 3 slots: the whole pipeline (three jobs) at parallelism 2
        cluster={
            "rest_url": f"http://127.0.0.1:{stack.free_port()}",
            "rpc_port": stack.free_port(),
            "slots_per_taskmanager": 3,
        },
    )
    stack.create_topics(broker, list(topics.values()), 4)
    config = write_settings(settings, tmp / "config.yaml")
    up = cli(config, "cluster", "up", timeout=180)
    assert up.returncode == 0, up.stderr
    try:
        yield settings, config
    finally:
        status = local.status(settings)
        pids = [p.pid for p in [status.jobmanager, *status.taskmanagers] if p]
        down = cli(config, "cluster", "down")
        assert down.returncode == 0, down.stderr
        assert not [p for p in pids if _runs_flink(p)], "cluster down left Flink processes running"


@pytest.fixture(autouse=True)
def no_job_left(cluster):
    """Cancel whatever a test left running, so a failed test does not hold the slots the next one needs."""
    yield
    url = cluster[0].cluster.rest_url
    running = [j for j in rest.jobs(url) if j.state not in rest.ENDED]
    for job in running:
        rest.cancel(url, job.id)
    deadline = time.monotonic() + 60
    while any(rest.state(url, j.id) not in rest.ENDED for j in running):
        assert time.monotonic() < deadline, "a job left running did not cancel within 60 s"
        time.sleep(0.5)


def _over_cap(leads: list[dict], settings) -> dict[str, int]:
    """Subscribers with more delivered leads inside one contact window (by trigger time) than the cap allows:
    the rule of udfs.contact_policy, counted independently. A run longer than the window may hold more in all."""
    window = settings.decisions.contact_window_hours * 3_600_000
    times: dict[str, list[int]] = {}
    for x in {x["lead_id"]: x for x in leads}.values():
        if not x["control"]:
            times.setdefault(x["msisdn"], []).append(x["trigger_ts"])
    most = {m: max(sum(1 for u in ts if t - window < u <= t) for t in ts) for m, ts in times.items()}
    return {m: n for m, n in most.items() if n > settings.decisions.max_leads_per_subscriber}


def _runs_flink(pid: int) -> bool:
    try:  # a zombie (exited, not yet reaped) has an empty command line
        return b"org.apache.flink" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _produce(settings, lines: dict[str, list[bytes]]) -> None:
    with RateLimitedProducer(settings) as producer:
        for topic, rows in lines.items():
            for line in rows:
                producer.send(topic, line)


def _distinct(key: str, values: list[bytes]) -> set:
    """An output topic's records without the repeats an at-least-once restart may add."""
    recs = [json.loads(v) for v in values]
    return {(r["source"], r["raw"]) for r in recs} if key == "dlq" else {_key(r) for r in recs}


def _outputs(settings, expected: dict[str, set] | None = None) -> dict[str, list[bytes]]:
    """The output topics' values: until each holds ``expected`` (distinct), or until they are quiet."""
    names = {k: getattr(settings.topics, k) for k in OUTPUTS}

    def complete(got: dict[str, list]) -> bool:
        return all(len(_distinct(k, got[n])) >= len(expected[k]) for k, n in names.items())

    got = consume(
        settings.kafka.bootstrap,
        names.values(),
        until=complete if expected else None,
        idle_s=None if expected else 8,  # a fresh consumer group takes a few seconds to form
        timeout_s=240,
    )
    return {k: got[n] for k, n in names.items()}


def test_parallel_job_survives_a_taskmanager_kill_and_resumes_from_a_savepoint(cluster, small_city):
    settings, config = cluster
    url = settings.cluster.rest_url
    lines, expected = {}, {"dlq": set()}
    for topic in RAW:
        path = small_city / f"{topic}.jsonl"
        lines[topic] = path.read_bytes().splitlines()
        ok, bad = _expected_valid(path, topic, settings)
        expected[f"{topic}_normalised"] = {_key(r) for r in ok}
        expected["dlq"] |= {(topic, line) for line in bad}
    half = {t: rows[: len(rows) // 2] for t, rows in lines.items()}
    second = {t: rows[len(rows) // 2 :] for t, rows in lines.items()}

    out = cli(config, "submit", "ingest", "--parallelism", "2")
    assert out.returncode == 0, out.stderr
    job = rest.find(url, "ingest")
    _produce(settings, half)
    deadline = time.monotonic() + 120
    while sum(map(len, _outputs(settings).values())) < sum(map(len, half.values())):
        assert time.monotonic() < deadline, "the first half did not come through"
    time.sleep(3)  # a checkpoint or two past the first half

    victim = local.status(settings).taskmanagers[0]
    os.kill(victim.pid, signal.SIGKILL)
    _produce(settings, second)
    up = cli(config, "cluster", "up", timeout=180)  # replaces the killed TaskManager
    assert up.returncode == 0, up.stderr
    got = _outputs(settings, expected)
    for key in OUTPUTS:  # nothing lost, nothing invented; a restart may repeat (at least once), never drop
        assert _distinct(key, got[key]) == expected[key], key
    assert sum(map(len, got.values())) >= sum(map(len, lines.values()))

    # keyed by msisdn: each subscriber's events in one partition (in order), the subscribers spread over all
    for key in ("signaling_normalised", "xdr_normalised"):
        topic = getattr(settings.topics, key)
        placed = consume(settings.kafka.bootstrap, [topic], idle_s=8, timeout_s=120, with_offsets=True)[topic]
        partitions: dict[str, set[int]] = {}
        for partition, _, _, value in placed:
            partitions.setdefault(json.loads(value)["msisdn"], set()).add(partition)
        assert all(len(p) == 1 for p in partitions.values()), key
        assert set().union(*partitions.values()) == {0, 1, 2, 3}, key

    # the same job restarted (not resubmitted) after losing a TaskManager
    assert rest.find(url, "ingest").id == job.id
    history = rest._call(url, f"/jobs/{job.id}/exceptions").get("exceptionHistory", {}).get("entries", [])
    assert history, "the job did not notice the TaskManager it lost"

    listed = cli(config, "jobs", "list")
    assert listed.returncode == 0 and f"ingest           RUNNING      {job.id}" in listed.stdout
    stopped = cli(config, "jobs", "stop", "ingest")
    assert stopped.returncode == 0, stopped.stderr
    savepoint = stopped.stdout.split("savepoint ", 1)[1].strip()
    resumed = cli(config, "submit", "ingest", "--from-savepoint", savepoint)
    assert resumed.returncode == 0, resumed.stderr
    again = rest.find(url, "ingest")
    assert again.id != job.id
    cancelled = cli(config, "jobs", "cancel", "ingest")
    assert cancelled.returncode == 0, cancelled.stderr
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and rest.jobs(url)[0].state != "CANCELED":
        time.sleep(0.5)
    assert [(j.id, j.state) for j in rest.jobs(url)][0] == (again.id, "CANCELED")
    # the job resumed from the savepoint read only what came after it: nothing
    assert {k: len(v) for k, v in _outputs(settings).items()} == {k: len(v) for k, v in got.items()}


def test_whole_pipeline_at_parallelism_2_is_exactly_the_replay_across_a_stop(cluster, replayed_city, tmp_path):
    """The raw lines produced through librdkafka as a network's producers may key them (signaling by probe, xDRs
    unkeyed, orders by msisdn with librdkafka's own partitioner), `events` and `decisions` submitted at parallelism
    2; `events` stopped with a savepoint after the first 20 h, the last 10 h produced while it is down, then
    resubmitted from the savepoint: its outputs are exactly the replay's, none late; every trigger is decided and
    no lead breaks the contact cap."""
    from tests.jobs.test_event_time import _expected, _late, _wait_for, assert_same, produce
    from touchpoint.clients.kafka_io import advance_event_time
    from udfs.units import HOUR_MS

    base, _ = cluster
    city, _, replay_out = replayed_city
    suffix = time.time_ns()
    settings = base.model_copy(deep=True)
    for key, name in base.topics.model_dump().items():
        setattr(settings.topics, key, f"p2-{name}-{suffix}")
    settings.paths.reference_dir = city / "reference"
    stack.create_topics(settings.kafka.bootstrap, stack.all_topics(settings), 4, stack.compacted_topics(settings))
    config = write_settings(settings, tmp_path / "config.yaml")
    for args in (
        ("campaigns", "publish", str(ROOT / "campaigns")),
        ("reference", "publish", str(city / "reference")),
        ("journeys", "publish", str(city / "journeys")),
    ):
        published = cli(config, *args)
        assert published.returncode == 0, published.stderr
    t = settings.topics
    end = json.loads((city / "summary.json").read_text())["data_end_ts"]
    split = end - 10 * HOUR_MS

    def before(line: bytes) -> bool:
        try:
            return json.loads(line)["ts"] < split
        except (ValueError, KeyError, TypeError):
            return True

    keyings = {"signaling": "probe", "xdr": "none", "orders": "msisdn"}
    lines = {k: [x for x in (city / f"{k}.jsonl").read_bytes().splitlines() if x.strip()] for k in RAW}
    for key, keying in keyings.items():
        produce(settings.kafka.bootstrap, getattr(t, key), [x for x in lines[key] if before(x)], keying)
    for job in ("events", "decisions"):
        out = cli(config, "submit", job, "--parallelism", "2")
        assert out.returncode == 0, out.stderr
    first = sum(1 for k in RAW for x in lines[k] if before(x))
    normalised = [t.signaling_normalised, t.xdr_normalised, t.orders_normalised, t.dlq]
    consume(settings.kafka.bootstrap, normalised, until=lambda o: sum(map(len, o.values())) >= first, timeout_s=240)
    stopped = cli(config, "jobs", "stop", "events")
    assert stopped.returncode == 0, stopped.stderr
    savepoint = stopped.stdout.split("savepoint ", 1)[1].strip()
    for key, keying in keyings.items():  # the producers go on while it is down
        produce(settings.kafka.bootstrap, getattr(t, key), [x for x in lines[key] if not before(x)], keying)
    for key in RAW:
        advance_event_time(settings, key, end + 24 * HOUR_MS)
    resumed = cli(config, "submit", "events", "--parallelism", "2", "--from-savepoint", savepoint)
    assert resumed.returncode == 0, resumed.stderr

    got = _wait_for(settings, _expected(city, replay_out), end)
    assert_same(got, _expected(city, replay_out))
    assert _late(got["dlq"]) == []

    # decisions at parallelism 2: every trigger (and journey step) decided, and no subscriber over the contact cap
    found = consume(settings.kafka.bootstrap, [t.triggers, t.journey_events], idle_s=3)
    triggers = {json.loads(x)["trigger_id"] for topic in found.values() for x in topic}
    decisions = consume(settings.kafka.bootstrap, [t.decisions, t.leads], idle_s=10, timeout_s=120)
    decided = {json.loads(d)["trigger_id"] for d in decisions[t.decisions]}
    assert decided and decided <= triggers
    leads = [json.loads(x) for x in decisions[t.leads]]
    assert leads and not _over_cap(leads, settings)
    for job in ("decisions", "events"):
        assert cli(config, "jobs", "cancel", job).returncode == 0


def test_decisions_at_parallelism_2_lose_no_lead_to_a_taskmanager_kill(cluster, replayed_city, tmp_path):
    """The decision job at parallelism 2 fed the replayed city's behaviour, then its triggers in two halves with a
    TaskManager killed with SIGKILL in between: after de-duplication by id its decisions and leads are exactly
    the pure rules applied in ts order (none missing, none invented) and no subscriber is over the contact cap,
    so the restored state carried every contact record across the crash."""
    from tests.jobs.test_decisions import _sequential_reference, journey_steps
    from tests.jobs.test_triggers import _msisdn
    from touchpoint.clients.kafka_io import committed
    from touchpoint.flink.pipeline import default_group

    base, _ = cluster
    city, replay_settings, replay_out = replayed_city
    want_decisions, want_leads = _sequential_reference(city, replay_settings, replay_out)
    assert want_leads and not [k for k, v in want_decisions.items() if v[1] == "budget"]  # budgets need global order

    suffix = time.time_ns()
    settings = base.model_copy(deep=True)
    for key, name in base.topics.model_dump().items():
        setattr(settings.topics, key, f"dk-{name}-{suffix}")
    settings.decisions.profile_wait_ms = 2000  # roamers have no profile: decide them soon
    stack.create_topics(settings.kafka.bootstrap, stack.all_topics(settings), 4)
    config = write_settings(settings, tmp_path / "config.yaml")
    for args in (("campaigns", "publish", str(ROOT / "campaigns")), ("reference", "publish", str(city / "reference"))):
        assert cli(config, *args).returncode == 0
    t = settings.topics
    # the trial journeys' steps are triggers too (kind journey_step): they go the same way
    steps = [json.dumps(x).encode() for x in journey_steps(replay_out)]
    triggers = sorted(
        [x for x in (replay_out / "triggers.jsonl").read_bytes().splitlines() if x.strip()] + steps,
        key=lambda x: (json.loads(x)["ts"], json.loads(x)["trigger_id"]),
    )
    behaviour = [x for x in (replay_out / "behaviour.jsonl").read_bytes().splitlines() if x.strip()]

    def send(key: str, lines: list[bytes]) -> None:
        with RateLimitedProducer(settings) as producer:  # keyed: a subscriber's records in order, in one partition
            for line in lines:
                producer.send(key, line, key=_msisdn(line))

    def decided() -> dict[tuple, tuple]:
        got = consume(settings.kafka.bootstrap, [t.decisions], idle_s=3, timeout_s=60)[t.decisions]
        return {
            (d["trigger_id"], d["campaign_id"]): (d["result"], d.get("reason"), d.get("detail"))
            for d in map(json.loads, got)
        }

    out = cli(config, "submit", "decisions", "--parallelism", "2")
    assert out.returncode == 0, out.stderr
    send("behaviour", behaviour)
    group = default_group(settings, "decisions")
    deadline = time.monotonic() + 180
    while committed(settings.kafka.bootstrap, group, [t.behaviour], 4)[t.behaviour] < len(behaviour):
        assert time.monotonic() < deadline, "the decision job did not take in the behaviour"
        time.sleep(0.5)

    half = len(triggers) // 2
    send("triggers", triggers[:half])
    deadline = time.monotonic() + 180
    while committed(settings.kafka.bootstrap, group, [t.triggers], 4)[t.triggers] < half:
        assert time.monotonic() < deadline, "the first half of the triggers was not checkpointed"
        time.sleep(0.5)
    job = rest.find(settings.cluster.rest_url, "decisions")
    os.kill(local.status(settings).taskmanagers[0].pid, signal.SIGKILL)
    send("triggers", triggers[half:])
    up = cli(config, "cluster", "up", timeout=180)
    assert up.returncode == 0, up.stderr

    deadline = time.monotonic() + 300
    while set(got := decided()) != set(want_decisions):
        assert time.monotonic() < deadline, f"{len(set(want_decisions) - set(got))} decisions missing after 300 s"
    assert got == want_decisions
    leads = [json.loads(x) for x in consume(settings.kafka.bootstrap, [t.leads], idle_s=3, timeout_s=60)[t.leads]]
    assert {x["lead_id"] for x in leads} == set(want_leads)
    assert not _over_cap(leads, settings)
    # the same job restarted from its checkpoint, having noticed the loss
    assert rest.find(settings.cluster.rest_url, "decisions").id == job.id
    history = rest._call(settings.cluster.rest_url, f"/jobs/{job.id}/exceptions").get("exceptionHistory", {})
    assert history.get("entries"), "the job did not notice the TaskManager it lost"
    assert cli(config, "jobs", "cancel", "decisions").returncode == 0
