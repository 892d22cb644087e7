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


#: regions listed per draft: where its leads' triggers were (location kinds carry a region)
TOP_REGIONS = 5


@dataclass
class DraftSummary:
    """What one draft would have done: the numbers the CLI prints and the console draws."""

    id: str
    kind: str
    matched: int  # triggers matched
    audience: int  # past the checks before the audience, and the audience's
    leads: int
    control: int
    suppressed: list[tuple[str, int]]  # reason -> decisions, most first
    budget: int | None
    per_day: list[tuple[str, int, bool]]  # local day, leads, the budget spent
    regions: list[tuple[str, str, int]]  # region id, name, leads; most first, at most TOP_REGIONS


@dataclass
class Backtest:
    drafts: list[Campaign]
    #: (decisions record, lead or None) with the draft and without it
    with_draft: list[tuple[dict, dict | None]]
    without: list[tuple[dict, dict | None]]
    timezone: str
    competing: int  # published campaigns the drafts compete with (a draft with a published id replaces it)

    def span(self, history: History) -> tuple[int, str]:
        """How many triggers, over which local days."""
        days = sorted({local_day(t["ts"], self.timezone) for t in history.triggers})
        return len(history.triggers), f"{days[0]} .. {days[-1]}" if days else "no data"

    def summary(self, c: Campaign, history: History) -> DraftSummary:
        mine = [(r, lead) for r, lead in self.with_draft if r["campaign_id"] == c.id]
        results = Counter(r["result"] for r, _ in mine)
        why = Counter(r["reason"] for r, _ in mine if r["result"] == "suppressed")
        # reachable subscribers in the audience: past the checks before the audience, and the audience's
        audience = len(mine) - sum(why[r] for r in (*BEFORE_AUDIENCE, "audience"))
        per_day = Counter(local_day(r["trigger_ts"], self.timezone) for r, _ in mine if r["result"] == "lead")
        full = c.daily_budget
        region_of = {t["trigger_id"]: (t.get("context") or {}).get("region_id") for t in history.triggers}
        regions = Counter(region_of.get(r["trigger_id"]) for r, _ in mine if r["result"] == "lead")
        regions.pop(None, None)
        names = history.reference.regions
        return DraftSummary(
            c.id,
            c.kind,
            len(mine),
            audience,
            results["lead"],
            results["control"],
            why.most_common(),
            c.daily_budget,
            [(day, n, full is not None and n >= full) for day, n in sorted(per_day.items())],
            [(rid, (names.get(rid) or {}).get("name", ""), n) for rid, n in regions.most_common(TOP_REGIONS)],
        )

    def lost(self) -> list[tuple[str, int, int]]:
        """Published campaigns that would lose contacts to the drafts: (id, leads without, leads with), most lost
        first."""
        drafts = {c.id for c in self.drafts}
        before = Counter(r["campaign_id"] for r, lead in self.without if lead and not lead["control"])
        after = Counter(r["campaign_id"] for r, lead in self.with_draft if lead and not lead["control"])
        lost = [(cid, before[cid], after[cid]) for cid in before if cid not in drafts and after[cid] < before[cid]]
        return sorted(lost, key=lambda x: (x[2] - x[1], x[0]))

    def report(self, history: History) -> list[str]:
        n, span = self.span(history)
        lines = [f"backtest over {n:,} triggers ({span}), {self.competing} published campaigns competing"]
        for c in self.drafts:
            d = self.summary(c, history)
            lines += [
                f"draft {d.id} ({d.kind}):",
                f"  triggers matched     {d.matched:>7,}",
                f"  audience passed      {d.audience:>7,}  (reachable: consent, not do-not-disturb)",
                f"  leads                {d.leads:>7,}  (+ {d.control:,} control, not sent)",
                "  suppressed           " + (", ".join(f"{k}={v}" for k, v in d.suppressed) or "none"),
            ]
            budget = "no daily budget" if d.budget is None else f"budget {d.budget:,}/day"
            lines.append(f"  leads per day ({budget}):")
            for day, k, full in d.per_day:
                lines.append(f"    {day}  {k:>6,}{'  (budget spent)' if full else ''}")
            lines.append("  top regions of its leads:" + ("" if d.regions else " none (no trigger in a region)"))
            for rid, name, k in d.regions:
                lines.append(f"    {rid:<28} {k:>6,}  {name}")
        lines.append("published campaigns that would lose contacts to it:")
        lost = self.lost()
        if not lost:
            lines.append("  none")
        for cid, before, after in lost:
            lines.append(f"  {cid:<32} {before:>6,} -> {after:>6,} leads  (-{before - after:,})")
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

    return Backtest(drafts, run(others + drafts), run(others), policy.timezone, len(others))
