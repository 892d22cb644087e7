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
import json
import random
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from touchpoint.harness.simulator.city import build_city
from touchpoint.harness.simulator.emission import MALFORMED_REASONS, TOPICS, Emission, Tally, dumps_nl, emit
from touchpoint.harness.simulator.generator import Generator
from touchpoint.harness.simulator.output import Sink, Truth, write_city_reference, write_events, write_truth
from touchpoint.harness.simulator.plants import PLANTS
from touchpoint.harness.simulator.runs import EventBuffer, EventRuns, TruthRuns
from touchpoint.harness.simulator.subscriber import PLANT_LEAD_MS, PLANT_TAIL_MS, SubResult
from touchpoint.harness.simulator.truth import Params, detect_subscriber
from touchpoint.reference import ReferenceWriter
from udfs import trigger_kinds
from udfs.journeys import Journey
from udfs.kinds import Reference
from udfs.trigger_kinds import quota_kind
from udfs.units import HOUR_MS

#: Spill a sorted run to disk when this many records are buffered (bounds memory, ~300 B per record).
MAX_RUN_RECORDS = 2_500_000
#: Temporary run files live here (inside out_dir, removed at the end).
TMP_DIR = ".simulate-tmp"
MAX_INDEX = 1 << 31


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


@dataclass(frozen=True)
class _Span:
    """Who and when is simulated."""

    seed: int
    subscribers: int
    roamers: int
    hours: float
    start: int
    end: int
    #: the largest arrival delay: the simulator's, within the out-of-orderness bound
    max_delay: int

    @property
    def total(self) -> int:
        return self.subscribers + self.roamers


def _span(settings: Any, seed: int, subscribers: int, hours: float) -> _Span:
    if subscribers < 0 or hours <= 0:
        raise ValueError("subscribers must be >= 0 and hours > 0")
    sim = settings.simulator
    start = int(sim.start.timestamp() * 1000)
    n_roamers = round(subscribers * sim.roamer_fraction)
    if sim.roamer_fraction > 0 and subscribers > 0:
        n_roamers = max(1, n_roamers)
    if subscribers + n_roamers >= MAX_INDEX:
        raise ValueError(f"at most {MAX_INDEX - 1} subscribers + roamers")
    delay = min(sim.max_delay_ms, settings.event_time.max_out_of_orderness_ms)
    return _Span(seed, subscribers, n_roamers, hours, start, start + round(hours * HOUR_MS), delay)


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
    span = _span(settings, seed, subscribers, hours)
    report = _Progress(t_start) if progress else None
    sim = settings.simulator
    ref_dir = out / "reference"
    ref_dir.mkdir(parents=True, exist_ok=True)
    city = build_city(seed, subscribers, sim.center_lat, sim.center_lon, settings.network.home_province, span.roamers)
    ref_counts = write_city_reference(city, ref_dir)
    ref = Reference.from_rows(city.cell_rows(), city.region_rows(), city.handset_rows(), [], city.number_range_rows())
    params = Params.from_settings(settings)

    gen = Generator(city, settings, seed, span.start, span.end, subscribers, {})
    journeys = write_journeys(settings, out / "journeys")
    gen.journey = journeys[0] if journeys else None
    gen.plants, scheduled, not_planted = plan_plants(seed, subscribers, hours, gen, settings, span.roamers)

    tmp = out / TMP_DIR
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    runs = _Runs(EventBuffer(), EventRuns(tmp), TruthRuns(tmp))
    profiles = ReferenceWriter(ref_dir / "profiles.csv", "profiles")
    tally = Tally()
    emission = Emission(seed, span.start, span.max_delay + 1, sim.duplicate_rate, sim.malformed_rate)
    tbuf = _draw(gen, span.total, sim.chunk_subscribers, _Detect(ref, params), profiles, emission, runs, tally, report)
    profiles.close()
    ref_counts["reference/profiles.csv"] = profiles.rows

    if sink is not None:  # reference data first, as `touchpoint reference publish` would, so jobs can join it
        from touchpoint.clients.reference import records

        for name, key, value in records(ref_dir, validate=False):
            sink(name, value, key)
    write_events(out, sink, runs.events, runs.buffer, tally.msisdns, sum(tally.lines()))
    tbuf.sort()
    truth = write_truth(out / "ground_truth.jsonl", runs.truth.merged(tbuf), tally.data_end)
    shutil.rmtree(tmp, ignore_errors=True)
    _explain_missing_plants(not_planted, scheduled, truth.planted, tally.plants_done, params, hours)

    summary = _summary(settings, span, tally, truth, ref_counts, scheduled, not_planted, files=sink is None)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    lines = tally.lines()
    return SimulationSummary(
        seed=seed,
        subscribers=subscribers,
        roamers=span.roamers,
        hours=hours,
        signaling=lines[0],
        xdr=lines[1],
        orders=lines[2],
        clean_events=sum(tally.clean),
        events_per_subscriber_hour=tally.per_subscriber_hour(span.total, hours),
        duplicates=sum(tally.dup),
        malformed=sum(tally.malformed().values()),
        truth=truth.rows,
        planted=sum(truth.planted.values()),
        elapsed_s=time.perf_counter() - t_start,
        not_planted=dict(not_planted),
    )


@dataclass
class _Runs:
    """The records of the chunk being drawn, and the runs spilled so far."""

    buffer: EventBuffer
    events: EventRuns
    truth: TruthRuns


@dataclass(frozen=True)
class _Detect:
    """What the ground truth of one subscriber needs."""

    ref: Reference
    params: Params


