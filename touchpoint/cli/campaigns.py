"""``touchpoint campaigns publish|validate``: campaign files (YAML/JSON) to the campaigns topic, all or nothing."""

from __future__ import annotations

import argparse
import sys

from touchpoint.cli.options import Commands, settings


def cmd_campaigns(args: argparse.Namespace) -> int:
    from touchpoint.clients import campaigns

    s = settings(args)
    items = campaigns.load(args.paths)  # validates everything first: one bad file publishes nothing
    dry = args.campaigns_command == "validate" or args.dry_run
    if not dry:
        campaigns.publish(s, items)
    for item in items:
        c = item.campaign
        print(f"{'valid' if dry else 'published'} {c.id} ({c.status}, {c.kind})")
    if not dry:
        print(f"{len(items)} campaigns -> topic {s.topics.campaigns} at {s.kafka.bootstrap}", file=sys.stderr)
    return 0


def register(commands: Commands) -> None:
    group = commands.group("campaigns", "validate campaign files and publish them to the campaigns topic")
    paths_help = "files holding a campaign or a list of them; a directory means its *.yaml, *.yml and *.json files"
    p = group.add(
        "publish",
        cmd_campaigns,
        "validate every campaign, then publish them all (keyed by id, the latest "
        "version wins); one invalid campaign publishes nothing",
    )
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help=paths_help)
    p.add_argument("--dry-run", action="store_true", help="validate only, publish nothing")
    p = group.add("validate", cmd_campaigns, "validate campaign files, naming the first bad field of each")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help=paths_help)
    p.set_defaults(dry_run=True)
