"""The ``touchpoint`` command. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or not implemented.

Errors are one line on stderr (``touchpoint: error: ...``), never a traceback; ``--debug`` shows it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

from touchpoint import __version__

#: Subcommands that later issues implement: name -> (help, issue number or None if not filed yet).
PLANNED = {
    "submit": ("submit a job to a Flink cluster", None),
}


class UsageError(Exception):
    """Bad arguments: exit 2 with a one-line message."""


def _settings(args):
    from touchpoint.config import load_settings

    return load_settings(args.config)


def _positive(convert, expected: str):
    """An argparse type: a number > 0, with a one-line message otherwise."""

    def parse(text: str):
        try:
            v = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if v <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {v}")
        return v

    return parse


_positive_int = _positive(int, "a whole number")
_positive_float = _positive(float, "a number")


# --- commands ------------------------------------------------------------------------------------


def cmd_simulate(args) -> int:
    from touchpoint.simulator import simulate

    settings = _settings(args)
    if args.kafka is None and args.out is None:
        raise UsageError("simulate needs --out DIR or --kafka HOST:PORT")
    out = Path(args.out) if args.out else settings.paths.work_dir / "city"
    if args.kafka is None:
        summary = simulate(settings, seed=args.seed, subscribers=args.subscribers, hours=args.hours,
                           out_dir=out, progress=not args.quiet)
    else:
        from touchpoint.clients.kafka_io import RateLimitedProducer

        settings.kafka.bootstrap = args.kafka
        with RateLimitedProducer(settings, rate=args.rate, progress=not args.quiet) as producer:
            summary = simulate(settings, seed=args.seed, subscribers=args.subscribers, hours=args.hours,
                               out_dir=out, sink=producer.send, progress=False)
    print(summary)
    return 0


def cmd_replay(args) -> int:
    from touchpoint.flink.runner import replay

    settings = _settings(args)
    written = replay(args.job, settings, Path(args.input), Path(args.output))
    for key, path in written.items():
        with path.open("rb") as f:
            n = sum(1 for _ in f)
        print(f"{path}  {n} records")
    return 0


def cmd_run(args) -> int:
    from touchpoint.flink.runner import start, wait_running

    settings = _settings(args)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    job = start(args.job, settings, group_id=args.group_id, restore=args.from_savepoint)
    wait_running(job)
    print(f"job {args.job} running (Kafka {settings.kafka.bootstrap}); Ctrl-C stops it", flush=True)
    deadline = time.monotonic() + args.max_seconds if args.max_seconds else None
    try:
        while not stop["now"] and (deadline is None or time.monotonic() < deadline):
            status = job.status()
            if status in ("FAILED", "FINISHED", "CANCELED"):
                print(f"job {args.job} {status}", file=sys.stderr)
                return 1 if status == "FAILED" else 0
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    if args.savepoint_dir:
        # state (campaigns, contact records, windows) and Kafka offsets, for `run JOB --from-savepoint PATH`
        print(f"savepoint {job.stop_with_savepoint(Path(args.savepoint_dir).resolve())}")
        return 0
    job.cancel()
    print(f"job {args.job} cancelled")
    return 0


def cmd_stack(args) -> int:
    from touchpoint.infra import stack

    settings = _settings(args)
    if args.action == "up":
        for svc in stack.up(settings, clickhouse=not args.no_clickhouse):
            print(f"{svc.name:<11} pid {svc.pid:<7} 127.0.0.1:{svc.port}  log {svc.log}")
    elif args.action == "down":
        stopped = stack.down(settings)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    else:
        for name in ("tansu", "clickhouse"):
            svc = stack.running(settings.paths.run, name, name)
            print(f"{name:<11} " + (f"running, pid {svc.pid}, port {svc.port}" if svc else "stopped"))
    return 0


def cmd_demo(args) -> int:
    from touchpoint.tools.demo import run_demo

    return run_demo(_settings(args), subscribers=args.subscribers, hours=args.hours, seed=args.seed)


def cmd_bench(args) -> int:
    from touchpoint.tools.bench import run_bench

    return run_bench(_settings(args), events=args.events, seed=args.seed)


def cmd_campaigns(args) -> int:
    from touchpoint.clients import campaigns

    settings = _settings(args)
    items = campaigns.load(args.paths)  # validates everything first: one bad file publishes nothing
    dry = args.action == "validate" or args.dry_run
    if not dry:
        campaigns.publish(settings, items)
    for item in items:
        c = item.campaign
        print(f"{'valid' if dry else 'published'} {c.id} ({c.status}, {c.kind})")
    if not dry:
        print(f"{len(items)} campaigns -> topic {settings.topics.campaigns} at {settings.kafka.bootstrap}",
              file=sys.stderr)
    return 0


def _stop_on_signals() -> threading.Event:
    """An event set by SIGINT (Ctrl-C) or SIGTERM: long-running commands check it between steps, so a stop never
    interrupts a client library in the middle of a request."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def cmd_leads(args) -> int:
    from touchpoint.clients.leads import tail

    settings = _settings(args)
    group = args.group or f"{settings.kafka.group_prefix}-leads-tail"
    # Ctrl-C and a supervisor's SIGTERM end the tail the same way: offsets committed, exit 0
    printed = tail(settings, group=group, from_beginning=args.from_beginning, include_control=args.include_control,
                   as_json=args.json, max_leads=args.max, timeout_s=args.timeout, stop=_stop_on_signals())
    if args.max is not None and printed < args.max and args.timeout is not None:
        # a script asked for N leads and did not get them in time
        print(f"touchpoint: error: leads: {printed} of {args.max} leads within {args.timeout:g} s", file=sys.stderr)
        return 1
    return 0


