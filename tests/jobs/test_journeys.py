"""journeys: the replayed city's trial journeys are exactly the pure reference (udfs.journeys.run) over the same
valid orders, xDRs and profiles; every planted trial ends the way it was planted; streaming over Kafka gives the
replay's steps and ends; a journey definition the job cannot run dead-letters the trials it would start."""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pytest

from tests.support import make_settings
from touchpoint.runner.embedded import replay
from udfs.journeys import END_KIND, STEP_KIND, JourneyError, contactable, parse_journey, run_records
from udfs.units import HOUR_MS

pytestmark = pytest.mark.slow


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def _events(out: Path) -> dict[str, dict]:
    """The journey events of a replay or a stream, by id, without the processing time they were found at."""
    return {e["trigger_id"]: {k: v for k, v in e.items() if k != "detected_at"} for e in _lines(out)}


def _reference(city: Path, out: Path) -> list[dict]:
    """The rules (udfs.journeys.run_records) over the replay's valid orders and xDRs — usage summed in Python, not
    by the job's windows — and the city's profiles and journeys (the ones the job can run)."""
    from touchpoint.reference import read_reference_csv

    profiles = {r["msisdn"]: r for r in read_reference_csv(city / "reference" / "profiles.csv")}
    journeys = []
    for f in sorted((city / "journeys").glob("*.json")):
        with contextlib.suppress(JourneyError):  # the job dead-letters the trials it would start
            journeys.append(parse_journey(json.loads(f.read_text())))
    orders, xdrs = _lines(out / "orders-normalised.jsonl"), _lines(out / "xdr-normalised.jsonl")
    return run_records(journeys, orders, xdrs, profiles)


def test_replay_is_exactly_the_reference_and_the_planted_trials(replayed_city):
    city, _, out = replayed_city
    got = _events(out / "journey-events.jsonl")
    want = {e["trigger_id"]: e for e in _reference(city, out)}
    assert got == want
    ends = {e["msisdn"]: e["context"] for e in want.values() if e["kind"] == END_KIND}
    steps = [e["context"]["step"] for e in want.values() if e["kind"] == STEP_KIND]
    assert steps.count("welcome") == len(ends) and "usage_nudge" in steps and "reminder" in steps

    # every planted trial ended as planted: the plan's result, unless the subscriber may not be contacted
    from touchpoint.reference import read_reference_csv

    profiles = {r["msisdn"]: r for r in read_reference_csv(city / "reference" / "profiles.csv")}
    planted = json.loads((city / "summary.json").read_text())["trials"]
    assert len(planted) >= 5 and set(planted) == set(ends)
    for msisdn, plan in planted.items():
        result, reason = ends[msisdn]["result"], ends[msisdn]["reason"]
        if plan == "convert":
            assert result == "converted", msisdn
        elif plan == "opt_out":
            assert reason == "declined", msisdn
        else:
            usage_reason = {"no_usage": "no_usage", "low_usage": "low_usage", "lapse": "declined"}[plan]
            assert reason == (usage_reason if contactable(profiles[msisdn]) else "not_contactable"), msisdn


def test_steps_become_leads_through_the_contact_policy(replayed_city):
    """In the same replay the decision job decided every step: a lead naming the step, or a suppression."""
    _, _, out = replayed_city
    steps = {e["trigger_id"]: e for e in _lines(out / "journey-events.jsonl") if e["kind"] == STEP_KIND}
    decided = {d["trigger_id"]: d for d in _lines(out / "decisions.jsonl") if d["trigger_id"] in steps}
    assert set(decided) == set(steps)
    leads = [x for x in _lines(out / "leads.jsonl") if x["trigger_id"] in steps]
    assert leads and all(x["step"] == steps[x["trigger_id"]]["context"]["step"] for x in leads)
    assert {d["result"] for d in decided.values()} >= {"lead", "suppressed"}


