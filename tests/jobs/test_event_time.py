"""Event time comes from the raw partitions, whatever the producers do (docs/operations.md, partitions and event time).

A city of 1,000 subscribers over 12 h (about 30,000 raw lines: enough that a job reading ingest's normalised topics
lost triggers to `late` with every keying but murmur2's) is produced to the raw topics through librdkafka itself —
not the project's producer — each feed keyed its own way, as the probes and the CRM of one network may:

- unkeyed, placed by librdkafka's default partitioner (a batch to one partition, then the next);
- keyed by msisdn with librdkafka's default partitioner (CRC32), or with murmur2 (the Java client's);
- keyed by probe: the location area of the event (an order: its order id), on more partitions than probes.

on 1, 4 and 7 raw partitions against normalised topics of 3, as a backlog. The events job streaming over them gives
exactly the replay's triggers, behaviour, region metrics, traffic and journey events, and sends nothing to the DLQ as
`late` but the line planted an hour behind its own partition. Stopped for hours of event time while the producers
go on, then resumed from its checkpoint (`touchpoint run`, the way an operator restarts it), it is exact too.
The local cluster at parallelism 2 is tests/runner/cluster/test_local_cluster.py.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Producer

from tests.support import TOUCHPOINT, make_settings
from touchpoint.clients import reference
from touchpoint.clients.kafka_io import EVENT_TIME_MARKER, advance_event_time, committed, consume
from touchpoint.config import Settings, Topics, write_settings
from touchpoint.flink.pipeline import default_group
from touchpoint.infra import stack
from udfs.units import HOUR_MS

pytestmark = pytest.mark.slow

RAW = ("signaling", "xdr", "orders")
#: the events job's outputs compared with the replay's (the normalised topics and the DLQ apart)
COMPARED = ("triggers", "behaviour", "region_metrics", "traffic", "journey_events")


# --- how producers key raw lines (independent of touchpoint.clients.kafka_io) --------------------------------------


def _key(keying: str, topic: str, line: bytes) -> bytes | None:
    if keying == "none":
        return None
    try:
        rec = json.loads(line)
    except ValueError:
        rec = None
    rec = rec if isinstance(rec, dict) else {}
    if keying == "probe":
        return str(rec.get("order_id") if topic == "orders" else f"probe-{rec.get('lac')}").encode()
    return str(rec.get("msisdn")).encode()


def produce(broker: str, topic: str, lines: list[bytes], keying: str) -> None:
    """``lines`` to ``topic`` as a librdkafka producer keying them by ``keying`` would: its default partitioner, but
    murmur2 for ``msisdn_murmur2``."""
    conf = {"bootstrap.servers": broker, "linger.ms": 5, "acks": "all"}
    if keying == "msisdn_murmur2":
        conf["partitioner"] = "murmur2_random"
    producer = Producer(conf)
    for line in lines:
        while True:
            try:
                producer.produce(topic, line, key=_key(keying, topic, line))
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(60) == 0


# --- the city and what the replay makes of it -------------------------------------------------------------------


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> tuple[Path, Path]:
    from touchpoint.harness.simulator import simulate
    from touchpoint.runner.embedded import replay

    city = tmp_path_factory.mktemp("et-city")
    simulate(make_settings(tmp_path_factory.mktemp("et-w0")), seed=7, subscribers=1000, hours=12, out_dir=city)
    out = tmp_path_factory.mktemp("et-replay")
    replay("events", make_settings(tmp_path_factory.mktemp("et-w1")), city, out)
    return city, out


def _lines(path: Path) -> list[bytes]:
    return [x for x in path.read_bytes().splitlines() if x.strip()]


def _data_end(city: Path) -> int:
    return json.loads((city / "summary.json").read_text())["data_end_ts"]


def _comparable(topic_key: str, lines, end: int) -> set[str]:
    """An output's records as a set (at-least-once redelivery repeats some), lists as sets, without the processing
    time they were found at, the event-time markers and what the stream found past the data's end (where a replay
    stops)."""
    out = set()
    for rec in map(json.loads, lines):
        if rec.get("msisdn") == EVENT_TIME_MARKER:
            continue
        at = rec.get("ts", rec.get("hour_start", rec.get("window_start")))
        if at is not None and at > end:
            continue
        rec.pop("detected_at", None)
        # a set held as a list (a behaviour bucket's regions) comes in any order
        rec = {k: sorted(v, key=json.dumps) if isinstance(v, list) else v for k, v in rec.items()}
        out.add(json.dumps(rec, sort_keys=True))
    return out


def _expected(city: Path, replayed: Path) -> dict[str, set[str]]:
    """What the replay wrote (files named after the default topics), comparable."""
    names = Topics()
    end = _data_end(city)
    return {k: _comparable(k, _lines(replayed / f"{getattr(names, k)}.jsonl"), end) for k in COMPARED}


# --- a streaming run --------------------------------------------------------------------------------------------


def _settings(tmp_path: Path, broker: str, city: Path, partitions: dict[str, int]) -> Settings:
    """Fresh topics: the raw ones with ``partitions`` each, every other topic (normalised included) with 3."""
    suffix = time.time_ns()
    settings = make_settings(tmp_path / "work", broker, flink={"checkpoint_interval_ms": 1000})
    for key, name in settings.topics.model_dump().items():
        setattr(settings.topics, key, f"et-{name}-{suffix}")
    settings.kafka.partitions = 3
    settings.paths.reference_dir = city / "reference"
    t = settings.topics
    for key, n in partitions.items():
        stack.create_topics(broker, [getattr(t, key)], n)
    others = [v for k, v in t.model_dump().items() if k not in partitions]
    stack.create_topics(broker, others, settings.kafka.partitions, stack.compacted_topics(settings))
    reference.publish(settings, city / "reference")
    from touchpoint.clients.campaigns import load, publish

    publish(settings, load([str(city / "journeys")], "journeys"), what="journeys")
    return settings


def _wait_for(settings: Settings, expected: dict[str, set[str]], end: int, timeout_s: float = 300) -> dict:
    """The outputs once every expected record is there (then a moment more, for anything extra to show)."""
    t = settings.topics
    topics = {getattr(t, k): k for k in COMPARED}
    seen = {name: 0 for name in topics}
    found: dict[str, set[str]] = {k: set() for k in COMPARED}

    def complete(got: dict) -> bool:  # only what arrived since the last call is read
        for name, key in topics.items():
            found[key] |= _comparable(key, got[name][seen[name] :], end)
            seen[name] = len(got[name])
        return all(expected[k] <= found[k] for k in COMPARED)

    consume(settings.kafka.bootstrap, list(topics), until=complete, timeout_s=timeout_s)
    got = consume(settings.kafka.bootstrap, [*topics, t.dlq], idle_s=3, timeout_s=120)
    return {k: _comparable(k, got[name], end) for name, k in topics.items()} | {"dlq": got[t.dlq]}


def assert_same(got: dict, expected: dict[str, set[str]]) -> None:
    """Each output equal to the replay's; on a difference, its size, a few of the records that differ and the dead
    letters by reason."""
    diff = {
        k: {"missing": sorted(expected[k] - got[k])[:3], "extra": sorted(got[k] - expected[k])[:3]}
        | {"counts": (len(expected[k] - got[k]), len(got[k] - expected[k]))}
        for k in COMPARED
        if got[k] != expected[k]
    }
    reasons = Counter((d["source"], d["reason"]) for d in map(json.loads, got.get("dlq", [])))
    assert not diff, f"per output, records missing and extra (a few) and how many: {diff}; dead letters: {reasons}"


def _late(dlq: list[bytes]) -> list[str]:
    return sorted(d["event_id"] for d in map(json.loads, dlq) if d["reason"] == "late")


def _run(config: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [TOUCHPOINT, "run", "events", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()  # as a supervisor stops it: the job is cancelled, its checkpoints stay
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err[-3000:]
    return out


def _markers(settings: Settings, city: Path) -> None:
    """Event time past the data on every raw partition, right behind it: each partition's watermark is its own."""
    for key in RAW:
        advance_event_time(settings, key, _data_end(city) + 24 * HOUR_MS)