def cmd_load(args) -> int:
    from touchpoint.clickhouse.loader import Loader

    settings = _settings(args)
    loader = Loader(settings, args.url, max_seconds=args.max_seconds, until_idle=args.until_idle,
                    progress=not args.quiet)
    stopped = {"by_signal": False}

    def stop(*_):
        stopped["by_signal"] = True
        loader.stop()  # inserts and commits what was read, then returns

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    stats = loader.run()
    per_table = ", ".join(f"{t} {n:,}" for t, n in sorted(stats.rows.items()))
    bad = sum(stats.bad.values())
    print(f"loaded {stats.total:,} rows into {stats.backend or loader.url}"
          + (f" ({per_table})" if per_table else "") + (f"; {bad:,} bad records -> dlq" if bad else "")
          + (f"; {stats.retries} retries" if stats.retries else "")
          + (f"; {stats.rows_per_s:,.0f} rows/s" if stats.total else ""))
    if stats.error and not stopped["by_signal"]:
        left = (f"; {stats.unloaded:,} rows read are not committed and will be loaded by the next run"
                if stats.unloaded else "")
        print(f"touchpoint: error: load: {stats.error}{left}", file=sys.stderr)
        return 1
    return 0


def cmd_db(args) -> int:
    from touchpoint.clickhouse import backends, migrations, retention
    from touchpoint.clickhouse.reference import load_reference

    settings = _settings(args)
    if args.dir is not None and args.action != "load-reference":
        raise UsageError(f"db {args.action} takes no DIR")
    with backends.connect(settings, args.url) as backend:
        where = f"{backend.describe()}, database {backend.database}"
        if args.action == "migrate":
            applied = migrations.migrate(backend, settings)
            for m in applied:
                print(f"applied {m.path.name}")
            lacking = sorted(set(backends.FEATURES) - backend.features)
            print(f"{where}: up to date, {len(migrations.applied(backend))} migrations"
                  + (f" (server lacks: {', '.join(lacking)})" if lacking else ""))
        elif args.action == "status":
            done = migrations.applied(backend)
            for m in migrations.discover():
                state = "pending"
                if m.version in done:
                    state = f"applied {done[m.version][2]:%Y-%m-%d %H:%M:%S}"
                    if done[m.version][1] != m.checksum:
                        state += " CHANGED SINCE"
                print(f"{m.path.name:<32} {state}")
            print(where)
        elif args.action == "prune":
            dropped = retention.prune(backend, settings, dry_run=args.dry_run)
            for table, partition in dropped:
                print(f"{'would drop' if args.dry_run else 'dropped'} {table} partition {partition}")
            print(f"{where}: {len(dropped)} partitions {'to drop' if args.dry_run else 'dropped'} "
                  f"(retention {settings.clickhouse.retention_days} days"
                  + ("; TTL also applies" if backend.supports("ttl") else "") + ")")
        else:
            migrations.migrate(backend, settings)
            directory = Path(args.dir) if args.dir else settings.paths.reference_dir
            for table, n in load_reference(backend, directory).items():
                print(f"{table}: {n} rows from {directory}")
    return 0


