"""The loop, shown on a replay: decisions → leads → outbound answers → effect → counts and guardrail → decisions.

The demo's streaming city is too small for an uplift estimate (a few hundred leads over fourteen campaigns, a 5-10 %
control group), and its answers come after its last decision, so nothing flows back. This runs the loop where it
can be seen, on a larger city replayed in two periods (docs/variants.md, "The loop in the demo"):

1. a city is simulated with :data:`LOOP` (more planted moments, customers who answer, a variant that converts better
   than its sibling, a campaign that puts customers off), and the ``events`` job replays it once;
2. period 1, the first half of its triggers: the decision job with no counts (adaptive selection draws from the
   uniform prior), the simulated outbound systems answer, the effect job measures and its guardrail may pause;
3. period 2, the second half: the decision job again, given period 1's ``uplift`` and ``guardrail`` records — the
   feedback inputs it reads from the topics when streaming.

The contact policy starts afresh in period 2 (each period is its own replay). :func:`checks` holds the outcome
against the simulator's truth (``simulator.variant_uplift`` / ``campaign_uplift``), and :func:`load` puts every
record into ClickHouse with the loader's own conversion, so the results view and the report can show it.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from touchpoint.config import Settings
from touchpoint.harness.simulator.outbound import outcomes, true_uplift
from udfs.effect import group_id, groups
from udfs.units import HOUR_MS

#: The settings the loop runs with, over the caller's. Only the subscribers' own activity, no ordinary traffic
#: around them (the triggers and the campaigns are what the loop is about, and the events job stays quick);
#: customers who buy anyway (40 %) make a harmful offer
#: visible; mall-entry-shop's 15 % coupon converts far better than its 10 % one; dial-114-12580's offer puts
#: customers off. More planted moments and a 25 % global holdout (control leads of every campaign) give the
#: campaigns and the programme an estimate, and the guardrail its looks in period 1. Customers answer within the
#: hour, and the guardrail judges a look an hour after it falls due (a day, by default: a 9-hour city is shorter).
LOOP: dict[str, dict[str, Any]] = {
    "simulator": {
        "plant_fraction": 0.2,
        "events_per_subscriber_hour": 3.0,
        "control_conversion_rate": 0.4,
        "answer_hours": 1.0,
        "uplift": 0.1,
        "campaign_uplift": {"dial-114-12580": -0.4},
        "variant_uplift": {"mall-entry-shop": {"ten-percent": 0.02, "fifteen-percent": 0.3}},
    },
    "decisions": {"holdout_percent": 25.0},
    "effect": {"guardrail_wait_hours": 1.0},
}
#: The loop's city starts this long after the caller's ``simulator.start`` (a midnight): both periods are in the day,
#: when the campaigns' moments happen and leads are not held for the contact window.
START_AFTER = timedelta(hours=7)
#: What the decision job reads in a period besides its triggers, from the ``events`` replay.
DECISION_INPUTS = ("behaviour", "journey_events")


def loop_settings(settings: Settings) -> Settings:
    s = settings.model_copy(deep=True)
    for section, values in LOOP.items():
        for k, v in values.items():
            setattr(getattr(s, section), k, v)
    s.simulator.start = settings.simulator.start + START_AFTER
    return s


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _write(path: Path, records: Iterable[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@dataclass
class Period:
    """One period's input and output directories and what the decision job made of it."""

    input_dir: Path
    output_dir: Path
    leads: list[dict] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)


@dataclass
class Measured:
    """What the effect job made of a set of leads and their answers."""

    answers: list[tuple[str, dict]]  # the outbound systems' outcomes and the customers' orders, (topic key, record)
    uplift: list[dict]
    guardrail: list[dict]
    outcomes: list[dict]  # the effect job's converted and expired records


@dataclass
class Loop:
    settings: Settings
    periods: tuple[Period, Period]
    feedback: Measured  # period 1, measured: what the decision job of period 2 is given
    whole: Measured  # both periods' leads, measured at the end: what ClickHouse, the results and the report show
    events: Path  # the events job's output: triggers, behaviour, region metrics


