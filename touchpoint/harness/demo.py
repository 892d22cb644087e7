"""``touchpoint demo``: the whole v1 path on the local stack, narrated for someone who has not read the code.

Starts a fresh local broker (and the ClickHouse server), simulates a small city into Kafka, publishes the
example campaigns and the city's trial journeys, runs every job of the pipeline streaming (jobs.pipeline_order),
waits until every produced record is accounted for, prints per-topic counts, the triggers found against the ground
truth, the leads the campaigns produced (with why others were suppressed) and the trial journeys' funnel (checked
against udfs/journeys.py); then simulated outbound systems and customers answer the leads (delivery reports,
orders), the effect job attributes the orders and measures each campaign's uplift (checked against
udfs/effect.py), every output topic is loaded into ClickHouse (embedded chdb), every dashboard query is checked
against it, the HTML report is written and the top G3 opportunity regions are printed. Last, the loop where it
can be seen (touchpoint/harness/loop.py): a larger city replayed in two periods, the second decided on what the
first measured, checked against the simulator's truth. Then it starts the marketers' console and leaves it
running with the local stack (`touchpoint stack down` stops them); a demo that failed stops what it started.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from touchpoint.clients.kafka_io import (
    EVENT_TIME_MARKER,
    RateLimitedProducer,
    advance_event_time,
    committed,
    consume,
    read_topics,
    wait_for_total,
)
from touchpoint.config import KEYINGS, Settings, Topics
from touchpoint.flink.pipeline import default_group
from touchpoint.harness import demo_console
from touchpoint.harness.simulator.emission import TOPICS
from touchpoint.harness.simulator.engine import start_billing_month
from touchpoint.infra import stack
from udfs.ingest_rules import REASONS as INGEST_REASONS
from udfs.units import HOUR_MS

if TYPE_CHECKING:  # for the annotation only: the runner is imported where the jobs start
    from touchpoint.runner.embedded import StreamingJob

#: zero_usage's wait in the demo (triggers.zero_usage_hours, 24 h by default): the demo city lives 9 hours.
DEMO_ZERO_USAGE_HOURS = 2.0
#: The raw topics ingest reads, by key: the feeds the simulator writes.
RAW = TOPICS
#: The jobs that go on after step 3: the outbound answers of step 7 (delivery reports, orders) pass through them.
ANSWER_JOBS = ("effect",)


def _step(n: int, text: str) -> None:
    print(f"\n[{n}] {text}", flush=True)


def run_demo(settings: Settings, subscribers: int, hours: float, seed: int) -> int:
    t0 = time.monotonic()
    settings = settings.model_copy(deep=True)
    settings.paths.reference_dir = settings.paths.work_dir / "demo" / "city" / "reference"
    # The city lives yesterday (local time), so its data is inside ClickHouse's retention and Grafana's
    # "last 2 days" shows it; tests keep the fixed default start for reproducibility.
    tz = ZoneInfo(settings.simulator.timezone)
    settings.simulator.start = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    # the simulated profiles are a snapshot of that month (what a production profile feed states with its snapshot)
    settings.triggers.billing_month = start_billing_month(settings)
    # an unused data package is noticed after DEMO_ZERO_USAGE_HOURS instead of a day, so the short city has some
    settings.triggers.zero_usage_hours = DEMO_ZERO_USAGE_HOURS
    _step(1, "Starting the local stack (fresh in-memory Kafka broker + ClickHouse server)")
    stack.stop(settings.paths.run, "tansu", "tansu")  # in-memory broker: a restart is a clean slate
    stack.stop(settings.paths.run, "console", "console")  # an earlier demo's console holds the chdb directory
    for svc in stack.up(settings):
        print(f"    {svc.name:<11} 127.0.0.1:{svc.port}  (pid {svc.pid})")
    ok = False
    try:
        ok = _run(settings, subscribers, hours, seed, t0) == 0 and demo_console.start(settings, _chdb_dir(settings))
        return 0 if ok else 1
    finally:
        if not ok:  # a demo that failed leaves nothing running
            print("\n[stop] Stopping the local stack")
            print("    stopped: " + (", ".join(stack.down(settings)) or "nothing"))


@dataclass
class Settled:
    """Where the pipeline stood once every raw record was accounted for and the decisions had settled (step 3)."""

    raw_in: int  # raw records produced (signaling, xdr, orders)
    accounted: int  # valid records + ingest's dead letters, the event-time markers left out
    data_end: int  # event time of the city's last record (ms)
    journey_rules: list[dict]  # the trial journeys' steps and ends by the rules (udfs/journeys.py)


def _run(settings: Settings, subscribers: int, hours: float, seed: int, t0: float) -> int:
    """Steps 2-9 on the running stack: 0 when every check passed, else 1."""
    city = settings.paths.work_dir / "demo" / "city"
    sent, truth = _simulate_city(settings, subscribers, hours, seed, city)
    _publish_campaigns(settings, city)
    jobs = _start_pipeline(settings)
    try:
        settled = _await_settled(settings, city, sent, truth)
    finally:
        # ingest and effect go on: the outbound answers of step 7 (orders, delivery reports) pass through them
        for job in jobs:
            if job.name not in ANSWER_JOBS:
                job.cancel()
    print("    jobs cancelled but " + " and ".join(ANSWER_JOBS) + ", which takes the outbound answers of step 7")
    answer_jobs = [j for j in jobs if j.name in ANSWER_JOBS]

    ok = _topic_counts(settings, sent, settled)
    ok = _triggers_vs_truth(settings, truth, settled.data_end) and ok
    leads, decisions, lead_decisions_match = _leads(settings)
    ok = lead_decisions_match and ok
    ok = _journeys(settings, settled.journey_rules, leads, decisions) and ok
    try:
        ok = _answers(settings, leads, city) and ok
    finally:
        for job in answer_jobs:
            job.cancel()
    ok = _clickhouse(settings) and ok
    ok = _loop(settings, seed) and ok

    print(f"\nDemo finished in {time.monotonic() - t0:.0f} s.")
    return 0 if ok else 1


def _ingest_outputs(topics: Topics) -> list[str]:
    """The topics ingest splits the raw lines into: the normalised records and the dead letters."""
    return [getattr(topics, f"{k}_normalised") for k in RAW] + [topics.dlq]


def _simulate_city(
    settings: Settings, subscribers: int, hours: float, seed: int, city: Path
) -> tuple[dict[str, int], Counter[str]]:
    """Step 2: the city into Kafka: (records produced by topic key, the ground truth's situations by kind)."""
    from touchpoint.harness.simulator import simulate

    topics = settings.topics
    keying = settings.simulator.keying
    _step(
        2,
        f"Simulating {subscribers:,} subscribers for {hours:g} h of event time into Kafka (seed {seed}), the raw "
        f"lines keyed as {keying!r} ({KEYINGS[keying]})",
    )
    with RateLimitedProducer(settings, progress=True, keying=keying) as producer:
        summary = simulate(settings, seed=seed, subscribers=subscribers, hours=hours, out_dir=city, sink=producer.send)
    print(f"    {summary}")
    sent = dict(producer.sent_per_topic)
    print("    produced: " + ", ".join(f"{getattr(topics, k)}={v:,}" for k, v in sorted(sent.items())))
    print(f"    reference data and ground truth: {city}")
    kinds = settings.triggers.kinds
    truth = Counter(k for line in (city / "ground_truth.jsonl").open() if (k := json.loads(line)["kind"]) in kinds)
    print(f"    ground truth: {sum(truth.values()):,} trigger situations the triggers job must find")
    return sent, truth


def _publish_campaigns(settings: Settings, city: Path) -> None:
    """Step 2, continued: the example campaigns and the city's trial journeys onto their topics."""
    from touchpoint.clients.campaigns import load, publish

    topics = settings.topics
    campaigns = load([str(settings.paths.campaigns)])
    publish(settings, campaigns)
    print(f"    published {len(campaigns)} example campaigns from {settings.paths.campaigns} to {topics.campaigns}")
    journeys = load([str(city / "journeys")], "journeys")
    publish(settings, journeys, what="journeys")
    print(
        f"    published {len(journeys)} trial journey(s) from {settings.paths.journeys} to {topics.journeys}, each "
        f"trial compressed to {settings.simulator.journey_hours:g} h; {len(summary_trials(city))} trials planted"
    )


def _start_pipeline(settings: Settings) -> list[StreamingJob]:
    """Step 3: every job of the pipeline streaming, each once it runs."""
    from jobs import pipeline_order
    from touchpoint.runner.embedded import start, wait_running

    _step(3, "Running every job streaming (Kafka -> Flink -> Kafka): " + ", ".join(pipeline_order()))
    jobs = [start(name, settings) for name in pipeline_order()]
    for job in jobs:
        wait_running(job, timeout=120)
        print(f"    {job.name:<9} RUNNING")
    return jobs


def _await_settled(settings: Settings, city: Path, sent: dict[str, int], truth: Counter[str]) -> Settled:
    """Step 3, continued: wait until ingest accounted for every raw record, the triggers and the trial journeys'
    steps are all there, and the decisions have settled."""
    topics = settings.topics
    raw_in = sum(sent.get(k, 0) for k in RAW)
    # The input is finite: move event time past its end so that every open pattern and window closes. Each raw
    # partition's watermark is its own, so the marker may follow the data at once.
    data_end = json.loads((city / "summary.json").read_text())["data_end_ts"]
    markers = sum(advance_event_time(settings, key, data_end + 24 * HOUR_MS) for key in RAW)
    print("    waiting until valid + dead-letter records cover every raw record (and the event-time markers):")
    got = consume(
        settings.kafka,
        _ingest_outputs(topics),
        until=lambda o: _ingested(o, topics.dlq) >= raw_in + markers,
        timeout_s=300,
    )
    accounted = _ingested(got, topics.dlq) - markers
    print("    waiting for the triggers:")
    found = wait_for_total(settings.kafka, [topics.triggers], sum(truth.values()), progress=True, timeout_s=180)
    print("    waiting for the trial journeys' steps and ends:")
    journey_rules = journey_reference(settings, city, got)
    wait_for_total(settings.kafka, [topics.journey_events], len(journey_rules), progress=True, timeout_s=180)
    n_journey = len(read_topics(settings.kafka, [topics.journey_events], idle_s=2)[topics.journey_events])
    _await_decisions(settings, len(found[topics.triggers]), n_journey)
    return Settled(raw_in, accounted, data_end, journey_rules)


def _await_decisions(settings: Settings, n_triggers: int, n_journey: int) -> None:
    """Until the decision job has decided every trigger and journey step it was given."""
    topics = settings.topics
    print("    waiting for the decisions to settle:")
    # Silence alone is no sign: on a busy machine the decision job may not have written anything yet. It has
    # finished with the triggers once its group committed them all (at a checkpoint); then the ones held
    # for ordering.reorder_ms are decided within a few seconds of silence.
    group = default_group(settings, "decisions")
    deadline = time.monotonic() + 300
    want_in = {topics.triggers: n_triggers, topics.journey_events: n_journey}
    while any(
        n < want_in[t] for t, n in committed(settings.kafka, group, list(want_in), settings.kafka.partitions).items()
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("demo: the decision job did not take in every trigger within 300 s")
        time.sleep(1)
    # a roamer's trigger (no profile) waits decisions.profile_wait_ms for one before it is decided
    quiet_s = 3 + (settings.ordering.reorder_ms + settings.decisions.profile_wait_ms) / 1000
    read_topics(settings.kafka, [topics.decisions], idle_s=quiet_s)


def _topic_counts(settings: Settings, sent: dict[str, int], settled: Settled) -> bool:
    """Step 4: the records on each topic; True when every raw record is a valid record or a dead letter."""
    topics = settings.topics
    _step(4, "What is on each topic now")
    counts = read_topics(
        settings.kafka,
        _ingest_outputs(topics) + [topics.traffic],
        idle_s=2,
    )
    for name in (topics.signaling, topics.xdr, topics.orders):
        key = next(k for k, v in topics.model_dump().items() if v == name)
        print(f"    {name:<22} {sent.get(key, 0):>10,}  (input)")
    for name, records in counts.items():
        print(f"    {name:<22} {len(records):>10,}")
    reasons = Counter(json.loads(r)["reason"] for r in counts[topics.dlq])
    print("    dead letters by reason: " + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())))
    ok = settled.accounted == settled.raw_in
    print(
        f"\n    every raw record accounted for: {'yes' if ok else 'NO'} "
        f"({settled.accounted:,} of {settled.raw_in:,} = valid + dead letters)"
    )
    return ok