# --- the tests --------------------------------------------------------------------------------------------------


def test_a_backlog_keyed_every_way_is_exact(city, broker, tmp_path):
    """Signaling unkeyed on 4 partitions, xDRs keyed by msisdn with librdkafka's partitioner on 7, orders keyed by
    msisdn with murmur2 on 1; then, once everything is read, a valid event an hour older than its partition: the
    one dead letter `late`."""
    city_dir, replayed = city
    keyings = {"signaling": ("none", 4), "xdr": ("msisdn", 7), "orders": ("msisdn_murmur2", 1)}
    settings = _settings(tmp_path, broker, city_dir, {k: n for k, (_, n) in keyings.items()})
    expected = _expected(city_dir, replayed)
    assert all(expected.values()) and len(expected["triggers"]) > 1000
    for key, (keying, _) in keyings.items():
        produce(broker, getattr(settings.topics, key), _lines(city_dir / f"{key}.jsonl"), keying)
    proc = _run(write_settings(settings, tmp_path / "config.yaml"))
    try:
        _markers(settings, city_dir)
        got = _wait_for(settings, expected, _data_end(city_dir))
        assert_same(got, expected)
        assert _late(got["dlq"]) == []

        # an hour behind the newest event of its partition (all of them read by now): beyond the bound, late
        template = json.loads(next(x for x in _lines(city_dir / "signaling.jsonl") if b'"mo_call"' in x))
        stale = dict(template, event_id="an-hour-late", ts=_data_end(city_dir) - HOUR_MS)
        producer = Producer({"bootstrap.servers": broker})
        producer.produce(settings.topics.signaling, json.dumps(stale).encode(), partition=0)
        assert producer.flush(30) == 0
        dlq = settings.topics.dlq
        late = consume(broker, [dlq], until=lambda o: "an-hour-late" in _late(o[dlq]), timeout_s=120)[dlq]
        assert _late(late) == ["an-hour-late"]
    finally:
        _stop(proc)