def run_loop(
    settings: Settings, city: Path, work: Path, *, seed: int, subscribers: int, hours: float, say: Callable = print
) -> Loop:
    """Simulate the loop's city under ``city`` and run both periods under ``work``."""
    from touchpoint.harness.simulator.engine import simulate
    from touchpoint.runner.embedded import replay

    s = loop_settings(settings)
    s.paths.reference_dir = city / "reference"
    shutil.rmtree(work, ignore_errors=True)
    summary = simulate(s, seed=seed, subscribers=subscribers, hours=hours, out_dir=city)
    lines = summary.signaling + summary.xdr + summary.orders
    say(f"    a city of {subscribers:,} subscribers over {hours:g} h ({lines:,} raw lines), replayed by the events job")
    events = work / "events"
    replay("events", s, city, events)
    triggers = _read(events / f"{s.topics.triggers}.jsonl")
    middle = int(s.simulator.start.timestamp() * 1000) + int(hours * HOUR_MS / 2)
    periods = (Period(work / "p1" / "in", work / "p1" / "out"), Period(work / "p2" / "in", work / "p2" / "out"))
    for n, p in enumerate(periods):
        _inputs(s, p.input_dir, city, [t for t in triggers if (t["ts"] >= middle) == n], events)
    first, second = periods
    _decide(s, first)
    feedback = _measure(s, first.leads, work / "p1" / "effect", city)
    paused = ", ".join(r["campaign_id"] for r in feedback.guardrail if r["state"] == "paused") or "none"
    say(f"    period 1: {len(first.leads):,} leads, answered and measured; paused by the guardrail: {paused}")
    for key in ("uplift", "guardrail"):  # the feedback, as the decision job reads it from the topics
        name = f"{getattr(s.topics, key)}.jsonl"
        shutil.copy(work / "p1" / "effect" / "out" / name, second.input_dir / name)
    _decide(s, second)
    whole = _measure(s, first.leads + second.leads, work / "whole", city)
    say(f"    period 2: {len(second.leads):,} leads, decided given period 1's counts and guardrail; both measured")
    return Loop(s, periods, feedback, whole, events)


def _inputs(s: Settings, directory: Path, city: Path, triggers: list[dict], events: Path) -> None:
    """A period's input: its triggers, and the behaviour and journey steps of the whole city."""
    directory.mkdir(parents=True)
    (directory / "reference").symlink_to((city / "reference").resolve())
    _write(directory / f"{s.topics.triggers}.jsonl", triggers)
    for key in DECISION_INPUTS:
        name = f"{getattr(s.topics, key)}.jsonl"
        if (events / name).exists():
            shutil.copy(events / name, directory / name)


def _decide(s: Settings, p: Period) -> None:
    from touchpoint.runner.embedded import replay

    replay("decisions", s, p.input_dir, p.output_dir)
    p.leads = _read(p.output_dir / f"{s.topics.leads}.jsonl")
    p.decisions = _read(p.output_dir / f"{s.topics.decisions}.jsonl")


def _measure(s: Settings, leads: list[dict], directory: Path, city: Path) -> Measured:
    """The simulated outbound systems answer ``leads``; the effect job measures them (replay under ``directory``)."""
    from touchpoint.runner.embedded import replay

    answers = list(outcomes(s, leads))
    inp, out = directory / "in", directory / "out"
    inp.mkdir(parents=True)
    (inp / "reference").symlink_to((city / "reference").resolve())  # the product catalogue
    _write(inp / f"{s.topics.leads}.jsonl", leads)
    _write(inp / f"{s.topics.outcomes}.jsonl", [r for k, r in answers if k == "outcomes"])
    _write(inp / f"{s.topics.orders}.jsonl", sorted((r for k, r in answers if k == "orders"), key=_ts))
    replay("effect", s, inp, out)
    return Measured(
        answers,
        _read(out / f"{s.topics.uplift}.jsonl"),
        _read(out / f"{s.topics.guardrail}.jsonl"),
        _read(out / f"{s.topics.outcomes}.jsonl"),
    )