def cmd_dashboards(args) -> int:
    from touchpoint.dashboards import check, push
    from touchpoint.dashboards.macros import parse_time
    from touchpoint.dashboards.model import DASHBOARDS_DIR, DashboardError

    settings = _settings(args)
    directory = Path(args.dashboards) if args.dashboards else DASHBOARDS_DIR
    schema = Path(args.schema) if args.schema else None
    if args.action == "push":
        token = args.token or os.environ.get("GRAFANA_TOKEN")
        if not args.url or not token:
            raise UsageError("dashboards push needs --url GRAFANA_URL and --token TOKEN (or $GRAFANA_TOKEN)")
        if args.start or args.end or args.require_data:
            raise UsageError("--from, --to and --require-data are for dashboards check")
        n = push.push(settings, args.url, token, directory=directory, schema_path=schema)
        print(f"{n} dashboards pushed to {args.url.rstrip('/')}")
        return 0
    if args.token:
        raise UsageError("--token is for dashboards push")
    try:
        start = parse_time(args.start) if args.start else None
        end = parse_time(args.end) if args.end else None
    except DashboardError as e:
        raise UsageError(str(e)) from None
    report = check.check(settings, url=args.url, start=start, end=end, require_data=args.require_data,
                              schema_path=schema, directory=directory)
    return 0 if report.ok else 1


def cmd_report(args) -> int:
    from touchpoint.dashboards.report import write_report

    settings = _settings(args)
    summary = write_report(settings, Path(args.out), url=args.url)
    print(summary)
    return 0


def cmd_planned(args) -> int:
    help_text, issue = PLANNED[args.command]
    where = f"planned in issue #{issue}" if issue else "planned"
    print(f"touchpoint {args.command}: not implemented yet ({help_text}; {where})", file=sys.stderr)
    return 2


