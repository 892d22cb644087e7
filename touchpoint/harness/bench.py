"""``touchpoint bench`` (``make bench``): job throughput, latency and state size over the same Kafka data, in one run.

Machines here are noisy, so every figure is printed next to a baseline measured in the same run:
the ``passthrough`` job (same Kafka sources and sink, no work) over exactly the same slice of the topics.

1. A private broker on a free port is loaded once with a simulated city of 48 h (signaling + xDR).
2. Each job runs bounded over exactly that slice (end offsets from the producer's delivery reports,
   since Tansu's ListOffsets(LATEST) is wrong), ``repeats`` times in alternation; the best run counts:
   ``passthrough``, ``ingest`` and ``triggers``, which reads the raw lines itself (parse + every trigger kind).
3. Whole pipeline: every pipeline job (``jobs.pipeline_order``: events, decisions, effect), the first bounded over
   the same slice (its end flushes every window, as the end of a replay does) and the others streaming (the
   example campaigns published first), run concurrently in this process on fresh topics. The run ends with the
   last ``decisions`` record, found by silence on every output topic. Throughput = raw events / (first job
   submitted -> Kafka timestamp of the last decision). Each job's newest checkpoint then gives its state per
   subscriber.
4. Latency: the pipeline jobs run unbounded while a second city is produced at a fixed rate;
   latency is the Kafka timestamp of each output record minus that of the record it came from
   (normalised records matched by ``event_id``, triggers by the completing event's msisdn and ts, leads and
   decisions by ``trigger_id``). The city's event time runs far faster than the wall clock here, so trigger
   latency shows processing cost; in production every trigger also waits for the watermark
   (event_time.max_out_of_orderness_ms). Every lead waits ``ordering.reorder_ms`` on purpose.
5. State size: the decision job's keyed state per subscriber, modelled in Python for 100 k subscribers
   (touchpoint/harness/state_size.py, 48 consecutive hours of buckets from step 3's behaviour output), and
   cross-checked with a real checkpoint of the job holding a smaller population.
6. Loader: rows/s of ``touchpoint load`` into embedded chdb and into the Debian server
   (touchpoint/harness/loader_bench.py).

Every figure goes to ``work/bench/result.json`` and a chart to ``result.svg`` (touchpoint/harness/bench_report.py).

Topics have one partition, as in every earlier run, so that figures compare over time; the pipeline is as exact
over several partitions however the raw lines are keyed (docs/operations.md), which the cluster runs use.

This module runs the phases in that order and prints the throughput table; the phases themselves live in
bench_city.py (the city on a private broker), bench_pipeline.py (timed job and pipeline runs),
bench_latency.py (step 4) and bench_state.py (step 5).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from touchpoint.clients.kafka_io import consume
from touchpoint.config import Settings
from touchpoint.harness import bench_report
from touchpoint.harness.bench_city import (
    CITY_HOURS,
    PIPELINE,
    city_size,
    city_summary,
    load_city,
    private_broker,
    raw_offsets,
    reference_offsets,
)
from touchpoint.harness.bench_latency import latency_summary, measure_latency, print_latency
from touchpoint.harness.bench_pipeline import (
    PipelineRun,
    StartJob,
    cluster_pipeline_runs,
    pipeline_run,
    sparse_pipeline_run,
    timed_run,
)
from touchpoint.harness.bench_state import decision_state
from touchpoint.harness.simulator.traffic import OWN_EVENTS_PER_HOUR
from touchpoint.infra import stack

#: the jobs each run bounded over the city's slice, ``repeats`` times in alternation
BOUNDED_JOBS = ("passthrough", "ingest", "triggers")


@dataclass
class LoadedCity:
    """The city as loaded into the raw topics once (step 1)."""

    offsets: dict[str, dict[int, int]]  # end offsets of its raw and reference topics, by topic key
    events: int  # raw events (signaling + xdr)
    per_subscriber_hour: float


@dataclass
class CityRuns:
    """The throughput phase's runs over the city: the best bounded run of each job and the whole pipeline's runs."""

    events: int  # raw events of the city
    best: dict[str, float]  # bounded job -> seconds of its best run
    pipeline: PipelineRun
    sparse_events: int
    sparse: PipelineRun
    on_cluster: dict[int, tuple[int, PipelineRun]]  # parallelism -> (raw events, run)


def run_bench(
    settings: Settings,
    events: int,
    seed: int,
    repeats: int = 2,
    latency_rate: float | None = None,
    latency_seconds: float = 20,
    state_subscribers: int = 1000,
    model_subscribers: int = 100_000,
) -> int:
    """``touchpoint bench``: every phase on a private broker, each figure printed, then result.json and its chart."""
    from touchpoint.runner.embedded import start, wait_running

    bench_t0 = time.perf_counter()
    work = settings.paths.work_dir / "bench"
    with private_broker(settings, work) as settings:
        city = _load(settings, seed, work, events)
        runs = _throughput_runs(settings, seed, events, repeats, city, start)
        throughput = _throughput_rows(runs)
        _print_throughput(throughput, runs.events, repeats)

        # at half the pipeline's measured maximum rate (start-up left out), unless a rate is given
        latency_rate = latency_rate or max(100.0, round(runs.events / runs.pipeline.processing / 2, -2))
        lat = measure_latency(settings, seed + 1, latency_rate, latency_seconds, start, wait_running)
        print_latency(settings, lat, latency_rate)

        per_job = _print_state_per_job(runs.pipeline)
        decision = decision_state(settings, runs.pipeline.behaviour, state_subscribers, model_subscribers, start)
        loader = _loader(settings, work)
    result = (
        {"events": runs.events, "city_hours": CITY_HOURS, "events_per_subscriber_hour": city.per_subscriber_hour}
        | _throughput_result(runs, throughput)
        | {
            "latency_ms": latency_summary(lat),
            "state_bytes_per_subscriber": {name: round(v) for name, v in per_job.items()}
            | {"all jobs": round(sum(per_job.values()))},
            "decision_state": decision,
            "loader_rows_per_s": loader,
            "bench_seconds": round(time.perf_counter() - bench_t0),
            "machine": bench_report.machine(),
        }
    )
    path = bench_report.write(result, work)
    print(f"\nbench took {result['bench_seconds']} s; {_load_average()}\nresults: {path} (+ result.svg)")
    return 0


def _load(settings: Settings, seed: int, work: Path, events: int) -> LoadedCity:
    """Step 1: a city of about ``events`` raw events into the raw topics, once."""
    t0 = time.perf_counter()
    density = settings.simulator.events_per_subscriber_hour
    producer = load_city(settings, seed, work / "city", city_size(events, density))
    load_s = time.perf_counter() - t0
    offsets = raw_offsets(settings, producer)
    n = sum(sum(v.values()) for v in offsets.values())
    per_hour = city_summary(work / "city")["events"]["per_subscriber_hour"]
    print(
        f"loaded {n:,} events (signaling + xdr) in {load_s:.1f} s "
        f"({producer.sent / load_s:,.0f} ev/s simulate+produce): {per_hour:.1f} events per subscriber-hour "
        f"(simulator.events_per_subscriber_hour); {_load_average()}"
    )
    return LoadedCity(offsets | reference_offsets(settings, producer), n, per_hour)


def _throughput_runs(
    settings: Settings, seed: int, events: int, repeats: int, city: LoadedCity, start: StartJob
) -> CityRuns:
    """Steps 2-3: each bounded job ``repeats`` times over the city's slice, then the whole pipeline over it, over
    the sparse city and on a local cluster (a city of ``events // 4`` events), each printed as it ends."""
    n = city.events
    best: dict[str, float] = {}
    for r in range(repeats):
        for job in BOUNDED_JOBS:
            secs = timed_run(job, settings, city.offsets, group=f"bench-{job}-{r}-{time.time_ns()}")
            best[job] = min(best.get(job, secs), secs)
            print(f"  run {r + 1}/{repeats} {job:<12} {secs:6.1f} s  {n / secs:>9,.0f} ev/s", flush=True)
    t = settings.topics
    bounded_triggers = {
        json.loads(v)["trigger_id"] for v in consume(settings.kafka.bootstrap, [t.triggers], idle_s=2)[t.triggers]
    }

    run = pipeline_run(settings, start)
    _print_pipeline(run, n, len(bounded_triggers))
    sparse_n, sparse = sparse_pipeline_run(settings, seed, start)
    print(
        f"  pipeline, sparse city {sparse.seconds:6.1f} s  {sparse_n / sparse.seconds:>9,.0f} ev/s  "
        f"({sparse_n:,} events at {OWN_EVENTS_PER_HOUR:g} per subscriber-hour, as every run before issue 22)",
        flush=True,
    )
    # the cluster runs take a quarter of the city: at a cluster's speed here the whole would take many minutes
    density = settings.simulator.events_per_subscriber_hour
    on_cluster = cluster_pipeline_runs(settings, seed, city_size(events // 4, density))
    _print_cluster(on_cluster)
    return CityRuns(n, best, run, sparse_n, sparse, on_cluster)


def _print_pipeline(run: PipelineRun, n: int, bounded_triggers: int) -> None:
    """The whole pipeline's run over the city, with its counts (triggers next to the bounded triggers runs')."""
    last = ", ".join(f"{k} {v:.0f} s" for k, v in run.done.items())
    print(
        f"  pipeline     {run.seconds:6.1f} s  {n / run.seconds:>9,.0f} ev/s  (start-up {run.startup:.0f} s; "
        f"last record: {last})\n"
        f"               {run.counts['triggers']:,} triggers (bounded triggers runs: {bounded_triggers:,}), "
        f"{run.counts['behaviour']:,} behaviour buckets, {run.counts['decisions']:,} decisions, "
        f"{run.counts['leads']:,} leads",
        flush=True,
    )


def _print_cluster(on_cluster: dict[int, tuple[int, PipelineRun]]) -> None:
    """Each cluster run, with its start-up apart from its processing."""
    for p, (n_cluster, crun) in on_cluster.items():
        last = ", ".join(f"{k} {v:.0f} s" for k, v in crun.done.items())
        print(
            f"  cluster p{p}   {crun.seconds:6.1f} s  {n_cluster / crun.seconds:>9,.0f} ev/s  (local standalone "
            f"cluster, 4 partitions, {n_cluster:,} events; start-up {crun.startup:.0f} s, first trigger -> last "
            f"decision {crun.processing:.1f} s = {n_cluster / crun.processing:,.0f} ev/s; last record: {last})\n"
            f"               {crun.counts['triggers']:,} triggers, {crun.counts['decisions']:,} decisions, "
            f"{crun.counts['leads']:,} leads",
            flush=True,
        )


def _throughput_rows(runs: CityRuns) -> list[dict[str, Any]]:
    """The throughput table: each path's seconds over the city, events/s and ratio to the passthrough's."""
    n, run = runs.events, runs.pipeline
    base = n / runs.best["passthrough"]
    rows = {
        "passthrough": runs.best["passthrough"],
        "ingest": runs.best["ingest"],
        "ingest+triggers": runs.best["triggers"],
        "whole pipeline": run.seconds,
        # per event, so that it compares with the rows of earlier runs (all at this density)
        "whole pipeline, sparse city": runs.sparse.seconds * n / runs.sparse_events,
    }
    # a quarter of the city, scaled to the whole (the same events per second after start-up); the cluster's own
    # start-up is replaced by the mini-cluster's, so that the row compares with the others (both in result.json)
    rows |= {
        f"whole pipeline, cluster p{p}": c.processing * n / n_c + run.startup for p, (n_c, c) in runs.on_cluster.items()
    }
    return [
        {
            "path": job,
            "seconds": round(secs, 2),
            "events_per_s": round(n / secs),
            "ratio": round(n / secs / base, 3),
        }
        for job, secs in rows.items()
    ]


def _print_throughput(throughput: list[dict[str, Any]], n: int, repeats: int) -> None:
    """The throughput table, with what each path runs and what the machine's cores make of the cluster rows."""
    print(
        f"\nthroughput over {n:,} raw events (bounded Kafka slice, best of {repeats}, "
        "includes ~2 s job start-up per job; whole pipeline: one run)"
    )
    for row in throughput:
        print(f"  {row['path']:<26} {row['events_per_s']:>9,.0f} ev/s   ratio vs passthrough {row['ratio']:5.2f}")
    print(
        "  (ingest+triggers: the triggers job, which parses the raw lines itself; whole pipeline: "
        + " -> ".join(PIPELINE)
        + "\n   running concurrently, one run, first job submitted -> last decision written; cluster p1/p2:\n"
        "   the same submitted to a local standalone cluster (JobManager + 2 TaskManagers) at parallelism 1\n"
        f"   and 2, topics of 4 partitions. This machine has {os.cpu_count()} cores, which the cluster's\n"
        "   processes share with the broker: parallelism adds no core here)"
    )


def _throughput_result(runs: CityRuns, throughput: list[dict[str, Any]]) -> dict[str, Any]:
    """The throughput phase's part of result.json."""
    n, run, on_cluster = runs.events, runs.pipeline, runs.on_cluster
    sparse = runs.sparse
    return {
        "sparse_pipeline": {"events": runs.sparse_events, "seconds": round(sparse.seconds, 2), "done_s": sparse.done},
        "startup_s": {"mini-cluster": round(run.startup, 1)}
        | {f"cluster p{p}": round(c.startup, 1) for p, (_n, c) in on_cluster.items()},
        "cluster_vs_mini_cluster": {
            f"p{p}": round((c.processing / n_c) / (run.processing / n), 2) for p, (n_c, c) in on_cluster.items()
        },
        "throughput": throughput,
        "pipeline": {"done_s": run.done, "counts": run.counts},
        "cluster_pipeline": {
            f"p{p}": {"events": n_c, "done_s": c.done, "counts": c.counts} for p, (n_c, c) in on_cluster.items()
        },
    }


def _print_state_per_job(run: PipelineRun) -> dict[str, float]:
    """Each pipeline job's checkpointed state after the city, per subscriber of the city: job -> bytes."""
    subscribers = len({b["msisdn"] for b in run.behaviour})
    print(f"\ncheckpointed state per subscriber after the {CITY_HOURS} h city ({subscribers:,} subscribers):")
    per_job = {name: size / max(1, subscribers) for name, size in run.state_bytes.items()}
    for name, per in per_job.items():
        print(f"  {name:<16} {per:>8,.0f} B   ({run.state_bytes[name] / 1e6:.1f} MB in its last checkpoint)")
    print(f"  {'all jobs':<16} {sum(per_job.values()):>8,.0f} B")
    return per_job


def _load_average() -> str:
    """The machine's load, printed with the figures: other work on the same cores skews them."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def _loader(settings: Settings, work: Path, records: int = 200_000) -> dict[str, int]:
    """Loader rows/s (Kafka -> ClickHouse) into embedded chdb and into the Debian server, same records."""
    from touchpoint.harness.loader_bench import measure

    print(f"\nloader, {records:,} synthetic records of every loaded topic (first record read -> last commit):")
    results = [measure(settings, "chdb:", records=records)]
    if stack.clickhouse_available():
        run = work / "ch-run"
        svc = stack.start_clickhouse(run, work / "clickhouse", stack.free_port(), stack.free_port())
        try:
            results.append(measure(settings, f"clickhouse://127.0.0.1:{svc.port}", records=records))
        finally:
            stack.stop(run, "clickhouse", "clickhouse")
    for r in results:
        print(
            f"  {r['backend'].split(' at ')[0]:<16} {r['rows']:>9,} rows in {r['seconds']:6.1f} s  "
            f"{r['rows_per_s']:>9,} rows/s  (batches of {r['batch_rows']:,})"
        )
    return {r["backend"].split(" at ")[0]: r["rows_per_s"] for r in results}
