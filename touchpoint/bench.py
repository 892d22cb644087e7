"""``touchpoint bench`` (``make bench``): job throughput and latency over the same Kafka data, in one run.

Machines here are noisy, so every figure is printed next to a baseline measured in the same run:
the ``passthrough`` job (same Kafka sources and sink, no work) over exactly the same slice of the topics.

1. A private broker on a free port is loaded once with a simulated city (signaling + xDR).
2. Each job runs bounded over exactly that slice (end offsets from the producer's delivery reports,
   since Tansu's ListOffsets(LATEST) is wrong), ``repeats`` times in alternation; the best run counts.
   ``triggers`` then runs bounded over what ``ingest`` wrote (end offsets learnt by consuming it).
3. Latency: ``ingest`` and ``triggers`` run unbounded while a second city is produced at a fixed rate;
   latency is the Kafka timestamp of each output record minus that of the input record it came from
   (normalised records matched by ``event_id``, triggers by the completing event's msisdn and ts).
   The city's event time runs far faster than the wall clock here, so trigger latency shows processing
   cost; in production every trigger also waits for the watermark (event_time.max_out_of_orderness_ms).

Topics have one partition: ingest's output is not keyed, so with several partitions a subscriber's
normalised events could be further apart than the watermark bound (see the README).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from touchpoint import stack
from touchpoint.config import Settings
from touchpoint.kafka_io import RateLimitedProducer, consume

#: events per simulated subscriber-day, to size the city for a requested event count
_EVENTS_PER_SUBSCRIBER_DAY = 100


def _simulate(settings: Settings, events: int, seed: int, out_dir: Path, sink) -> None:
    """A 24 h city sized for about ``events`` events, handed to ``sink`` in arrival order."""
    from touchpoint.simulator import simulate

    subscribers = max(50, events // _EVENTS_PER_SUBSCRIBER_DAY)
    simulate(settings, seed=seed, subscribers=subscribers, hours=24, out_dir=out_dir, sink=sink)


def _load(settings: Settings, events: int, seed: int, out_dir: Path) -> RateLimitedProducer:
    producer = RateLimitedProducer(settings)
    with producer:
        _simulate(settings, events, seed, out_dir, producer.send)
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
    settings.kafka.partitions = 1
    settings.paths.work_dir = work
    settings.paths.reference_dir = work / "city" / "reference"
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

        # what ingest wrote (same in every run): read it once to learn the slice the triggers job reads
        t = settings.topics
        normalised = consume(settings.kafka.bootstrap, [t.signaling_normalised, t.xdr_normalised], idle_s=3,
                             with_offsets=True)
        trig_offsets = {key: _ends(normalised[getattr(t, key)]) for key in ("signaling_normalised", "xdr_normalised")}
        n_normalised = sum(map(len, normalised.values()))
        for r in range(repeats):
            secs = _timed_run("triggers", settings, trig_offsets, group=f"bench-triggers-{r}-{time.time_ns()}")
            best["triggers"] = min(best.get("triggers", secs), secs)
            print(f"  run {r + 1}/{repeats} triggers     {secs:6.1f} s  {n_normalised / secs:>9,.0f} ev/s "
                  f"(normalised signaling + xDR)", flush=True)

        print(f"\nthroughput over {n:,} raw events (bounded Kafka slice, best of {repeats}, "
              "includes ~2 s job start-up per job)")
        base = n / best["passthrough"]
        rows = {"passthrough": best["passthrough"], "ingest": best["ingest"],
                "ingest+triggers": best["ingest"] + best["triggers"]}
        for job, secs in rows.items():
            print(f"  {job:<16} {n / secs:>9,.0f} ev/s   ratio vs passthrough {n / secs / base:5.2f}")

        lat, trig_lat = _latency(settings, seed + 1, latency_rate, latency_seconds, start, wait_running)
        print(f"\nlatency while {latency_rate:,.0f} ev/s are produced (Kafka timestamp in -> out):")
        for name, values in (("ingest", lat), ("event->trigger", trig_lat)):
            if values:
                print(f"  {name:<15} n={len(values):>6,}  p50 {percentile(values, 50):6.0f} ms   "
                      f"p95 {percentile(values, 95):6.0f} ms   p99 {percentile(values, 99):6.0f} ms")
    finally:
        stack.stop(work / "run", "tansu", "tansu")
    return 0


def _ends(records: list) -> dict[int, int]:
    ends: dict[int, int] = {}
    for partition, offset, _ts, _value in records:
        ends[partition] = max(ends.get(partition, 0), offset + 1)
    return ends


def _latency(settings: Settings, seed: int, rate: float, seconds: float, start,
             wait_running) -> tuple[list[float], list[float]]:
    """Per-record latency (ms) of ingest and of event -> trigger over a paced stream on fresh topics."""
    lat_settings = settings.model_copy(deep=True)
    keys = ("signaling", "xdr", "signaling_normalised", "xdr_normalised", "dlq", "triggers")
    for key in keys:
        setattr(lat_settings.topics, key, "latency-" + getattr(settings.topics, key))
    city = settings.paths.work_dir / "latency-city"
    lat_settings.paths.reference_dir = city / "reference"
    t = lat_settings.topics
    stack.create_topics(lat_settings.kafka.bootstrap, [getattr(t, k) for k in keys], settings.kafka.partitions)
    # the triggers job needs the city's reference data before it starts: simulate now, keep the records
    # (arrival order) and produce them at the target rate once the jobs run
    records: list[tuple[str, bytes, bytes]] = []
    _simulate(lat_settings, int(rate * seconds), seed, city, lambda *record: records.append(record))
    jobs = [start(name, lat_settings, group_id=f"bench-latency-{name}-{time.time_ns()}")
            for name in ("ingest", "triggers")]
    try:
        for job in jobs:
            wait_running(job, timeout=120)
        time.sleep(3)  # let the sources join their groups and fetch before the clock starts
        producer = RateLimitedProducer(lat_settings, rate=rate)
        with producer:
            for topic_key, line, key in records:
                producer.send(topic_key, line, key)
        total = producer.sent_per_topic.get("signaling", 0) + producer.sent_per_topic.get("xdr", 0)
        outs = consume(lat_settings.kafka.bootstrap, [t.signaling_normalised, t.xdr_normalised],
                       until=lambda o: sum(map(len, o.values())) >= total * 0.97, idle_s=10,
                       timeout_s=120, with_timestamps=True)
        triggers = consume(lat_settings.kafka.bootstrap, [t.triggers], idle_s=10, timeout_s=120,
                           with_timestamps=True)[t.triggers]
        ins = consume(lat_settings.kafka.bootstrap, [t.signaling, t.xdr], idle_s=2, with_timestamps=True)
    finally:
        for job in jobs:
            job.cancel()
    by_id: dict[str, int] = {}
    by_moment: dict[tuple[str, int], int] = {}
    for records in ins.values():
        for ts, value in records:
            try:
                rec = json.loads(value)
                by_id.setdefault(rec["event_id"], ts)
                by_moment.setdefault((rec["msisdn"], rec["ts"]), ts)
            except (ValueError, KeyError, TypeError):
                continue  # malformed on purpose: it went to the DLQ
    ingest = [ts - by_id[rec["event_id"]] for recs in outs.values() for ts, v in recs
              if (rec := json.loads(v))["event_id"] in by_id]
    trig = [ts - by_moment[(rec["msisdn"], rec["ts"])] for ts, v in triggers
            if ((rec := json.loads(v))["msisdn"], rec["ts"]) in by_moment]
    return ingest, trig
