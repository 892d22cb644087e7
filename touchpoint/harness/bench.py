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
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from jobs import job as job_spec
from jobs import pipeline_order
from touchpoint.clients.kafka_io import RateLimitedProducer, advance_event_time, committed, consume
from touchpoint.config import Settings
from touchpoint.flink import checkpoints
from touchpoint.flink.pipeline import REFERENCE_IDLE_S
from touchpoint.harness import bench_report
from touchpoint.harness.simulator.traffic import OWN_EVENTS_PER_HOUR
from touchpoint.infra import stack
from touchpoint.reference import REFERENCE_NAMES
from udfs.units import HOUR_MS

#: the city's length: two days, so that state held for 48 h (behaviour horizons, contact window) is all there
_CITY_HOURS = 48
#: the fewest subscribers of a bench city
MIN_SUBSCRIBERS = 50
#: the sparse city of every run before issue 22 (1 500 subscribers, 48 h, ~220 k events)
SPARSE_SUBSCRIBERS = 1500
#: the jobs of the whole pipeline, upstream first
PIPELINE = tuple(pipeline_order())
#: the raw topics (ingest's inputs): loaded once, read by every run
RAW = job_spec("ingest").inputs
#: topics the pipeline jobs write or read besides the raw ones
_PIPELINE_TOPICS = tuple(
    sorted({k for name in PIPELINE for k in job_spec(name).inputs + job_spec(name).outputs} - set(RAW))
)


def city_size(events: int, events_per_subscriber_hour: float, hours: float = _CITY_HOURS) -> int:
    """Subscribers of a city of about ``events`` events over ``hours`` at that density (simulator.*)."""
    return max(MIN_SUBSCRIBERS, round(events / (max(events_per_subscriber_hour, OWN_EVENTS_PER_HOUR) * hours)))


def city_summary(city: Path) -> dict:
    """The simulator's summary.json of a city (counts, its density)."""
    return json.loads((city / "summary.json").read_text())


def _simulate(settings: Settings, seed: int, out_dir: Path, sink, subscribers: int, hours: float = _CITY_HOURS) -> None:
    """A city of ``subscribers`` over ``hours``, handed to ``sink`` in arrival order."""
    from touchpoint.harness.simulator import simulate

    simulate(settings, seed=seed, subscribers=subscribers, hours=hours, out_dir=out_dir, sink=sink)


def load_city(
    settings: Settings, seed: int, out_dir: Path, subscribers: int, hours: float = _CITY_HOURS
) -> RateLimitedProducer:
    """Simulate a city straight into the raw topics; the producer knows the end offsets."""
    producer = RateLimitedProducer(settings, keying=settings.simulator.keying)
    with producer:
        _simulate(settings, seed, out_dir, producer.send, subscribers, hours)
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


def timed_run(job: str, settings: Settings, offsets: dict[str, dict[int, int]], group: str) -> float:
    from touchpoint.runner.embedded import start

    t0 = time.perf_counter()
    start(job, settings, group_id=group, bounded_offsets=offsets).wait()
    return time.perf_counter() - t0


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def _renamed(settings: Settings, prefix: str, keys) -> Settings:
    """A copy of ``settings`` whose topics ``keys`` carry ``prefix`` (fresh topics for one phase)."""
    out = settings.model_copy(deep=True)
    for key in keys:
        setattr(out.topics, key, prefix + getattr(settings.topics, key))
    return out


def _publish_campaigns(settings: Settings) -> int:
    from touchpoint.clients import campaigns

    items = campaigns.load([str(settings.paths.campaigns)])
    campaigns.publish(settings, items)
    return len(items)


