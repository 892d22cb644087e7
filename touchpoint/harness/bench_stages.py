"""``touchpoint bench stages``: where the time goes, in µs per raw event, stage by stage.

One city at the configured density (simulator.events_per_subscriber_hour) is loaded once into a private broker, as
``make bench`` does; then each stage runs alone as a bounded job over exactly that slice, and its cost is its time
minus the passthrough's (the same Kafka sources and a sink, no work), per raw event of the slice:

* ``ingest``: parse and check every line, write the normalised topics and the DLQ;
* ``triggers: <kinds>``: the triggers job with one family of kinds on; its first row (the cheapest kind, dial_114)
  is the shared part every kind pays: parse, the late-event DLQ, de-duplication, the emit;
* ``traffic``, ``behaviour``, ``region_metrics``, ``journeys``: each member of the events job alone;
* ``events``: the whole job, as the pipeline runs it (members share the parse, de-duplication and located events,
  so it costs less than the sum of the rows above).

Stages run one at a time, in alternation ``repeats`` times (the best counts), so that a noisy minute does not pick
one stage, after one uncounted run: the first job of a process runs at about half speed while the JVM warms up,
and a heavy job's own first run does too, so quote ``--repeats 2`` or more. ``--option KEY=VALUE`` runs every
stage also with that Flink option, in turn (an A/B on the same data). Figures go to ``work/bench/stages.json``;
docs/performance.md keeps the table.
"""

from __future__ import annotations

import json
import time

from jobs import job as job_spec
from touchpoint.config import Settings
from touchpoint.harness import bench_city
from touchpoint.harness.bench_pipeline import timed_run
from udfs import trigger_kinds

#: (row label, job, trigger kinds or None for the job's default)
STAGES: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("passthrough", "passthrough", None),
    ("ingest", "ingest", None),
    ("triggers: dial_114 (shared part)", "triggers", ("dial_114",)),
    ("triggers: calls", "triggers", ("dial_114", "dial_hotline", "call_forward_set")),
    ("triggers: location", "triggers", ("region_entry", "dwell", "handset_store_visits")),
    ("triggers: handset, power", "triggers", ("handset_change", "power_on")),
    ("triggers: roaming", "triggers", ("roam_in", "roam_out")),
    ("triggers: data plan", "triggers", ("quota", "zero_usage", "abnormal_usage")),
    ("triggers: every kind", "triggers", None),
    ("traffic", "traffic", None),
    ("behaviour", "behaviour", None),
    ("region_metrics", "region_metrics", None),
    ("journeys", "journeys", None),
    ("events (the job)", "events", None),
)


def _kinds(settings: Settings, kinds: tuple[str, ...] | None, options: dict[str, str]) -> Settings:
    """A copy of ``settings`` detecting only the catalogue entries ``kinds`` (the quota family: every threshold),
    with the Flink ``options`` over its own."""
    out = settings.model_copy(deep=True)
    if kinds is not None:
        detectable = trigger_kinds.names(settings.triggers.quota_thresholds_mb)
        out.triggers.kinds = [k for k in detectable if trigger_kinds.spec(k).name in kinds]
    out.flink.options = settings.flink.options | options
    return out


def run_stages(
    settings: Settings,
    events: int,
    seed: int,
    repeats: int = 1,
    only: list[str] | None = None,
    options: dict[str, str] | None = None,
) -> int:
    """``options``: Flink options to compare: every stage (but the passthrough) also runs with them, in turn."""
    work = settings.paths.work_dir / "bench-stages"
    tag = " + " + ", ".join(f"{k}={v}" for k, v in options.items()) if options else ""
    runs = [
        (label + suffix, job, kinds, extra)
        for label, job, kinds in STAGES
        if label == "passthrough" or not only or any(o in label for o in only)
        for suffix, extra in ([("", {})] + ([(tag, options)] if options and label != "passthrough" else []))
    ]
    with bench_city.private_broker(settings, work) as settings:
        density = settings.simulator.events_per_subscriber_hour
        producer = bench_city.load_city(settings, seed, work / "city", bench_city.city_size(events, density))
        offsets = bench_city.raw_offsets(settings, producer) | bench_city.reference_offsets(settings, producer)
        n = sum(sum(v.values()) for k, v in offsets.items() if k in bench_city.RAW)
        summary = bench_city.city_summary(work / "city")
        print(
            f"{n:,} raw events, {summary['params']['subscribers']:,} subscribers, "
            f"{summary['events']['per_subscriber_hour']:.1f} events per subscriber-hour; {repeats} run(s) per stage",
            flush=True,
        )
        # the first job of a process runs at half speed (class loading, JIT): one uncounted run warms the JVM
        timed_run("passthrough", settings, offsets, f"stages-warmup-{time.time_ns()}")
        best: dict[str, float] = {}
        for r in range(repeats):
            for label, job, kinds, extra in runs:
                # a topic the city does not fill (journey definitions) is read up to its start, so the run ends
                bounded = offsets | {k: {0: 0} for k in job_spec(job).inputs if k not in offsets}
                secs = timed_run(job, _kinds(settings, kinds, extra), bounded, f"stages-{r}-{time.time_ns()}")
                best[label] = min(best.get(label, secs), secs)
                print(f"  run {r + 1}/{repeats} {label:<34} {secs:7.1f} s  {n / secs:>9,.0f} ev/s", flush=True)
    base = best["passthrough"]
    rows = [
        {
            "stage": label,
            "seconds": round(secs, 2),
            "events_per_s": round(n / secs),
            "us_per_event": round((secs - base) * 1e6 / n, 2),
        }
        for label, secs in best.items()
    ]
    print(f"\nµs per raw event above the passthrough ({base * 1e6 / n:.1f} µs per event, {n / base:,.0f} ev/s):")
    for row in rows[1:]:
        print(f"  {row['stage']:<34} {row['us_per_event']:>8.1f} µs   {row['events_per_s']:>9,} ev/s")
    path = work.parent / "bench" / "stages.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {"events": n, "events_per_subscriber_hour": summary["events"]["per_subscriber_hour"], "stages": rows},
            indent=2,
        )
        + "\n"
    )
    print(f"results: {path}")
    return 0
