"""``simulate()``: build the city, generate every subscriber, compute the ground truth, write everything.

Memory stays bounded at any scale: subscribers are generated in chunks of ``simulator.chunk_subscribers``; each
chunk's records are sorted by arrival time into a temporary run (also when a chunk's buffer grows past
:data:`MAX_RUN_RECORDS`): the lines in one file, arrival / topic / subscriber index as numpy arrays beside it. The
runs are then k-way merged window by window (each run is sorted, so a time window is a contiguous slice of every
run) into the final files. Ground truth is sorted and merged with ``heapq.merge``. Records are ordered by
(arrival, subscriber index, record number) — a stable sort by arrival over records appended in that order — so
the output does not depend on the chunk size.
"""

from __future__ import annotations

import gc
import heapq
import json
import random
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from touchpoint.harness.simulator.city import build_city
from touchpoint.harness.simulator.generator import Generator
from touchpoint.harness.simulator.plants import PLANTS
from touchpoint.harness.simulator.subscriber import PLANT_LEAD_MS, PLANT_TAIL_MS
from touchpoint.harness.simulator.truth import Params, detect_subscriber
from touchpoint.reference import ReferenceWriter, write_reference_csv
from udfs import trigger_kinds
from udfs.journeys import Journey
from udfs.kinds import Reference
from udfs.trigger_kinds import quota_kind
from udfs.units import DAY_MS, HOUR_MS

TOPICS = ("signaling", "xdr", "orders")
#: Reasons of the malformed extra records (the DLQ reasons ingest must give them).
MALFORMED_REASONS = ("bad_json", "missing_field", "unknown_event_type", "ts_out_of_range", "invalid_value")
_SIG_REASON_W = (20, 25, 15, 25, 15)
_XDR_REASON_W = (25, 30, 0, 25, 20)
#: 2300-01-01T00:00:00Z in ms: the "far future" malformed timestamp.
YEAR_2300_MS = 10_413_792_000_000
#: Spill a sorted run to disk when this many records are buffered (bounds memory, ~300 B per record).
MAX_RUN_RECORDS = 2_500_000
#: Records per merge window (bounds memory of the final merge).
WINDOW_RECORDS = 1_000_000
MAX_SEQ = 1 << 20
#: Temporary run files live here (inside out_dir, removed at the end).
TMP_DIR = ".simulate-tmp"
MAX_INDEX = 1 << 31

Sink = Callable[[str, bytes, bytes], None]

_std_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, check_circular=False).encode


def _std_dumps_nl(obj: Any) -> bytes:
    return (_std_encode(obj) + "\n").encode()


try:  # orjson (installed with apache-flink, via apache-beam) writes the same bytes for our ASCII-only records, faster
    import orjson

    _orjson_dumps = orjson.dumps

    def dumps_nl(obj: Any) -> bytes:
        """Compact JSON line (key order kept) ending in a newline."""
        # concatenating also copies the result into an exact-size object: orjson's own result keeps a 4 KiB buffer
        return _orjson_dumps(obj) + b"\n"

except ImportError:  # pragma: no cover
    dumps_nl = _std_dumps_nl


@dataclass
class SimulationSummary:
    """What one simulation produced. Line counts per topic include duplicates and malformed records."""

    seed: int
    subscribers: int
    roamers: int
    hours: float
    signaling: int = 0
    xdr: int = 0
    orders: int = 0
    clean_events: int = 0
    #: signaling + xDRs per subscriber-hour (simulator.events_per_subscriber_hour, measured)
    events_per_subscriber_hour: float = 0.0
    duplicates: int = 0
    malformed: int = 0
    truth: int = 0
    planted: int = 0
    elapsed_s: float = 0.0
    cpu_s: float = 0.0
    not_planted: dict[str, str] = field(default_factory=dict)

    @property
    def lines(self) -> int:
        return self.signaling + self.xdr + self.orders

    @property
    def events_per_s(self) -> float:
        return self.lines / self.elapsed_s if self.elapsed_s else 0.0

    def __str__(self) -> str:
        s = (
            f"seed {self.seed}: {self.subscribers} subscribers + {self.roamers} roamers, {self.hours:g} h -> "
            f"signaling {self.signaling}, xdr {self.xdr}, orders {self.orders} lines "
            f"({self.duplicates} duplicates, {self.malformed} malformed); ground truth {self.truth} "
            f"({self.planted} planted); {self.elapsed_s:.1f} s ({self.cpu_s:.1f} s CPU), "
            f"{self.events_per_s:,.0f} lines/s"
        )
        if self.not_planted:
            s += f"; not planted: {self.not_planted}"
        return s