def _city_end_ms(settings: Settings, hours: float = _CITY_HOURS) -> int:
    return int(settings.simulator.start.timestamp() * 1000 + hours * HOUR_MS)


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
    from touchpoint.runner.embedded import start, wait_running

    bench_t0 = time.perf_counter()
    work = settings.paths.work_dir / "bench"
    with private_broker(settings, work) as settings:
        t0 = time.perf_counter()
        density = settings.simulator.events_per_subscriber_hour
        producer = load_city(settings, seed, work / "city", city_size(events, density))
        load_s = time.perf_counter() - t0
        offsets = raw_offsets(settings, producer)
        n = sum(sum(v.values()) for v in offsets.values())
        reference = reference_offsets(settings, producer)
        per_hour = city_summary(work / "city")["events"]["per_subscriber_hour"]
        print(
            f"loaded {n:,} events (signaling + xdr) in {load_s:.1f} s "
            f"({producer.sent / load_s:,.0f} ev/s simulate+produce): {per_hour:.1f} events per subscriber-hour "
            f"(simulator.events_per_subscriber_hour); {_load_average()}"
        )

        best: dict[str, float] = {}
        t = settings.topics
        for r in range(repeats):
            for job in ("passthrough", "ingest", "triggers"):
                secs = timed_run(job, settings, offsets | reference, group=f"bench-{job}-{r}-{time.time_ns()}")
                best[job] = min(best.get(job, secs), secs)
                print(f"  run {r + 1}/{repeats} {job:<12} {secs:6.1f} s  {n / secs:>9,.0f} ev/s", flush=True)
        bounded_triggers = {
            json.loads(v)["trigger_id"] for v in consume(settings.kafka.bootstrap, [t.triggers], idle_s=2)[t.triggers]
        }

        run = pipeline_run(settings, start)
        last = ", ".join(f"{k} {v:.0f} s" for k, v in run.done.items())
        print(
            f"  pipeline     {run.seconds:6.1f} s  {n / run.seconds:>9,.0f} ev/s  (start-up {run.startup:.0f} s; "
            f"last record: {last})\n"
            f"               {run.counts['triggers']:,} triggers (bounded triggers runs: {len(bounded_triggers):,}), "
            f"{run.counts['behaviour']:,} behaviour buckets, {run.counts['decisions']:,} decisions, "
            f"{run.counts['leads']:,} leads",
            flush=True,
        )

        sparse_n, sparse = sparse_pipeline_run(settings, seed, start)
        print(
            f"  pipeline, sparse city {sparse.seconds:6.1f} s  {sparse_n / sparse.seconds:>9,.0f} ev/s  "
            f"({sparse_n:,} events at {OWN_EVENTS_PER_HOUR:g} per subscriber-hour, as every run before issue 22)",
            flush=True,
        )

        # the cluster runs take a quarter of the city: at a cluster's speed here the whole would take many minutes
        cluster_events = events // 4
        on_cluster = cluster_pipeline_runs(settings, seed, city_size(cluster_events, density))
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

        print(
            f"\nthroughput over {n:,} raw events (bounded Kafka slice, best of {repeats}, "
            "includes ~2 s job start-up per job; whole pipeline: one run)"
        )
        base = n / best["passthrough"]
        rows = {
            "passthrough": best["passthrough"],
            "ingest": best["ingest"],
            "ingest+triggers": best["triggers"],
            "whole pipeline": run.seconds,
            # per event, so that it compares with the rows of earlier runs (all at this density)
            "whole pipeline, sparse city": sparse.seconds * n / sparse_n,
        }
        # a quarter of the city, scaled to the whole (the same events per second after start-up); the cluster's own
        # start-up is replaced by the mini-cluster's, so that the row compares with the others (both in result.json)
        rows |= {
            f"whole pipeline, cluster p{p}": c.processing * n / n_c + run.startup for p, (n_c, c) in on_cluster.items()
        }
        throughput = [
            {
                "path": job,
                "seconds": round(secs, 2),
                "events_per_s": round(n / secs),
                "ratio": round(n / secs / base, 3),
            }
            for job, secs in rows.items()
        ]
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

        # at half the pipeline's measured maximum rate (start-up left out), unless a rate is given
        latency_rate = latency_rate or max(100.0, round(n / run.processing / 2, -2))
        lat = _latency(settings, seed + 1, latency_rate, latency_seconds, start, wait_running)
        print(
            f"\nlatency while {latency_rate:,.0f} ev/s are produced, whole pipeline streaming "
            "(Kafka timestamp in -> out):"
        )
        for name, values in lat.items():
            if values:
                print(
                    f"  {name:<17} n={len(values):>6,}  p50 {percentile(values, 50):6.0f} ms   "
                    f"p95 {percentile(values, 95):6.0f} ms   p99 {percentile(values, 99):6.0f} ms"
                )
            else:
                print(f"  {name:<17} n=     0")
        print(
            f"  (ordering.reorder_ms = {settings.ordering.reorder_ms} ms is in every trigger -> decision/lead "
            "figure on purpose; leads deferred by quiet hours, and decisions `no_profile`, which wait "
            f"decisions.profile_wait_ms = {settings.decisions.profile_wait_ms} ms for a profile, are left out)"
        )

        subscribers = len({b["msisdn"] for b in run.behaviour})
        print(f"\ncheckpointed state per subscriber after the {_CITY_HOURS} h city ({subscribers:,} subscribers):")
        per_job = {name: size / max(1, subscribers) for name, size in run.state_bytes.items()}
        for name, per in per_job.items():
            print(f"  {name:<16} {per:>8,.0f} B   ({run.state_bytes[name] / 1e6:.1f} MB in its last checkpoint)")
        print(f"  {'all jobs':<16} {sum(per_job.values()):>8,.0f} B")

        decision_state = _state_size(settings, run.behaviour, state_subscribers, model_subscribers, start)
        loader = _loader(settings, work)
    result = {
        "events": n,
        "city_hours": _CITY_HOURS,
        "events_per_subscriber_hour": per_hour,
        "sparse_pipeline": {"events": sparse_n, "seconds": round(sparse.seconds, 2), "done_s": sparse.done},
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
        "latency_ms": {
            name: {"n": len(v), **{f"p{q}": percentile(v, q) for q in (50, 95, 99)}} if v else {}
            for name, v in lat.items()
        },
        "state_bytes_per_subscriber": {name: round(v) for name, v in per_job.items()}
        | {"all jobs": round(sum(per_job.values()))},
        "decision_state": decision_state,
        "loader_rows_per_s": loader,
        "bench_seconds": round(time.perf_counter() - bench_t0),
        "machine": bench_report.machine(),
    }
    path = bench_report.write(result, work)
    print(f"\nbench took {result['bench_seconds']} s; {_load_average()}\nresults: {path} (+ result.svg)")
    return 0


