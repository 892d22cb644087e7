"""What every command shares: the parser with one-line errors, typed arguments, the options several commands take
(each defined once here), settings loading, and stopping on SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from typing import Any

from touchpoint.cli.signals import claim
from touchpoint.config import Settings


class UsageError(Exception):
    """Bad arguments: exit 2 with a one-line message."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump): ``touchpoint simulate: error: ...``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(convert: Callable[[str], Any], expected: str) -> Callable[[str], Any]:
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


positive_int = _positive(int, "a whole number")
positive_float = _positive(float, "a number")


def _parent(*add: Callable[[argparse.ArgumentParser], object]) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    for f in add:
        f(p)
    return p


#: ``--config FILE``: every command. Absent unless given (not None), so a nested command's own --config does not
#: undo one given to its parent (``touchpoint bench --config X loader``).
CONFIG = _parent(
    lambda p: p.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="settings YAML (default: $TOUCHPOINT_CONFIG; environment variables override it)",
    )
)
#: ``--url URL``: the ClickHouse a command reads or writes.
CLICKHOUSE = _parent(
    lambda p: p.add_argument(
        "--url",
        metavar="URL",
        help="ClickHouse: chdb: (embedded), chdb:///PATH or clickhouse://HOST:PORT (default: clickhouse.url)",
    )
)
#: ``--group NAME``: the Kafka consumer group whose committed offsets say where a command resumes.
GROUP = _parent(
    lambda p: p.add_argument(
        "--group",
        metavar="NAME",
        help="Kafka consumer group whose committed offsets say where to resume (default: one per job or "
        "command, <kafka.group_prefix>-<name>)",
    )
)
#: ``--dashboards DIR`` and ``--schema FILE``: the dashboards a command validates.
DASHBOARD_FILES = _parent(
    lambda p: p.add_argument("--dashboards", metavar="DIR", help="dashboard JSON files (default: grafana/dashboards)"),
    lambda p: p.add_argument(
        "--schema",
        metavar="FILE",
        help="Grafana's dashboard JSON Schema (default: work/grafana/dashboard.schema.json, built by make setup)",
    ),
)
#: ``--max-seconds S``: a long-running command stops by itself.
MAX_SECONDS = _parent(
    lambda p: p.add_argument(
        "--max-seconds", type=positive_float, metavar="S", help="stop after S seconds, as Ctrl-C would"
    )
)
#: ``--quiet``: no progress lines.
QUIET = _parent(lambda p: p.add_argument("--quiet", action="store_true", help="no progress lines"))


def city(*, seed: int, subscribers: int | None = None, hours: float | None = None) -> argparse.ArgumentParser:
    """``--seed`` (and ``--subscribers``, ``--hours``) of a simulated city, with one command's defaults."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--seed",
        type=int,
        default=seed,
        metavar="N",
        help=f"simulation seed: same seed, same city, byte for byte (default: {seed})",
    )
    if subscribers is not None:
        p.add_argument(
            "--subscribers",
            type=positive_int,
            default=subscribers,
            metavar="N",
            help=f"home subscribers (default: {subscribers})",
        )
    if hours is not None:
        p.add_argument(
            "--hours", type=positive_float, default=hours, metavar="H", help=f"hours of event time (default: {hours:g})"
        )
    return p


def settings(args: argparse.Namespace) -> Settings:
    from touchpoint.config import load_settings

    return load_settings(getattr(args, "config", None))


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT (Ctrl-C) or SIGTERM, also by one that came while the command was starting
    (touchpoint.cli.signals): long-running commands check it between steps, so a stop never interrupts a client
    library in the middle of a request."""
    return claim()


class Commands:
    """Adds commands (and groups of subcommands) to a parser, each with ``--config`` and its own help."""

    def __init__(self, subparsers):
        self._sub = subparsers

    def add(
        self,
        name: str,
        func: Callable[[argparse.Namespace], int],
        help_text: str,
        parents: tuple[argparse.ArgumentParser, ...] = (),
    ) -> argparse.ArgumentParser:
        """A command; ``func(args)`` returns the exit code."""
        p = self._sub.add_parser(name, help=help_text, description=help_text, parents=[CONFIG, *parents])
        p.set_defaults(func=func)
        return p

    def group(self, name: str, help_text: str) -> Commands:
        """A command whose subcommands are added to the returned :class:`Commands` (``touchpoint db migrate``)."""
        p = self._sub.add_parser(name, help=help_text, description=help_text)
        return Commands(p.add_subparsers(dest=f"{name}_command", metavar="COMMAND", required=True, parser_class=Parser))