def _ts(r: dict) -> int:
    return r["ts"]


# --- what the loop shows, against the simulator's truth ------------------------------------------------------


def true_effect(s: Settings, leads: Iterable[dict]) -> dict[str, float]:
    """Uplift group id -> the true uplift over its treatment leads (delivered or not): the mean of
    ``delivery_rate`` × each lead's variant (or campaign) uplift. Groups ``campaign``, ``variant``, ``programme``."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
    for x in leads:
        if x["control"]:
            continue
        u = s.simulator.delivery_rate * true_uplift(s, x["campaign_id"], x.get("variant_id"))
        # the groups the effect job counts the lead in (udfs.effect.groups), of the scopes with a truth here
        mine = [g for g in groups(x, s.decisions.timezone) if g["scope"] in ("campaign", "variant", "programme")]
        for g in map(group_id, mine):
            sums[g][0] += u
            sums[g][1] += 1
    return {g: total / n for g, (total, n) in sums.items()}


def own_family(s: Settings, leads: Iterable[dict]) -> set[str]:
    """The campaigns whose offered product's family no other campaign offers. An order names no lead, or it names
    one, and an unnamed order goes to the subscriber's last lead of the product's family (last touch): where two
    campaigns offer one family, one may take the orders the other's offer caused, and the simulator's truth (per
    lead) is not what attribution measures."""
    from touchpoint.reference import read_reference_csv

    family = {r["product_id"]: r["family"] for r in read_reference_csv(s.paths.reference_dir / "products.csv")}
    offering: dict[str, set[str]] = defaultdict(set)
    for x in leads:
        offering[family.get(x["product_id"], x["product_id"])].add(x["campaign_id"])
    return {next(iter(c)) for c in offering.values() if len(c) == 1}


@dataclass
class Checks:
    #: (group id, latest uplift record, truth) of the groups with an estimate; truth None where it is not what
    #: attribution measures (a product family two campaigns offer, :func:`own_family`)
    estimates: list[tuple[str, dict, float | None]]
    covered: bool  # every estimate's interval holds the truth
    shares: dict[str, tuple[str, float, float]]  # adaptive campaign -> (truly better variant, share p1, share p2)
    paused: dict[str, float]  # campaign paused by the guardrail in period 1 -> its true uplift
    harmful: set[str]  # campaigns whose true uplift is below zero
    wrongly: set[str]  # paused, with a product family of their own and a true uplift not below zero
    unjudged: set[str]  # paused, sharing a product family: the truth is not what attribution measures
    suppressed: Counter  # period 2: paused campaign -> decisions paused_by_guardrail
    leads_after_pause: int  # period 2: leads of a paused campaign (none, if the pause works)

    @property
    def estimated(self) -> bool:
        """Three campaigns with a truth to hold them to, and the programme, have an estimate."""
        campaigns = [g for g, _, t in self.estimates if g.startswith("campaign|") and t is not None]
        return len(campaigns) >= 3 and any(g == "programme|||" for g, _, _ in self.estimates)

    @property
    def moved(self) -> bool:
        return bool(self.shares) and all(p2 > max(p1, 0.5) for _, p1, p2 in self.shares.values())

    @property
    def guarded(self) -> bool:
        return (
            bool(self.harmful)
            and self.harmful <= set(self.paused)
            and not self.wrongly
            and all(self.suppressed[c] > 0 for c in self.paused)
            and self.leads_after_pause == 0
        )


def checks(loop: Loop) -> Checks:
    from udfs.effect import latest

    s = loop.settings
    first, second = loop.periods
    # the estimates of the whole day (what ClickHouse shows); the pause of period 1 (what period 2 was given)
    truth = true_effect(s, first.leads + second.leads)
    current = latest(loop.whole.uplift)
    own = own_family(s, first.leads + second.leads)
    estimates = [
        (g, current[g], truth[g] if g == "programme|||" or g.split("|")[1] in own else None)
        for g in sorted(truth)
        if g in current and current[g]["enough_data"] and not g.startswith("variant|")
    ]
    # at 99 %: a dozen 95 % intervals all holding their truth is a coin toss or two away from NO
    covered = all(_holds(r, t) for _, r, t in estimates if t is not None)
    shares: dict[str, tuple[str, float, float]] = {}
    for cid, variants in s.simulator.variant_uplift.items():
        best = max(variants, key=variants.__getitem__)
        adaptive = [x for x in first.leads if x["campaign_id"] == cid and x.get("variant_counts") is not None]
        if adaptive:
            shares[cid] = (best, _share(first.leads, cid, best), _share(second.leads, cid, best))
    paused = {
        r["campaign_id"]: true_uplift(s, r["campaign_id"]) for r in loop.feedback.guardrail if r["state"] == "paused"
    }
    truth_1 = true_effect(s, first.leads)
    harmful = {g.split("|")[1] for g, t in truth_1.items() if g.startswith("campaign|") and t < 0}
    judged = {g.split("|")[1]: t for g, t in truth_1.items() if g.startswith("campaign|") and g.split("|")[1] in own}
    suppressed = Counter(d["campaign_id"] for d in second.decisions if d.get("reason") == "paused_by_guardrail")
    after = sum(1 for x in second.leads if x["campaign_id"] in paused and not x["control"])
    wrongly = {cid for cid in paused if judged.get(cid, -1.0) >= 0}
    unjudged = {cid for cid in paused if cid not in judged}
    return Checks(estimates, covered, shares, paused, harmful, wrongly, unjudged, suppressed, after)


def _holds(record: dict, truth: float) -> bool:
    """The uplift record's 99 % interval holds ``truth``."""
    from udfs.effect import guardrail_interval, uplift

    counts = (record[k] for k in ("treatment_leads", "treatment_converted", "control_leads", "control_converted"))
    low, high = guardrail_interval(uplift(*counts, min_sample=1)) or (0.0, -1.0)
    return low <= truth <= high