def _load_average() -> str:
    """The machine's load, printed with the figures: other work on the same cores skews them."""
    import os

    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def _ends(records: list, partitions: int) -> dict[int, int]:
    """End offsets of ``records`` read with their offsets; a partition without any ends at 0."""
    ends: dict[int, int] = dict.fromkeys(range(partitions), 0)
    for partition, offset, _ts, _value in records:
        ends[partition] = max(ends.get(partition, 0), offset + 1)
    return ends


# --- whole pipeline --------------------------------------------------------------------------------


@dataclass
class PipelineRun:
    seconds: float
    done: dict[str, float]  # job -> seconds from the start to its last output record
    counts: dict[str, int]
    behaviour: list[dict] = field(repr=False)
    #: job -> bytes of its latest completed checkpoint once everything was processed
    state_bytes: dict[str, int] = field(default_factory=dict)
    #: job -> Flink job id
    job_ids: dict[str, str] = field(default_factory=dict)
    #: seconds from the start to the first trigger: the submissions' start-up (and the first events' way through)
    startup: float = 0.0

    @property
    def processing(self) -> float:
        """First trigger -> last decision: the run without the submissions' start-up."""
        return self.seconds - self.startup


def _job_state_bytes(settings: Settings, job) -> int:
    """Size of the newest completed checkpoint of a running job (0 if it has none yet)."""
    root = checkpoints.local_root(settings, job.name)
    job_id = job.job_id
    for _ in range(5):  # only the newest checkpoint is retained: it may be replaced while being measured
        _, path = _latest_checkpoint(root, job_id)
        try:
            return _dir_size(path) if path else 0
        except FileNotFoundError:
            continue
    return 0


