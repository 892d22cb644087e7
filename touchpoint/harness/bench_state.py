"""The bench's state sizes: bytes in a job's checkpoints, and the decision job's keyed state per subscriber.

The decision state is modelled in Python for a large population (touchpoint/harness/state_size.py) and
cross-checked against a real checkpoint of the job fed a smaller one, on topics of its own. Checkpoints are taken
with the heap backend (touchpoint/harness/bench_city.py), whose full snapshots hold a job's whole state.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobs import job as job_spec
from touchpoint.clients.kafka_io import RateLimitedProducer, committed, consume
from touchpoint.config import Settings
from touchpoint.flink import checkpoints
from touchpoint.harness.bench_city import CITY_HOURS, publish_campaigns, renamed
from touchpoint.infra import stack


def latest_checkpoint(root: Path, job_id: str = "*") -> tuple[int, Path | None]:
    """The newest completed checkpoint under ``root/<job id>/chk-N``: (N, its folder), or (0, None)."""
    found = checkpoints.completed(root, job_id)
    return (int(found[-1].name.split("-")[1]), found[-1]) if found else (0, None)


def dir_size(path: Path) -> int:
    """Bytes of every file below ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def job_state_bytes(settings: Settings, job: Any) -> int:
    """Size of the newest completed checkpoint of a running job (0 if it has none yet)."""
    root = checkpoints.local_root(settings, job.name)
    job_id = job.job_id
    for _ in range(5):  # only the newest checkpoint is retained: it may be replaced while being measured
        _, path = latest_checkpoint(root, job_id)
        try:
            return dir_size(path) if path else 0
        except FileNotFoundError:
            continue
    return 0


# --- the decision job's keyed state per subscriber -----------------------------------------------------


@dataclass
class Checkpoint:
    """The completed checkpoint of the state phase's decision job that holds all of its input."""

    size: int  # bytes
    name: str  # chk-N
    records: int  # behaviour + trigger records the job read
    absorbed_s: float  # from RUNNING until a checkpoint covered them (offsets committed; +- one interval)


def decision_state(
    settings: Settings, behaviour: list[dict], n_flink: int, n_model: int, start: Any
) -> dict[str, float]:
    """The decision job's keyed state per subscriber: modelled in Python, then measured in a checkpoint."""
    from touchpoint.harness import state_size as ss
    from touchpoint.reference import read_reference_csv

    pool = ss.bucket_pool(behaviour)
    if not pool:
        raise RuntimeError("bench: no behaviour buckets to draw state from")
    profiles = read_reference_csv(settings.paths.reference_dir / "profiles.csv", "profiles")
    start_ms = int(settings.simulator.start.timestamp() * 1000)

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
    _print_model_detail(big, per, measured, behaviour, pool, chk)
    return {
        "checkpoint_bytes_per_subscriber": round(measured),
        "model_bytes_per_subscriber": round(per),
        "input_records_per_s": round(chk.records / chk.absorbed_s),
    }


def _print_model_detail(
    big: Any, per: float, measured: float, behaviour: list[dict], pool: list, chk: Checkpoint
) -> None:
    """What the model's bytes are made of, both figures scaled to large populations, and where the buckets came
    from (how many hours of the city a subscriber is active in)."""
    from touchpoint.harness import state_size as ss

    buckets, subs = ss.active_hours(behaviour)
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
        f"has a bucket in {buckets / max(1, subs):.1f} of {CITY_HOURS} h)"
    )
    print(
        f"  the decision job absorbed those {chk.records:,} behaviour + trigger records in {chk.absorbed_s:.0f} s: "
        f"{chk.records / chk.absorbed_s:,.0f} records/s"
    )


def _checkpoint_size(
    settings: Settings, subs: list, pool: list, start: Any, interval_ms: int = 2000, timeout_s: float = 300
) -> Checkpoint:
    """Feed ``subs`` to a streaming decision job; size in bytes of a completed checkpoint holding all of it."""
    from touchpoint.harness import state_size as ss
    from touchpoint.runner.embedded import wait_running

    s = _state_phase(settings, subs, interval_ms)
    ends = _produce_state_input(s, subs, pool)
    t = s.topics
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
        return _settled_checkpoint(checkpoints.local_root(s, "decisions"), sum(ends.values()), absorbed_s, deadline)
    finally:
        job.cancel()


def _state_phase(settings: Settings, subs: list, interval_ms: int) -> Settings:
    """A copy of ``settings`` for the decision job alone, on fresh topics holding the campaigns and the reference
    data, whose profiles are those of ``subs`` (its work dir emptied)."""
    from touchpoint.clients import reference
    from touchpoint.reference import write_reference_csv

    decisions = job_spec("decisions")
    keys = decisions.inputs + decisions.outputs + decisions.reference
    s = renamed(settings, "state-", keys)
    work = settings.paths.work_dir / "state-size"
    shutil.rmtree(work, ignore_errors=True)
    ref = work / "reference"
    ref.mkdir(parents=True)
    for name in ("handsets", "regions"):
        shutil.copy(settings.paths.reference_dir / f"{name}.csv", ref / f"{name}.csv")
    write_reference_csv(ref / "profiles.csv", "profiles", (sub.profile_row for sub in subs))
    s.paths.work_dir, s.paths.reference_dir = work, ref
    s.flink.checkpoint_interval_ms = interval_ms
    stack.create_topics(s.kafka.bootstrap, [getattr(s.topics, k) for k in keys], s.kafka.partitions)
    publish_campaigns(s)
    reference.publish(s, ref)
    return s


def _produce_state_input(s: Settings, subs: list, pool: list) -> dict[str, int]:
    """Every subscriber's behaviour buckets, then their triggers: the end offset of each topic, by topic name."""
    from touchpoint.harness import state_size as ss

    t = s.topics
    producer = RateLimitedProducer(s)
    with producer:
        for sub in subs:
            for line in ss.behaviour_lines(sub, pool):
                producer.send("behaviour", line)
        for sub in subs:
            for trigger in sub.triggers:
                producer.send("triggers", json.dumps(trigger).encode())
    return {getattr(t, k): producer.end_offsets[getattr(t, k)].get(0, 0) for k in ("behaviour", "triggers")}


def _settled_checkpoint(root: Path, records: int, absorbed_s: float, deadline: float) -> Checkpoint:
    """The newest checkpoint under ``root`` once two more have completed since the input was committed."""
    first = latest_checkpoint(root)[0]
    while (latest := latest_checkpoint(root))[0] < first + 2:
        if time.monotonic() > deadline:
            raise RuntimeError("bench: no checkpoint completed in the state phase")
        time.sleep(0.2)
    while True:  # only the newest checkpoint is retained: it may be replaced while being measured
        try:
            return Checkpoint(dir_size(latest[1]), latest[1].name, records, absorbed_s)
        except FileNotFoundError:
            latest = latest_checkpoint(root)
