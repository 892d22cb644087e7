"""``touchpoint leads tail``: follow the leads topic the way an outbound system reads it."""

from __future__ import annotations

import argparse
import sys

from touchpoint.cli.options import GROUP, Commands, positive_float, positive_int, settings, stop_on_signals


def cmd_tail(args: argparse.Namespace) -> int:
    from touchpoint.clients.leads import tail

    s = settings(args)
    group = args.group or f"{s.kafka.group_prefix}-leads-tail"
    # Ctrl-C and a supervisor's SIGTERM end the tail the same way: offsets committed, exit 0
    printed = tail(
        s,
        group=group,
        from_beginning=args.from_beginning,
        include_control=args.include_control,
        as_json=args.json,
        max_leads=args.max,
        timeout_s=args.timeout,
        stop=stop_on_signals(),
    )
    if args.max is not None and printed < args.max and args.timeout is not None:
        # a script asked for N leads and did not get them in time
        print(f"touchpoint: error: leads: {printed} of {args.max} leads within {args.timeout:g} s", file=sys.stderr)
        return 1
    return 0


def register(commands: Commands) -> None:
    group = commands.group("leads", "the leads topic, as the outbound systems (SMS gateway, call centre) read it")
    p = group.add(
        "tail",
        cmd_tail,
        "print new leads as they arrive, one line each (control-group leads skipped); "
        "resumes where the consumer group stopped",
        parents=(GROUP,),
    )
    p.add_argument("--from-beginning", action="store_true", help="every retained lead, not only new ones")
    p.add_argument("--include-control", action="store_true", help="also control-group leads (never to be delivered)")
    p.add_argument("--json", action="store_true", help="print the raw JSON records")
    p.add_argument("--max", type=positive_int, metavar="N", help="stop after N leads")
    p.add_argument(
        "--timeout",
        type=positive_float,
        metavar="S",
        help="stop after S seconds (exit 1 if --max leads were not reached by then)",
    )