def pipeline_run(
    settings: Settings,
    start,
    quiet_s: float = 8,
    hours: float = _CITY_HOURS,
    timeout_s: float = 900,
    prefix: str = "pipeline-",
) -> PipelineRun:
    """The pipeline's jobs, streaming concurrently over the city loaded into the raw topics, their outputs on fresh
    topics (named with ``prefix``). Right after the city, an event-time marker on every raw partition closes the
    last windows and patterns (each partition's watermark is its own), as the end of a replay does."""
    ps = _renamed(settings, prefix, _PIPELINE_TOPICS)
    t = ps.topics
    stack.create_topics(ps.kafka.bootstrap, [getattr(t, k) for k in _PIPELINE_TOPICS], ps.kafka.partitions)
    _publish_campaigns(ps)
    stamp = time.time_ns()
    t0_ms = time.time() * 1000
    jobs = []
    try:
        jobs += [start(name, ps, group_id=f"bench-pipeline-{name}-{stamp}") for name in PIPELINE]
        for key in RAW:  # the stream "goes on": event time passes the city's end
            advance_event_time(ps, key, _city_end_ms(ps, hours) + 2 * HOUR_MS)
        drain_t0 = time.perf_counter()
        outs = consume(
            ps.kafka.bootstrap,
            [t.triggers, t.behaviour, t.decisions, t.leads],
            idle_s=quiet_s,
            timeout_s=timeout_s,
            with_timestamps=True,
        )
        if time.perf_counter() - drain_t0 >= timeout_s:  # still writing: its figures would be those of a part
            raise RuntimeError(f"bench: the pipeline was still writing after {timeout_s:.0f} s")
        # quiet_s > flink.checkpoint_interval_ms: each job's newest checkpoint holds its state after everything
        state_bytes = {job.name: _job_state_bytes(ps, job) for job in jobs}
        job_ids = {job.name: job.job_id for job in jobs}
    finally:
        for job in jobs:
            job.cancel()
    if not outs[t.decisions]:
        raise RuntimeError("bench: the whole pipeline wrote no decisions")
    done = {
        name: (max((ts for ts, _ in outs[topic]), default=t0_ms) - t0_ms) / 1000
        for name, topic in (("triggers", t.triggers), ("behaviour", t.behaviour), ("decisions", t.decisions))
    }
    triggers = {json.loads(v)["trigger_id"] for _, v in outs[t.triggers]} - {"event-time-marker"}
    behaviour = [json.loads(v) for _, v in outs[t.behaviour]]
    counts = {
        "triggers": len(triggers),
        "behaviour": len(behaviour),
        "decisions": len(outs[t.decisions]),
        "leads": len(outs[t.leads]),
    }
    first = min((ts for ts, v in outs[t.triggers] if b"event-time-marker" not in v), default=t0_ms)
    return PipelineRun(done["decisions"], done, counts, behaviour, state_bytes, job_ids, (first - t0_ms) / 1000)


def own_city(
    settings: Settings, prefix: str, seed: int, subscribers: int, partitions: int, density: float | None = None
) -> tuple[Settings, int]:
    """A copy of ``settings`` whose raw and reference topics are fresh (named with ``prefix``), loaded with a city of
    ``subscribers`` at ``density`` events per subscriber-hour (default: the settings'): (settings, raw events).
    Another city's reference data must not mix with this one's."""
    keys = (*RAW, *REFERENCE_NAMES)
    cs = _renamed(settings, prefix, keys)
    cs.kafka.partitions = partitions
    if density is not None:
        cs.simulator.events_per_subscriber_hour = density
    names = [getattr(cs.topics, k) for k in keys]
    stack.create_topics(cs.kafka.bootstrap, names, partitions, stack.compacted_topics(cs) & set(names))
    producer = load_city(cs, seed, cs.paths.work_dir / f"{prefix}city", subscribers)
    return cs, sum(sum(v.values()) for v in raw_offsets(cs, producer).values())


def sparse_pipeline_run(settings: Settings, seed: int, start) -> tuple[int, PipelineRun]:
    """The whole pipeline over the sparse city every run before issue 22 measured (a subscriber's own activity only,
    the same subscribers and hours), on topics of its own: (raw events, run)."""
    ss, n = own_city(settings, "sparse-", seed, SPARSE_SUBSCRIBERS, settings.kafka.partitions, OWN_EVENTS_PER_HOUR)
    return n, pipeline_run(ss, start, prefix="sparse-pipeline-")


# --- on a cluster ------------------------------------------------------------------------------------


def cluster_pipeline_runs(
    settings: Settings, seed: int, subscribers: int, parallelisms: tuple[int, ...] = (1, 2), partitions: int = 4
) -> dict[int, tuple[int, PipelineRun]]:
    """The whole pipeline submitted to a local standalone cluster (`touchpoint cluster up`, on free ports, stopped
    at the end) at each parallelism: parallelism -> (raw events, run). The city is loaded into raw topics of
    ``partitions`` partitions of its own, as the cluster's jobs need to read in parallel."""
    from touchpoint.runner.cluster import local
    from touchpoint.runner.cluster.rest import SubmittedJob
    from touchpoint.runner.cluster.submit import submit

    cs, n = own_city(settings, "cluster-", seed, subscribers, partitions)
    cs.cluster.rest_url = f"http://127.0.0.1:{stack.free_port()}"
    cs.cluster.rpc_port = stack.free_port()
    runs = {}
    try:
        local.up(cs)
        for p in parallelisms:

            def start(name, s, group_id=None, p=p):
                job_id = submit(s, name, parallelism=p, group=group_id)
                return SubmittedJob(name, job_id, s.cluster.rest_url)

            runs[p] = (n, pipeline_run(cs, start, prefix=f"cluster-p{p}-"))
    finally:
        local.down(cs)
    return runs


