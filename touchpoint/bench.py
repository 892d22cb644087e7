"""``touchpoint bench`` (``make bench``): job throughput and latency over the same Kafka data, in one run.

Machines here are noisy, so every figure is printed next to a baseline measured in the same run:
the ``passthrough`` job (same Kafka sources and sink, no work) over exactly the same slice of the topics.

1. A private broker on a free port is loaded once with a simulated city (signaling + xDR).
2. Each job runs bounded over exactly that slice (end offsets from the producer's delivery reports,
   since Tansu's ListOffsets(LATEST) is wrong), ``repeats`` times in alternation; the best run counts.
3. Latency: ``ingest`` runs unbounded while a second city is produced at a fixed rate; latency is the
   Kafka timestamp of each output record minus that of its input record (matched by ``event_id``).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from touchpoint import stack
from touchpoint.config import Settings
from touchpoint.kafka_io import RateLimitedProducer, consume

#: events per simulated subscriber-day, to size the city for a requested event count
_EVENTS_PER_SUBSCRIBER_DAY = 100


def _load(settings: Settings, events: int, seed: int, out_dir: Path, rate: float | None = None) -> RateLimitedProducer:
    from touchpoint.simulator import simulate

    subscribers = max(50, events // _EVENTS_PER_SUBSCRIBER_DAY)
    producer = RateLimitedProducer(settings, rate=rate)
    with producer:
        simulate(settings, seed=seed, subscribers=subscribers, hours=24, out_dir=out_dir, sink=producer.send)
    return producer


def _timed_run(job: str, settings: Settings, offsets: dict[str, dict[int, int]], group: str) -> float:
    from touchpoint.runner import start

    t0 = time.perf_counter()
    start(job, settings, group_id=group, bounded_offsets=offsets).wait()
    return time.perf_counter() - t0


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def run_bench(settings: Settings, events: int, seed: int, repeats: int = 2, latency_rate: float = 2000,
              latency_seconds: float = 20) -> int:
    from touchpoint.runner import start, wait_running

    work = settings.paths.work_dir / "bench"
    port = stack.free_port()
    settings = settings.model_copy(deep=True)
    settings.kafka.bootstrap = f"127.0.0.1:{port}"
    settings.paths.work_dir = work
    stack.stop(work / "run", "tansu", "tansu")
    stack.start_tansu(work / "run", port)
    try:
        stack.create_topics(settings.kafka.bootstrap, stack.all_topics(settings), settings.kafka.partitions)
        t0 = time.perf_counter()
        producer = _load(settings, events, seed, work / "city")
        load_s = time.perf_counter() - t0
        # keyed by topic name in the delivery reports; the pipeline wants topic keys
        offsets = {k: dict(producer.end_offsets[getattr(settings.topics, k)]) for k in ("signaling", "xdr")}
        n = sum(sum(v.values()) for v in offsets.values())
        print(f"loaded {n:,} events (signaling + xdr) in {load_s:.1f} s "
              f"({producer.sent / load_s:,.0f} ev/s simulate+produce)")

        best: dict[str, float] = {}
        for r in range(repeats):
            for job in ("passthrough", "ingest"):
                secs = _timed_run(job, settings, offsets, group=f"bench-{job}-{r}-{time.time_ns()}")
                best[job] = min(best.get(job, secs), secs)
                print(f"  run {r + 1}/{repeats} {job:<12} {secs:6.1f} s  {n / secs:>9,.0f} ev/s", flush=True)

        print("\nthroughput (bounded Kafka slice, best of %d, includes ~2 s job start-up)" % repeats)
        base = n / best["passthrough"]
        for job, secs in best.items():
            print(f"  {job:<12} {n / secs:>9,.0f} ev/s   ratio vs passthrough {n / secs / base:5.2f}")

        lat = _latency(settings, seed + 1, latency_rate, latency_seconds, start, wait_running)
        if lat:
            print(f"\ningest latency at {latency_rate:,.0f} ev/s, {len(lat):,} records (Kafka in -> Kafka out):")
            print(f"  p50 {percentile(lat, 50):7.0f} ms   p95 {percentile(lat, 95):7.0f} ms   "
                  f"p99 {percentile(lat, 99):7.0f} ms   mean {statistics.fmean(lat):7.0f} ms")
    finally:
        stack.stop(work / "run", "tansu", "tansu")
    return 0


def _latency(settings: Settings, seed: int, rate: float, seconds: float, start, wait_running) -> list[float]:
    """Per-record latency (ms) of ingest over a paced stream on fresh topics."""
    lat_settings = settings.model_copy(deep=True)
    for key in ("signaling", "xdr", "signaling_normalised", "xdr_normalised", "dlq"):
        setattr(lat_settings.topics, key, "latency-" + getattr(settings.topics, key))
    t = lat_settings.topics
    stack.create_topics(lat_settings.kafka.bootstrap, [t.signaling, t.xdr, t.signaling_normalised,
                                                       t.xdr_normalised, t.dlq], settings.kafka.partitions)
    job = start("ingest", lat_settings, group_id=f"bench-latency-{time.time_ns()}")
    try:
        wait_running(job, timeout=120)
        time.sleep(3)  # let the source join its group and fetch before the clock starts
        producer = _load(lat_settings, int(rate * seconds), seed, settings.paths.work_dir / "latency-city", rate=rate)
        total = producer.sent_per_topic.get("signaling", 0) + producer.sent_per_topic.get("xdr", 0)
        outs = consume(lat_settings.kafka.bootstrap, [t.signaling_normalised, t.xdr_normalised],
                       until=lambda o: sum(map(len, o.values())) >= total * 0.97, idle_s=10,
                       timeout_s=120, with_timestamps=True)
        ins = consume(lat_settings.kafka.bootstrap, [t.signaling, t.xdr], idle_s=2, with_timestamps=True)
    finally:
        job.cancel()
    produced_at: dict[str, int] = {}
    for records in ins.values():
        for ts, value in records:
            try:
                produced_at.setdefault(json.loads(value)["event_id"], ts)
            except (ValueError, KeyError, TypeError):
                continue  # malformed on purpose: it went to the DLQ
    return [ts - produced_at[json.loads(v)["event_id"]] for recs in outs.values() for ts, v in recs
            if json.loads(v)["event_id"] in produced_at]
