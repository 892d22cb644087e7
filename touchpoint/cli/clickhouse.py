"""``touchpoint db ...`` (schema, retention, reference data) and ``touchpoint load`` (output topics -> ClickHouse)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from touchpoint.cli.options import (
    CLICKHOUSE,
    GROUP,
    MAX_SECONDS,
    QUIET,
    Commands,
    positive_float,
    settings,
    stop_on_signals,
)


def cmd_load(args: argparse.Namespace) -> int:
    from touchpoint.clickhouse.loader import Loader

    stop = stop_on_signals()  # the loader inserts and commits what it read, then returns
    loader = Loader(
        settings(args),
        args.url,
        max_seconds=args.max_seconds,
        until_idle=args.until_idle,
        progress=not args.quiet,
        stop=stop,
        group=args.group,
    )
    stats = loader.run()
    per_table = ", ".join(f"{t} {n:,}" for t, n in sorted(stats.rows.items()))
    bad = sum(stats.bad.values())
    print(
        f"loaded {stats.total:,} rows into {stats.backend or loader.url}"
        + (f" ({per_table})" if per_table else "")
        + (f"; {bad:,} bad records -> dlq" if bad else "")
        + (f"; {stats.retries} retries" if stats.retries else "")
        + (f"; {stats.rows_per_s:,.0f} rows/s" if stats.total else "")
    )
    if stats.error and not stop.is_set():
        left = (
            f"; {stats.unloaded:,} rows read are not committed and will be loaded by the next run"
            if stats.unloaded
            else ""
        )
        print(f"touchpoint: error: load: {stats.error}{left}", file=sys.stderr)
        return 1
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from touchpoint.clickhouse.backends import FEATURES, connect
    from touchpoint.clickhouse.migrations import applied, migrate

    s = settings(args)
    with connect(s, args.url) as backend:
        for m in migrate(backend, s):
            print(f"applied {m.path.name}")
        lacking = sorted(set(FEATURES) - backend.features)
        print(
            f"{backend.describe()}, database {backend.database}: up to date, {len(applied(backend))} migrations"
            + (f" (server lacks: {', '.join(lacking)})" if lacking else "")
        )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from touchpoint.clickhouse.backends import connect
    from touchpoint.clickhouse.migrations import applied, discover

    with connect(settings(args), args.url) as backend:
        done = applied(backend)
        for m in discover():
            state = "pending"
            if m.version in done:
                state = f"applied {done[m.version][2]:%Y-%m-%d %H:%M:%S}"
                if done[m.version][1] != m.checksum:
                    state += " CHANGED SINCE"
            print(f"{m.path.name:<32} {state}")
        print(f"{backend.describe()}, database {backend.database}")
    return 0


def cmd_prune(args: argparse.Namespace) -> int:
    from touchpoint.clickhouse.backends import connect
    from touchpoint.clickhouse.retention import prune

    s = settings(args)
    with connect(s, args.url) as backend:
        dropped = prune(backend, s, dry_run=args.dry_run)
        for table, partition in dropped:
            print(f"{'would drop' if args.dry_run else 'dropped'} {table} partition {partition}")
        print(
            f"{backend.describe()}, database {backend.database}: {len(dropped)} partitions "
            f"{'to drop' if args.dry_run else 'dropped'} (retention {s.clickhouse.retention_days} days"
            + ("; TTL also applies" if backend.supports("ttl") else "")
            + ")"
        )
    return 0


def cmd_load_reference(args: argparse.Namespace) -> int:
    from touchpoint.clickhouse.backends import connect
    from touchpoint.clickhouse.migrations import migrate
    from touchpoint.clickhouse.reference import load_reference

    s = settings(args)
    with connect(s, args.url) as backend:
        migrate(backend, s)
        directory = Path(args.dir) if args.dir else s.paths.reference_dir
        for table, n in load_reference(backend, directory).items():
            print(f"{table}: {n} rows from {directory}")
    return 0


def register(commands: Commands) -> None:
    p = commands.add(
        "load",
        cmd_load,
        "load the output topics into ClickHouse (at least once, de-duplicated by id); "
        "Ctrl-C or SIGTERM commit what was loaded",
        parents=(CLICKHOUSE, QUIET, GROUP, MAX_SECONDS),
    )
    p.add_argument("--until-idle", type=positive_float, metavar="S", help="stop after S seconds without new records")

    db = commands.group("db", "the ClickHouse schema: migrations, retention, reference data")
    db.add("migrate", cmd_migrate, "apply the pending migrations (sql/clickhouse/NNN_*.sql)", parents=(CLICKHOUSE,))
    db.add("status", cmd_status, "each migration: applied (when), pending, or changed since", parents=(CLICKHOUSE,))
    p = db.add(
        "prune",
        cmd_prune,
        "drop partitions older than clickhouse.retention_days (for servers without TTL)",
        parents=(CLICKHOUSE,),
    )
    p.add_argument("--dry-run", action="store_true", help="list the partitions, drop nothing")
    p = db.add(
        "load-reference",
        cmd_load_reference,
        "replace the regions and handsets tables from the reference CSVs",
        parents=(CLICKHOUSE,),
    )
    p.add_argument(
        "dir", nargs="?", metavar="DIR", help="folder with regions.csv and handsets.csv (default: paths.reference_dir)"
    )