def _share(leads: list[dict], campaign_id: str, variant_id: str) -> float:
    mine = [x for x in leads if x["campaign_id"] == campaign_id and not x["control"] and x.get("variant_id")]
    return sum(1 for x in mine if x["variant_id"] == variant_id) / len(mine) if mine else 0.0


def load(loop: Loop, s: Settings, url: str) -> dict[str, int]:
    """Every record of the loop into the ClickHouse at ``url``, database ``s.clickhouse.database`` (migrated
    first), converted as the loader converts a topic's records; returns rows per table."""
    from touchpoint.clickhouse.backends import connect
    from touchpoint.clickhouse.migrations import migrate
    from touchpoint.clickhouse.reference import load_reference
    from touchpoint.clickhouse.rows import Converter, columns_of

    first, second = loop.periods
    whole = loop.whole
    records = {
        "triggers": _read(loop.events / f"{s.topics.triggers}.jsonl"),
        "region_metrics": _read(loop.events / f"{s.topics.region_metrics}.jsonl"),
        "leads": first.leads + second.leads,
        "decisions": first.decisions + second.decisions,
        "outcomes": [r for k, r in whole.answers if k == "outcomes"] + whole.outcomes,
        "orders": [r for k, r in whole.answers if k == "orders"],
        "uplift": whole.uplift,
        "guardrail": loop.feedback.guardrail,  # the pause the decision job of period 2 acted on
    }
    converter = Converter(s)
    rows: dict[str, list[tuple]] = defaultdict(list)
    for table, recs in records.items():
        for r in recs:
            converted = converter.convert(table, json.dumps(r).encode(), r.get("ts") or 0)
            if converted is not None:
                rows[converted[0]].append(converted[1])
    with connect(s, url) as backend:
        migrate(backend, s)
        load_reference(backend, s.paths.reference_dir)
        for table, batch in rows.items():
            backend.insert(table, columns_of(table), batch)
    return {t: len(b) for t, b in rows.items()}


