"""The bench's timed job runs over the city of touchpoint/harness/bench_city.py.

One job bounded over the city's slice (:func:`timed_run`), and the whole pipeline streaming, its jobs run
concurrently until the last decision is written (:func:`pipeline_run`): in this process's mini-cluster, over a
sparse city, or submitted to a local standalone cluster at several parallelisms.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from touchpoint.clients.kafka_io import advance_event_time, consume
from touchpoint.config import Settings
from touchpoint.harness.bench_city import (
    CITY_HOURS,
    PIPELINE,
    PIPELINE_TOPICS,
    RAW,
    SPARSE_SUBSCRIBERS,
    city_end_ms,
    own_city,
    publish_campaigns,
    renamed,
)
from touchpoint.harness.bench_state import job_state_bytes
from touchpoint.harness.simulator.traffic import OWN_EVENTS_PER_HOUR
from touchpoint.infra import stack
from udfs.units import HOUR_MS

#: submits a job streaming, ``start(name, settings, group_id=...)``, and returns it running: the mini-cluster's
#: touchpoint.runner.embedded.start, or a submission to a cluster
StartJob = Callable[..., Any]


def timed_run(job: str, settings: Settings, offsets: dict[str, dict[int, int]], group: str) -> float:
    """Seconds of one run of ``job`` bounded at ``offsets``, from its submission to its end."""
    from touchpoint.runner.embedded import start

    t0 = time.perf_counter()
    start(job, settings, group_id=group, bounded_offsets=offsets).wait()
    return time.perf_counter() - t0


@dataclass
class PipelineRun:
    """One run of the whole pipeline: its times, output counts and checkpointed state per job."""

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


def pipeline_run(
    settings: Settings,
    start: StartJob,
    quiet_s: float = 8,
    hours: float = CITY_HOURS,
    timeout_s: float = 900,
    prefix: str = "pipeline-",
) -> PipelineRun:
    """The pipeline's jobs, streaming concurrently over the city loaded into the raw topics, their outputs on fresh
    topics (named with ``prefix``). Right after the city, an event-time marker on every raw partition closes the
    last windows and patterns (each partition's watermark is its own), as the end of a replay does."""
    ps = renamed(settings, prefix, PIPELINE_TOPICS)
    t = ps.topics
    stack.create_topics(ps.kafka.bootstrap, [getattr(t, k) for k in PIPELINE_TOPICS], ps.kafka.partitions)
    publish_campaigns(ps)
    stamp = time.time_ns()
    t0_ms = time.time() * 1000
    jobs = []
    try:
        jobs += [start(name, ps, group_id=f"bench-pipeline-{name}-{stamp}") for name in PIPELINE]
        for key in RAW:  # the stream "goes on": event time passes the city's end
            advance_event_time(ps, key, city_end_ms(ps, hours) + 2 * HOUR_MS)
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
        state_bytes = {job.name: job_state_bytes(ps, job) for job in jobs}
        job_ids = {job.name: job.job_id for job in jobs}
    finally:
        for job in jobs:
            job.cancel()
    return _pipeline_figures(ps, outs, t0_ms, state_bytes, job_ids)


def _pipeline_figures(
    ps: Settings, outs: dict[str, list], t0_ms: float, state_bytes: dict[str, int], job_ids: dict[str, str]
) -> PipelineRun:
    """A pipeline run's figures from the records it wrote (Kafka timestamp, value), timed from ``t0_ms``."""
    t = ps.topics
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


def sparse_pipeline_run(settings: Settings, seed: int, start: StartJob) -> tuple[int, PipelineRun]:
    """The whole pipeline over the sparse city every run before issue 22 measured (a subscriber's own activity only,
    the same subscribers and hours), on topics of its own: (raw events, run)."""
    ss, n = own_city(settings, "sparse-", seed, SPARSE_SUBSCRIBERS, settings.kafka.partitions, OWN_EVENTS_PER_HOUR)
    return n, pipeline_run(ss, start, prefix="sparse-pipeline-")


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
