"""The ``touchpoint`` command: one entry point, commands grouped by concern (one module each), nested subcommands
where a concern has several (``touchpoint db migrate``), options several commands share defined once
(touchpoint.cli.options).

Exit codes: 0 ok, 1 runtime failure, 2 bad usage. Errors are one line on stderr
(``touchpoint: error: ...``), never a traceback; ``--debug`` shows it.
"""

from __future__ import annotations

# isort: off
from touchpoint.cli import signals  # first: a stop signal while the command starts ends it cleanly

# isort: on
import argparse
import sys

from touchpoint import __version__
from touchpoint.cli import (
    campaigns,
    clickhouse,
    cluster,
    console,
    dashboards,
    jobs,
    leads,
    privacy,
    reference,
    settings,
    simulate,
    stack,
    tools,
)
from touchpoint.cli.options import Commands, Parser, UsageError

#: In the order ``touchpoint --help`` lists them.
COMMAND_MODULES = (
    simulate,
    jobs,
    cluster,
    reference,
    campaigns,
    leads,
    clickhouse,
    dashboards,
    console,
    privacy,
    tools,
    stack,
    settings,
)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="touchpoint",
        description="Real-time precision marketing on Apache Flink: signaling/xDR -> triggers, leads, metrics.",
    )
    parser.add_argument("--version", action="version", version=f"touchpoint {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = Commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser))
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    signals.started()
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