# --- the demo's step ---------------------------------------------------------------------------------------------

#: The loop's city in the demo: big enough for three campaigns' and the programme's estimates in period 1.
CITY = {"subscribers": 4000, "hours": 9.0}


def show(settings: Settings, work: Path, url: str, *, seed: int, say: Callable = print) -> bool:
    """Run the loop, print what it shows against the simulator's truth and the results view from ClickHouse (database
    ``<clickhouse.database>_loop`` at ``url``), write its report; True when every check says yes."""
    from touchpoint.dashboards import report as html_report
    from touchpoint.dashboards.queries import open_queries
    from touchpoint.dashboards.report_data import campaign_results
    from touchpoint.dashboards.results import points, render_results

    loop = run_loop(settings, work / "city", work / "run", seed=seed, say=say, **CITY)
    c = checks(loop)
    say("    uplift per campaign over both periods (the effect job) against the simulator's truth:")
    say(f"    {'group':<32} {'treatment':>10} {'control':>9}  {'uplift [95 % interval]':<26} truth")
    for gid, r, truth in c.estimates:
        name = "programme (vs holdout)" if gid == "programme|||" else gid.split("|")[1]
        treated, control = r["treatment_converted"], r["control_converted"]
        counts = f"{treated:>4}/{r['treatment_leads']:<5} {control:>3}/{r['control_leads']:<5}"
        shown = f"{points(r['uplift'])} [{points(r['ci_low'])[:-3]}, {points(r['ci_high'])[:-3]}]"
        say(f"    {name:<32} {counts}  {shown:<26} " + ("(shares a family)" if truth is None else points(truth)))
    say(f"    three campaigns of a product family of their own, and the programme, are estimated: {_yes(c.estimated)}")
    say(f"    the 99 % interval of every such estimate holds the true uplift: {_yes(c.covered)}")
    for cid, (best, p1, p2) in c.shares.items():
        say(
            f"    {cid} (adaptive): {best}, the truly better variant, had {p1:.0%} of its treatment leads in "
            f"period 1 and {p2:.0%} in period 2"
        )
    say(f"    the adaptive share moved to the truly better variant: {_yes(c.moved)}")
    for cid, truth in c.paused.items():
        say(
            f"    the guardrail paused {cid} in period 1 (a delivered offer of it truly changes conversion by "
            f"{truth * 100:+.0f} points); in period 2 {c.suppressed[cid]} of its triggers were paused_by_guardrail, "
            f"{c.leads_after_pause} leads"
        )
    for cid in sorted(c.unjudged):
        say(f"    ({cid} shares its product family with other campaigns: its pause is shown, not judged)")
    say(
        f"    the guardrail paused the harmful campaigns ({', '.join(sorted(c.harmful))}) and none that helps: "
        + _yes(c.guarded)
    )
    s = loop.settings.model_copy(deep=True)
    s.clickhouse.database = f"{settings.clickhouse.database}_loop"
    loaded = load(loop, s, url)
    say(
        f"    into ClickHouse (database {s.clickhouse.database}): " + ", ".join(f"{k}={v:,}" for k, v in loaded.items())
    )
    queries = open_queries(s, url)
    try:
        rows, share = campaign_results(queries)
    finally:
        queries.backend.close()
    say("    touchpoint campaigns results (from ClickHouse):")
    say("\n".join("      " + line for line in render_results(rows, share).splitlines()))
    out = work / "report.html"
    say("    " + html_report.save(html_report.read_data(s, url), out))
    return c.estimated and c.covered and c.moved and c.guarded


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"
