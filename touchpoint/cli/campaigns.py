"""``touchpoint campaigns publish|validate|backtest``: campaign files (YAML/JSON) to the campaigns topic, all or
nothing; or a draft tried over recorded history without producing anything."""

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


def cmd_backtest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from touchpoint.clients import campaigns
    from touchpoint.tools.backtest import backtest, load_history, published_campaigns

    s = settings(args)
    drafts = [item.campaign for item in campaigns.load(args.paths)]  # a bad draft: the field named, exit 2
    if not Path(args.input).is_dir():
        raise FileNotFoundError(f"--input {args.input}: not a directory")
    published = published_campaigns(s, args.published)
    history = load_history(s, Path(args.input), progress=lambda m: print(m, file=sys.stderr))
    result = backtest(s, drafts, published, history)
    print("\n".join(result.report(history, len({c.id for c in published} - {c.id for c in drafts}))))
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
    p = group.add(
        "backtest",
        cmd_backtest,
        "replay recorded history through draft campaigns, the published ones competing for the same contacts, "
        "and print what they would have done; produces nothing",
    )
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help="the draft campaigns; " + paths_help)
    p.add_argument(
        "--input", required=True, metavar="DIR", help="recorded history laid out like `touchpoint simulate`'s output"
    )
    p.add_argument(
        "--published",
        metavar="DIR",
        help="campaigns in force (files); default: the latest version of each on the campaigns topic",
    )
