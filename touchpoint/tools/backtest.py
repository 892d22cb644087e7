"""``touchpoint campaigns backtest FILE --input DIR``: what a draft campaign would have done over recorded history.

The history's triggers and hourly behaviour come from a replay of the ``events`` job over DIR (or from
DIR itself when it already holds ``triggers.jsonl`` and ``behaviour.jsonl``, e.g. the output of ``replay all``).
Then every trigger goes through the decision rules twice, in ts order (:func:`udfs.decisions.decide_in_order`,
exactly what a replay of the decision job decides): with the published campaigns only, and with the draft
competing with them for the same contact budget (a draft with a published campaign's id replaces it). Nothing is
produced anywhere; the comparison is printed.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from touchpoint.config import Settings
from udfs.campaigns import Campaign
from udfs.contact_policy import BEFORE_AUDIENCE, Policy, local_day


@dataclass
class History:
    triggers: list[dict]
    buckets: dict[str, dict[int, tuple]]
    profiles: dict[str, dict]
    reference: object  # udfs.decisions.Reference


def load_history(settings: Settings, input_dir: Path, progress: Callable[[str], None] = print) -> History:
    """Triggers, behaviour buckets, profiles and reference data of a recorded history (a directory laid out like
    ``touchpoint simulate``'s output), replaying the ``events`` job over it unless it holds its outputs already."""
    from touchpoint.reference import read_reference_csv
    from touchpoint.runner.embedded import replay
    from udfs.behaviour import compact
    from udfs.decisions import Reference

    t = settings.topics
    have = [input_dir / f"{name}.jsonl" for name in (t.triggers, t.behaviour)]
    source = input_dir
    if not all(p.exists() for p in have):
        source = settings.paths.work_dir / "backtest" / "history"
        shutil.rmtree(source, ignore_errors=True)
        progress(f"replaying events over {input_dir}")
        replay("events", settings, input_dir, source)
    ref_dir = input_dir / "reference"
    if not (ref_dir / "profiles.csv").exists():
        raise FileNotFoundError(f"reference data {ref_dir / 'profiles.csv'} not found")
    buckets: dict[str, dict[int, tuple]] = {}
    with (source / f"{t.behaviour}.jsonl").open() as f:
        for b in map(json.loads, f):
            buckets.setdefault(b["msisdn"], {})[b["hour_start"]] = compact(b)
    with (source / f"{t.triggers}.jsonl").open() as f:
        triggers = [json.loads(line) for line in f if line.strip()]
    return History(
        triggers,
        buckets,
        {r["msisdn"]: r for r in read_reference_csv(ref_dir / "profiles.csv")},
        Reference(
            {r["tac"]: r for r in read_reference_csv(ref_dir / "handsets.csv")},
            {r["region_id"]: r for r in read_reference_csv(ref_dir / "regions.csv")},
        ),
    )


def published_campaigns(settings: Settings, directory: str | None) -> list[Campaign]:
    """The campaigns in force: those of ``directory`` (files), else the latest version of each id on the
    campaigns topic (a null value removes one)."""
    from touchpoint.clients.campaigns import load
    from touchpoint.clients.kafka_io import latest_by_key
    from udfs.campaigns import parse_campaign

    if directory is not None:
        return [item.parsed for item in load([directory])]
    # the latest version of an id wins, as in the decision job
    latest = latest_by_key(settings.kafka, settings.topics.campaigns, "id")
    return [parse_campaign(obj) for obj in latest.values()]


@dataclass
class Backtest:
    drafts: list[Campaign]
    #: (decisions record, lead or None) with the draft and without it
    with_draft: list[tuple[dict, dict | None]]
    without: list[tuple[dict, dict | None]]
    timezone: str

    def report(self, history: History, published: int) -> list[str]:
        days = sorted({local_day(t["ts"], self.timezone) for t in history.triggers})
        span = f"{days[0]} .. {days[-1]}" if days else "no data"
        lines = [
            f"backtest over {len(history.triggers):,} triggers ({span}), {published} published campaigns competing"
        ]
        for c in self.drafts:
            mine = [(r, lead) for r, lead in self.with_draft if r["campaign_id"] == c.id]
            results = Counter(r["result"] for r, _ in mine)
            why = Counter(r["reason"] for r, _ in mine if r["result"] == "suppressed")
            # reachable subscribers in the audience: past the checks before the audience, and the audience's
            audience = len(mine) - sum(why[r] for r in (*BEFORE_AUDIENCE, "audience"))
            lines += [
                f"draft {c.id} ({c.kind}):",
                f"  triggers matched     {len(mine):>7,}",
                f"  audience passed      {audience:>7,}  (reachable: consent, not do-not-disturb)",
                f"  leads                {results['lead']:>7,}  (+ {results['control']:,} control, not sent)",
                "  suppressed           " + (", ".join(f"{k}={v}" for k, v in why.most_common()) if why else "none"),
            ]
            per_day = Counter(local_day(r["trigger_ts"], self.timezone) for r, _ in mine if r["result"] == "lead")
            budget = "no daily budget" if c.daily_budget is None else f"budget {c.daily_budget:,}/day"
            lines.append(f"  leads per day ({budget}):")
            for day, n in sorted(per_day.items()):
                full = c.daily_budget is not None and n >= c.daily_budget
                lines.append(f"    {day}  {n:>6,}{'  (budget spent)' if full else ''}")
        drafts = {c.id for c in self.drafts}
        before = Counter(r["campaign_id"] for r, lead in self.without if lead and not lead["control"])
        after = Counter(r["campaign_id"] for r, lead in self.with_draft if lead and not lead["control"])
        lost = {cid: before[cid] - after[cid] for cid in before if cid not in drafts and after[cid] < before[cid]}
        lines.append("published campaigns that would lose contacts to it:")
        if not lost:
            lines.append("  none")
        for cid, n in sorted(lost.items(), key=lambda x: -x[1]):
            lines.append(f"  {cid:<32} {before[cid]:>6,} -> {after[cid]:>6,} leads  (-{n:,})")
        return lines


def backtest(settings: Settings, drafts: list[Campaign], published: list[Campaign], history: History) -> Backtest:
    from udfs.decisions import decide_in_order

    policy = Policy.from_settings(settings.decisions)
    ids = {c.id for c in drafts}
    others = [c for c in published if c.id not in ids]

    def run(campaigns: list[Campaign]):
        return decide_in_order(
            history.triggers, campaigns, history.profiles, history.buckets, policy, history.reference, settings.tags
        )

    return Backtest(drafts, run(others + drafts), run(others), policy.timezone)
