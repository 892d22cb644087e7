"""``touchpoint reference publish|delete``: reference data (cells, regions, handsets, number ranges, profiles) to
its compacted topics, where streaming jobs pick up changes without a restart."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from touchpoint.cli.options import Commands, settings
from touchpoint.reference import REFERENCE_NAMES


def cmd_publish(args: argparse.Namespace) -> int:
    from touchpoint.clients import reference

    s = settings(args)
    directory = Path(args.dir) if args.dir else s.paths.reference_dir
    for topic, n in reference.publish(s, directory).items():
        print(f"{n:>10,} rows -> {topic}")
    print(f"reference data from {directory} published to {s.kafka.bootstrap}", file=sys.stderr)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from touchpoint.clients import reference

    s = settings(args)
    for topic, n in reference.produce(s, reference.tombstones(args.name, args.ids)).items():
        print(f"{n:>10,} rows removed from {topic}")
    return 0


def register(commands: Commands) -> None:
    group = commands.group(
        "reference", "publish reference data (cells, regions, handsets, number ranges, profiles) to Kafka"
    )
    p = group.add(
        "publish",
        cmd_publish,
        "validate the reference CSVs of DIR, then publish every row keyed by its id (the latest row of an id "
        "wins); one invalid row publishes nothing",
    )
    p.add_argument(
        "dir", nargs="?", metavar="DIR", help="folder with cells.csv, regions.csv, ... (default: paths.reference_dir)"
    )
    p = group.add("delete", cmd_delete, "remove rows by id (a tombstone each)")
    p.add_argument("name", choices=REFERENCE_NAMES, metavar="NAME", help=f"one of {', '.join(REFERENCE_NAMES)}")
    p.add_argument("ids", nargs="+", metavar="ID", help="ids of the rows to remove (a cell id as its number)")