def _triggers_vs_truth(settings: Settings, truth: Counter[str], data_end: int) -> bool:
    """Step 5: the triggers found, by kind, against the simulator's ground truth; True when they are equal."""
    topics = settings.topics
    _step(5, "Triggers found by Flink vs the simulator's ground truth")
    found = read_topics(settings.kafka, [topics.triggers], idle_s=2)[topics.triggers]
    real = [t for t in map(json.loads, found) if t["msisdn"] != EVENT_TIME_MARKER]
    # the marker moved event time a day past the data: zero_usage may fire there (a day without usage) where
    # the ground truth, bounded by the data, stops
    got = Counter(t["kind"] for t in real if t["ts"] <= data_end)
    past = sum(1 for t in real if t["ts"] > data_end)
    if past:
        print(f"    ({past} zero_usage after the data's end, fired by the event-time marker, not compared)")
    print(f"    {'kind':<22} {'truth':>7} {'found':>7}")
    for kind in settings.triggers.kinds:
        mark = "" if got[kind] == truth[kind] else "   <-- differs"
        print(f"    {kind:<22} {truth[kind]:>7} {got[kind]:>7}{mark}")
    example = next((t for t in map(json.loads, found) if t["kind"] == "handset_change"), None)
    if example:
        print(f"    e.g. {json.dumps(example, ensure_ascii=False)}")
    return got == truth


