"""``touchpoint cluster up|down|status``, ``touchpoint submit`` and ``touchpoint jobs list|stop|cancel``: the jobs on
a Flink cluster (the local standalone one, or any Flink 2.3 cluster at ``cluster.rest_url``)."""

from __future__ import annotations

import argparse
import time

from touchpoint.cli.jobs import job_help
from touchpoint.cli.options import GROUP, Commands, UsageError, positive_int, settings


def cmd_up(args: argparse.Namespace) -> int:
    from touchpoint.runner.cluster import local

    s = settings(args)
    st = local.up(s)
    for svc in [st.jobmanager, *st.taskmanagers]:
        print(f"{svc.name:<14} pid {svc.pid:<7} log {svc.log}")
    print(f"web UI and REST at {s.cluster.rest_url}; {st.overview['slots-total']} slots")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from touchpoint.runner.cluster import local

    stopped = local.down(settings(args))
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from touchpoint.runner.cluster import local

    s = settings(args)
    st = local.status(s)
    print("jobmanager     " + (f"running, pid {st.jobmanager.pid}" if st.jobmanager else "stopped"))
    print(f"taskmanagers   {len(st.taskmanagers)} running" + "".join(f", pid {t.pid}" for t in st.taskmanagers))
    o = st.overview
    if o:
        print(
            f"REST {s.cluster.rest_url}: {o['taskmanagers']} TaskManagers, {o['slots-available']}/{o['slots-total']} "
            f"slots free, {o['jobs-running']} jobs running"
        )
    return 0 if st.jobmanager and o else 1


def cmd_submit(args: argparse.Namespace) -> int:
    from touchpoint.flink.checkpoints import exists
    from touchpoint.runner.cluster.submit import submit

    if args.from_savepoint and not exists(args.from_savepoint):
        raise UsageError(f"--from-savepoint: {args.from_savepoint} does not exist")
    s = settings(args)
    job_id = submit(s, args.job, args.parallelism, args.from_savepoint, args.group)
    print(f"submitted {args.job} to {s.cluster.rest_url} as job {job_id}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from touchpoint.runner.cluster import rest

    found = rest.jobs(settings(args).cluster.rest_url)
    for j in found:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(j.start_time / 1000))
        print(f"{j.job:<16} {j.state:<12} {j.id}  since {since}")
    if not found:
        print("no jobs")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from touchpoint.runner.cluster import rest

    s = settings(args)
    url = s.cluster.rest_url
    job = rest.find(url, args.job)
    target = args.savepoint or (s.paths.work_dir / "savepoints" / job.job).resolve().as_uri()
    print(f"savepoint {rest.stop_with_savepoint(url, job, target)}")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    from touchpoint.runner.cluster import rest

    url = settings(args).cluster.rest_url
    job = rest.find(url, args.job)
    rest.cancel(url, job.id)
    print(f"cancelled {job.job} ({job.id}); its retained checkpoints stay for --from-savepoint")
    return 0


def register(commands: Commands) -> None:
    from jobs import JOBS

    group = commands.group("cluster", "a local standalone Flink cluster (JobManager + TaskManagers) from PyFlink")
    group.add("up", cmd_up, "start it (idempotent: starts what is missing) and wait until every slot is there")
    group.add("down", cmd_down, "stop what `cluster up` started (only those PIDs)")
    group.add("status", cmd_status, "the processes and what the cluster's REST API says; exit 1 if it is down")

    p = commands.add(
        "submit", cmd_submit, "submit a streaming job to the Flink cluster at cluster.rest_url (detached)", (GROUP,)
    )
    p.add_argument("job", choices=list(JOBS), metavar="JOB", help=job_help(with_all=False))
    p.add_argument("--parallelism", type=positive_int, metavar="N", help="default: flink.parallelism")
    p.add_argument("--from-savepoint", metavar="PATH", help="start from this savepoint or retained checkpoint")

    group = commands.group("jobs", "the jobs running on the Flink cluster at cluster.rest_url")
    group.add("list", cmd_list, "every job the cluster knows: name, state, id, start")
    p = group.add("stop", cmd_stop, "stop a job gracefully after a savepoint, and print the savepoint's path")
    p.add_argument("job", metavar="JOB", help="the job's name (ingest) or Flink job id")
    p.add_argument(
        "--savepoint",
        metavar="DIR",
        help="where (a path or URI the cluster can write; default: <work_dir>/savepoints/JOB)",
    )
    p = group.add("cancel", cmd_cancel, "cancel a job at once (its checkpoints are retained)")
    p.add_argument("job", metavar="JOB", help="the job's name (ingest) or Flink job id")
