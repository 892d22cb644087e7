"""The program ``flink run`` executes for ``touchpoint submit``: it builds the job from the same code as
``touchpoint run`` (jobs/) and submits it to the cluster the Flink CLI points at, then exits.

``python -m touchpoint.runner.cluster.entry JOB --config FILE [--group NAME]``; the settings file is the one
``touchpoint submit`` wrote, so the job sees exactly the submitter's settings."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from touchpoint.config import load_settings
from touchpoint.runner.embedded import build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="touchpoint.runner.cluster.entry")
    parser.add_argument("job")
    parser.add_argument("--config", required=True)
    parser.add_argument("--group")
    parser.add_argument("--bounded-offsets", help="JSON file: topic key -> partition -> end offset")
    args = parser.parse_args(argv)
    bounded = {}
    if args.bounded_offsets:
        raw = json.loads(Path(args.bounded_offsets).read_text())
        bounded = {key: {int(p): int(o) for p, o in ends.items()} for key, ends in raw.items()}
    settings = load_settings(args.config)
    python = settings.cluster.python_executable or sys.executable
    p = build(
        args.job,
        settings,
        mode="streaming",
        group_id=args.group,
        bounded_offsets=bounded,
        flink_options={"python.executable": python},
    )
    result = p.submit()
    print(f"submitted {args.job} as JobID {result.get_job_client().get_job_id()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
