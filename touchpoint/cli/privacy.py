"""``touchpoint privacy pseudonym``: a subscriber's pseudonym, to find their rows in ClickHouse (a subject access
or erasure request, a complaint) without the numbers ever being stored there."""

from __future__ import annotations

import argparse
import sys

from touchpoint.cli.options import Commands, settings


def cmd_pseudonym(args: argparse.Namespace) -> int:
    from touchpoint.privacy import Pseudonymiser

    p = Pseudonymiser.of(settings(args))
    # numbers come on stdin, not as arguments: a command line is visible to every user of the machine (ps)
    for line in sys.stdin:
        if number := line.strip():
            print(f"{number} {p.pseudonym(args.kind, number)}")
    return 0


def register(commands: Commands) -> None:
    group = commands.group("privacy", "subscriber pseudonyms (docs/privacy.md)")
    p = group.add(
        "pseudonym",
        cmd_pseudonym,
        "read numbers from stdin, one per line; print each with the pseudonym the ClickHouse tables hold for it",
    )
    p.add_argument(
        "--kind", choices=("msisdn", "imsi", "imei"), default="msisdn", help="what the numbers are (default: msisdn)"
    )
