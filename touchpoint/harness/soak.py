"""``touchpoint soak`` (``make soak``, not in CI): the whole pipeline streaming at a fixed rate for a long time,
sampled every minute, to show that nothing grows without bound.

A city is simulated once and replayed lap after lap: each lap starts a day of event time after the one before
and gives every record a new id, so event time goes on (fast: a month of it within the first minutes, past the
longest event-time horizon of the rules) and no record repeats. The jobs (every job of the pipeline) and the
loader run as in production, each reading and writing Kafka, on a private broker. Every ``sample_s`` the run
records, per job: the size and duration of its newest checkpoint (the heap backend's full checkpoints: the
whole state); the resident memory of the Flink JVM and of this process; and the lag (records produced but not
yet committed by the job reading the raw topics, and by the loader).

State that lives for a processing time (``flink.state_ttl_hours``: duplicate detection and joins;
``journeys.usage_wait_minutes``; a lead's attribution window, which streaming closes in processing time)
reaches its steady size only after that long. A soak compresses event time, not processing time, so it shortens
them (``--state-minutes``, default 5) to reach, within its warm-up, the plateau production reaches after days.
The verdict then holds the median of every figure over the last third of the run to at most ``GROWTH`` times its
median over the middle third: memory, state and checkpoint time that keep growing, or a lag that does, fail the
run; a single slow checkpoint does not.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from touchpoint.clients.kafka_io import RateLimitedProducer, committed
from touchpoint.config import Settings
from touchpoint.harness import bench_city, bench_report
from touchpoint.harness.bench_scale import checkpoints, children, memory_mb
from touchpoint.harness.bench_state import job_state_bytes

#: the most a figure may grow from the middle third of the run to the last third and still count as bounded
GROWTH = 1.5
#: each lap starts this long (event time) after the one before: state kept for event-time spans (contact records
#: as long as the longest campaign cooldown, 30 days in the examples) reaches its plateau in the first minutes
LAP_HOURS = 24.0
#: below these, a figure is noise rather than growth (MB, bytes, ms, records)
FLOOR = {"memory_mb": 50.0, "state_bytes": 1e6, "checkpoint_ms": 500.0, "lag": 5_000.0}
_ID_FIELDS = ("event_id", "order_id")


@dataclass
class Sample:
    minute: float
    produced: int
    memory_mb: dict[str, float]
    state_bytes: dict[str, int]
    checkpoint_ms: dict[str, int]
    lag: dict[str, int]


@dataclass
class Laps:
    """The city's raw records, replayed lap after lap with shifted times and fresh ids."""

    records: list[tuple[str, dict[str, Any]]]
    span_ms: int
    lap: int = 0
    sent: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, settings: Settings, rate: float, laps: int | None = None) -> None:
        with RateLimitedProducer(settings, rate=rate) as producer:
            while not self.stop.is_set() and (laps is None or self.lap < laps):
                shift = self.lap * self.span_ms
                for key, rec in self.records:
                    if self.stop.is_set():
                        break
                    out = dict(rec, ts=rec["ts"] + shift)
                    for f in _ID_FIELDS:
                        if f in out:
                            out[f] = f"{out[f]}~{self.lap}"
                    producer.send(key, orjson.dumps(out), key=str(out.get("msisdn", "")).encode())
                    self.sent += 1
                self.lap += 1


def _city(settings: Settings, seed: int, subscribers: int, hours: float, out: Path) -> list[tuple[str, dict]]:
    from touchpoint.harness.simulator import simulate

    records: list[tuple[str, dict]] = []

    def keep(topic_key: str, value: bytes, *_, **__) -> None:
        if topic_key in bench_city.RAW:
            try:
                rec = orjson.loads(value)
            except orjson.JSONDecodeError:
                return  # the city's planted malformed lines: one lap of them is enough, and they have no ts
            if isinstance(rec, dict) and isinstance(rec.get("ts"), int):
                records.append((topic_key, rec))

    simulate(settings, seed=seed, subscribers=subscribers, hours=hours, out_dir=out, sink=keep)
    return records


def bounded(series: list[float], floor: float) -> bool:
    """Whether the last third of ``series`` stays within GROWTH times its middle third (or under ``floor``),
    median against median: a trend, not one slow checkpoint or one collection of garbage, decides."""
    third = len(series) // 3
    if third < 1:
        return True
    middle, last = series[third : 2 * third], series[2 * third :]
    return statistics.median(last) <= max(GROWTH * statistics.median(middle), floor)


