"""``touchpoint bench scale``: the whole pipeline over a large city (default 100 k subscribers), once.

Where ``make bench`` compares jobs against a baseline on a small city, this answers "what does it take at a
realistic population": events/s through the pipeline's jobs (events -> decisions -> effect), each job's
checkpoint (size, per subscriber, and how long the last ones took, from Flink's own log), and the peak memory of
this process and of its Flink JVM. Not part of ``make bench`` (it takes several minutes more); the figures go to
``work/bench/scale.json``.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from pathlib import Path

from touchpoint.config import Settings
from touchpoint.harness import bench_city, bench_report
from touchpoint.harness.bench_pipeline import pipeline_run
from touchpoint.harness.simulator.traffic import BUSY_HOUR

#: Published event rates of mobile networks on Flink (docs/performance.md): what the cores figure is for.
NETWORKS = {"Kcell": 160_000, "Play": 400_000, "Play at peak": 900_000}
_COMPLETED = re.compile(r"Completed checkpoint (\d+) for job ([0-9a-f]+) \((\d+) bytes, checkpointDuration=(\d+) ms")


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    """A process's memory figure from /proc/PID/status, in MB (VmHWM: the peak resident memory; VmRSS: the
    current); 0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def checkpoints(log_dir: Path, job_id: str) -> list[tuple[int, int, int]]:
    """(checkpoint id, bytes, duration ms) of every checkpoint Flink completed for ``job_id``, from its log."""
    found = []
    for log in log_dir.glob("*.log"):
        for m in _COMPLETED.finditer(log.read_text(errors="replace")):
            if m.group(2) == job_id:
                found.append((int(m.group(1)), int(m.group(3)), int(m.group(4))))
    return sorted(found)


def run_scale(settings: Settings, subscribers: int, hours: float, seed: int) -> int:
    from touchpoint.runner.embedded import start

    t_start = time.perf_counter()
    work = settings.paths.work_dir / "bench-scale"

    with bench_city.private_broker(settings, work) as settings:
        if hours < 24:  # a network is sized for its busy hour: the city's hours are centred on it
            begin = settings.simulator.start
            settings.simulator.start = begin.replace(hour=(BUSY_HOUR - int(hours // 2)) % 24)
        t0 = time.perf_counter()
        producer = bench_city.load_city(settings, seed, work / "city", subscribers, hours)
        n = sum(sum(v.values()) for v in bench_city.raw_offsets(settings, producer).values())
        load_s = time.perf_counter() - t0
        print(f"loaded {n:,} events of {subscribers:,} subscribers over {hours:g} h in {load_s:.0f} s", flush=True)
        # the whole pipeline must drain within the timeout: allow a generous floor of 500 events/s
        run = pipeline_run(settings, start, quiet_s=12, hours=hours, timeout_s=max(900, n / 500))
        jvms = {f"jvm {pid}": memory_mb(pid) for pid in children(os.getpid())}
        memory = {"python": memory_mb(os.getpid())} | {k: v for k, v in jvms.items() if v > 100}
    jobs = {}
    for name, job_id in run.job_ids.items():
        done = checkpoints(work / "logs", job_id)
        last = done[-5:]
        jobs[name] = {
            "checkpoint_bytes": run.state_bytes.get(name, 0),
            "bytes_per_subscriber": round(run.state_bytes.get(name, 0) / subscribers),
            "checkpoints": len(done),
            "last_checkpoint_ms": [d for _, _, d in last],
        }
    per_core = n / run.processing / (os.cpu_count() or 1)
    result = {
        "subscribers": subscribers,
        "hours": hours,
        "events": n,
        "events_per_subscriber_hour": round(n / (subscribers * hours), 1),
        "pipeline_seconds": round(run.seconds, 1),
        "startup_seconds": round(run.startup, 1),
        "events_per_s": round(n / run.seconds),
        "events_per_s_per_core": round(per_core),
        "cores_needed": {name: math.ceil(rate / per_core) for name, rate in NETWORKS.items()},
        "counts": run.counts,
        "jobs": jobs,
        "peak_memory_mb": {k: round(v) for k, v in memory.items()},
        "machine": bench_report.machine(),
    }
    print(
        f"whole pipeline: {n:,} events ({result['events_per_subscriber_hour']:g} per subscriber-hour) in "
        f"{run.seconds:.0f} s = {n / run.seconds:,.0f} ev/s (start-up {run.startup:.0f} s; after it "
        f"{per_core:,.0f} ev/s per core); "
        f"{run.counts['triggers']:,} triggers, {run.counts['behaviour']:,} behaviour buckets, "
        f"{run.counts['decisions']:,} decisions, {run.counts['leads']:,} leads"
    )
    for name, j in jobs.items():
        print(
            f"  {name:<12} checkpoint {j['checkpoint_bytes'] / 1e6:7.1f} MB = {j['bytes_per_subscriber']:,} B per "
            f"subscriber; {j['checkpoints']} checkpoints, the last took {j['last_checkpoint_ms']} ms"
        )
    print(
        "  cores the whole pipeline would need at this rate per core (no parallel overhead counted): "
        + ", ".join(f"{k} ({NETWORKS[k] // 1000:,} k ev/s) {v:,}" for k, v in result["cores_needed"].items())
    )
    print("  peak memory: " + ", ".join(f"{k} {v:,.0f} MB" for k, v in result["peak_memory_mb"].items()))
    out = settings.paths.work_dir.parent / "bench" / "scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"took {time.perf_counter() - t_start:.0f} s; results: {out}")
    return 0
