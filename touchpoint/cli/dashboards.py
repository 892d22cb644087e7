"""``touchpoint dashboards check|push`` and ``touchpoint report``: the Grafana dashboards and the offline report."""

from __future__ import annotations

import argparse
from pathlib import Path

from touchpoint.cli.options import CLICKHOUSE, DASHBOARD_FILES, Commands, UsageError, settings


def _files(args: argparse.Namespace) -> tuple[Path, Path | None]:
    from touchpoint.dashboards.model import DASHBOARDS_DIR

    return (Path(args.dashboards) if args.dashboards else DASHBOARDS_DIR), (Path(args.schema) if args.schema else None)


def cmd_check(args: argparse.Namespace) -> int:
    from touchpoint.dashboards.check import check
    from touchpoint.dashboards.macros import parse_time
    from touchpoint.dashboards.model import DashboardError

    directory, schema = _files(args)
    try:
        start = parse_time(args.start) if args.start else None
        end = parse_time(args.end) if args.end else None
    except DashboardError as e:
        raise UsageError(str(e)) from None
    report = check(
        settings(args),
        url=args.url,
        start=start,
        end=end,
        require_data=args.require_data,
        schema_path=schema,
        directory=directory,
    )
    return 0 if report.ok else 1


def cmd_push(args: argparse.Namespace) -> int:
    from touchpoint.dashboards.push import push

    directory, schema = _files(args)
    s = settings(args)
    url = args.grafana_url or s.grafana.url
    if not url:
        raise UsageError("dashboards push needs --grafana-url URL (or the setting grafana.url)")
    token = s.grafana.api_token()
    if not token:  # a token on the command line would be readable by every user of the machine (ps)
        raise UsageError(
            "dashboards push needs a Grafana token: set TOUCHPOINT_GRAFANA__TOKEN (or GRAFANA_TOKEN) or "
            "grafana.token_file"
        )
    n = push(s, url, token, directory=directory, schema_path=schema)
    print(f"{n} dashboards pushed to {url.rstrip('/')}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from touchpoint.dashboards.report import write_report

    print(write_report(settings(args), Path(args.out), url=args.url))
    return 0


def register(commands: Commands) -> None:
    group = commands.group("dashboards", "the Grafana dashboards in grafana/: check them here, push them to a Grafana")
    p = group.add(
        "check",
        cmd_check,
        "validate the dashboards (Grafana's schema, structure, provisioning) and run "
        "every panel query against ClickHouse, one line per panel",
        parents=(CLICKHOUSE, DASHBOARD_FILES),
    )
    p.add_argument(
        "--from",
        dest="start",
        metavar="TIME",
        help="time range start, ISO-8601 UTC or Unix seconds (default: the earliest data)",
    )
    p.add_argument("--to", dest="end", metavar="TIME", help="time range end (default: the latest data)")
    p.add_argument("--require-data", action="store_true", help="an empty panel result is a failure")
    p = group.add(
        "push",
        cmd_push,
        "create or update the ClickHouse datasource, the Touchpoint folder and every "
        "dashboard in a Grafana, through its HTTP API",
        parents=(DASHBOARD_FILES,),
    )
    p.add_argument(
        "--grafana-url", metavar="URL", help="the Grafana, e.g. https://grafana.example.com (default: grafana.url)"
    )

    p = commands.add(
        "report",
        cmd_report,
        "write a self-contained HTML report: micro-region G3 map, top opportunity regions, campaign funnel",
        parents=(CLICKHOUSE,),
    )
    p.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write")
