"""``touchpoint demo``: the whole v1 path on the local stack, narrated for someone who has not read the code.

Starts a fresh local broker (and the ClickHouse server), simulates a small city into Kafka, runs the
``ingest`` and ``traffic`` jobs streaming, waits until every produced record is accounted for, prints
per-topic counts, then cancels the jobs and stops what it started.
"""

from __future__ import annotations

import json
import time
from collections import Counter

from touchpoint import stack
from touchpoint.config import Settings
from touchpoint.kafka_io import RateLimitedProducer, read_topics, wait_for_total


def _step(n: int, text: str) -> None:
    print(f"\n[{n}] {text}", flush=True)


def run_demo(settings: Settings, subscribers: int, hours: float, seed: int) -> int:
    t0 = time.monotonic()
    _step(1, "Starting the local stack (fresh in-memory Kafka broker + ClickHouse server)")
    stack.stop(settings.paths.run, "tansu", "tansu")  # in-memory broker: a restart is a clean slate
    for svc in stack.up(settings):
        print(f"    {svc.name:<11} 127.0.0.1:{svc.port}  (pid {svc.pid})")
    try:
        return _run(settings, subscribers, hours, seed, t0)
    finally:
        _step(5, "Stopping the local stack")
        print("    stopped: " + (", ".join(stack.down(settings)) or "nothing"))


def _run(settings: Settings, subscribers: int, hours: float, seed: int, t0: float) -> int:
    from touchpoint.runner import start, wait_running
    from touchpoint.simulator import simulate

    topics = settings.topics
    city = settings.paths.work_dir / "demo" / "city"
    _step(2, f"Simulating {subscribers:,} subscribers for {hours:g} h of event time into Kafka (seed {seed})")
    with RateLimitedProducer(settings, progress=True) as producer:
        summary = simulate(settings, seed=seed, subscribers=subscribers, hours=hours, out_dir=city,
                           sink=producer.send)
    print(f"    {summary}")
    sent = dict(producer.sent_per_topic)
    print(f"    produced: " + ", ".join(f"{getattr(topics, k)}={v:,}" for k, v in sorted(sent.items())))
    print(f"    reference data and ground truth: {city}")
    truth = Counter(json.loads(line)["kind"] for line in (city / "ground_truth.jsonl").open())
    print(f"    ground truth: {sum(truth.values()):,} trigger situations of {len(truth)} kinds "
          f"(the triggers job of issue #3 must find exactly these):")
    print("      " + ", ".join(f"{k}={v}" for k, v in sorted(truth.items())))

    _step(3, "Running the ingest and traffic jobs streaming (Kafka -> Flink SQL -> Kafka)")
    jobs = [start("ingest", settings), start("traffic", settings)]
    for job in jobs:
        wait_running(job, timeout=120)
        print(f"    {job.name:<8} RUNNING")
    raw_in = sent.get("signaling", 0) + sent.get("xdr", 0)
    ingest_outputs = [topics.signaling_normalised, topics.xdr_normalised, topics.dlq]
    try:
        print("    waiting until valid + dead-letter records cover every raw record:")
        got = wait_for_total(settings.kafka.bootstrap, ingest_outputs, raw_in, progress=True)
        accounted = sum(map(len, got.values()))
    finally:
        time.sleep(2)  # let the traffic job flush what the watermark allows
        for job in jobs:
            job.cancel()
    print("    jobs cancelled")

    _step(4, "What is on each topic now")
    counts = read_topics(settings.kafka.bootstrap, [topics.signaling_normalised, topics.xdr_normalised,
                                                    topics.dlq, topics.traffic], idle_s=2)
    for name in (topics.signaling, topics.xdr, topics.orders):
        key = next(k for k, v in topics.model_dump().items() if v == name)
        print(f"    {name:<22} {sent.get(key, 0):>10,}  (input)")
    for name, records in counts.items():
        print(f"    {name:<22} {len(records):>10,}")
    reasons = Counter(json.loads(r)["reason"] for r in counts[topics.dlq])
    print("    dead letters by reason: " + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())))
    ok = accounted == raw_in
    print(f"\n    every raw record accounted for: {'yes' if ok else 'NO'} "
          f"({accounted:,} of {raw_in:,} = valid + dead letters)")

    print(f"\nDemo finished in {time.monotonic() - t0:.0f} s.")
    return 0 if ok else 1
