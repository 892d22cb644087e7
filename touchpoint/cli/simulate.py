"""``touchpoint simulate``: a deterministic synthetic city with its ground truth, to files or to Kafka."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from touchpoint.cli.options import QUIET, Commands, UsageError, city, positive_float, settings, stop_on_signals
from touchpoint.config import KEYINGS


def cmd_simulate(args: argparse.Namespace) -> int:
    # to Kafka, Ctrl-C or SIGTERM stop producing, deliver what was produced and exit 0: from now on, so that a stop
    # while the city is still being set up ends the same way
    stop = stop_on_signals() if args.kafka is not None else None
    from touchpoint.harness.simulator import simulate

    s = settings(args)
    if args.kafka is None and args.out is None:
        raise UsageError("simulate needs --out DIR or --kafka HOST:PORT")
    if args.keying is not None and args.kafka is None:
        raise UsageError("--keying needs --kafka: files have no keys")
    out = Path(args.out) if args.out else s.paths.work_dir / "city"
    if args.kafka is None:
        summary = simulate(
            s, seed=args.seed, subscribers=args.subscribers, hours=args.hours, out_dir=out, progress=not args.quiet
        )
    else:
        from touchpoint.clients.kafka_io import RateLimitedProducer

        s.kafka.bootstrap = args.kafka

        class Stopped(Exception):
            pass

        def send(*record, **kw) -> None:
            if stop.is_set():
                raise Stopped
            producer.send(*record, **kw)

        keying = args.keying or s.simulator.keying
        with RateLimitedProducer(s, rate=args.rate, progress=not args.quiet, keying=keying) as producer:
            try:
                summary = simulate(
                    s,
                    seed=args.seed,
                    subscribers=args.subscribers,
                    hours=args.hours,
                    out_dir=out,
                    sink=send,
                    progress=False,
                )
            except Stopped:
                summary = None
        if summary is None:
            print(f"simulate: stopped; {producer.sent} events produced and delivered", file=sys.stderr)
            return 0
    print(summary)
    return 0


def register(commands: Commands) -> None:
    p = commands.add(
        "simulate",
        cmd_simulate,
        "write a deterministic synthetic city with its ground truth, to files or to Kafka",
        parents=(QUIET, city(seed=1, subscribers=1000, hours=24.0)),
    )
    p.add_argument("--out", metavar="DIR", help="write JSON-lines files, reference data and ground truth here")
    p.add_argument(
        "--kafka",
        metavar="HOST:PORT",
        help="produce the events to Kafka instead, after the reference data to its topics (the files and "
        "ground truth still go to --out, default work/city)",
    )
    p.add_argument("--rate", type=positive_float, metavar="EV/S", help="with --kafka: target events per second")
    p.add_argument(
        "--keying",
        choices=list(KEYINGS),
        help="with --kafka: how the raw lines are keyed, as the network's producers may: "
        + "; ".join(f"{k}: {v}" for k, v in KEYINGS.items())
        + " (default: simulator.keying, none)",
    )
