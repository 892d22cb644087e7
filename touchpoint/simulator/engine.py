"""``simulate()``: build the city, generate every subscriber, compute the ground truth, write everything.

Memory stays bounded at any scale: subscribers are generated in chunks of ``simulator.chunk_subscribers``; each
chunk's records are sorted by arrival time into a temporary run file (also when a chunk's buffer grows past
:data:`MAX_RUN_RECORDS`), and the runs are k-way merged (``heapq.merge``) into the final files. Ground truth is
sorted and merged the same way. Every record's sort key is (arrival, subscriber index, record number), so the
output does not depend on the chunk size.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from touchpoint.simulator.city import build_city
from touchpoint.simulator.reference import Reference, ReferenceWriter, write_reference_csv
from touchpoint.simulator.subscriber import PLANT_KINDS, PLANT_LEAD_MS, PLANT_TAIL_MS, Generator
from touchpoint.simulator.truth import DAY_MS, Params, detect_subscriber, quota_kind

TOPICS = ("signaling", "xdr", "orders")
MALFORMED_REASONS = ("bad_json", "missing_field", "unknown_event_type", "ts_out_of_range", "invalid_value")
_SIG_REASON_W = (20, 25, 15, 25, 15)
_XDR_REASON_W = (25, 30, 0, 25, 20)
#: 2300-01-01T00:00:00Z in ms: the "far future" malformed timestamp.
YEAR_2300_MS = 10_413_792_000_000
MAX_RUN_RECORDS = 1_500_000
_KEY_W = 27
_IDX_SHIFT = 20
_ARR_SHIFT = 44

Sink = Callable[[str, bytes, bytes], None]

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, check_circular=False).encode


@dataclass
class SimulationSummary:
    """What one simulation produced (lines per topic include duplicates and malformed records)."""

    seed: int
    subscribers: int
    roamers: int
    hours: float
    signaling: int = 0
    xdr: int = 0
    orders: int = 0
    duplicates: int = 0
    malformed: int = 0
    truth: int = 0
    planted: int = 0
    clean_events: int = 0
    elapsed_s: float = 0.0
    not_planted: dict[str, str] = field(default_factory=dict)

    @property
    def events_per_s(self) -> float:
        return (self.signaling + self.xdr + self.orders) / self.elapsed_s if self.elapsed_s else 0.0

    def __str__(self) -> str:
        s = (
            f"seed {self.seed}: {self.subscribers} subscribers + {self.roamers} roamers, {self.hours:g} h -> "
            f"signaling {self.signaling}, xdr {self.xdr}, orders {self.orders} lines "
            f"({self.duplicates} duplicates, {self.malformed} malformed); ground truth {self.truth} "
            f"({self.planted} planted); {self.elapsed_s:.1f} s, {self.events_per_s:,.0f} lines/s"
        )
        if self.not_planted:
            s += f"; not planted: {self.not_planted}"
        return s


class _Runs:
    """Sorted runs of text lines "<sortable prefix>...", in memory or spilled to files, merged at the end."""

    def __init__(self, tmp: Path, name: str):
        self.tmp = tmp
        self.name = name
        self.files: list[Path] = []
        self.buf: list[Any] = []

    def spill(self, lines: list[str]) -> None:
        p = self.tmp / f"{self.name}-{len(self.files):05d}.run"
        with p.open("w", encoding="utf-8") as f:
            f.writelines(lines)
        self.files.append(p)

    def merged(self, last: list[str]) -> Iterator[str]:
        """Merge the spilled runs with the final in-memory run ``last`` (already sorted)."""
        if not self.files:
            yield from last
            return
        if last:
            self.spill(last)
        handles = [p.open(encoding="utf-8") for p in self.files]
        try:
            yield from heapq.merge(*handles)
        finally:
            for h in handles:
                h.close()


def _plan_plants(seed: int, n_home: int, hours: float, gen: Generator, settings: Any, n_roamers: int
                 ) -> tuple[dict[int, list[str]], dict[str, int], dict[str, str]]:
    """Which home subscribers get which planted situation."""
    frac = settings.simulator.plant_fraction
    not_planted: dict[str, str] = {}
    usable = round(hours * 3_600_000) - PLANT_LEAD_MS - PLANT_TAIL_MS
    kinds = []
    for k in PLANT_KINDS:
        need = gen.plant_need_ms(k)
        if need > usable:
            not_planted[k] = f"needs {(need + PLANT_LEAD_MS + PLANT_TAIL_MS) / 3_600_000:.1f} h, scenario has {hours:g} h"
        else:
            kinds.append(k)
    if n_roamers == 0:
        not_planted["roam_in"] = "no inbound roamers (simulator.roamer_fraction is 0)"
    if "quota" in not_planted or not settings.triggers.quota_thresholds_mb:
        for q in settings.triggers.quota_thresholds_mb:
            not_planted[quota_kind(q)] = not_planted.get("quota", "no quota thresholds")
        not_planted.pop("quota", None)
    if not settings.triggers.hotline_numbers and "dial_hotline" in kinds:
        kinds.remove("dial_hotline")
        not_planted["dial_hotline"] = "no hotline numbers configured"
    if frac <= 0 or n_home == 0:
        for k in kinds:
            not_planted[k] = "plant_fraction is 0" if frac <= 0 else "no subscribers"
        return {}, {}, not_planted
    per_kind = max(1, round(frac * n_home))
    instances = [k for k in kinds for _ in range(per_kind)]
    rng = random.Random(f"{seed}/plants")
    plan: dict[int, list[str]] = {}
    if instances:
        first = rng.sample(range(n_home), min(len(instances), n_home))
        for j, kind in enumerate(instances):
            i = first[j % len(first)]
            plan.setdefault(i, []).append(kind)
    scheduled = {k: per_kind for k in kinds}
    return plan, scheduled, not_planted


def simulate(
    settings: Any,
    *,
    seed: int,
    subscribers: int,
    hours: float,
    out_dir: Path | str,
    sink: Sink | None = None,
    progress: bool = False,
) -> SimulationSummary:
    """Generate a synthetic city and its event streams; see the package docstring for the layout."""
    t_start = time.perf_counter()
    if subscribers < 0 or hours <= 0:
        raise ValueError("subscribers must be >= 0 and hours > 0")
    out = Path(out_dir)
    ref_dir = out / "reference"
    ref_dir.mkdir(parents=True, exist_ok=True)
    sim = settings.simulator
    S = int(sim.start.timestamp() * 1000)
    E = S + round(hours * 3_600_000)
    B = min(sim.max_delay_ms, settings.event_time.max_out_of_orderness_ms)
    n_roamers = round(subscribers * sim.roamer_fraction)
    if sim.roamer_fraction > 0 and subscribers > 0:
        n_roamers = max(1, n_roamers)
    total = subscribers + n_roamers
    if total >= 1 << (64 - _IDX_SHIFT - 20):
        raise ValueError("too many subscribers")

    city = build_city(seed, subscribers, sim.center_lat, sim.center_lon, settings.network.home_province, n_roamers)
    ref_counts = {
        "reference/cells.csv": write_reference_csv(ref_dir / "cells.csv", "cells", city.cell_rows()),
        "reference/regions.csv": write_reference_csv(ref_dir / "regions.csv", "regions", city.region_rows()),
        "reference/handsets.csv": write_reference_csv(ref_dir / "handsets.csv", "handsets", city.handset_rows()),
        "reference/number_ranges.csv": write_reference_csv(
            ref_dir / "number_ranges.csv", "number_ranges", city.number_range_rows()),
    }
    ref = Reference.from_rows(city.cell_rows(), city.region_rows(), city.handset_rows(), [], city.number_range_rows())
    params = Params.from_settings(settings)

    gen = Generator(city, settings, seed, S, E, subscribers, {})
    plan, scheduled, not_planted = _plan_plants(seed, subscribers, hours, gen, settings, n_roamers)
    gen.plants = plan

    tmp = out / ".simulate-tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    ev_runs = _Runs(tmp, "events")
    tr_runs = _Runs(tmp, "truth")
    profiles = ReferenceWriter(ref_dir / "profiles.csv", "profiles")

    lines = [0, 0, 0]
    dup = [0, 0, 0]
    valid = [0, 0, 0]
    mal = {t: Counter() for t in TOPICS[:2]}
    ev_types: Counter[str] = Counter()
    clean = [0, 0, 0]
    truth_kinds: Counter[str] = Counter()
    data_end = -1
    dup_rate, mal_rate = sim.duplicate_rate, sim.malformed_rate
    chunk = sim.chunk_subscribers
    buf: list[tuple[int, str]] = []
    tbuf: list[str] = []
    plants_done: Counter[str] = Counter()
    ids = 0

    def flush_events() -> list[str]:
        buf.sort()
        return [f"{k:0{_KEY_W}d}{p}\n" for k, p in buf]

    for c0 in range(0, total, chunk):
        c1 = min(total, c0 + chunk)
        for idx in range(c0, c1):
            res = gen.subscriber(idx)
            plants_done.update(res.plants)
            if res.profile_row is not None:
                profiles.write(res.profile_row)
            msisdn = res.ordered[0][1]["msisdn"] if res.ordered else None
            # ---- ground truth
            rows = detect_subscriber(res.signaling, res.xdrs, res.orders, ref, params, res.profile)
            if rows:
                wins = res.windows
                for r in rows:
                    kind, ts = r["kind"], r["ts"]
                    r["planted"] = any(w[0] == kind and w[1] <= ts <= w[2] for w in wins)
                    tbuf.append(f"{ts:015d}\t{r['msisdn']}\t{kind}\t{_encode(r)}\n")
            # ---- records in arrival order
            if not res.ordered:
                continue
            rng = random.Random(f"{seed}/emit/{idx}")
            rnd = rng.random
            seq = 0
            base = idx << _IDX_SHIFT
            m_no = 0
            for topic, d in res.ordered:
                ts = d["ts"]
                if ts > data_end:
                    data_end = ts
                clean[topic] += 1
                if topic == 0:
                    ev_types[d["event_type"]] += 1
                line = _encode(d)
                key_s = d["msisdn"]
                arrival = ts + int(rnd() * (B + 1))
                seq += 1
                payload = f"{topic}{key_s}\t{line}"
                buf.append(((arrival << _ARR_SHIFT) | base | seq, payload))
                lines[topic] += 1
                valid[topic] += 1
                if topic == 2:
                    continue
                if rnd() < dup_rate:
                    a2 = arrival + int(rnd() * (ts + B - arrival + 1))
                    seq += 1
                    buf.append(((a2 << _ARR_SHIFT) | base | seq, payload))
                    lines[topic] += 1
                    valid[topic] += 1
                    dup[topic] += 1
                if rnd() < mal_rate:
                    m_no += 1
                    reason, bad = _malformed(d, topic, rng, f"m-{seed}-{idx}-{m_no}")
                    mal[TOPICS[topic]][reason] += 1
                    seq += 1
                    a3 = ts + int(rnd() * (B + 1))
                    buf.append(((a3 << _ARR_SHIFT) | base | seq, f"{topic}{key_s}\t{bad}"))
                    lines[topic] += 1
            if seq >= 1 << _IDX_SHIFT:
                raise RuntimeError(f"subscriber {idx} has too many records")
            if len(buf) >= MAX_RUN_RECORDS:
                ev_runs.spill(flush_events())
                buf.clear()
        ids = c1
        if c1 < total:
            if buf:
                ev_runs.spill(flush_events())
                buf.clear()
            if tbuf:
                tbuf.sort()
                tr_runs.spill(tbuf)
                tbuf = []
        if progress:
            el = time.perf_counter() - t_start
            print(f"simulate: {c1}/{total} subscribers, {sum(lines):,} lines, {el:.1f} s "
                  f"({sum(lines) / max(el, 1e-9):,.0f} lines/s)", file=sys.stderr, flush=True)
    profiles.close()
    ref_counts["reference/profiles.csv"] = profiles.rows
    del ids

    # ---- merge events
    last_run = flush_events() if buf else []
    buf.clear()
    files = {}
    if sink is None:
        files = {t: (out / f"{t}.jsonl").open("w", encoding="utf-8") for t in TOPICS}
        writers = [files[t].write for t in TOPICS]
        for rl in ev_runs.merged(last_run):
            topic = ord(rl[_KEY_W]) - 48
            tab = rl.index("\t", _KEY_W + 1)
            writers[topic](rl[tab + 1:])
        for f in files.values():
            f.close()
    else:
        for rl in ev_runs.merged(last_run):
            topic = ord(rl[_KEY_W]) - 48
            tab = rl.index("\t", _KEY_W + 1)
            sink(TOPICS[topic], rl[tab + 1:-1].encode(), rl[_KEY_W + 1:tab].encode())
    del last_run

    # ---- merge ground truth, dropping zero_usage rows after the end of the data
    tbuf.sort()
    n_truth = 0
    planted: Counter[str] = Counter()
    with (out / "ground_truth.jsonl").open("w", encoding="utf-8") as f:
        for tl in tr_runs.merged(tbuf):
            ts_s, _m, kind, js = tl.split("\t", 3)
            if kind == "zero_usage" and int(ts_s) > data_end:
                continue
            f.write(js)
            n_truth += 1
            truth_kinds[kind] += 1
            if js.endswith('"planted":true}\n'):
                planted[kind] += 1
    shutil.rmtree(tmp, ignore_errors=True)

    all_kinds = params.kinds()
    for k in all_kinds:
        if planted.get(k, 0) == 0 and k not in not_planted:
            if k in ("region_entry", "dwell") or k.startswith("quota_") or k in PLANT_KINDS or k == "roam_in":
                pass
    mal_total = Counter()
    for c in mal.values():
        mal_total.update(c)
    summary = {
        "seed": seed,
        "params": {
            "subscribers": subscribers, "roamers": n_roamers, "hours": hours, "start_ts": S, "end_ts": E,
            "max_delay_ms": B,
            "simulator": json.loads(sim.model_dump_json()),
            "triggers": json.loads(settings.triggers.model_dump_json()),
            "network": json.loads(settings.network.model_dump_json()),
        },
        "files": {
            **({f"{t}.jsonl": lines[i] for i, t in enumerate(TOPICS)} if sink is None else {}),
            "ground_truth.jsonl": n_truth,
            **ref_counts,
        },
        "lines": {t: lines[i] for i, t in enumerate(TOPICS)},
        "valid_lines": {t: valid[i] for i, t in enumerate(TOPICS)},
        "events": {
            "signaling": dict(sorted(ev_types.items())),
            "signaling_total": clean[0], "xdr": clean[1], "orders": clean[2],
        },
        "duplicates": {t: dup[i] for i, t in enumerate(TOPICS)},
        "malformed": {r: mal_total.get(r, 0) for r in MALFORMED_REASONS},
        "malformed_by_topic": {t: {r: mal[t].get(r, 0) for r in MALFORMED_REASONS} for t in mal},
        "data_end_ts": data_end,
        "truth": {k: truth_kinds.get(k, 0) for k in all_kinds},
        "planted": {k: planted.get(k, 0) for k in all_kinds},
        "plants_scheduled": {**scheduled, **({"roam_in": n_roamers} if n_roamers else {})},
        "plants_placed": dict(sorted(plants_done.items())),
        "not_planted": not_planted,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return SimulationSummary(
        seed=seed, subscribers=subscribers, roamers=n_roamers, hours=hours,
        signaling=lines[0], xdr=lines[1], orders=lines[2], duplicates=sum(dup), malformed=sum(mal_total.values()),
        truth=n_truth, planted=sum(planted.values()), clean_events=sum(clean),
        elapsed_s=time.perf_counter() - t_start, not_planted=dict(not_planted),
    )


def _malformed(d: dict[str, Any], topic: int, rng: random.Random, mid: str) -> tuple[str, str]:
    """An extra, invalid copy of record ``d`` with exactly one defect; returns (reason, line)."""
    reason = rng.choices(MALFORMED_REASONS, _SIG_REASON_W if topic == 0 else _XDR_REASON_W)[0]
    m = dict(d)
    m["event_id"] = mid
    if reason == "bad_json":
        s = _encode(m)
        return reason, s[: 1 + int(rng.random() * (len(s) - 2))]
    if reason == "missing_field":
        opts = ["msisdn", "ts"]
        if m.get("event_type") == "mo_call":
            opts.append("called_number")
        del m[rng.choice(opts)]
    elif reason == "unknown_event_type":
        m["event_type"] = "teleport"
    elif reason == "ts_out_of_range":
        r = rng.random()
        ts = m["ts"]
        m["ts"] = ts // 1000 if r < 0.4 else (-ts if r < 0.7 else YEAR_2300_MS + ts % DAY_MS)
    else:
        m["rat"] = "WIMAX"
    return reason, _encode(m)