def run_soak(
    settings: Settings,
    minutes: float,
    rate: float,
    subscribers: int,
    hours: float,
    seed: int,
    sample_s: float = 60.0,
    state_minutes: float = 5.0,
) -> int:
    from touchpoint.clickhouse.loader import Loader
    from touchpoint.clients import campaigns, reference
    from touchpoint.runner.embedded import start

    work = settings.paths.work_dir / "soak"
    settings = settings.model_copy(deep=True)
    settings.flink.state_ttl_hours = state_minutes / 60
    settings.journeys.usage_wait_minutes = state_minutes
    # a lead's attribution window is event time, but streaming closes it in processing time: shorten it too
    settings.decisions.attribution_days = state_minutes / 1440
    settings.clickhouse.url = f"chdb://{work / 'chdb'}"
    with bench_city.private_broker(settings, work) as s:
        records = _city(s, seed, subscribers, hours, work / "city")
        reference.publish(s, s.paths.reference_dir)
        campaigns.publish(s, campaigns.load([str(s.paths.campaigns)]))
        campaigns.publish(s, campaigns.load([str(work / "city" / "journeys")], "journeys"), what="journeys")
        print(
            f"soak: {len(records):,} events of {subscribers:,} subscribers over {hours:g} h per lap, laps "
            f"{max(hours, LAP_HOURS):g} h of event time apart, at {rate:,.0f} ev/s for {minutes:g} min; state "
            f"lifetimes {state_minutes:g} min; a sample every {sample_s:g} s",
            flush=True,
        )
        stamp = time.time_ns()
        groups = {name: f"soak-{name}-{stamp}" for name in bench_city.PIPELINE}
        jobs = [start(name, s, group_id=groups[name]) for name in bench_city.PIPELINE]
        loader = Loader(s, progress=False, group=f"soak-loader-{stamp}")
        laps = Laps(records, round(max(hours, LAP_HOURS) * 3_600_000))
        threads = [threading.Thread(target=loader.run, daemon=True), threading.Thread(target=laps.run, args=(s, rate))]
        for t in threads:
            t.start()
        samples: list[Sample] = []
        t0 = time.monotonic()
        try:
            while time.monotonic() - t0 < minutes * 60:
                time.sleep(max(0.0, sample_s * (len(samples) + 1) - (time.monotonic() - t0)))
                samples.append(_sample(s, jobs, groups, laps, loader, work, (time.monotonic() - t0) / 60))
                _print(samples[-1])
                for job in jobs:
                    if job.status() in ("FAILED", "ENDED"):
                        raise RuntimeError(f"soak: job {job.name} failed: {job.failure()}")
        finally:
            laps.stop.set()
            threads[1].join(60)
            loader.stop()
            threads[0].join(60)
            for job in jobs:
                job.cancel()
    verdict = _verdict(samples)
    result = {
        "minutes": minutes,
        "rate": rate,
        "subscribers": subscribers,
        "state_minutes": state_minutes,
        "events": laps.sent,
        "laps": laps.lap,
        "samples": [s.__dict__ for s in samples],
        "bounded": verdict,
        "machine": bench_report.machine(),
    }
    out = settings.paths.work_dir / "soak" / "result.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    grew = [k for k, ok in verdict.items() if not ok]
    print(f"soak: {laps.sent:,} events in {laps.lap} laps; results: {out}")
    print("soak: " + ("every figure bounded" if not grew else f"growing without bound: {', '.join(grew)}"))
    return 1 if grew else 0


def _sample(s: Settings, jobs, groups, laps: Laps, loader, work: Path, minute: float) -> Sample:
    jvms = [memory_mb(pid, "VmRSS") for pid in children(os.getpid())]
    memory = {"flink_jvm": max(jvms, default=0.0), "python": memory_mb(os.getpid(), "VmRSS")}
    state, took = {}, {}
    for job in jobs:
        state[job.name] = job_state_bytes(s, job)
        done = checkpoints(work / "logs", job.job_id)
        took[job.name] = done[-1][2] if done else 0
    raw = [getattr(s.topics, k) for k in bench_city.RAW]
    reader = bench_city.PIPELINE[0]  # the job that reads the raw topics
    read = sum(committed(s.kafka, groups[reader], raw, s.kafka.partitions).values())
    lag = {reader: max(laps.sent - read, 0), "loader": sum(v or 0 for v in loader.lag().values())}
    return Sample(round(minute, 1), laps.sent, memory, state, took, lag)


def _print(x: Sample) -> None:
    state = " ".join(f"{k} {v / 1e6:.1f}" for k, v in x.state_bytes.items())
    took = " ".join(f"{k} {v}" for k, v in x.checkpoint_ms.items())
    print(
        f"  {x.minute:5.1f} min  {x.produced:>10,} events  memory MB jvm {x.memory_mb['flink_jvm']:,.0f} "
        f"python {x.memory_mb['python']:,.0f}  state MB {state}  checkpoint ms {took}  "
        "lag " + " ".join(f"{k} {v:,}" for k, v in x.lag.items()),
        flush=True,
    )


def _verdict(samples: list[Sample]) -> dict[str, bool]:
    """figure -> bounded, for every figure sampled."""
    out: dict[str, bool] = {}
    for kind in ("memory_mb", "state_bytes", "checkpoint_ms", "lag"):
        for name in getattr(samples[0], kind) if samples else ():
            out[f"{kind}.{name}"] = bounded([float(getattr(x, kind)[name]) for x in samples], FLOOR[kind])
    return out
