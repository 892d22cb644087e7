"""``python -m touchpoint.simulator --seed N --subscribers N --hours H --out DIR`` (a thin wrapper; the project
CLI is ``touchpoint simulate``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from touchpoint.config import load_settings
from touchpoint.simulator import simulate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m touchpoint.simulator")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--config", default=None)
    ap.add_argument("--progress", action="store_true")
    a = ap.parse_args(argv)
    s = simulate(load_settings(a.config), seed=a.seed, subscribers=a.subscribers, hours=a.hours, out_dir=a.out,
                 progress=a.progress)
    print(s)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