def test_stopped_for_hours_while_producers_go_on_then_resumed_is_exact(city, broker, tmp_path):
    """`touchpoint run events` over the first 7 h (signaling keyed by msisdn with librdkafka's partitioner on 7
    partitions, xDRs by probe on 4, orders unkeyed on 4); once the feeds are idle the reference data is published
    again (a CRM's nightly export: it must not move event time, as a watermark from its publish time did), then
    stopped; the last 5 h produced while it is down; started again, it resumes from its checkpoint and catches up
    the backlog: exactly the replay's outputs, none late."""
    city_dir, replayed = city
    keyings = {"signaling": ("msisdn", 7), "xdr": ("probe", 4), "orders": ("none", 4)}
    settings = _settings(tmp_path, broker, city_dir, {k: n for k, (_, n) in keyings.items()})
    expected = _expected(city_dir, replayed)
    config = write_settings(settings, tmp_path / "config.yaml")
    split = _data_end(city_dir) - 5 * HOUR_MS

    def before(line: bytes) -> bool:  # a line's place in the stream: its ts (a line without one goes first)
        try:
            return json.loads(line)["ts"] < split
        except (ValueError, KeyError, TypeError):
            return True

    first = {key: [x for x in _lines(city_dir / f"{key}.jsonl") if before(x)] for key in RAW}
    rest = {key: [x for x in _lines(city_dir / f"{key}.jsonl") if not before(x)] for key in RAW}
    assert all(first.values()) and all(rest.values())
    for key, (keying, _) in keyings.items():
        produce(broker, getattr(settings.topics, key), first[key], keying)
    group = default_group(settings, "events")
    proc = _run(config)
    try:
        deadline = time.monotonic() + 240
        for key, (_, partitions) in keyings.items():  # a checkpoint holds every line of the first part
            topic = getattr(settings.topics, key)
            while committed(broker, group, [topic], partitions)[topic] < len(first[key]):
                assert time.monotonic() < deadline, f"{key}: the first part was not checkpointed in 240 s"
                time.sleep(0.5)
        time.sleep(settings.event_time.idle_timeout_ms / 1000 + 5)  # every raw partition idle
        again = reference.publish(settings, city_dir / "reference")
        cells = settings.topics.cells
        # taken, and checkpointed
        while committed(broker, group, [cells], settings.kafka.partitions)[cells] < 2 * again[cells]:
            assert time.monotonic() < deadline + 120, "the reference published again was not read in time"
            time.sleep(0.5)
    finally:
        _stop(proc)

    for key, (keying, _) in keyings.items():  # the producers go on while the job is down
        produce(broker, getattr(settings.topics, key), rest[key], keying)
    _markers(settings, city_dir)
    proc = _run(config)
    try:
        got = _wait_for(settings, expected, _data_end(city_dir))
    finally:
        out = _stop(proc)
    assert "resuming from checkpoint" in out
    assert_same(got, expected)
    assert _late(got["dlq"]) == []