# --- parser --------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump): ``touchpoint simulate: error: ...``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from jobs import JOBS

    parser = _Parser(
        prog="touchpoint",
        description="Real-time precision marketing on Apache Flink: signaling/xDR -> triggers, leads, metrics.",
    )
    parser.add_argument("--version", action="version", version=f"touchpoint {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name, func, help_text):
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config", metavar="FILE", help="settings YAML (default: $TOUCHPOINT_CONFIG)")
        p.set_defaults(func=func)
        return p

    p = add("simulate", cmd_simulate, "write a deterministic synthetic city with ground truth")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--subscribers", type=_positive_int, default=1000)
    p.add_argument("--hours", type=_positive_float, default=24.0)
    p.add_argument("--out", metavar="DIR", help="write JSON-lines files and reference data here")
    p.add_argument("--kafka", metavar="HOST:PORT", help="produce events to Kafka instead of files")
    p.add_argument("--rate", type=_positive_float, help="target events/s when producing to Kafka")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    job_help = f"job name ({', '.join(JOBS)}) or 'all'"
    p = add("replay", cmd_replay, "run a job bounded over JSON-lines files")
    p.add_argument("job", choices=[*JOBS, "all"], metavar="JOB", help=job_help)
    p.add_argument("--input", required=True, metavar="DIR")
    p.add_argument("--output", required=True, metavar="DIR")

    p = add("run", cmd_run, "run a job streaming, Kafka to Kafka, until Ctrl-C")
    p.add_argument("job", choices=list(JOBS), metavar="JOB", help=f"job name ({', '.join(JOBS)})")
    p.add_argument("--group-id", help="Kafka consumer group (default touchpoint-JOB)")
    p.add_argument("--max-seconds", type=_positive_float, help="cancel the job after this long")
    p.add_argument("--savepoint-dir", metavar="DIR", help="on stop, take a savepoint into DIR and print its path")
    p.add_argument("--from-savepoint", metavar="PATH", help="resume state and offsets from a savepoint")

    p = add("stack", cmd_stack, "start/stop the local Kafka (Tansu) and ClickHouse server")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--no-clickhouse", action="store_true", help="only the broker")

    p = add("demo", cmd_demo, "run the end-to-end demo on the local stack")
    p.add_argument("--subscribers", type=_positive_int, default=2000)
    p.add_argument("--hours", type=_positive_float, default=9.0)
    p.add_argument("--seed", type=int, default=7)

    p = add("bench", cmd_bench, "measure job throughput over the same Kafka data")
    p.add_argument("--events", type=_positive_int, default=300_000, help="approximate events to load")
    p.add_argument("--seed", type=int, default=11)

    p = add("campaigns", cmd_campaigns, "validate and publish campaign files (YAML/JSON) to the campaigns topic")
    p.add_argument("action", choices=["publish", "validate"], help="validate = publish --dry-run")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help="files holding a campaign or a list; a directory "
                   "means its *.yaml, *.yml and *.json files")
    p.add_argument("--dry-run", action="store_true", help="validate only, publish nothing")

    p = add("leads", cmd_leads, "follow the leads topic like an outbound system")
    p.add_argument("action", choices=["tail"])
    p.add_argument("--group", help="consumer group whose committed offsets say where to resume "
                   "(default: <kafka.group_prefix>-leads-tail)")
    p.add_argument("--from-beginning", action="store_true", help="every retained lead, not only new ones")
    p.add_argument("--include-control", action="store_true", help="also control-group leads (never delivered)")
    p.add_argument("--json", action="store_true", help="print the raw JSON records")
    p.add_argument("--max", type=_positive_int, metavar="N", help="stop after N leads")
    p.add_argument("--timeout", type=_positive_float, metavar="S",
                   help="stop after S seconds (exit 1 if --max leads were not reached by then)")

    p = add("load", cmd_load, "load the output topics into ClickHouse (at least once, de-duplicated by id)")
    p.add_argument("--url", help="chdb:, chdb:///PATH or clickhouse://HOST:PORT (default: clickhouse.url)")
    p.add_argument("--max-seconds", type=_positive_float, metavar="S", help="stop after S seconds")
    p.add_argument("--until-idle", type=_positive_float, metavar="S",
                   help="stop after S seconds without new records")
    p.add_argument("--quiet", action="store_true", help="no progress lines")

    p = add("db", cmd_db, "ClickHouse schema: migrate, status, prune (retention), load-reference")
    p.add_argument("action", choices=["migrate", "status", "prune", "load-reference"])
    p.add_argument("dir", nargs="?", metavar="DIR",
                   help="load-reference: folder with regions.csv and handsets.csv (default: paths.reference_dir)")
    p.add_argument("--url", help="chdb:, chdb:///PATH or clickhouse://HOST:PORT (default: clickhouse.url)")
    p.add_argument("--dry-run", action="store_true", help="prune: list the partitions, drop nothing")

    p = add("dashboards", cmd_dashboards, "check the Grafana dashboards against Grafana's schema and ClickHouse, "
            "or push them (and the datasource) to Grafana")
    p.add_argument("action", choices=["check", "push"])
    p.add_argument("--url", help="check: ClickHouse to run the panel queries on (chdb:, chdb:///PATH or "
                   "clickhouse://HOST:PORT; default clickhouse.url); push: Grafana's URL (required)")
    p.add_argument("--token", help="push: a Grafana service-account token (default $GRAFANA_TOKEN)")
    p.add_argument("--from", dest="start", metavar="TIME",
                   help="check: time range start, ISO-8601 UTC or Unix seconds (default: the earliest data)")
    p.add_argument("--to", dest="end", metavar="TIME", help="check: time range end (default: the latest data)")
    p.add_argument("--require-data", action="store_true", help="check: an empty panel result is a failure")
    p.add_argument("--dashboards", metavar="DIR", help="dashboard JSON files (default grafana/dashboards)")
    p.add_argument("--schema", metavar="FILE",
                   help="Grafana dashboard JSON Schema (default work/grafana/dashboard.schema.json, from make setup)")

    p = add("report", cmd_report, "write a self-contained HTML report (micro-region map, opportunities, funnel)")
    p.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
    p.add_argument("--url", help="ClickHouse to read (default clickhouse.url)")

    for name, (help_text, issue) in PLANNED.items():
        p = add(name, cmd_planned, f"{help_text} (not implemented yet)")
        p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        parser.error(str(e))
    except KeyboardInterrupt:
        print("touchpoint: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # one line for users; --debug for developers
        if args.debug:
            raise
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"touchpoint: error: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
