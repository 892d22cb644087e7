"""``touchpoint stack up|down|status``: the local Kafka broker (Tansu) and ClickHouse server."""

from __future__ import annotations

import argparse

from touchpoint.cli.options import Commands, settings


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
    group = commands.group("stack", "the local Kafka broker (Tansu) and ClickHouse server, as background processes")
    p = group.add("up", cmd_up, "start them (idempotent); PID files, data and logs under paths.work_dir")
    p.add_argument("--no-clickhouse", action="store_true", help="only the broker")
    group.add("down", cmd_down, "stop what `stack up` started (only those PIDs)")
    group.add("status", cmd_status, "say what runs, with PID and port")
