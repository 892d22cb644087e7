"""Shared by the per-kind trigger test files: run the real triggers job over a hand-written input and the
reference detector (touchpoint/harness/simulator/truth.py) over the same records, in comparable form."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from touchpoint.harness.simulator import truth
from touchpoint.harness.simulator.lookups import load_reference
from touchpoint.runner.embedded import replay


def key(msisdn: str, kind: str, ts: int, context: dict) -> tuple:
    return msisdn, kind, ts, json.dumps(context, sort_keys=True)


def replay_and_detect(
    settings, inp: Path, out: Path, signaling: list[dict], xdrs: list[dict], kinds: list[str]
) -> tuple[list[dict], list[dict]]:
    """(triggers the Flink job wrote, rows the reference detector finds for ``kinds``)."""
    replay("triggers", settings, inp, out)
    got = [json.loads(line) for line in (out / "triggers.jsonl").read_text().splitlines() if line.strip()]
    want = truth.detect(signaling, xdrs, [], load_reference(inp / "reference"), truth.Params.from_settings(settings))
    return got, [r for r in want if r["kind"] in kinds]


def assert_case(got: list[dict], msisdn: str, expected: list[tuple]) -> None:
    """The job's triggers for ``msisdn`` are exactly ``expected`` (kind, ts, context) tuples."""
    have = sorted(key(t["msisdn"], t["kind"], t["ts"], t["context"]) for t in got if t["msisdn"] == msisdn)
    assert have == sorted(key(msisdn, *x) for x in expected)


def assert_matches_detector(got: list[dict], want: list[dict]) -> None:
    """The job's triggers equal the reference detector's rows, as a multiset."""
    assert Counter(key(t["msisdn"], t["kind"], t["ts"], t["context"]) for t in got) == Counter(
        key(r["msisdn"], r["kind"], r["ts"], r["context"]) for r in want
    )