def _leads(settings: Settings) -> tuple[list[dict], list[dict], bool]:
    """Step 6: decisions and leads per campaign, and why the others were suppressed: (leads, decisions, whether
    every lead decision has its lead)."""
    topics = settings.topics
    _step(6, "Leads from the example campaigns, and why the other decisions were suppressed")
    out = read_topics(settings.kafka, [topics.leads, topics.decisions], idle_s=2)
    leads = [json.loads(x) for x in out[topics.leads]]
    decisions = [json.loads(x) for x in out[topics.decisions]]
    per_campaign = Counter((d["campaign_id"], d["result"]) for d in decisions)
    print(f"    {'campaign':<28} {'decisions':>9} {'leads':>6} {'control':>7}")
    for cid in sorted({d["campaign_id"] for d in decisions}):
        n = sum(v for (c, _), v in per_campaign.items() if c == cid)
        print(f"    {cid:<28} {n:>9} {per_campaign[(cid, 'lead')]:>6} {per_campaign[(cid, 'control')]:>7}")
    why = Counter(d["reason"] for d in decisions if d["result"] == "suppressed")
    print("    suppressed by reason: " + ", ".join(f"{k}={v}" for k, v in why.most_common()))
    print(
        f"    {len(leads):,} leads on {topics.leads} ({sum(x['control'] for x in leads)} control, not to deliver); "
        f"e.g.\n    {json.dumps(next((x for x in leads if not x['control']), {}), ensure_ascii=False)}"
    )
    ok = True
    if len(leads) != sum(per_campaign[(c, r)] for c, r in per_campaign if r in ("lead", "control")):
        print("    leads and lead decisions differ  <-- check")
        ok = False
    print("    follow new leads like an outbound system: .venv/bin/touchpoint leads tail")
    return leads, decisions, ok


