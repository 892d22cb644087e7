"""touchpoint/harness/soak.py without a pipeline: the verdict on sampled figures, and the laps' fresh ids and times."""

from __future__ import annotations

import orjson
import pytest

from tests.support import make_settings
from touchpoint.clients.kafka_io import read_topics
from touchpoint.harness import soak
from touchpoint.infra import stack


def test_a_plateau_is_bounded_and_steady_growth_is_not():
    warm_then_flat = [10, 40, 80, 100, 104, 98, 101, 103, 99, 102, 100, 105]
    assert soak.bounded(warm_then_flat, floor=0)
    growing = [10 * i for i in range(1, 13)]  # a leak: the last third is 1.6x the middle third
    spike = [100] * 8 + [900] + [100] * 3  # one slow checkpoint is not growth
    assert not soak.bounded(growing, floor=0)
    assert soak.bounded(growing, floor=1_000)  # all of it below the noise floor
    assert soak.bounded(spike, floor=0)
    assert soak.bounded([5, 6], floor=0)  # too short to judge


def test_verdict_names_each_figure():
    def sample(minute: int, state: int) -> soak.Sample:
        return soak.Sample(minute, minute * 100, {"flink_jvm": 900.0}, {"ingest": state}, {"ingest": 50}, {"ingest": 3})

    samples = [sample(m, 10**7 * m) for m in range(1, 10)]
    assert soak._verdict(samples) == {
        "memory_mb.flink_jvm": True,
        "state_bytes.ingest": False,
        "checkpoint_ms.ingest": True,
        "lag.ingest": True,
    }


@pytest.mark.slow
def test_each_lap_shifts_times_and_renames_ids(broker, tmp_path):
    s = make_settings(tmp_path / "work", broker, topics={"signaling": "soak-laps-s", "orders": "soak-laps-o"})
    stack.create_topics(broker, ["soak-laps-s", "soak-laps-o"], 1)
    records = [("signaling", {"event_id": "e1", "ts": 100, "msisdn": "1"}), ("orders", {"order_id": "o1", "ts": 150})]
    laps = soak.Laps(records, span_ms=1000)
    laps.run(s, rate=1000.0, laps=2)
    got = read_topics(broker, ["soak-laps-s", "soak-laps-o"], idle_s=2)
    assert [orjson.loads(v) for v in got["soak-laps-s"]] == [
        {"event_id": "e1~0", "ts": 100, "msisdn": "1"},
        {"event_id": "e1~1", "ts": 1100, "msisdn": "1"},
    ]
    assert [orjson.loads(v) for v in got["soak-laps-o"]] == [
        {"order_id": "o1~0", "ts": 150},
        {"order_id": "o1~1", "ts": 1150},
    ]
    assert laps.sent == 4
