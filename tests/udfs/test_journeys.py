"""udfs/journeys.py: a journey definition is validated with the field named; a trial's steps, conversion and
reasons follow docs/journeys.md; a journey step is decided under the contact policy like any campaign."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from touchpoint import ROOT
from udfs.journeys import (
    END_KIND,
    MESSAGE_FIELDS,
    REASONS,
    STEP_KIND,
    STEPS,
    JourneyError,
    parse_journey,
    run,
    scaled,
    step_campaign,
)
from udfs.units import DAY_MS, HOUR_MS, MB

EXAMPLE = yaml.safe_load((ROOT / "journeys" / "music-club-trial.yaml").read_text())
J = parse_journey(EXAMPLE)
T0 = 1_794_000_000_000 // HOUR_MS * HOUR_MS + 10 * 60_000  # 10 minutes past a clock hour
OK = {"consent_marketing": True, "do_not_disturb": False}


def _order(msisdn: str, ts: int, action: str, product: str, n: int = 0) -> dict:
    return {"order_id": f"o-{msisdn}-{n}", "msisdn": msisdn, "ts": ts, "product_id": product, "action": action}


def _trial(msisdn: str = "m1", ts: int = T0) -> dict:
    return _order(msisdn, ts, "trial_start", J.trial_product)


def _ends(events: list[dict]) -> dict[str, tuple]:
    return {
        e["msisdn"]: (e["context"]["result"], e["context"]["reason"], e["ts"]) for e in events if e["kind"] == END_KIND
    }


def _steps(events: list[dict], msisdn: str) -> list[tuple[str, int]]:
    return [(e["context"]["step"], e["ts"] - T0) for e in events if e["msisdn"] == msisdn and e["kind"] == STEP_KIND]


def test_the_example_journey_schedules_every_step_of_the_seed():
    assert [(s.name, s.offset_ms) for s in J.steps] == [
        ("welcome", 0),
        ("usage_nudge", 7 * DAY_MS),
        ("feedback", 15 * DAY_MS),
        ("reminder", 27 * DAY_MS),
    ]
    assert J.trial_ms == 30 * DAY_MS and J.min_bytes == 20 * MB and J.app == "music"
    small = parse_journey(scaled(EXAMPLE, 6 / 24 / 30))  # a month in 6 hours, as the simulated city has it
    assert small.trial_ms == 6 * HOUR_MS and [s.offset_ms for s in small.steps] == [
        0,
        84 * 60_000,
        3 * HOUR_MS,
        5.4 * HOUR_MS,
    ]


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"colour": "red"}, "colour", "is not a known field"),
        ({"trial_days": 0}, "trial_days", "0"),
        ({"product": EXAMPLE["trial_product"]}, "product", "must differ"),
        ({"usage": {"app": "music"}}, "usage.min_mb", "is required"),
        ({"steps": {"welcom": EXAMPLE["steps"]["welcome"]}}, "steps.welcom", "unknown step 'welcom'"),
        ({"steps": {"feedback": {"channels": ["sms"], "message": "m"}}}, "steps.feedback.day", "is required"),
        ({"steps": {"feedback": {"day": 30, "channels": ["sms"], "message": "m"}}}, "steps.feedback.day", "inside"),
        ({"steps": {"reminder": {"day": 3, "channels": ["sms"], "message": "m"}}}, "steps.reminder.day", "not apply"),
        ({"steps": {"welcome": {"channels": ["fax"], "message": "m"}}}, "steps.welcome.channels[0]", "fax"),
        ({"steps": {"welcome": {"channels": ["sms", "sms"], "message": "m"}}}, "steps.welcome.channels", "twice"),
        ({"steps": {"welcome": {"channels": ["sms"], "message": "{price}"}}}, "steps.welcome.message", "{price}"),
        ({"steps": {}}, "steps", "non-empty"),
    ],
)
def test_a_bad_journey_is_rejected_naming_the_field(change, field, words):
    with pytest.raises(JourneyError) as e:
        parse_journey({**EXAMPLE, **change})
    assert e.value.field == field and words in str(e.value), str(e.value)


def test_the_schema_names_the_steps_and_channels_the_rules_and_campaigns_know():
    schema = json.loads((ROOT / "schemas" / "journeys.schema.json").read_text())
    campaigns = json.loads((ROOT / "schemas" / "campaigns.schema.json").read_text())
    assert tuple(schema["properties"]["steps"]["properties"]) == STEPS
    step = schema["$defs"]["step"]["properties"]
    assert step["channels"]["items"] == campaigns["properties"]["channels"]["items"]
    assert all(f in step["message"]["description"] for f in MESSAGE_FIELDS)


def test_a_trial_runs_its_steps_and_ends_with_the_reason_of_its_usage():
    usage = [
        # m1 uses the service enough before day 7: no nudge; lets the trial lapse -> declined
        ("m1", "music", T0 // HOUR_MS * HOUR_MS + HOUR_MS, 25 * MB),
        # m2 uses it a little, and other apps a lot -> nudged, low_usage
        ("m2", "music", T0 // HOUR_MS * HOUR_MS + 2 * HOUR_MS, 3 * MB),
        ("m2", "video", T0 // HOUR_MS * HOUR_MS + 2 * HOUR_MS, 500 * MB),
        # m3 never uses it; its usage before the trial's hour does not count
        ("m3", "music", T0 // HOUR_MS * HOUR_MS - HOUR_MS, 50 * MB),
    ]
    orders = [_trial("m1"), _trial("m2"), _trial("m3"), _trial("m4"), _trial("m5"), _trial("m6")]
    orders += [
        _order("m4", T0 + 20 * DAY_MS, "subscribe", J.product, 1),  # converts after the feedback step
        _order("m5", T0 + 2 * DAY_MS, "unsubscribe", J.trial_product, 1),  # opts out
        _order("m6", T0 + 28 * DAY_MS, "subscribe", "fetion", 1),  # another product converts nothing
    ]
    profiles = {m: OK for m in ("m1", "m2", "m3", "m4", "m5")} | {"m6": {**OK, "consent_marketing": False}}
    events = run([J], orders, usage, profiles)
    end = T0 + 30 * DAY_MS
    assert _ends(events) == {
        "m1": ("not_converted", "declined", end),
        "m2": ("not_converted", "low_usage", end),
        "m3": ("not_converted", "no_usage", end),
        "m4": ("converted", None, T0 + 20 * DAY_MS),
        "m5": ("not_converted", "declined", T0 + 2 * DAY_MS),
        "m6": ("not_converted", "not_contactable", end),
    }
    all_steps = [("welcome", 0), ("usage_nudge", 7 * DAY_MS), ("feedback", 15 * DAY_MS), ("reminder", 27 * DAY_MS)]
    assert _steps(events, "m1") == [s for s in all_steps if s[0] != "usage_nudge"]
    assert _steps(events, "m2") == _steps(events, "m3") == _steps(events, "m6") == all_steps
    assert _steps(events, "m4") == all_steps[:3] and _steps(events, "m5") == all_steps[:1]
    nudge = next(e for e in events if e["msisdn"] == "m2" and e["context"]["step"] == "usage_nudge")
    assert nudge["context"]["usage_mb"] == 3.0 and nudge["context"]["channels"] == ["sms"]
    assert set(REASONS) == {r for _, r, _ in _ends(events).values() if r}
    assert len({e["trigger_id"] for e in events}) == len(events)  # every step and end has its own id


def test_usage_counts_in_whole_hours_ending_by_the_step():
    """The hour of the trial's start counts whole; an hour still running at the nudge does not count yet; a
    subscribe at the very moment of a step comes first and ends the trial before it."""
    day7 = T0 + 7 * DAY_MS
    hour = day7 // HOUR_MS * HOUR_MS
    usage = [("a", "music", T0 // HOUR_MS * HOUR_MS, 30 * MB), ("b", "music", hour, 30 * MB)]
    orders = [_trial("a"), _trial("b"), _trial("c"), _order("c", day7, "subscribe", J.product, 1)]
    events = run([J], orders, usage, {m: OK for m in "abc"})
    assert [s for s, _ in _steps(events, "a")] == ["welcome", "feedback", "reminder"]
    assert [s for s, _ in _steps(events, "b")] == ["welcome", "usage_nudge", "feedback", "reminder"]
    assert _steps(events, "c") == [("welcome", 0)] and _ends(events)["c"] == ("converted", None, day7)


def test_a_replay_stops_at_its_data_and_a_trial_is_started_once():
    orders = [_trial("a"), _trial("a"), _order("a", T0 + DAY_MS, "trial_start", J.trial_product, 9)]
    orders += [_order("x", T0, "trial_start", "unknown_trial")]  # no journey for it: nothing happens
    events = run([J], orders, [], {"a": OK}, data_end=T0 + 10 * DAY_MS)
    assert _steps(events, "a") == [("welcome", 0), ("usage_nudge", 7 * DAY_MS)]
    assert not _ends(events)
    paused = parse_journey({**EXAMPLE, "status": "paused"})
    assert run([paused], [_trial("a")], [], {"a": OK}) == []


def test_a_step_is_decided_as_its_journeys_campaign():
    """The decision job decides a step with the contact policy: a subscriber without consent gets none, the
    lead carries the step and the journey's product, and the message is filled from the step's context."""
    from touchpoint.config import Tags
    from udfs.contact_policy import Contacts, Policy
    from udfs.decisions import Reference, decide

    step = run([J], [_trial("13900000001")], [], {"13900000001": OK})[0]
    c = step_campaign(step["context"])
    assert (c.id, c.offer_id, c.product_id, c.channels) == (J.id, f"{J.id}.welcome", J.product, ("mms",))
    policy = Policy()
    profile = {"msisdn": "13900000001", "products": [], **OK}
    args = ({}, Contacts(), policy, Reference({}, {}), Tags())
    (d,) = decide(step, [], profile, *args)
    assert d.result == "lead" and d.lead["step"] == "welcome" and d.lead["product_id"] == J.product
    assert d.lead["campaign_id"] == J.id and "Music Club" in d.lead["message"]
    reminder = next(e for e in run([J], [_trial("13900000001")], [], {}) if e["context"]["step"] == "reminder")
    (d,) = decide(reminder, [], profile, *args)
    assert "{" not in d.lead["message"] and d.lead["message"].count("-") == 2  # the trial's end, a local date
    (d,) = decide({**step, "trigger_id": "other"}, [], {**profile, "consent_marketing": False}, *args)
    assert (d.result, d.reason) == ("suppressed", "no_consent")


def test_the_shipped_journeys_are_valid():
    from touchpoint.clients.campaigns import load

    items = load([str(ROOT / "journeys")], "journeys")
    assert [i.parsed.id for i in items] == [p.stem for p in sorted(Path(ROOT / "journeys").glob("*.yaml"))]
