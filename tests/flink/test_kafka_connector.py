"""Proves the pinned apache-flink works with the extracted Kafka connector jars: a streaming job reads a
Kafka topic with an event-time watermark, writes another topic, with checkpointing on, and the windows it
emits equal a plain-Python recomputation."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from tests.support import make_settings
from touchpoint.clients.kafka_io import RateLimitedProducer, wait_for_total
from touchpoint.infra import stack
from touchpoint.infra.jars import jars_ok
from touchpoint.runner.embedded import replay, start, wait_running

pytestmark = pytest.mark.slow


def test_jars_are_extracted_and_verified():
    from touchpoint.config import load_settings

    assert jars_ok(load_settings().paths.jars)


def test_event_time_windows_over_kafka_with_checkpoints(small_city, broker, tmp_path):
    # The valid events of the small city (a replay of ingest), produced to the raw topics the job reads.
    normalised = tmp_path / "normalised"
    replay("ingest", make_settings(tmp_path / "w1"), small_city, normalised)
    topics = {k: f"fk-test-{k}" for k in ("signaling", "xdr", "traffic")}
    # two partitions: the watermark is the minimum over both, and every window must still be exact
    settings = make_settings(
        tmp_path / "w2", broker, topics=topics, flink={"checkpoint_interval_ms": 1000}, kafka={"partitions": 2}
    )
    stack.create_topics(broker, list(topics.values()), settings.kafka.partitions)

    expected: Counter = Counter()
    max_ts = 0
    with RateLimitedProducer(settings) as producer:
        for key, file, source in (
            ("signaling", "signaling-normalised", "signaling"),
            ("xdr", "xdr-normalised", "xdr"),
        ):
            for line in (normalised / f"{file}.jsonl").read_bytes().splitlines():
                rec = json.loads(line)
                minute = rec["ts"] // 60000 * 60000
                expected[(minute, source, rec.get("event_type", "xdr"))] += 1
                max_ts = max(max_ts, rec["ts"])
                producer.send(key, line, key=rec["msisdn"].encode())
        # one far-future (valid) record per partition closes every window of the data on every partition
        closer = max_ts + 3_600_000
        for key in ("signaling", "xdr"):
            for part in range(settings.kafka.partitions):
                producer.send(
                    key,
                    json.dumps(
                        {
                            "event_id": f"closer-{part}",
                            "event_type": "attach",
                            "ts": closer,
                            "msisdn": "10000",
                            "imsi": "000000000000000",
                            "rat": "LTE",
                            "bytes_up": 0,
                            "bytes_down": 0,
                        }
                    ).encode(),
                    partition=part,
                )

    job = start("traffic", settings)
    try:
        wait_running(job, timeout=120)
        got = wait_for_total(broker, [topics["traffic"]], len(expected), timeout_s=240)
        checkpoints = list((settings.paths.work_dir / "checkpoints" / "traffic").rglob("chk-*"))
        deadline = time.monotonic() + 30
        while not checkpoints and time.monotonic() < deadline:
            time.sleep(0.5)
            checkpoints = list((settings.paths.work_dir / "checkpoints" / "traffic").rglob("chk-*"))
    finally:
        job.cancel()
    windows = [json.loads(v) for v in got[topics["traffic"]]]
    result = Counter()
    for w in windows:
        assert w["window_end"] - w["window_start"] == 60_000
        result[(w["window_start"], w["source"], w["event_type"])] += w["events"]
    assert result == expected
    assert checkpoints, "no checkpoint completed while the job ran"
