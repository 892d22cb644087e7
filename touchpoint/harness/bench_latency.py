"""The bench's latency phase: per-record latency of each step while the whole pipeline streams a paced city.

The pipeline jobs run unbounded on fresh topics while a second city is produced at a fixed rate; a record's
latency is the Kafka timestamp of the output record minus that of the record it came from (normalised records
matched by ``event_id``, triggers by the completing event's msisdn and ts, leads and decisions by
``trigger_id``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from touchpoint.clients.kafka_io import RateLimitedProducer, consume
from touchpoint.config import Settings
from touchpoint.flink.pipeline import REFERENCE_IDLE_S
from touchpoint.harness.bench_city import (
    MIN_SUBSCRIBERS,
    PIPELINE,
    PIPELINE_TOPICS,
    RAW,
    publish_campaigns,
    renamed,
    simulate_city,
)
from touchpoint.harness.bench_pipeline import StartJob
from touchpoint.harness.simulator.traffic import OWN_EVENTS_PER_HOUR
from touchpoint.infra import stack

#: a simulated record as the simulator hands it to a sink: (topic key, line, key)
SimulatedRecord = tuple[str, bytes, Any]


@dataclass
class Observed:
    """What the latency run read back, each record as (Kafka timestamp, value)."""

    ins: dict[str, list]  # the raw topics, by topic name
    normalised: dict[str, list]  # ingest's valid records, by topic name
    triggers: list
    decided: dict[str, list]  # decisions and leads, by topic name


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` (nearest rank)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def measure_latency(
    settings: Settings, seed: int, rate: float, seconds: float, start: StartJob, wait_running: Callable[..., None]
) -> dict[str, list[float]]:
    """Per-record latency (ms) of each step while the whole pipeline streams a paced city on fresh topics."""
    lat_settings, records = _latency_city(settings, seed, rate, seconds)
    observed = _stream_city(lat_settings, records, rate, start, wait_running)
    return _latencies(lat_settings, observed)


def _latency_city(settings: Settings, seed: int, rate: float, seconds: float) -> tuple[Settings, list[SimulatedRecord]]:
    """Fresh topics holding the campaigns and a new city's reference data: (their settings, the city's raw records
    in arrival order, to be produced once the jobs run)."""
    keys = RAW + PIPELINE_TOPICS
    lat_settings = renamed(settings, "latency-", keys)
    city = settings.paths.work_dir / "latency-city"
    lat_settings.paths.reference_dir = city / "reference"
    t = lat_settings.topics
    stack.create_topics(lat_settings.kafka.bootstrap, [getattr(t, k) for k in keys], settings.kafka.partitions)
    publish_campaigns(lat_settings)
    # the jobs need the city's reference data before they start (as docs/operations.md asks: a reference read
    # while they run holds their joins until it is quiet): simulate now, publish the reference records, keep
    # the events (arrival order) and produce them at the target rate once the jobs run
    records: list[SimulatedRecord] = []
    # about rate * seconds events: the fewest subscribers of a bench city, over as many hours as that takes
    density = max(lat_settings.simulator.events_per_subscriber_hour, OWN_EVENTS_PER_HOUR)
    hours = max(1.0, rate * seconds / (MIN_SUBSCRIBERS * density))
    simulate_city(lat_settings, seed, city, lambda *record: records.append(record), MIN_SUBSCRIBERS, hours)
    with RateLimitedProducer(lat_settings) as producer:
        for topic_key, line, key in records:
            if topic_key not in RAW:
                producer.send(topic_key, line, key)
    return lat_settings, [r for r in records if r[0] in RAW]


def _stream_city(
    lat_settings: Settings,
    records: list[SimulatedRecord],
    rate: float,
    start: StartJob,
    wait_running: Callable[..., None],
) -> Observed:
    """Run the pipeline's jobs, produce ``records`` at ``rate`` once they are steady, and read back what came in
    and what each step wrote; the jobs are cancelled at the end."""
    t = lat_settings.topics
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
        bootstrap = lat_settings.kafka.bootstrap
        normalised = consume(
            bootstrap,
            [t.signaling_normalised, t.xdr_normalised],
            until=lambda o: sum(map(len, o.values())) >= total * 0.97,
            idle_s=10,
            timeout_s=120,
            with_timestamps=True,
        )
        triggers = consume(bootstrap, [t.triggers], idle_s=8, timeout_s=120, with_timestamps=True)[t.triggers]
        decided = consume(bootstrap, [t.decisions, t.leads], idle_s=4, timeout_s=60, with_timestamps=True)
        ins = consume(
            bootstrap,
            [t.signaling, t.xdr],
            timeout_s=60,
            with_timestamps=True,
            until=lambda o: sum(map(len, o.values())) >= total,
        )
    finally:
        for job in jobs:
            job.cancel()
    return Observed(ins, normalised, triggers, decided)


def _arrivals(ins: dict[str, list]) -> tuple[dict[str, int], dict[tuple[str, int], int]]:
    """When each raw event arrived: by event_id, and by (msisdn, event time), which is how a trigger names the
    event that completed it."""
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
    return by_id, by_moment


def _latencies(lat_settings: Settings, observed: Observed) -> dict[str, list[float]]:
    """Each step's latencies (ms): output record's Kafka timestamp minus that of the record it came from."""
    t = lat_settings.topics
    by_id, by_moment = _arrivals(observed.ins)
    ingest = [
        ts - by_id[rec["event_id"]]
        for recs in observed.normalised.values()
        for ts, v in recs
        if (rec := json.loads(v))["event_id"] in by_id
    ]
    trig, trigger_at = [], {}
    for ts, v in observed.triggers:
        rec = json.loads(v)
        trigger_at.setdefault(rec["trigger_id"], ts)
        if (rec["msisdn"], rec["ts"]) in by_moment:
            trig.append(ts - by_moment[(rec["msisdn"], rec["ts"])])
    decisions = [
        ts - trigger_at[d["trigger_id"]]
        for ts, v in observed.decided[t.decisions]
        # no profile: the trigger waited decisions.profile_wait_ms for one by design (an inbound roamer has none)
        if (d := json.loads(v))["trigger_id"] in trigger_at and d.get("reason") != "no_profile"
    ]
    leads, event_lead = [], []
    for ts, v in observed.decided[t.leads]:
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


def print_latency(settings: Settings, latency: dict[str, list[float]], rate: float) -> None:
    """The latency table: p50, p95, p99 of each step, and what the figures leave out on purpose."""
    print(f"\nlatency while {rate:,.0f} ev/s are produced, whole pipeline streaming (Kafka timestamp in -> out):")
    for name, values in latency.items():
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


def latency_summary(latency: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Each step's count and percentiles, as result.json holds them (empty where no record was matched)."""
    return {
        name: {"n": len(v), **{f"p{q}": percentile(v, q) for q in (50, 95, 99)}} if v else {}
        for name, v in latency.items()
    }