# --- latency -----------------------------------------------------------------------------------------


def _latency(settings: Settings, seed: int, rate: float, seconds: float, start, wait_running) -> dict[str, list[float]]:
    """Per-record latency (ms) of each step while the whole pipeline streams a paced city on fresh topics."""
    keys = RAW + _PIPELINE_TOPICS
    lat_settings = _renamed(settings, "latency-", keys)
    city = settings.paths.work_dir / "latency-city"
    lat_settings.paths.reference_dir = city / "reference"
    t = lat_settings.topics
    stack.create_topics(lat_settings.kafka.bootstrap, [getattr(t, k) for k in keys], settings.kafka.partitions)
    _publish_campaigns(lat_settings)
    # the jobs need the city's reference data before they start (as docs/operations.md asks: a reference read
    # while they run holds their joins until it is quiet): simulate now, publish the reference records, keep
    # the events (arrival order) and produce them at the target rate once the jobs run
    records: list[tuple[str, bytes, bytes]] = []
    # about rate * seconds events: the fewest subscribers of a bench city, over as many hours as that takes
    density = max(lat_settings.simulator.events_per_subscriber_hour, OWN_EVENTS_PER_HOUR)
    hours = max(1.0, rate * seconds / (MIN_SUBSCRIBERS * density))
    _simulate(lat_settings, seed, city, lambda *record: records.append(record), MIN_SUBSCRIBERS, hours)
    with RateLimitedProducer(lat_settings) as producer:
        for topic_key, line, key in records:
            if topic_key not in RAW:
                producer.send(topic_key, line, key)
    records = [r for r in records if r[0] in RAW]
    jobs = []
    try:
        for name in PIPELINE:
            jobs.append(start(name, lat_settings, group_id=f"bench-latency-{name}-{time.time_ns()}"))
        for job in jobs:
            wait_running(job, timeout=120)
        # let the sources join their groups and the joins take the reference data (they wait until it has been
        # quiet for REFERENCE_IDLE_S) before the clock starts: the figures are the steady state's
        time.sleep(REFERENCE_IDLE_S + 2)
        producer = RateLimitedProducer(lat_settings, rate=rate)
        t0 = time.perf_counter()
        with producer:
            for topic_key, line, key in records:
                producer.send(topic_key, line, key)
        total = producer.sent_per_topic.get("signaling", 0) + producer.sent_per_topic.get("xdr", 0)
        print(f"  latency city: {total:,} events produced in {time.perf_counter() - t0:.1f} s", flush=True)
        outs = consume(
            lat_settings.kafka.bootstrap,
            [t.signaling_normalised, t.xdr_normalised],
            until=lambda o: sum(map(len, o.values())) >= total * 0.97,
            idle_s=10,
            timeout_s=120,
            with_timestamps=True,
        )
        triggers = consume(lat_settings.kafka.bootstrap, [t.triggers], idle_s=8, timeout_s=120, with_timestamps=True)[
            t.triggers
        ]
        decided = consume(
            lat_settings.kafka.bootstrap, [t.decisions, t.leads], idle_s=4, timeout_s=60, with_timestamps=True
        )
        ins = consume(
            lat_settings.kafka.bootstrap,
            [t.signaling, t.xdr],
            timeout_s=60,
            with_timestamps=True,
            until=lambda o: sum(map(len, o.values())) >= total,
        )
    finally:
        for job in jobs:
            job.cancel()
    by_id: dict[str, int] = {}
    by_moment: dict[tuple[str, int], int] = {}
    for recs in ins.values():
        for ts, value in recs:
            try:
                rec = json.loads(value)
                by_id.setdefault(rec["event_id"], ts)
                by_moment.setdefault((rec["msisdn"], rec["ts"]), ts)
            except (ValueError, KeyError, TypeError):
                continue  # malformed on purpose: it went to the DLQ
    ingest = [
        ts - by_id[rec["event_id"]]
        for recs in outs.values()
        for ts, v in recs
        if (rec := json.loads(v))["event_id"] in by_id
    ]
    trig, trigger_at = [], {}
    for ts, v in triggers:
        rec = json.loads(v)
        trigger_at.setdefault(rec["trigger_id"], ts)
        if (rec["msisdn"], rec["ts"]) in by_moment:
            trig.append(ts - by_moment[(rec["msisdn"], rec["ts"])])
    decisions = [
        ts - trigger_at[d["trigger_id"]]
        for ts, v in decided[t.decisions]
        # no profile: the trigger waited decisions.profile_wait_ms for one by design (an inbound roamer has none)
        if (d := json.loads(v))["trigger_id"] in trigger_at and d.get("reason") != "no_profile"
    ]
    leads, event_lead = [], []
    for ts, v in decided[t.leads]:
        lead = json.loads(v)
        if lead["deliver_at"] > lead["trigger_ts"] or lead["trigger_id"] not in trigger_at:
            continue  # deferred by quiet hours: held until deliver_at by design
        leads.append(ts - trigger_at[lead["trigger_id"]])
        if (lead["msisdn"], lead["trigger_ts"]) in by_moment:
            event_lead.append(ts - by_moment[(lead["msisdn"], lead["trigger_ts"])])
    return {
        "ingest": ingest,
        "event->trigger": trig,
        "trigger->decision": decisions,
        "trigger->lead": leads,
        "event->lead": event_lead,
    }