class _TruthRuns:
    """Sorted runs of ground-truth byte lines (prefix ``ts\tmsisdn\tkind\t``), spilled and merged at the end."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.files: list[Path] = []

    def spill(self, lines: list[bytes]) -> None:
        p = self.tmp / f"truth-{len(self.files):05d}.run"
        with p.open("wb") as f:
            f.writelines(lines)
        self.files.append(p)

    def merged(self, last: list[bytes]) -> Iterator[bytes]:
        if not self.files:
            yield from last
            return
        if last:
            self.spill(last)
        handles = [p.open("rb") for p in self.files]
        try:
            yield from heapq.merge(*handles)
        finally:
            for h in handles:
                h.close()


class _EventBuffer:
    """One chunk's records in generation order: parallel lists (arrival, topic, subscriber index, line)."""

    def __init__(self) -> None:
        self.arrival: list[int] = []
        self.topic: list[int] = []
        self.idx: list[int] = []
        self.lines: list[bytes] = []

    def __len__(self) -> int:
        return len(self.lines)

    def sorted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[bytes]]:
        """The records in (arrival, generation order) order."""
        arr = np.array(self.arrival, dtype=np.int64)
        order = np.argsort(arr, kind="stable")
        lines = self.lines
        out = (
            arr[order],
            np.array(self.topic, dtype=np.int8)[order],
            np.array(self.idx, dtype=np.int32)[order],
            [lines[i] for i in order.tolist()],
        )
        self.__init__()
        return out


