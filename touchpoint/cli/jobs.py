"""``touchpoint replay``, ``touchpoint run`` and ``touchpoint submit``: the Flink jobs, bounded over files or streaming
over Kafka."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from touchpoint.cli.options import GROUP, MAX_SECONDS, Commands, settings, stop_on_signals

#: Commands a later release implements: name -> what it will do.
PLANNED = {"submit": "submit a job to a Flink cluster"}


def _job_help(with_all: bool) -> str:
    from jobs import JOBS, job

    lines = [f"{name}: {job(name).description}" for name in JOBS]
    return "the job: " + "; ".join(lines) + ("; or all: the whole pipeline in order" if with_all else "")


def cmd_replay(args: argparse.Namespace) -> int:
    from touchpoint.flink.runner import replay

    def progress(job: str, records: int, seconds: float) -> None:
        print(f"  {job}: {records:,} records written in {seconds:.0f} s ({records / seconds:,.0f}/s)", flush=True)

    t0 = time.monotonic()
    written = replay(args.job, settings(args), Path(args.input), Path(args.output), progress=progress)
    print(f"replay {args.job} done in {time.monotonic() - t0:.1f} s")
    for path in written.values():
        with path.open("rb") as f:
            n = sum(1 for _ in f)
        print(f"{path}  {n} records")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from touchpoint.flink.runner import start, wait_running

    s = settings(args)
    stop = stop_on_signals()  # Ctrl-C and SIGTERM end the job the same way: cancel, or savepoint then stop
    job = start(args.job, s, group_id=args.group, restore=args.from_savepoint)
    wait_running(job)
    print(f"job {args.job} running (Kafka {s.kafka.bootstrap}); Ctrl-C stops it", flush=True)
    deadline = time.monotonic() + args.max_seconds if args.max_seconds else None
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        status = job.status()
        if status in ("FAILED", "FINISHED", "CANCELED"):
            print(f"job {args.job} {status}", file=sys.stderr)
            return 1 if status == "FAILED" else 0
        stop.wait(1)
    if args.savepoint_dir:
        # state (campaigns, contact records, windows) and Kafka offsets, for `run JOB --from-savepoint PATH`
        print(f"savepoint {job.stop_with_savepoint(Path(args.savepoint_dir).resolve())}")
        return 0
    job.cancel()
    print(f"job {args.job} cancelled")
    return 0


def cmd_planned(args: argparse.Namespace) -> int:
    print(f"touchpoint {args.command}: not implemented yet ({PLANNED[args.command]})", file=sys.stderr)
    return 2


def register(commands: Commands) -> None:
    from jobs import JOBS

    p = commands.add("replay", cmd_replay, "run a job bounded over JSON-lines files, as a backfill or a test does")
    p.add_argument("job", choices=[*JOBS, "all"], metavar="JOB", help=_job_help(with_all=True))
    p.add_argument(
        "--input",
        required=True,
        metavar="DIR",
        help="laid out like `touchpoint simulate --out`: <topic>.jsonl files, reference/, campaigns/",
    )
    p.add_argument("--output", required=True, metavar="DIR", help="one <topic>.jsonl per output topic is written here")

    p = commands.add(
        "run", cmd_run, "run a job streaming, Kafka to Kafka, until Ctrl-C or SIGTERM", parents=(GROUP, MAX_SECONDS)
    )
    p.add_argument("job", choices=list(JOBS), metavar="JOB", help=_job_help(with_all=False))
    p.add_argument("--savepoint-dir", metavar="DIR", help="on stop, take a savepoint into DIR and print its path")
    p.add_argument("--from-savepoint", metavar="PATH", help="resume state and Kafka offsets from this savepoint")

    for name, help_text in PLANNED.items():
        p = commands.add(name, cmd_planned, f"{help_text} (not implemented yet)")
        p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
