"""What a simulation writes: the city's reference files, the records merged from the runs into the topic files
(or a sink, keyed by msisdn), and the ground truth merged from its runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from touchpoint.harness.simulator.city import City
from touchpoint.harness.simulator.emission import TOPICS
from touchpoint.harness.simulator.runs import EventBuffer, EventRuns
from touchpoint.reference import write_reference_csv

Sink = Callable[[str, bytes, bytes], None]


@dataclass
class Truth:
    """The ground truth as written: rows, and rows per kind, planted and all."""

    rows: int
    planted: Counter[str]
    kinds: Counter[str]


def write_city_reference(city: City, ref_dir: Path) -> dict[str, int]:
    """The city's reference files (all but profiles, written as subscribers are drawn); rows per file."""
    return {
        "reference/cells.csv": write_reference_csv(ref_dir / "cells.csv", "cells", city.cell_rows()),
        "reference/regions.csv": write_reference_csv(ref_dir / "regions.csv", "regions", city.region_rows()),
        "reference/handsets.csv": write_reference_csv(ref_dir / "handsets.csv", "handsets", city.handset_rows()),
        "reference/products.csv": write_reference_csv(ref_dir / "products.csv", "products", city.product_rows()),
        "reference/number_ranges.csv": write_reference_csv(
            ref_dir / "number_ranges.csv", "number_ranges", city.number_range_rows()
        ),
    }


def write_events(
    out: Path, sink: Sink | None, ev_runs: EventRuns, buf: EventBuffer, msisdns: list[bytes], n_lines: int
) -> None:
    """Merge the runs in arrival order into the topic files, or into the sink keyed by msisdn."""
    windows: Iterable[tuple[np.ndarray, np.ndarray, list[bytes]]]
    if not ev_runs.runs:  # everything is still in memory: one run, lines end with a newline
        _arr, top, idx_a, ls = buf.sorted()
        windows = [(top, idx_a, ls)]
        newline = True
    else:
        if buf.lines:
            ev_runs.spill(buf)
        windows = ev_runs.windows(n_lines)
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


def write_truth(path: Path, merged: Iterable[bytes], data_end: int) -> Truth:
    """The merged ground truth, without zero_usage rows after the end of the data; returns the rows written and
    the rows per kind, planted and all."""
    n_truth = 0
    planted: Counter[str] = Counter()
    truth_kinds: Counter[str] = Counter()
    with path.open("wb") as f:
        for tl in merged:
            ts_s, _m, kind_b, js = tl.split(b"\t", 3)
            kind = kind_b.decode()
            if kind == "zero_usage" and int(ts_s) > data_end:
                continue
            f.write(js)
            n_truth += 1
            truth_kinds[kind] += 1
            if js.endswith(b'"planted":true}\n'):
                planted[kind] += 1
    return Truth(n_truth, planted, truth_kinds)
