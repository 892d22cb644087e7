"""``touchpoint replay`` and ``touchpoint run``: the Flink jobs in this process (an embedded mini-cluster), bounded
over files or streaming over Kafka. ``touchpoint submit`` (touchpoint/cli/cluster.py) sends them to a cluster."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from touchpoint.cli.options import GROUP, MAX_SECONDS, Commands, UsageError, settings, stop_on_signals


def job_help(with_all: bool) -> str:
    from jobs import JOBS, job

    lines = [f"{name}: {job(name).description}" for name in JOBS]
    return "the job: " + "; ".join(lines) + ("; or all: the whole pipeline in order" if with_all else "")


def cmd_replay(args: argparse.Namespace) -> int:
    from touchpoint.runner.embedded import replay

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
    from touchpoint.flink import checkpoints
    from touchpoint.runner.embedded import start, wait_running

    s = settings(args)
    stop = stop_on_signals()  # Ctrl-C and SIGTERM end the job the same way: cancel, or savepoint then stop
    restore = args.from_savepoint
    if restore and not checkpoints.exists(restore):
        raise UsageError(f"--from-savepoint: {restore} does not exist")
    if restore is None and not args.fresh:
        found = checkpoints.latest(s, args.job)
        restore = str(found) if found else None
        if found:
            print(f"resuming from checkpoint {found} (--fresh starts empty)", flush=True)
    if not args.from_savepoint:  # earlier runs' checkpoints are superseded by the one resumed from, or by --fresh
        checkpoints.prune_runs(s, args.job, keep=Path(restore) if restore else None)
    job = start(args.job, s, group_id=args.group, restore=restore)
    try:
        wait_running(job)
    except RuntimeError as e:
        if restore:
            raise RuntimeError(f"{e}: could not resume from {restore} (start empty with --fresh)") from None
        raise
    print(f"job {args.job} running (Kafka {s.kafka.bootstrap}); Ctrl-C stops it", flush=True)
    deadline = time.monotonic() + args.max_seconds if args.max_seconds else None
    while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
        status = job.status()
        if status in ("FAILED", "FINISHED", "CANCELED", "ENDED"):
            if cause := job.failure():  # after its restarts: say why, in one line (e.g. a full checkpoint disk)
                raise RuntimeError(f"job {args.job} failed: {_checkpoint_reason(s, args.job, cause)}")
            print(f"job {args.job} {status}", file=sys.stderr)
            return 0
        stop.wait(1)
    if args.savepoint_dir:
        # state (campaigns, contact records, windows) and Kafka offsets, for `run JOB --from-savepoint PATH`
        print(f"savepoint {job.stop_with_savepoint(Path(args.savepoint_dir).resolve())}")
        return 0
    job.cancel()
    print(f"job {args.job} cancelled")
    return 0


def _checkpoint_reason(s, job: str, cause: str) -> str:
    """Flink reports a failing checkpoint without its reason (that is in the JobManager's log); when the reason is
    the checkpoint directory itself (full, read-only), say so first."""
    from touchpoint.flink.checkpoints import CheckpointSpaceError, check_space

    if "checkpoint" not in cause.lower():
        return cause
    try:
        check_space(s, job)
    except CheckpointSpaceError as e:
        return f"{e} (Flink: {cause})"
    return cause


def register(commands: Commands) -> None:
    from jobs import JOBS

    p = commands.add("replay", cmd_replay, "run a job bounded over JSON-lines files, as a backfill or a test does")
    p.add_argument("job", choices=[*JOBS, "all"], metavar="JOB", help=job_help(with_all=True))
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
    p.add_argument("job", choices=list(JOBS), metavar="JOB", help=job_help(with_all=False))
    p.add_argument("--savepoint-dir", metavar="DIR", help="on stop, take a savepoint into DIR and print its path")
    resume = p.add_mutually_exclusive_group()
    resume.add_argument(
        "--from-savepoint", metavar="PATH", help="resume state and Kafka offsets from this savepoint or checkpoint"
    )
    resume.add_argument(
        "--fresh",
        action="store_true",
        help="start with empty state (default: resume from the job's newest retained checkpoint, if any)",
    )