# --- state size --------------------------------------------------------------------------------------


def _state_size(settings: Settings, behaviour: list[dict], n_flink: int, n_model: int, start) -> dict[str, float]:
    """The decision job's keyed state per subscriber: modelled in Python, then measured in a checkpoint."""
    from touchpoint.harness import state_size as ss
    from touchpoint.reference import read_reference_csv

    pool = ss.bucket_pool(behaviour)
    if not pool:
        raise RuntimeError("bench: no behaviour buckets to draw state from")
    profiles = read_reference_csv(settings.paths.reference_dir / "profiles.csv", "profiles")
    start_ms = int(settings.simulator.start.timestamp() * 1000)
    buckets, subs = ss.active_hours(behaviour)

    t0 = time.perf_counter()
    big = ss.model(ss.subscribers(n_model, pool, profiles, start_ms), pool)
    model_s = time.perf_counter() - t0
    small_subs = list(ss.subscribers(n_flink, pool, profiles, start_ms))
    small = ss.model(small_subs, pool)
    chk = _checkpoint_size(settings, small_subs, pool, start)

    per = big.per_subscriber()
    measured = chk.size / n_flink
    print(
        f"\nkeyed state per subscriber, decision job (profile + {ss.KEEP_HOURS} hourly buckets + contact record "
        f"of {len(ss.TRIGGERS)} decided triggers, 1 lead)"
    )
    rows = [
        (f"model, {n_model:,} subscribers", per, f"packed as the job stores them + Flink's framing ({model_s:.0f} s)"),
        (f"model, {n_flink:,} subscribers", small.per_subscriber(), "the population fed to Flink below"),
        (
            f"checkpoint, {n_flink:,} subscribers",
            measured,
            f"{chk.size / 1e6:.1f} MB in {chk.name} / {n_flink:,} (heap backend, full snapshot, whole job)",
        ),
    ]
    for name, value, note in rows:
        print(f"  {name:<30} {value:>7,.0f} B   {note}")
    print(
        f"    model per subscriber: profile {big.profile / big.subscribers:,.0f} B, "
        f"{big.bucket_entries // big.subscribers} buckets + contact record deflated "
        f"{big.history / big.subscribers:,.0f} B, "
        f"Flink framing {big.framing / big.subscribers:,.0f} B"
    )
    for count in (100_000, 10_000_000):
        print(
            f"  {count:>10,} subscribers: model {per * count / 1e9:6.2f} GB, checkpoint-based "
            f"{measured * count / 1e9:6.2f} GB (serialised)"
        )
    print(
        f"  (runs of consecutive hours from the {len(pool):,} buckets of the pipeline run above; a subscriber there "
        f"has a bucket in {buckets / max(1, subs):.1f} of {_CITY_HOURS} h)"
    )
    print(
        f"  the decision job absorbed those {chk.records:,} behaviour + trigger records in {chk.absorbed_s:.0f} s: "
        f"{chk.records / chk.absorbed_s:,.0f} records/s"
    )
    return {
        "checkpoint_bytes_per_subscriber": round(measured),
        "model_bytes_per_subscriber": round(per),
        "input_records_per_s": round(chk.records / chk.absorbed_s),
    }