def _ingested(records: dict[str, list], dlq: str) -> int:
    """Valid records plus ingest's dead letters (the job's other dead letters, late events, unknown products or bad
    journeys, are not ingest's split of the raw lines)."""
    dead = sum(1 for d in records[dlq] if json.loads(d)["reason"] in INGEST_REASONS)
    return sum(len(v) for k, v in records.items() if k != dlq) + dead


def summary_trials(city) -> dict[str, str]:
    """The trials the simulator planted: msisdn -> plan."""
    return json.loads((city / "summary.json").read_text()).get("trials", {})


def journey_reference(settings: Settings, city, normalised: dict[str, list[bytes]]) -> list[dict]:
    """What the rules (udfs/journeys.py) make of the valid orders and xDRs the ingest job wrote."""
    from touchpoint.reference import read_reference_csv
    from udfs.journeys import parse_journey, run_records

    topics = settings.topics
    orders = [json.loads(x) for x in normalised[topics.orders_normalised]]
    xdrs = [json.loads(x) for x in normalised[topics.xdr_normalised]]
    orders = [o for o in orders if o["msisdn"] != EVENT_TIME_MARKER]
    xdrs = [x for x in xdrs if x["msisdn"] != EVENT_TIME_MARKER]
    profiles = {r["msisdn"]: r for r in read_reference_csv(city / "reference" / "profiles.csv")}
    journeys = [parse_journey(json.loads(f.read_text())) for f in sorted((city / "journeys").glob("*.json"))]
    return run_records(journeys, orders, xdrs, profiles)


