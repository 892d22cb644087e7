"""The simulator's temporary runs, which keep memory bounded at any scale: a chunk's records sorted by arrival
time into a run on disk (the lines in one file, arrival / topic / subscriber index as numpy arrays beside it),
merged window by window at the end (each run is sorted, so a time window is a contiguous slice of every run); the
ground truth's sorted runs, merged with ``heapq.merge``."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from pathlib import Path

import numpy as np

#: Records per merge window (bounds memory of the final merge).
WINDOW_RECORDS = 1_000_000


class TruthRuns:
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


class EventBuffer:
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


class EventRuns:
    """Sorted runs of records on disk (lines file + .npy arrays), merged window by window."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.runs: list[tuple[Path, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def spill(self, buf: EventBuffer) -> None:
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