@dataclass
class Checkpoint:
    size: int  # bytes
    name: str  # chk-N
    records: int  # behaviour + trigger records the job read
    absorbed_s: float  # from RUNNING until a checkpoint covered them (offsets committed; +- one interval)


def _checkpoint_size(
    settings: Settings, subs, pool, start, interval_ms: int = 2000, timeout_s: float = 300
) -> Checkpoint:
    """Feed ``subs`` to a streaming decision job; size in bytes of a completed checkpoint holding all of it."""
    from touchpoint.clients import reference
    from touchpoint.harness import state_size as ss
    from touchpoint.reference import write_reference_csv
    from touchpoint.runner.embedded import wait_running

    decisions = job_spec("decisions")
    keys = decisions.inputs + decisions.outputs + decisions.reference
    s = _renamed(settings, "state-", keys)
    work = settings.paths.work_dir / "state-size"
    shutil.rmtree(work, ignore_errors=True)
    ref = work / "reference"
    ref.mkdir(parents=True)
    for name in ("handsets", "regions"):
        shutil.copy(settings.paths.reference_dir / f"{name}.csv", ref / f"{name}.csv")
    write_reference_csv(ref / "profiles.csv", "profiles", (sub.profile_row for sub in subs))
    s.paths.work_dir, s.paths.reference_dir = work, ref
    s.flink.checkpoint_interval_ms = interval_ms
    t = s.topics
    stack.create_topics(s.kafka.bootstrap, [getattr(t, k) for k in keys], s.kafka.partitions)
    _publish_campaigns(s)
    reference.publish(s, ref)
    producer = RateLimitedProducer(s)
    with producer:
        for sub in subs:
            for line in ss.behaviour_lines(sub, pool):
                producer.send("behaviour", line)
        for sub in subs:
            for trigger in sub.triggers:
                producer.send("triggers", json.dumps(trigger).encode())
    ends = {getattr(t, k): producer.end_offsets[getattr(t, k)].get(0, 0) for k in ("behaviour", "triggers")}
    expected = len(subs) * len(ss.TRIGGERS)  # each trigger matches exactly one example campaign
    group = f"bench-state-{time.time_ns()}"
    deadline = time.monotonic() + timeout_s
    job = start("decisions", s, group_id=group)
    try:
        wait_running(job, timeout=120)
        t0 = time.perf_counter()
        got = consume(
            s.kafka.bootstrap, [t.decisions], until=lambda o: len(o[t.decisions]) >= expected, timeout_s=timeout_s
        )[t.decisions]
        if len(got) < expected:
            raise RuntimeError(f"bench: state phase got {len(got):,} of {expected:,} decisions")
        # Offsets are committed when a checkpoint completes: once they reach the ends, a completed checkpoint
        # holds every record. Two checkpoints later, nothing is pending (reorder_ms < interval).
        while committed(s.kafka.bootstrap, group, ends) != ends:
            if time.monotonic() > deadline:
                raise RuntimeError("bench: the decision job did not commit the state phase's input in time")
            time.sleep(0.5)
        absorbed_s = time.perf_counter() - t0
        root = checkpoints.local_root(s, "decisions")
        first = _latest_checkpoint(root)[0]
        while (latest := _latest_checkpoint(root))[0] < first + 2:
            if time.monotonic() > deadline:
                raise RuntimeError("bench: no checkpoint completed in the state phase")
            time.sleep(0.2)
        while True:  # only the newest checkpoint is retained: it may be replaced while being measured
            try:
                return Checkpoint(_dir_size(latest[1]), latest[1].name, sum(ends.values()), absorbed_s)
            except FileNotFoundError:
                latest = _latest_checkpoint(root)
    finally:
        job.cancel()


def _latest_checkpoint(root: Path, job_id: str = "*") -> tuple[int, Path | None]:
    """The newest completed checkpoint under ``root/<job id>/chk-N``: (N, its folder), or (0, None)."""
    found = checkpoints.completed(root, job_id)
    return (int(found[-1].name.split("-")[1]), found[-1]) if found else (0, None)


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


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
