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
from dataclasses import dataclass

from jobs import job as job_spec
from touchpoint.config import Settings
from touchpoint.tools import bench

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


@dataclass
class Stage:
    label: str
    seconds: float

    def us_per_event(self, events: int, base_s: float) -> float:
        return (self.seconds - base_s) * 1e6 / events


def _kinds(settings: Settings, kinds: tuple[str, ...] | None) -> Settings:
    out = settings.model_copy(deep=True)
    if kinds is not None:
        thresholds = settings.triggers.quota_thresholds_mb
        out.triggers.kinds = [k for name in kinds for k in _expand(name, thresholds)]
    return out


def _expand(name: str, thresholds: list[int]) -> list[str]:
    from udfs.trigger_kinds import quota_kind

    return [quota_kind(q) for q in thresholds] if name == "quota" else [name]


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
    stages = [s for s in STAGES if s[0] == "passthrough" or not only or any(o in s[0] for o in only)]
    if options:
        tag = " + " + ", ".join(f"{k}={v}" for k, v in options.items())
        stages = [v for s in stages for v in ([s] if s[0] == "passthrough" else [s, (s[0] + tag, *s[1:], options)])]
    with bench.private_broker(settings, work) as settings:
        density = settings.simulator.events_per_subscriber_hour
        producer = bench.load_city(settings, seed, work / "city", bench.city_size(events, density))
        offsets = bench.raw_offsets(settings, producer) | bench.reference_offsets(settings, producer)
        n = sum(sum(v.values()) for k, v in offsets.items() if k in bench.RAW)
        summary = json.loads((work / "city" / "summary.json").read_text())
        print(
            f"{n:,} raw events, {summary['params']['subscribers']:,} subscribers, "
            f"{summary['events']['per_subscriber_hour']:.1f} events per subscriber-hour; {repeats} run(s) per stage",
            flush=True,
        )
        # the first job of a process runs at half speed (class loading, JIT): one uncounted run warms the JVM
        bench.timed_run("passthrough", settings, offsets, f"stages-warmup-{time.time_ns()}")
        best: dict[str, float] = {}
        for r in range(repeats):
            for label, job, kinds, *extra in stages:
                # a topic the city does not fill (journey definitions) is read up to its start, so the run ends
                bounded = offsets | {k: {0: 0} for k in job_spec(job).inputs if k not in offsets}
                s = _kinds(settings, kinds)
                s.flink.options = s.flink.options | (extra[0] if extra else {})
                secs = bench.timed_run(job, s, bounded, f"stages-{r}-{time.time_ns()}")
                best[label] = min(best.get(label, secs), secs)
                print(f"  run {r + 1}/{repeats} {label:<34} {secs:7.1f} s  {n / secs:>9,.0f} ev/s", flush=True)
    base = best["passthrough"]
    rows = [
        {
            "stage": label,
            "seconds": round(secs, 2),
            "events_per_s": round(n / secs),
            "us_per_event": round(Stage(label, secs).us_per_event(n, base), 2),
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
