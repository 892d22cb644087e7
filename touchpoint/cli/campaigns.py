"""``touchpoint campaigns publish|validate|backtest|status|resume|results`` and ``touchpoint journeys
publish|validate``: campaign and trial journey files (YAML/JSON) to their topics, all or nothing; a draft campaign
tried over recorded history without producing anything; the campaigns the guardrail paused, and resuming one; the
results per campaign and variant, from ClickHouse."""

from __future__ import annotations

import argparse
import sys

from touchpoint.cli.options import CLICKHOUSE, Commands, UsageError, settings


def cmd_campaigns(args: argparse.Namespace) -> int:
    return _publish(args, "campaigns", args.campaigns_command)


def cmd_journeys(args: argparse.Namespace) -> int:
    return _publish(args, "journeys", args.journeys_command)


def _publish(args: argparse.Namespace, what: str, command: str) -> int:
    from touchpoint.clients import campaigns

    s = settings(args)
    products = campaigns.catalogue(s)
    # validates everything first: one bad file publishes nothing
    items = campaigns.load(args.paths, what, products)
    dry = command == "validate" or args.dry_run
    if not dry:
        campaigns.publish(s, items, what=what)
    for item in items:
        d = item.parsed
        detail = f"{d.status}, {d.kind}" if what == "campaigns" else f"{d.status}, trial of {d.trial_product}"
        print(f"{'valid' if dry else 'published'} {d.id} ({detail})")
    if not dry:
        print(f"{len(items)} {what} -> topic {getattr(s.topics, what)} at {s.kafka.bootstrap}", file=sys.stderr)
    if products is None:
        print(f"{what}: products not checked: no catalogue {s.paths.reference_dir / 'products.csv'}", file=sys.stderr)
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from pathlib import Path

    from touchpoint.clients import campaigns
    from touchpoint.tools.backtest import backtest, load_history, published_campaigns

    s = settings(args)
    drafts = [item.parsed for item in campaigns.load(args.paths)]  # a bad draft: the field named, exit 2
    if not Path(args.input).is_dir():
        raise FileNotFoundError(f"--input {args.input}: not a directory")
    published = published_campaigns(s, args.published)
    history = load_history(s, Path(args.input), progress=lambda m: print(m, file=sys.stderr))
    result = backtest(s, drafts, published, history)
    print("\n".join(result.report(history)))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Every campaign in force, with the guardrail's word on it."""
    from touchpoint.clients import guardrail
    from touchpoint.tools.backtest import published_campaigns

    s = settings(args)
    states = guardrail.states(s)
    for c in sorted(published_campaigns(s, None), key=lambda c: c.id):
        print(f"{c.id:<32} {c.status:<8} {_guardrail_line(states.get(c.id))}")
    return 0


def _guardrail_line(record: dict | None) -> str:
    if record is None:
        return ""
    if record["state"] == "paused":
        interval = f"[{record.get('ci_low', 0):+.3f}, {record.get('ci_high', 0):+.3f}]"
        return f"paused by the guardrail: {record.get('reason')}, uplift {record.get('uplift', 0):+.3f} {interval}"
    return f"resumed by {record['by']}" + (f": {record['reason']}" if record.get("reason") else "")


def cmd_resume(args: argparse.Namespace) -> int:
    from touchpoint.clients import guardrail

    s = settings(args)
    guardrail.resume(s, args.campaign_id, args.note)
    print(f"resumed {args.campaign_id} -> topic {s.topics.guardrail} at {s.kafka.bootstrap}", file=sys.stderr)
    return 0


def cmd_results(args: argparse.Namespace) -> int:
    """Per campaign and variant: leads, delivered, converted, the uplift with its interval drawn, the guardrail."""
    from touchpoint.dashboards.queries import open_queries
    from touchpoint.dashboards.report_data import campaign_results
    from touchpoint.dashboards.results import render_results, variant_label

    queries = open_queries(settings(args), args.url)
    try:
        rows, share = campaign_results(queries)
    finally:
        queries.backend.close()
    if args.campaign_id:
        if not any(r["campaign"] == args.campaign_id for r in rows):
            raise UsageError(f"campaign {args.campaign_id!r} has no leads in ClickHouse")
        rows = [r for r in rows if r["campaign"] == args.campaign_id]
        share = [r for r in share if variant_label(r["variant"])[0] == args.campaign_id]
    print(render_results(rows, share))
    return 0


def _definitions(commands: Commands, what: str, cmd, key: str):
    """The ``publish`` and ``validate`` commands of one kind of definition (campaigns, journeys)."""
    one = what[:-1]
    group = commands.group(what, f"validate {one} files and publish them to the {what} topic")
    paths_help = f"files holding a {one} or a list of them; a directory means its *.yaml, *.yml and *.json files"
    p = group.add(
        "publish",
        cmd,
        f"validate every {one}, then publish them all (keyed by {key}, the latest version wins); one invalid "
        f"{one} publishes nothing",
    )
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help=paths_help)
    p.add_argument("--dry-run", action="store_true", help="validate only, publish nothing")
    p = group.add("validate", cmd, f"validate {one} files, naming the first bad field of each")
    p.add_argument("paths", nargs="+", metavar="FILE|DIR", help=paths_help)
    p.set_defaults(dry_run=True)
    return group, paths_help


def register(commands: Commands) -> None:
    group, paths_help = _definitions(commands, "campaigns", cmd_campaigns, "id")
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
    group.add(
        "status", cmd_status, "the campaigns in force (the campaigns topic), with the campaigns the guardrail paused"
    )
    p = group.add(
        "resume",
        cmd_resume,
        "resume a campaign the guardrail paused (a record on the guardrail topic: the decision job offers its leads "
        "again; nothing is deleted)",
    )
    p.add_argument("campaign_id", metavar="ID", help="the campaign's id")
    p.add_argument("--note", help="why it is resumed, kept with the record")
    p = group.add(
        "results",
        cmd_results,
        "per campaign and variant: leads, delivered, converted, rate, uplift with its 95 %% interval drawn, the "
        "variant share over time and the guardrail's state (from ClickHouse, as the campaigns dashboard)",
        parents=(CLICKHOUSE,),
    )
    p.add_argument("campaign_id", nargs="?", metavar="ID", help="one campaign (default: all)")
    _definitions(commands, "journeys", cmd_journeys, "trial product")
