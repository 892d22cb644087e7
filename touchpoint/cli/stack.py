"""``touchpoint setup``: what the jobs need in the work dir; ``touchpoint stack up|down|status``: the local Kafka
broker (Tansu) and ClickHouse server."""

from __future__ import annotations

import argparse

from touchpoint.cli.options import Commands, settings


def cmd_setup(args: argparse.Namespace) -> int:
    from touchpoint.infra.functions import functions_jar
    from touchpoint.infra.jars import ensure_jars
    from touchpoint.infra.plmn import ensure_plmn

    s = settings(args)
    cache = s.paths.work_dir / "cache"
    for path in [*ensure_jars(s.paths.jars, cache), functions_jar(s.paths.jars), ensure_plmn(s.paths.plmn, cache)]:
        print(path)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from touchpoint.infra import stack

    for svc in stack.up(settings(args), clickhouse=not args.no_clickhouse):
        print(f"{svc.name:<11} pid {svc.pid:<7} 127.0.0.1:{svc.port}  log {svc.log}")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from touchpoint.infra import stack

    stopped = stack.down(settings(args))
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from touchpoint.infra import stack

    s = settings(args)
    for name in ("tansu", "clickhouse"):
        svc = stack.running(s.paths.run, name, name)
        print(f"{name:<11} " + (f"running, pid {svc.pid}, port {svc.port}" if svc else "stopped"))
    return 0


def register(commands: Commands) -> None:
    commands.add(
        "setup",
        cmd_setup,
        "build what the jobs need under paths.work_dir (idempotent): the Kafka connector jars and the PLMN table "
        "from pinned, checksummed PyPI wheels, and Touchpoint's JVM functions (needs a JDK's javac)",
    )
    group = commands.group("stack", "the local Kafka broker (Tansu) and ClickHouse server, as background processes")
    p = group.add("up", cmd_up, "start them (idempotent); PID files, data and logs under paths.work_dir")
    p.add_argument("--no-clickhouse", action="store_true", help="only the broker")
    group.add("down", cmd_down, "stop what `stack up` started (only those PIDs)")
    group.add("status", cmd_status, "say what runs, with PID and port")
