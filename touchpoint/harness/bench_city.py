"""The bench's data: a simulated city loaded into a private broker, the topics it lives on, and its end offsets.

Every bench phase (touchpoint/harness/bench.py, bench_stages.py, bench_scale.py, soak.py) reads a city produced
here once; a phase that must not share topics with another takes a copy of the settings whose topics carry a
prefix of its own (:func:`renamed`, :func:`own_city`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from jobs import job as job_spec
from jobs import pipeline_order
from touchpoint.clients.kafka_io import RateLimitedProducer
from touchpoint.config import Settings
from touchpoint.harness.simulator.traffic import OWN_EVENTS_PER_HOUR
from touchpoint.infra import stack
from touchpoint.reference import REFERENCE_NAMES
from udfs.units import HOUR_MS

#: the city's length: two days, so that state held for 48 h (behaviour horizons, contact window) is all there
CITY_HOURS = 48
#: the fewest subscribers of a bench city
MIN_SUBSCRIBERS = 50
#: the sparse city of every run before issue 22 (1 500 subscribers, 48 h, ~220 k events)
SPARSE_SUBSCRIBERS = 1500
#: the jobs of the whole pipeline, upstream first
PIPELINE = tuple(pipeline_order())
#: the raw topics (ingest's inputs): loaded once, read by every run
RAW = job_spec("ingest").inputs
#: topics the pipeline jobs write or read besides the raw ones
PIPELINE_TOPICS = tuple(
    sorted({k for name in PIPELINE for k in job_spec(name).inputs + job_spec(name).outputs} - set(RAW))
)


def city_size(events: int, events_per_subscriber_hour: float, hours: float = CITY_HOURS) -> int:
    """Subscribers of a city of about ``events`` events over ``hours`` at that density (simulator.*)."""
    return max(MIN_SUBSCRIBERS, round(events / (max(events_per_subscriber_hour, OWN_EVENTS_PER_HOUR) * hours)))


def city_summary(city: Path) -> dict:
    """The simulator's summary.json of a city (counts, its density)."""
    return json.loads((city / "summary.json").read_text())


def simulate_city(
    settings: Settings,
    seed: int,
    out_dir: Path,
    sink: Callable[..., object],
    subscribers: int,
    hours: float = CITY_HOURS,
) -> None:
    """A city of ``subscribers`` over ``hours``, handed to ``sink`` in arrival order."""
    from touchpoint.harness.simulator import simulate

    simulate(settings, seed=seed, subscribers=subscribers, hours=hours, out_dir=out_dir, sink=sink)


def load_city(
    settings: Settings, seed: int, out_dir: Path, subscribers: int, hours: float = CITY_HOURS
) -> RateLimitedProducer:
    """Simulate a city straight into the raw topics; the producer knows the end offsets."""
    producer = RateLimitedProducer(settings, keying=settings.simulator.keying)
    with producer:
        simulate_city(settings, seed, out_dir, producer.send, subscribers, hours)
    return producer


@contextmanager
def private_broker(settings: Settings, work: Path) -> Iterator[Settings]:
    """A copy of ``settings`` on a private Tansu broker (a free port, one partition per topic, every topic created)
    whose work dir is ``work`` and reference data the city's; the broker stops on exit."""
    port = stack.free_port()
    settings = settings.model_copy(deep=True)
    settings.kafka.bootstrap = f"127.0.0.1:{port}"
    settings.kafka.partitions = 1
    # The heap backend: its full checkpoints measure the whole state per job, comparable with earlier runs
    # (RocksDB's incremental checkpoints would hold only what changed since the last one).
    settings.flink.state_backend = "hashmap"
    settings.paths.work_dir = work
    settings.paths.reference_dir = work / "city" / "reference"
    stack.stop(work / "run", "tansu", "tansu")
    stack.start_tansu(work / "run", port)
    try:
        stack.create_topics(
            settings.kafka.bootstrap,
            stack.all_topics(settings),
            settings.kafka.partitions,
            stack.compacted_topics(settings),
        )
        yield settings
    finally:
        stack.stop(work / "run", "tansu", "tansu")


def raw_offsets(settings: Settings, producer: RateLimitedProducer) -> dict[str, dict[int, int]]:
    """End offsets of the raw topics ingest reads, by topic key (the delivery reports key them by topic name); a
    partition nothing was sent to ends at 0, so that the bounded job ends there too."""
    ends = {k: producer.end_offsets.get(getattr(settings.topics, k), {}) for k in RAW}
    return {k: {p: e.get(p, 0) for p in range(producer.partitions(k))} for k, e in ends.items()}


def reference_offsets(settings: Settings, producer: RateLimitedProducer) -> dict[str, dict[int, int]]:
    """End offsets of the reference topics the simulator published, by topic key: bounded jobs read up to them."""
    return {
        k: dict(producer.end_offsets[topic])
        for k in REFERENCE_NAMES
        if (topic := getattr(settings.topics, k)) in producer.end_offsets
    }


def renamed(settings: Settings, prefix: str, keys: Iterable[str]) -> Settings:
    """A copy of ``settings`` whose topics ``keys`` carry ``prefix`` (fresh topics for one phase)."""
    out = settings.model_copy(deep=True)
    for key in keys:
        setattr(out.topics, key, prefix + getattr(settings.topics, key))
    return out


def publish_campaigns(settings: Settings) -> int:
    """The example campaigns onto the settings' campaigns topic, as the decision job needs them: how many."""
    from touchpoint.clients import campaigns

    items = campaigns.load([str(settings.paths.campaigns)])
    campaigns.publish(settings, items)
    return len(items)


def city_end_ms(settings: Settings, hours: float = CITY_HOURS) -> int:
    """Event time at the end of a city of ``hours`` that starts at simulator.start."""
    return int(settings.simulator.start.timestamp() * 1000 + hours * HOUR_MS)


def own_city(
    settings: Settings, prefix: str, seed: int, subscribers: int, partitions: int, density: float | None = None
) -> tuple[Settings, int]:
    """A copy of ``settings`` whose raw and reference topics are fresh (named with ``prefix``), loaded with a city of
    ``subscribers`` at ``density`` events per subscriber-hour (default: the settings'): (settings, raw events).
    Another city's reference data must not mix with this one's."""
    keys = (*RAW, *REFERENCE_NAMES)
    cs = renamed(settings, prefix, keys)
    cs.kafka.partitions = partitions
    if density is not None:
        cs.simulator.events_per_subscriber_hour = density
    names = [getattr(cs.topics, k) for k in keys]
    stack.create_topics(cs.kafka.bootstrap, names, partitions, stack.compacted_topics(cs) & set(names))
    producer = load_city(cs, seed, cs.paths.work_dir / f"{prefix}city", subscribers)
    return cs, sum(sum(v.values()) for v in raw_offsets(cs, producer).values())