def _journeys(settings: Settings, rules: list[dict], leads: list[dict], decisions: list[dict]) -> bool:
    """Step 6, trial journeys: the funnel the journeys job found, checked against the rules, and what the contact
    policy made of the steps."""
    from udfs.journeys import END_KIND, REASONS, STEP_KIND

    topics = settings.topics
    end = max((e["ts"] for e in rules), default=0)
    stream = read_topics(settings.kafka, [topics.journey_events], idle_s=2)[topics.journey_events]
    # the event-time marker moved time a day past the data: trials still running there end in the stream
    got = {e["trigger_id"]: e for e in map(json.loads, stream) if e["msisdn"] != EVENT_TIME_MARKER and e["ts"] <= end}
    same = {k: {f: v for f, v in e.items() if f != "detected_at"} for k, e in got.items()} == {
        e["trigger_id"]: e for e in rules
    }
    steps = Counter(e["context"]["step"] for e in got.values() if e["kind"] == STEP_KIND)
    ends = Counter(e["context"]["reason"] or e["context"]["result"] for e in got.values() if e["kind"] == END_KIND)
    step_ids = {k for k, e in got.items() if e["kind"] == STEP_KIND}
    step_leads = Counter(x["step"] for x in leads if x["trigger_id"] in step_ids and not x["control"])
    why = Counter(d["reason"] for d in decisions if d["trigger_id"] in step_ids and d["result"] == "suppressed")
    print("\n    trial journeys (the journeys job; steps decided by the contact policy like campaigns):")
    print(f"    {'step':<14} {'due':>5} {'leads':>6}")
    for step in ("welcome", "usage_nudge", "feedback", "reminder"):
        print(f"    {step:<14} {steps[step]:>5} {step_leads[step]:>6}")
    print("    steps suppressed: " + (", ".join(f"{k}={v}" for k, v in why.most_common()) or "none"))
    if why["contact_cap"]:
        d = settings.decisions
        print(
            f"    (a month compressed into {settings.simulator.journey_hours:g} h: all of a trial's steps fall in one "
            f"{d.contact_window_hours:g} h contact window, so the cap of {d.max_leads_per_subscriber} holds the later "
            "ones back; a real trial spaces them days apart)"
        )
    print(
        f"    {steps['welcome']} trials started -> {steps['usage_nudge']} nudged -> {ends['converted']} converted; "
        "not converted: " + ", ".join(f"{r}={ends[r]}" for r in REASONS)
    )
    print(f"    journey steps and ends equal the rules (udfs/journeys.py): {'yes' if same else 'NO'}")
    return same


def _answers(settings: Settings, leads: list[dict], city) -> bool:
    """Step 7: the simulated outbound systems answer; the effect job attributes the orders and measures the uplift
    per campaign, which must equal the rules of udfs/effect.py applied to everything at once."""
    from touchpoint.harness.simulator.outbound import outcomes
    from udfs.effect import attribute, group_counts, latest, lead_of, order_of, uplift

    _step(7, "Outbound systems answer (simulated); the effect job attributes orders and measures uplift")
    answers = list(outcomes(settings, leads))
    with RateLimitedProducer(settings, keying=settings.simulator.keying) as producer:  # orders: as the CRM keys them
        for key, record in answers:
            producer.send(key, json.dumps(record).encode(), key=record["msisdn"].encode())
    delivered = sum(1 for k, _ in answers if k == "outcomes")
    orders = [r for k, r in answers if k == "orders"]
    print(
        f"    {delivered} leads delivered; customers placed {len(orders)} orders of offered products "
        f"({sum(1 for r in orders if r['lead_id'])} naming their lead)"
    )
    from touchpoint.reference import read_reference_csv

    families = {r["product_id"]: r["family"] for r in read_reference_csv(city / "reference" / "products.csv")}
    converted, _ = attribute([lead_of(x) for x in leads], [order_of(r) for r in orders], families)
    topics = settings.topics
    print("    waiting for the effect job's conversions:")
    wait_for_total(settings.kafka, [topics.outcomes], delivered + len(converted), progress=True, timeout_s=180)
    current = latest(map(json.loads, read_topics(settings.kafka, [topics.uplift], idle_s=3)[topics.uplift]))
    e = settings.effect
    print(
        "    uplift per campaign (the effect job): treatment minus control conversion, 95 % interval "
        f"(not enough data below {e.min_sample} leads in an arm)"
    )
    print(f"    {'campaign':<28} {'treatment':>11} {'control':>9}  uplift")
    counts = group_counts(leads, converted, settings.decisions.timezone)
    ok = True
    shown_groups = [("programme (vs holdout)", "programme|||")]
    shown_groups += [(cid, f"campaign|{cid}||") for cid in sorted({x["campaign_id"] for x in leads})]
    for name, gid in shown_groups:
        nt, ct, nc, cc = counts.get(gid, [0, 0, 0, 0])
        want = uplift(nt, ct, nc, cc, min_sample=e.min_sample)
        got = current.get(gid, {})
        counted = tuple(
            got.get(k) for k in ("treatment_leads", "treatment_converted", "control_leads", "control_converted")
        )
        same = counted == (nt, ct, nc, cc) and got.get("uplift") == want.absolute
        ok = ok and same
        shown = (
            f"{got['uplift']:+.1%} [{got['ci_low']:+.1%}, {got['ci_high']:+.1%}]"
            if got.get("enough_data")
            else "not enough data"
        )
        mark = "" if same else "   <-- differs from the rules"
        print(f"    {name:<28} {ct:>4}/{nt:<6} {cc:>3}/{nc:<5}  {shown}{mark}")
    print(f"    the effect job's uplift equals the rules (udfs/effect.py): {'yes' if ok else 'NO'}")
    return ok