@dataclass(frozen=True)
class _Progress:
    """Progress lines on stderr, one per chunk."""

    t_start: float

    def chunk(self, done: int, total: int, tally: Tally) -> None:
        el = time.perf_counter() - self.t_start
        n_ev = sum(tally.clean)
        tm = tally.seconds
        print(
            f"simulate: {done}/{total} subscribers, {n_ev:,} events, {el:.1f} s "
            f"({n_ev / max(el, 1e-9):,.0f} events/s; generate {tm[0]:.1f} s, truth {tm[1]:.1f} s, "
            f"emit {tm[2]:.1f} s)",
            file=sys.stderr,
            flush=True,
        )


def _draw(
    gen: Generator,
    total: int,
    chunk: int,
    detect: _Detect,
    profiles: ReferenceWriter,
    emission: Emission,
    runs: _Runs,
    tally: Tally,
    report: _Progress | None,
) -> list[bytes]:
    """Draw every subscriber, chunk by chunk: its profile row, its ground truth, its lines in arrival order; spill
    a chunk's records and truth to runs. Returns the truth lines of the last chunk (not spilled)."""
    # Records are appended in (subscriber index, record number) order, so a stable sort by arrival alone orders
    # them by (arrival, index, record number).
    buf = runs.buffer
    tbuf: list[bytes] = []
    perf = time.perf_counter
    for c0 in range(0, total, chunk):
        c1 = min(total, c0 + chunk)
        for idx in range(c0, c1):
            t0 = perf()
            res = gen.subscriber(idx)
            t1 = perf()
            tally.seconds[0] += t1 - t0
            tally.plants_done.update(res.plants)
            if res.trial:
                tally.trials[res.profile_row["msisdn"]] = res.trial
            if res.profile_row is not None:
                profiles.write(res.profile_row)
            tbuf += _truth_lines(res, detect.ref, detect.params)
            t2 = perf()
            tally.seconds[1] += t2 - t1
            emit(res, idx, emission, buf, tally)
            tally.seconds[2] += perf() - t2
            if len(buf.lines) >= MAX_RUN_RECORDS:
                runs.events.spill(buf)
        if c1 < total:
            if buf.lines:
                runs.events.spill(buf)
            if tbuf:
                tbuf.sort()
                runs.truth.spill(tbuf)
                tbuf = []
        if report is not None:
            report.chunk(c1, total, tally)
    return tbuf


def _summary(
    settings: Any,
    span: _Span,
    tally: Tally,
    truth: Truth,
    ref_counts: dict[str, int],
    scheduled: dict[str, int],
    not_planted: dict[str, str],
    files: bool,
) -> dict[str, Any]:
    """summary.json: the parameters, what was written, the events by type, duplicates, malformed records, the
    ground truth per kind and the plants."""
    lines = tally.lines()
    all_kinds = trigger_kinds.names(Params.from_settings(settings).quota_thresholds_mb)
    malformed = tally.malformed()
    return {
        "seed": span.seed,
        "params": {
            "subscribers": span.subscribers,
            "roamers": span.roamers,
            "hours": span.hours,
            "start_ts": span.start,
            "end_ts": span.end,
            "max_delay_ms": span.max_delay,
            "simulator": json.loads(settings.simulator.model_dump_json()),
            "triggers": json.loads(settings.triggers.model_dump_json()),
            "network": json.loads(settings.network.model_dump_json()),
        },
        "files": {
            **({f"{t}.jsonl": lines[i] for i, t in enumerate(TOPICS)} if files else {}),
            "ground_truth.jsonl": truth.rows,
            **ref_counts,
        },
        "lines": {t: lines[i] for i, t in enumerate(TOPICS)},
        "valid_lines": {t: tally.clean[i] + tally.dup[i] for i, t in enumerate(TOPICS)},
        "events": {
            "signaling": dict(sorted(tally.ev_types.items())),
            "signaling_total": tally.clean[0],
            "xdr": tally.clean[1],
            "orders": tally.clean[2],
            "per_subscriber_hour": round(tally.per_subscriber_hour(span.total, span.hours), 2),
        },
        "duplicates": {t: tally.dup[i] for i, t in enumerate(TOPICS)},
        "malformed": {r: malformed.get(r, 0) for r in MALFORMED_REASONS},
        "malformed_by_topic": {t: {r: tally.mal[t].get(r, 0) for r in MALFORMED_REASONS} for t in tally.mal},
        "data_end_ts": tally.data_end,
        "truth": {k: truth.kinds.get(k, 0) for k in all_kinds},
        "planted": {k: truth.planted.get(k, 0) for k in all_kinds},
        "plants_scheduled": {**scheduled, **({"roam_in": span.roamers} if span.roamers else {})},
        "plants_placed": dict(sorted(tally.plants_done.items())),
        "not_planted": not_planted,
        "trials": dict(sorted(tally.trials.items())),
    }


def _truth_lines(res: SubResult, ref: Reference, params: Params) -> list[bytes]:
    """The subscriber's ground truth as sortable lines (``ts\\tmsisdn\\tkind\\t`` + JSON), each row marked
    ``planted`` when a plant's window holds it."""
    out = []
    for r in detect_subscriber(res.signaling, res.xdrs, res.orders, ref, params, res.profile):
        kind, ts = r["kind"], r["ts"]
        r["planted"] = any(w[0] == kind and w[1] <= ts <= w[2] for w in res.windows)
        out.append(b"%015d\t%s\t%s\t%s" % (ts, r["msisdn"].encode(), kind.encode(), dumps_nl(r)))
    return out


def _explain_missing_plants(
    not_planted: dict[str, str],
    scheduled: dict[str, int],
    planted: Counter[str],
    plants_done: Counter[str],
    params: Params,
    hours: float,
) -> None:
    """Say why a scheduled plant's kind has no planted trigger: no room (too many plants per subscriber, the
    month's end for quota, ...) or placed but not fired."""
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