class _EventRuns:
    """Sorted runs of records on disk (lines file + .npy arrays), merged window by window."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.runs: list[tuple[Path, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def spill(self, buf: _EventBuffer) -> None:
        arr, top, idx, lines = buf.sorted()
        n = len(self.runs)
        p = self.tmp / f"events-{n:05d}.lines"
        with p.open("wb") as f:
            f.writelines(lines)
        offs = np.zeros(len(lines) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, lines), dtype=np.int64, count=len(lines)), out=offs[1:])
        del lines
        arrays = []
        for name, a in (("arrival", arr), ("topic", top), ("idx", idx), ("offset", offs)):
            q = self.tmp / f"events-{n:05d}.{name}.npy"
            np.save(q, a)
            arrays.append(np.load(q, mmap_mode="r"))
        self.runs.append((p, *arrays))

    def windows(self, total: int) -> Iterator[tuple[np.ndarray, np.ndarray, list[bytes]]]:
        """(topic, idx, lines without newline) per time window, in arrival order."""
        if not self.runs:
            return
        hi_all = max(int(r[1][-1]) for r in self.runs if len(r[1])) + 1 if any(len(r[1]) for r in self.runs) else 1
        n_win = max(1, -(-total // WINDOW_RECORDS))
        step = -(-hi_all // n_win)
        handles = [r[0].open("rb") for r in self.runs]
        pos = [0] * len(self.runs)
        try:
            for w in range(n_win):
                hi = hi_all if w == n_win - 1 else (w + 1) * step
                arrs, tops, idxs, lines = [], [], [], []
                for k, (_p, arr, top, idx, offs) in enumerate(self.runs):
                    i0 = pos[k]
                    i1 = int(np.searchsorted(arr, hi, side="left"))
                    if i1 <= i0:
                        continue
                    pos[k] = i1
                    data = handles[k].read(int(offs[i1] - offs[i0]))
                    part = data.split(b"\n")
                    part.pop()
                    lines += part
                    arrs.append(arr[i0:i1])
                    tops.append(top[i0:i1])
                    idxs.append(idx[i0:i1])
                if not lines:
                    continue
                order = np.argsort(np.concatenate(arrs), kind="stable")
                yield (np.concatenate(tops)[order], np.concatenate(idxs)[order], [lines[i] for i in order.tolist()])
        finally:
            for h in handles:
                h.close()


def plan_plants(
    seed: int, n_home: int, hours: float, gen: Generator, settings: Any, n_roamers: int
) -> tuple[dict[int, list[str]], dict[str, int], dict[str, str]]:
    """Which home subscribers get which planted situation: ``max(1, plant_fraction * subscribers)`` per kind
    (none when ``plant_fraction`` is 0), kinds that do not fit in the scenario are listed in ``not_planted``."""
    frac = settings.simulator.plant_fraction
    frac_r = settings.simulator.roamer_fraction
    not_planted: dict[str, str] = {}
    usable = round(hours * HOUR_MS) - PLANT_LEAD_MS - PLANT_TAIL_MS
    kinds = []
    for k in PLANTS:  # catalogue order
        need = gen.plant_need_ms(k)
        if need > usable:
            not_planted[k] = f"needs {(need + PLANT_LEAD_MS + PLANT_TAIL_MS) / HOUR_MS:.1f} h, scenario has {hours:g} h"
        else:
            kinds.append(k)
    if not settings.triggers.hotline_numbers and "dial_hotline" in kinds:
        kinds.remove("dial_hotline")
        not_planted["dial_hotline"] = "no hotline numbers configured"
    if not settings.triggers.quota_thresholds_mb and "quota" in kinds:
        kinds.remove("quota")
    if frac <= 0 or n_home == 0:
        for k in kinds:
            not_planted[k] = "plant_fraction is 0" if frac <= 0 else "no home subscribers"
        kinds = []
    if "quota" in not_planted:  # report per truth kind
        reason = not_planted.pop("quota")
        for q in settings.triggers.quota_thresholds_mb:
            not_planted[quota_kind(q)] = reason
    if n_roamers == 0:
        not_planted["roam_in"] = (
            "no inbound roamers (simulator.roamer_fraction is 0)" if frac_r <= 0 else "no inbound roamers"
        )
    elif hours < 1:
        not_planted["roam_in"] = f"needs 1.0 h, scenario has {hours:g} h"
    if not kinds:
        return {}, {}, not_planted
    per_kind = max(1, round(frac * n_home))
    instances = [k for k in kinds for _ in range(per_kind)]
    rng = random.Random(f"{seed}/plants")
    first = rng.sample(range(n_home), min(len(instances), n_home))
    plan: dict[int, list[str]] = {}
    for j, kind in enumerate(instances):
        plan.setdefault(first[j % len(first)], []).append(kind)
    return plan, {k: per_kind for k in kinds}, not_planted


def start_billing_month(settings: Any) -> str:
    """The billing month (yyyy-MM in ``triggers.timezone``) of ``simulator.start``: the month of the simulated
    profile snapshot."""
    return settings.simulator.start.astimezone(ZoneInfo(settings.triggers.timezone)).strftime("%Y-%m")


def check_billing_month(settings: Any) -> None:
    """The simulated profiles are a snapshot taken at ``simulator.start``: their ``data_used_mb`` is that month's
    usage, so ``triggers.billing_month`` (which the triggers job and the ground truth read) must name that month."""
    t = settings.triggers
    month = start_billing_month(settings)
    if month != t.billing_month:
        raise ValueError(
            f"simulator.start {settings.simulator.start.isoformat()} is in billing month {month} "
            f"({t.timezone}), but triggers.billing_month is {t.billing_month}; set "
            f"triggers.billing_month: '{month}'"
        )


def write_journeys(settings: Any, out: Path) -> list[Journey]:
    """The shipped trial journeys (``paths.journeys``), each scaled so that its trial lasts
    ``simulator.journey_hours``, as JSON files under ``out`` (a replay of the city runs them; the demo publishes
    them). Returns them parsed, in file order."""
    from touchpoint.clients.campaigns import load
    from udfs.journeys import parse_journey, scaled

    if not settings.paths.journeys.is_dir():
        return []
    out.mkdir(parents=True, exist_ok=True)
    journeys = []
    for item in load([str(settings.paths.journeys)], "journeys"):
        obj = scaled(item.record, settings.simulator.journey_hours / 24 / item.record["trial_days"])
        (out / f"{obj['id']}.json").write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        journeys.append(parse_journey(obj))
    return journeys


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
    """Generate a synthetic city and its event streams under ``out_dir`` (see the package docstring).

    ``sink(topic_key, line, key)``, when given, receives every event record (``line`` without newline, ``key`` =
    msisdn) in arrival order instead of the three ``.jsonl`` files being written, after every reference row
    (keyed by id, for the reference topics); the reference files are written either way."""
    check_billing_month(settings)
    t_start = time.perf_counter()
    cpu_start = time.process_time()
    # Millions of long-lived small objects and no reference cycles: the cyclic GC would only rescan the buffers.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        summary = _simulate(settings, seed, subscribers, hours, Path(out_dir), sink, progress, t_start)
        summary.cpu_s = time.process_time() - cpu_start
        return summary
    finally:
        shutil.rmtree(Path(out_dir) / TMP_DIR, ignore_errors=True)
        if gc_was_enabled:
            gc.enable()


def _simulate(
    settings: Any,
    seed: int,
    subscribers: int,
    hours: float,
    out: Path,
    sink: Sink | None,
    progress: bool,
    t_start: float,
) -> SimulationSummary:
    if subscribers < 0 or hours <= 0:
        raise ValueError("subscribers must be >= 0 and hours > 0")
    ref_dir = out / "reference"
    ref_dir.mkdir(parents=True, exist_ok=True)
    sim = settings.simulator
    S = int(sim.start.timestamp() * 1000)
    E = S + round(hours * HOUR_MS)
    B = min(sim.max_delay_ms, settings.event_time.max_out_of_orderness_ms)
    n_roamers = round(subscribers * sim.roamer_fraction)
    if sim.roamer_fraction > 0 and subscribers > 0:
        n_roamers = max(1, n_roamers)
    total = subscribers + n_roamers
    if total >= MAX_INDEX:
        raise ValueError(f"at most {MAX_INDEX - 1} subscribers + roamers")

    city = build_city(seed, subscribers, sim.center_lat, sim.center_lon, settings.network.home_province, n_roamers)
    ref_counts = {
        "reference/cells.csv": write_reference_csv(ref_dir / "cells.csv", "cells", city.cell_rows()),
        "reference/regions.csv": write_reference_csv(ref_dir / "regions.csv", "regions", city.region_rows()),
        "reference/handsets.csv": write_reference_csv(ref_dir / "handsets.csv", "handsets", city.handset_rows()),
        "reference/products.csv": write_reference_csv(ref_dir / "products.csv", "products", city.product_rows()),
        "reference/number_ranges.csv": write_reference_csv(
            ref_dir / "number_ranges.csv", "number_ranges", city.number_range_rows()
        ),
    }
    ref = Reference.from_rows(city.cell_rows(), city.region_rows(), city.handset_rows(), [], city.number_range_rows())
    params = Params.from_settings(settings)

    gen = Generator(city, settings, seed, S, E, subscribers, {})
    journeys = write_journeys(settings, out / "journeys")
    gen.journey = journeys[0] if journeys else None
    plan, scheduled, not_planted = plan_plants(seed, subscribers, hours, gen, settings, n_roamers)
    gen.plants = plan

    tmp = out / TMP_DIR
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    ev_runs = _EventRuns(tmp)
    tr_runs = _TruthRuns(tmp)
    profiles = ReferenceWriter(ref_dir / "profiles.csv", "profiles")

    dup = [0, 0, 0]
    clean = [0, 0, 0]
    mal = {t: Counter() for t in TOPICS[:2]}
    ev_types: Counter[str] = Counter()
    data_end = -1
    dup_rate, mal_rate = sim.duplicate_rate, sim.malformed_rate
    chunk = sim.chunk_subscribers
    # Records are appended in (subscriber index, record number) order, so a stable sort by arrival alone orders
    # them by (arrival, index, record number).
    buf = _EventBuffer()
    b_arr, b_top, b_idx, b_lines = buf.arrival, buf.topic, buf.idx, buf.lines
    msisdns: list[bytes] = []  # by subscriber index (Kafka keys)
    tbuf: list[bytes] = []
    plants_done: Counter[str] = Counter()
    trials: dict[str, str] = {}  # msisdn -> plan of a planted trial
    b1 = B + 1
    perf = time.perf_counter
    tm = [0.0, 0.0, 0.0]  # seconds generating, detecting, emitting

    for c0 in range(0, total, chunk):
        c1 = min(total, c0 + chunk)
        for idx in range(c0, c1):
            t0 = perf()
            res = gen.subscriber(idx)
            t1 = perf()
            tm[0] += t1 - t0
            plants_done.update(res.plants)
            if res.trial:
                trials[res.profile_row["msisdn"]] = res.trial
            if res.profile_row is not None:
                profiles.write(res.profile_row)
            # ---- ground truth of this subscriber
            rows = detect_subscriber(res.signaling, res.xdrs, res.orders, ref, params, res.profile)
            if rows:
                wins = res.windows
                for r in rows:
                    kind, ts = r["kind"], r["ts"]
                    r["planted"] = any(w[0] == kind and w[1] <= ts <= w[2] for w in wins)
                    tbuf.append(b"%015d\t%s\t%s\t%s" % (ts, r["msisdn"].encode(), kind.encode(), dumps_nl(r)))
            t2 = perf()
            tm[1] += t2 - t1
            if not res.ordered:
                msisdns.append(b"")
                continue
            # ---- records in arrival order, with duplicates and malformed extras
            clean[0] += len(res.signaling)
            clean[1] += len(res.xdrs)
            clean[2] += len(res.orders)
            ev_types.update([d["event_type"] for d in res.signaling])
            last_ts = res.ordered[-1][1]["ts"]
            if last_ts > data_end:
                data_end = last_ts
            msisdns.append(res.ordered[0][1]["msisdn"].encode())
            rng = random.Random(f"{seed}/emit/{idx}")
            rnd = rng.random
            n0 = len(b_lines)
            m_no = 0
            s_rel = S
            for topic, d in res.ordered:
                ts = d["ts"]
                line = dumps_nl(d)
                arrival = ts - s_rel + int(rnd() * b1)
                b_arr.append(arrival)
                b_top.append(topic)
                b_lines.append(line)
                if topic == 2:
                    continue
                if rnd() < dup_rate:
                    b_arr.append(arrival + int(rnd() * (ts - s_rel + b1 - arrival)))
                    b_top.append(topic)
                    b_lines.append(line)
                    dup[topic] += 1
                if rnd() < mal_rate:
                    m_no += 1
                    reason, bad = _malformed(d, topic, rng, f"m-{seed}-{idx}-{m_no}")
                    mal[TOPICS[topic]][reason] += 1
                    b_arr.append(ts - s_rel + int(rnd() * b1))
                    b_top.append(topic)
                    b_lines.append(bad)
            seq = len(b_lines) - n0
            b_idx.extend([idx] * seq)
            if seq >= MAX_SEQ:
                raise RuntimeError(f"subscriber {idx} has too many records")
            tm[2] += perf() - t2
            if len(b_lines) >= MAX_RUN_RECORDS:
                ev_runs.spill(buf)
                b_arr, b_top, b_idx, b_lines = buf.arrival, buf.topic, buf.idx, buf.lines
        if c1 < total:
            if b_lines:
                ev_runs.spill(buf)
                b_arr, b_top, b_idx, b_lines = buf.arrival, buf.topic, buf.idx, buf.lines
            if tbuf:
                tbuf.sort()
                tr_runs.spill(tbuf)
                tbuf = []
        if progress:
            el = time.perf_counter() - t_start
            n_ev = sum(clean)
            print(
                f"simulate: {c1}/{total} subscribers, {n_ev:,} events, {el:.1f} s "
                f"({n_ev / max(el, 1e-9):,.0f} events/s; generate {tm[0]:.1f} s, truth {tm[1]:.1f} s, "
                f"emit {tm[2]:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
    profiles.close()
    ref_counts["reference/profiles.csv"] = profiles.rows
    mal_total: Counter[str] = Counter()
    for c in mal.values():
        mal_total.update(c)
    lines = [clean[i] + dup[i] + (sum(mal[TOPICS[i]].values()) if i < 2 else 0) for i in range(3)]

    # ---- merge events into the files / the sink
    if sink is not None:  # reference data first, as `touchpoint reference publish` would, so jobs can join it
        from touchpoint.clients.reference import records

        for name, key, value in records(ref_dir, validate=False):
            sink(name, value, key)
    windows: Iterable[tuple[np.ndarray, np.ndarray, list[bytes]]]
    if not ev_runs.runs:  # everything is still in memory: one run, lines end with a newline
        _arr, top, idx_a, ls = buf.sorted()
        windows = [(top, idx_a, ls)]
        newline = True
    else:
        if b_lines:
            ev_runs.spill(buf)
        windows = ev_runs.windows(sum(lines))
        newline = False
    files = [(out / f"{t}.jsonl").open("wb") for t in TOPICS] if sink is None else []
    for top, idx_a, ls in windows:
        if sink is None:
            for t in range(3):
                sel = np.flatnonzero(top == t).tolist()
                if not sel:
                    continue
                chunk_lines = [ls[i] for i in sel]
                files[t].write(b"".join(chunk_lines) if newline else b"\n".join(chunk_lines) + b"\n")
        else:
            for t, i, line in zip(top.tolist(), idx_a.tolist(), ls):
                sink(TOPICS[t], line[:-1] if newline else line, msisdns[i])
    for f in files:
        f.close()
    del windows, buf

    # ---- merge ground truth, dropping zero_usage rows after the end of the data
    tbuf.sort()
    n_truth = 0
    planted: Counter[str] = Counter()
    truth_kinds: Counter[str] = Counter()
    with (out / "ground_truth.jsonl").open("wb") as f:
        for tl in tr_runs.merged(tbuf):
            ts_s, _m, kind_b, js = tl.split(b"\t", 3)
            kind = kind_b.decode()
            if kind == "zero_usage" and int(ts_s) > data_end:
                continue
            f.write(js)
            n_truth += 1
            truth_kinds[kind] += 1
            if js.endswith(b'"planted":true}\n'):
                planted[kind] += 1
    shutil.rmtree(tmp, ignore_errors=True)

    all_kinds = trigger_kinds.names(params.quota_thresholds_mb)
    # plants that found no room (too many plants per subscriber, the month's end for quota, ...) or did not fire
    for k, n in scheduled.items():
        truth_kinds_k = [quota_kind(q) for q in params.quota_thresholds_mb] if k == "quota" else [k]
        for tk in truth_kinds_k:
            if planted.get(tk, 0) or tk in not_planted:
                continue
            if plants_done.get(k, 0) == 0:
                not_planted[tk] = f"no room for the {n} scheduled plant(s) in {hours:g} h"
                if k == "quota":
                    not_planted[tk] += " before the end of the start month"
            else:
                not_planted[tk] = f"{plants_done[k]} placed, none fired"
    # the city's density: signaling + xDRs per subscriber-hour (roamers included, over the whole city)
    per_subscriber_hour = (clean[0] + clean[1]) / max(1, total) / hours
    summary = {
        "seed": seed,
        "params": {
            "subscribers": subscribers,
            "roamers": n_roamers,
            "hours": hours,
            "start_ts": S,
            "end_ts": E,
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
        "valid_lines": {t: clean[i] + dup[i] for i, t in enumerate(TOPICS)},
        "events": {
            "signaling": dict(sorted(ev_types.items())),
            "signaling_total": clean[0],
            "xdr": clean[1],
            "orders": clean[2],
            "per_subscriber_hour": round(per_subscriber_hour, 2),
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
        "trials": dict(sorted(trials.items())),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return SimulationSummary(
        seed=seed,
        subscribers=subscribers,
        roamers=n_roamers,
        hours=hours,
        signaling=lines[0],
        xdr=lines[1],
        orders=lines[2],
        clean_events=sum(clean),
        events_per_subscriber_hour=per_subscriber_hour,
        duplicates=sum(dup),
        malformed=sum(mal_total.values()),
        truth=n_truth,
        planted=sum(planted.values()),
        elapsed_s=time.perf_counter() - t_start,
        not_planted=dict(not_planted),
    )


def _malformed(d: dict[str, Any], topic: int, rng: random.Random, mid: str) -> tuple[str, bytes]:
    """An extra, invalid copy of record ``d`` with exactly one defect; returns (reason, line)."""
    reason = rng.choices(MALFORMED_REASONS, _SIG_REASON_W if topic == 0 else _XDR_REASON_W)[0]
    m = dict(d)
    m["event_id"] = mid
    if reason == "bad_json":  # a truncated line
        s = dumps_nl(m)
        return reason, s[: 1 + int(rng.random() * (len(s) - 3))] + b"\n"
    if reason == "missing_field":
        opts = ["msisdn", "ts"]
        if m.get("event_type") == "mo_call":
            opts.append("called_number")
        del m[rng.choice(opts)]
    elif reason == "unknown_event_type":
        m["event_type"] = "teleport"
    elif reason == "ts_out_of_range":  # seconds instead of ms, negative, or year 2300
        r = rng.random()
        ts = m["ts"]
        m["ts"] = ts // 1000 if r < 0.4 else (-ts if r < 0.7 else YEAR_2300_MS + ts % DAY_MS)
    else:
        m["rat"] = "WIMAX"
    return reason, dumps_nl(m)