def test_a_journey_the_job_cannot_run_dead_letters_its_trials(tmp_path):
    """A definition that bypassed `journeys publish` (here: a replay's input folder) is refused by the job: the
    trial start it would have begun goes to the DLQ naming the field; the good journey runs on."""
    from touchpoint.harness.simulator import simulate

    city = tmp_path / "city"
    simulate(make_settings(tmp_path / "w0"), seed=5, subscribers=60, hours=8, out_dir=city)
    good = json.loads(next((city / "journeys").glob("*.json")).read_text())
    bad = {**good, "id": "broken", "trial_product": "music_trial_15d", "trial_days": -1}
    (city / "journeys" / "broken.json").write_text(json.dumps(bad))
    # valid, but its trial outlives the state the job keeps for it (journeys.max_trial_days)
    long = {**good, "id": "too-long", "trial_product": "fetion_trial", "trial_days": 120}
    (city / "journeys" / "too-long.json").write_text(json.dumps(long))
    # ordered by a subscriber in no other trial (a subscriber's latest trial of an app is the one its usage is for)
    planted = json.loads((city / "summary.json").read_text())["trials"]
    profiles = (city / "reference" / "profiles.csv").read_text().splitlines()[1:]
    msisdn = next(m for m in (line.split(",")[0] for line in profiles) if m not in planted)
    order = {**_lines(city / "orders.jsonl")[0], "msisdn": msisdn}
    with (city / "orders.jsonl").open("a") as f:
        for order_id, product in (("o-broken", "music_trial_15d"), ("o-long", "fetion_trial")):
            trial = {**order, "order_id": order_id, "product_id": product, "product_kind": "trial"}
            f.write(json.dumps({**trial, "action": "trial_start"}) + "\n")
    settings = make_settings(tmp_path / "w1")
    out = tmp_path / "out"
    replay("ingest", settings, city, out)
    shutil.move(out / "dlq.jsonl", tmp_path / "ingest-dlq.jsonl")
    replay("journeys", settings, city, out)
    dead = {d["raw"].split('"order_id":"')[1].split('"')[0]: d for d in _lines(out / "dlq.jsonl")}
    assert {(d["source"], d["reason"]) for d in dead.values()} == {("journeys", "invalid_journey")}
    assert dead["o-broken"]["detail"].startswith("trial_days: -1 is less than")
    assert dead["o-long"]["detail"] == "trial_days: longer than journeys.max_trial_days (92)"
    ok = {e["trigger_id"]: e for e in _reference(city, out) if e["context"]["journey_id"] == good["id"]}
    assert _events(out / "journey-events.jsonl") == ok


def test_streaming_gives_the_replays_steps_and_ends(replayed_city, broker, tmp_path):
    """The replay's valid orders and xDRs through the raw topics, keyed by msisdn, the journeys and profiles
    published: once event time is moved past the data, the stream holds the replay's steps and ends (up to the
    data's end; past it the stream goes on where the replay stops)."""
    from touchpoint.clients import reference
    from touchpoint.clients.campaigns import load, publish
    from touchpoint.clients.kafka_io import EVENT_TIME_MARKER, RateLimitedProducer, advance_event_time, consume
    from touchpoint.infra import stack
    from touchpoint.reference import REFERENCE_NAMES
    from touchpoint.runner.embedded import start, wait_running

    city, _, out = replayed_city
    want = _events(out / "journey-events.jsonl")
    keys = ("orders", "xdr", "journeys", "journey_events", "dlq", *REFERENCE_NAMES)
    topics = {k: f"journeys-stream-{k}" for k in keys}
    settings = make_settings(tmp_path / "w", broker, topics=topics, kafka={"partitions": 2})
    settings.paths.reference_dir = city / "reference"
    stack.create_topics(broker, list(topics.values()), settings.kafka.partitions)
    reference.publish(settings, city / "reference")
    publish(settings, load([str(city / "journeys")], "journeys"), what="journeys")
    job = start("journeys", settings)
    try:
        wait_running(job, timeout=120)
        inputs = {"orders": _lines(out / "orders-normalised.jsonl"), "xdr": _lines(out / "xdr-normalised.jsonl")}
        with RateLimitedProducer(settings) as producer:
            for key, records in inputs.items():
                for r in records:
                    producer.send(key, json.dumps(r).encode(), key=r["msisdn"].encode())
        end = max(r["ts"] for records in inputs.values() for r in records)  # the replay's data_end
        for key in inputs:
            advance_event_time(settings, key, end + 24 * HOUR_MS)
        got = consume(
            broker,
            [topics["journey_events"]],
            until=lambda o: set(want) <= {json.loads(x)["trigger_id"] for x in o[topics["journey_events"]]},
            timeout_s=240,
        )[topics["journey_events"]]
    finally:
        job.cancel()
    streamed = {
        e["trigger_id"]: {k: v for k, v in e.items() if k != "detected_at"}
        for e in map(json.loads, got)
        if e["msisdn"] != EVENT_TIME_MARKER and e["ts"] <= end
    }
    assert streamed == want
