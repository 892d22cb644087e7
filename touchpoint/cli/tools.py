"""``touchpoint demo`` and ``touchpoint bench``: the end-to-end demo and the benchmark."""

from __future__ import annotations

import argparse
from pathlib import Path

from touchpoint.cli.options import CLICKHOUSE, QUIET, Commands, city, positive_float, positive_int, settings


def cmd_demo(args: argparse.Namespace) -> int:
    from touchpoint.harness.demo import run_demo

    return run_demo(settings(args), subscribers=args.subscribers, hours=args.hours, seed=args.seed)


def cmd_bench(args: argparse.Namespace) -> int:
    from touchpoint.harness.bench import run_bench

    return run_bench(settings(args), events=args.events, seed=args.seed)


def cmd_bench_publish(args: argparse.Namespace) -> int:
    from touchpoint.harness import bench_report

    source = args.result or settings(args).paths.work_dir / "bench" / "result.json"
    if not source.exists():
        raise SystemExit(f"touchpoint: {source} not found; run `make bench` first")
    bench_report.publish(source)
    print(f"published {source} -> {bench_report.PUBLISHED}/ and the README's performance table")
    return 0


def flink_option(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` of a Flink option, else an argparse error."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE, e.g. table.optimizer.agg-phase-strategy=ONE_PHASE, got {text!r}"
        )
    return key.strip(), value.strip()


def cmd_bench_stages(args: argparse.Namespace) -> int:
    from touchpoint.harness.bench_stages import run_stages

    options = dict(args.option or ())
    return run_stages(
        settings(args), events=args.events, seed=args.seed, repeats=args.repeats, only=args.only, options=options
    )


def cmd_bench_scale(args: argparse.Namespace) -> int:
    from touchpoint.harness.bench_scale import run_scale

    return run_scale(settings(args), subscribers=args.subscribers, hours=args.hours, seed=args.seed)


def cmd_soak(args: argparse.Namespace) -> int:
    from touchpoint.harness.soak import run_soak

    return run_soak(
        settings(args),
        minutes=args.minutes,
        rate=args.rate,
        subscribers=args.subscribers,
        hours=args.hours,
        seed=args.seed,
        sample_s=args.sample_seconds,
        state_minutes=args.state_minutes,
    )


def cmd_bench_loader(args: argparse.Namespace) -> int:
    from touchpoint.harness.loader_bench import measure

    r = measure(settings(args), args.url, records=args.records, batch_rows=args.batch_rows, progress=not args.quiet)
    print(
        f"{r['backend']}: {r['rows']:,} rows in {r['seconds']:.1f} s, {r['rows_per_s']:,} rows/s "
        f"(batches of {r['batch_rows']:,}; first record read -> last commit)"
    )
    return 0


#: raw events of the bench city, for `bench` and `bench stages`: ~210 subscribers over 48 h at 60 per subscriber-hour
BENCH_EVENTS = 600_000


def register(commands: Commands) -> None:
    _add_demo(commands)
    _add_soak(commands)
    _add_bench(commands)


def _add_demo(commands: Commands) -> None:
    commands.add(
        "demo",
        cmd_demo,
        "the whole pipeline on the local stack, narrated: simulate, run every job, "
        "leads, ClickHouse, dashboards, report",
        parents=(city(seed=7, subscribers=2000, hours=9.0),),
    )


def _add_soak(commands: Commands) -> None:
    p = commands.add(
        "soak",
        cmd_soak,
        "the whole pipeline and the loader streaming at a fixed rate for a long time, sampled each minute "
        "(memory, state, checkpoint time, lag); exit 1 if any of them keeps growing",
        parents=(city(seed=17, subscribers=2000, hours=2.0),),
    )
    p.add_argument("--minutes", type=positive_float, default=30.0, metavar="M", help="how long (default: 30)")
    p.add_argument("--rate", type=positive_float, default=500.0, metavar="EV/S", help="events/s (default: 500)")
    p.add_argument(
        "--sample-seconds", type=positive_float, default=60.0, metavar="S", help="time between samples (default: 60)"
    )
    p.add_argument(
        "--state-minutes",
        type=positive_float,
        default=5.0,
        metavar="M",
        help="processing-time lifetime of state (flink.state_ttl_hours, journeys.usage_wait_minutes) for the run "
        "(default: 5)",
    )


def _bench_city() -> argparse.ArgumentParser:
    """The bench city: its seed and size, shared by `bench` and `bench stages` so both measure the same data."""
    bench_city = city(seed=11)
    bench_city.add_argument(
        "--events",
        type=positive_int,
        default=BENCH_EVENTS,
        metavar="N",
        help=f"approximate raw events (default: {BENCH_EVENTS})",
    )
    return bench_city


def _add_bench(commands: Commands) -> None:
    """`bench` measures the jobs; its parts (loader, stages, scale, publish) measure one piece each, or publish."""
    bench_city = _bench_city()
    p = commands.add(
        "bench",
        cmd_bench,
        "throughput, latency and state size of the jobs over the same Kafka data, "
        "against a passthrough baseline measured in the same run",
        parents=(bench_city,),
    )
    parts = Commands(p.add_subparsers(dest="bench_command", metavar="PART", required=False, parser_class=type(p)))
    _add_bench_loader(parts)
    _add_bench_stages(parts, bench_city)
    parts.add(
        "scale",
        cmd_bench_scale,
        "the whole pipeline once over a large city (default 100 k subscribers, 2 h): events/s, checkpoints, memory",
        parents=(city(seed=13, subscribers=100_000, hours=2.0),),
    )
    p = parts.add(
        "publish",
        cmd_bench_publish,
        "copy the last run's result.json and chart into docs/bench/ and rewrite the README's performance table",
    )
    p.add_argument("--result", type=Path, metavar="PATH", help="a result.json (default: work/bench/result.json)")


def _add_bench_loader(parts: Commands) -> None:
    p = parts.add(
        "loader",
        cmd_bench_loader,
        "only the loader: synthetic records of every loaded topic through kafka.bootstrap into one ClickHouse, rows/s",
        parents=(CLICKHOUSE, QUIET),
    )
    p.add_argument(
        "--records", type=positive_int, default=200_000, metavar="N", help="records to load (default: 200000)"
    )
    p.add_argument("--batch-rows", type=positive_int, metavar="N", help="rows per insert (default: loader.batch_rows)")


def _add_bench_stages(parts: Commands, bench_city: argparse.ArgumentParser) -> None:
    p = parts.add(
        "stages",
        cmd_bench_stages,
        "µs per raw event of each stage (ingest, each family of trigger kinds, behaviour, region metrics, journeys, "
        "the events job) over one city at simulator.events_per_subscriber_hour, against the passthrough",
        parents=(bench_city,),
    )
    p.add_argument("--repeats", type=positive_int, default=1, metavar="N", help="runs per stage, best counts")
    p.add_argument("--only", action="append", metavar="TEXT", help="only the stages whose label contains TEXT")
    p.add_argument(
        "--option",
        action="append",
        type=flink_option,
        metavar="KEY=VALUE",
        help="a Flink option to compare: each stage also runs with it, in turn (repeatable)",
    )