def _loop(settings: Settings, seed: int) -> bool:
    """Step 10: the loop where it can be seen (touchpoint/harness/loop.py)."""
    from touchpoint.harness import loop

    _step(
        10,
        "The loop, on a replay of a larger city in two periods: variants chosen by measured conversion, the "
        "guardrail (docs/variants.md)",
    )
    # the same embedded ClickHouse as steps 8-9 (one chdb data directory per process), its own database
    return loop.show(settings, settings.paths.work_dir / "demo" / "loop", f"chdb://{_chdb_dir(settings)}", seed=seed)


def _chdb_dir(settings: Settings) -> Path:
    return settings.paths.work_dir / "demo" / "chdb"


def _clickhouse(settings: Settings) -> bool:
    """Steps 8–9: every output topic into ClickHouse, dashboards check, report. True when every check passed."""
    import shutil

    from touchpoint.clickhouse.backends import connect
    from touchpoint.clickhouse.loader import load
    from touchpoint.clickhouse.migrations import migrate
    from touchpoint.clickhouse.reference import load_reference
    from touchpoint.dashboards import report as html_report
    from touchpoint.dashboards.check import check

    _step(8, "Every output topic goes into ClickHouse")
    data_dir = _chdb_dir(settings)
    shutil.rmtree(data_dir, ignore_errors=True)
    url = f"chdb://{data_dir}"
    with connect(settings, url) as backend:
        applied = migrate(backend, settings)
        counts = load_reference(backend, settings.paths.reference_dir)
        print(
            f"    {backend.describe()}: {len(applied)} migrations applied, reference "
            + ", ".join(f"{k}={v}" for k, v in counts.items())
        )
    stats = load(settings, url, until_idle=5, progress=False)
    print(
        f"    loaded {stats.total:,} rows ({stats.rows_per_s:,.0f} rows/s): "
        + ", ".join(f"{k}={v:,}" for k, v in sorted(stats.rows.items()) if v)
    )

    _step(9, "Dashboards and the report, from ClickHouse")
    lines: list[str] = []
    report = check(settings, url=url, require_data=True, out=lines.append)
    print(
        f"    dashboards check: {report.panels} panels and variables queried, {report.failed} failed, "
        f"{report.empty} empty" + "".join(f"\n      {line}" for line in lines if "FAIL" in line or "EMPTY" in line)
    )
    out = settings.paths.work_dir / "demo" / "report.html"
    data = html_report.read_data(settings, url)
    print("    " + html_report.save(data, out))
    # the rows of the report's (and the micro-region dashboard's) top-opportunity panel
    top = data.top
    print("    top G3 opportunity regions (latest window of each region):")
    print(f"    {'region':<32} {'kind':<12} {'present':>7} {'G3 subs':>7} {'coverage':>8} {'opportunities':>13}")
    for r in top:
        print(
            f"    {r['region']:<32} {r['kind']:<12} {r['subscribers']:>7} {r['g3_subscribers']:>7} "
            f"{r['g3_coverage']:>8.1%} {r['opportunities']:>13}"
        )
    print(f"    open {out} in a browser; Grafana: touchpoint dashboards push --grafana-url URL")
    print("    (with the Grafana token in TOUCHPOINT_GRAFANA__TOKEN)")
    return report.ok and bool(top)
