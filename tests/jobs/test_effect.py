"""effect: conversions, expiries and uplift exactly as the rules of udfs/effect.py say, in replay and streaming;
the measured uplift covers the simulated truth; bad input goes to the DLQ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import make_settings
from touchpoint.harness.simulator.outbound import outcomes, true_uplift
from touchpoint.reference import write_reference_csv
from touchpoint.runner.embedded import replay
from udfs.effect import attribute, group_counts, latest, lead_of, order_of, uplift

pytestmark = pytest.mark.slow

MIN = 60_000
DAY = 24 * 60 * MIN
T0 = 1_794_000_000_000
N = 3000


def _lead(i: int) -> dict:
    """Leads every 2 minutes over ~4 days: two campaigns, 1 in 4 of c0's leads is control, 1 in 30 leads is of a
    subscriber in the global holdout; c0 has two offer variants (a treatment lead offers one, a control lead names
    both); a one-day window, so the earlier ones expire within the data and the later ones stay open."""
    t = T0 + i * 2 * MIN
    campaign = f"c{i % 2}"
    control = i % 4 == 0 or i % 30 == 1
    variants = {}
    if campaign == "c0":
        variants = {"variant_ids": ["v1", "v2"]} if control else {"variant_id": f"v{i // 2 % 2 + 1}"}
    return variants | {
        "lead_id": f"l-{i:020x}",
        "msisdn": f"1390{i % 1200:07d}",  # some subscribers get several leads
        "campaign_id": campaign,
        "offer_id": f"offer-{campaign}",
        "product_id": "data_package_50",
        "channel": "sms",
        "channels": ["sms"],
        "message": "m",
        "trigger_id": f"t-{i}",
        "trigger_kind": "dial_114" if i % 3 else "quota_20mb",
        "trigger_ts": t,
        "created_at": t,
        "deliver_at": t + (8 * 60 * MIN if i % 50 == 0 else 0),  # a few deferred by quiet hours
        "expires_at": t + 2 * DAY,
        "attribution_until": t + DAY,
        "control": control,
        "holdout": i % 30 == 1,  # the global holdout: a control lead of any campaign
    }


#: The product catalogue of the case: two data packages of one family.
PRODUCTS = [
    {"product_id": p, "name": p, "kind": k, "family": f}
    for p, k, f in (
        ("data_package_50", "data_package", "data_package"),
        ("data_package_100", "data_package", "data_package"),
        ("music_club", "value_added", "music"),
    )
]
FAMILIES = {r["product_id"]: r["family"] for r in PRODUCTS}


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def _write(path: Path, records) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))


def _bad_leads() -> list[dict]:
    """Leads the rules cannot take: each names its defect in the DLQ and counts in no group."""
    base = [_lead(N + i) for i in range(4)]
    base[0].pop("attribution_until")  # a window of zero length before: expired at its deliver_at, counted
    base[1]["attribution_until"] = base[1]["deliver_at"] - 1
    base[2]["control"] = "no"
    base[3]["deliver_at"] = str(base[3]["deliver_at"])
    return base


BAD_LEADS = _bad_leads()
BAD_OUTCOMES = [
    "not json",
    json.dumps({"lead_id": "l-unknown", "msisdn": "13900000001", "status": "delivered", "ts": T0}),
]


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("effect")
    settings = make_settings(tmp / "work", simulator={"campaign_uplift": {"c1": 0.2}})
    leads = [_lead(i) for i in range(N)]
    answers = list(outcomes(settings, leads))
    orders = [r for k, r in answers if k == "orders"]
    # orders of other products, an unsubscribe and one naming an unknown lead convert nothing; a product of the
    # lead's family converts it (data_package_100 answers a data_package_50 offer)
    orders += [
        {**orders[0], "order_id": "x-1", "product_id": "music_club", "lead_id": None},
        {**orders[1], "order_id": "x-2", "action": "unsubscribe", "lead_id": None},
        {**orders[2], "order_id": "x-3", "lead_id": "l-nobody"},
    ]
    orders += [
        {
            **orders[0],
            "order_id": f"f-{i}",
            "msisdn": x["msisdn"],
            "product_id": "data_package_100",
            "lead_id": None,
            "ts": x["deliver_at"] + 30 * MIN,
        }
        for i, x in enumerate(leads[5:N:211])
    ]
    inp = tmp / "in"
    (inp / "reference").mkdir(parents=True)
    write_reference_csv(inp / "reference" / "products.csv", "products", PRODUCTS)
    _write(inp / "leads.jsonl", leads + BAD_LEADS)
    _write(inp / "outcomes.jsonl", [r for k, r in answers if k == "outcomes"] + BAD_OUTCOMES)
    _write(inp / "orders.jsonl", sorted(orders, key=lambda o: o["ts"]))
    out = tmp / "out"
    replay("effect", settings, inp, out)
    return settings, leads, answers, orders, out


def _expected(leads: list[dict], orders: list[dict], data_end: int):
    """The rules applied to the whole input at once: (converted lead -> (order id, ts), expired lead ids)."""
    tracked = [lead_of(x) for x in leads]
    converted, _ = attribute(tracked, [order_of(o) for o in orders], FAMILIES)
    expired = {x.lead_id for x in tracked if x.lead_id not in converted and x.until <= data_end}
    return {lid: (o.order_id, o.ts) for lid, o in converted.items()}, expired


def test_conversions_and_expiries_are_exactly_the_rules(case):
    _, leads, answers, orders, out = case
    data_end = max([x["deliver_at"] for x in leads] + [o["ts"] for o in orders] + [r["ts"] for _, r in answers])
    want_converted, want_expired = _expected(leads, orders, data_end)
    got = _lines(out / "outcomes.jsonl")
    converted = {r["lead_id"]: (r["order_id"], r["ts"]) for r in got if r["status"] == "converted"}
    expired = {r["lead_id"] for r in got if r["status"] == "expired"}
    assert converted == want_converted
    assert expired == want_expired
    assert len(got) == len(converted) + len(expired)  # once each
    # the case is not trivial: both attribution paths, last touch, expiries and open leads all occur
    named = {o["lead_id"] for o in orders if o.get("lead_id")}
    assert 0 < len(named & set(converted)) < len(converted)
    assert any(o.startswith("f-") for o, _ in converted.values())  # by family
    assert 0 < len(expired) < N - len(converted)
    from touchpoint.schemas import errors

    assert all(errors("outcomes", r) == [] for r in got)


def test_uplift_per_group_is_recomputed_from_the_rules(case):
    settings, leads, answers, orders, out = case
    want_converted, _ = _expected(leads, orders, 2**62)
    counts = group_counts(leads, want_converted, settings.decisions.timezone)
    current = latest(_lines(out / "uplift.jsonl"))
    assert set(current) == set(counts)
    for gid, (nt, ct, nc, cc) in counts.items():
        u = uplift(nt, ct, nc, cc, settings.effect.min_sample)
        r = current[gid]
        assert (r["treatment_leads"], r["treatment_converted"], r["control_leads"], r["control_converted"]) == (
            nt,
            ct,
            nc,
            cc,
        )
        assert (r["uplift"], r["ci_low"], r["ci_high"], r["enough_data"]) == (
            u.absolute,
            u.ci_low,
            u.ci_high,
            u.enough_data,
        )
    scopes = {r["scope"] for r in current.values()}
    assert scopes == {"campaign", "campaign_day", "trigger_kind", "variant", "programme"}
    assert {r["variant_id"] for r in current.values() if r["scope"] == "variant"} == {"v1", "v2"}
    assert any(not r["enough_data"] for r in current.values())  # c1's only control leads are the holdout's
    programme = current["programme|||"]
    assert programme["control_leads"] == sum(1 for x in leads if x["holdout"])  # the holdout only


def test_measured_uplift_covers_the_simulated_truth(case):
    """Over every treatment lead (delivered or not) the true uplift is delivery_rate x the campaign's uplift."""
    settings, _, _, _, out = case
    c0 = latest(_lines(out / "uplift.jsonl"))["campaign|c0||"]
    truth = settings.simulator.delivery_rate * true_uplift(settings, "c0")
    assert c0["enough_data"] and c0["ci_low"] <= truth <= c0["ci_high"]
    assert c0["ci_high"] - c0["ci_low"] < 0.1  # an interval that says something


def test_bad_input_goes_to_the_dlq_naming_the_field_and_changes_nothing(case):
    # changes nothing: the bad leads are in no conversion, expiry or group (the tests above hold those equal to the
    # rules over the good leads alone)
    _, _, _, _, out = case
    dlq = _lines(out / "dlq.jsonl")
    assert sorted((r["source"], r["reason"]) for r in dlq if r["source"] == "outcomes") == [
        ("outcomes", "bad_json"),
        ("outcomes", "unknown_lead"),
    ]
    assert sorted((r["reason"], r["detail"].split(":")[0]) for r in dlq if r["source"] == "leads") == [
        ("invalid_value", "attribution_until"),
        ("invalid_value", "control"),
        ("invalid_value", "deliver_at"),
        ("missing_field", "attribution_until"),
    ]
    assert {r["raw"] for r in dlq} == {json.dumps(x) for x in BAD_LEADS} | set(BAD_OUTCOMES)


def test_streaming_gives_the_replays_conversions_and_uplift(case, broker, tmp_path):
    """The same inputs through Kafka: leads first (as the decision job writes them before any answer), then the
    delivery reports, then the orders on the raw topic in time order but unkeyed, spread over its partitions as a
    CRM feed may be; the job's conversions and final uplift equal the replay's."""
    from touchpoint.clients.kafka_io import RateLimitedProducer, advance_event_time, consume
    from touchpoint.infra import stack
    from touchpoint.runner.embedded import start, wait_running

    _, leads, answers, orders, out = case
    from touchpoint.clients import reference
    from touchpoint.reference import kafka_key

    keys = ("leads", "outcomes", "orders", "uplift", "dlq", "products")
    topics = {k: f"effect-stream-{k}" for k in keys}
    settings = make_settings(tmp_path / "w", broker, topics=topics, kafka={"partitions": 2})
    stack.create_topics(broker, list(topics.values()), settings.kafka.partitions)
    reference.produce(settings, [("products", kafka_key("products", r), reference.encode(r)) for r in PRODUCTS])
    replayed = _lines(out / "outcomes.jsonl")
    want = {r["lead_id"]: (r["order_id"], r["ts"]) for r in replayed if r["status"] == "converted"}
    want_uplift = latest(_lines(out / "uplift.jsonl"))
    job = start("effect", settings)
    try:
        wait_running(job, timeout=120)

        def send(key, records, keyed=True):
            with RateLimitedProducer(settings) as producer:
                for r in records:
                    line = r if isinstance(r, str) else json.dumps(r)
                    by = r["msisdn"].encode() if keyed and isinstance(r, dict) else None
                    producer.send(key, line.encode(), key=by)

        send("leads", leads)
        # every lead counted in each of its groups (a campaign's own control lead is not in the programme's):
        # the job has taken them all in
        counted = sum(nt + nc for nt, _, nc, _ in group_counts(leads, (), settings.decisions.timezone).values())
        taken = consume(broker, [topics["uplift"]], until=lambda o: len(o[topics["uplift"]]) >= counted, timeout_s=240)
        assert len(taken[topics["uplift"]]) == counted
        reports = [r for k, r in answers if k == "outcomes"]
        send("outcomes", reports + BAD_OUTCOMES)
        send("orders", sorted(orders, key=lambda o: o["ts"]), keyed=False)
        advance_event_time(settings, "orders", max(o["ts"] for o in orders) + DAY)  # the orders come out in order
        got = consume(
            broker,
            [topics["outcomes"], topics["dlq"]],
            until=lambda o: len(o[topics["outcomes"]]) >= len(reports) + 2 + len(want) and len(o[topics["dlq"]]) >= 2,
            idle_s=None,
            timeout_s=240,
        )
        final = consume(broker, [topics["uplift"]], idle_s=5, timeout_s=240)[topics["uplift"]]
    finally:
        job.cancel()
    streamed = [json.loads(v) for v in got[topics["outcomes"]] if v not in (b.encode() for b in BAD_OUTCOMES)]
    assert {r["lead_id"]: (r["order_id"], r["ts"]) for r in streamed if r["status"] == "converted"} == want
    strip = ("ts",)  # the time of the latest change may differ: groups change in another order
    assert {k: {f: v for f, v in r.items() if f not in strip} for k, r in latest(map(json.loads, final)).items()} == {
        k: {f: v for f, v in r.items() if f not in strip} for k, r in want_uplift.items()
    }
    reasons = sorted(json.loads(v)["reason"] for v in got[topics["dlq"]])
    assert reasons == ["bad_json", "unknown_lead"]


# --- the guardrail ----------------------------------------------------------------------------------------------


#: The guardrail judges a look this long after it falls due (effect.guardrail_wait_hours): leads come every 2 min.
GUARDRAIL_WAIT_HOURS = 1


def _harmful_case(tmp: Path, guardrail: bool) -> Path:
    """A campaign doing harm: 120 treatment leads none of which converts, 120 control leads half of which buy (an
    order naming the lead), in time order; and a harmless one beside it."""
    leads, orders = [], []
    for i in range(240):
        control = i % 2 == 1
        lead = _lead(i) | {"campaign_id": "charm", "control": control, "holdout": False}
        lead.pop("variant_id", None), lead.pop("variant_ids", None)
        leads.append(lead)
        if control and i % 4 == 1:
            orders.append(
                {
                    "order_id": f"o-{i}",
                    "ts": lead["deliver_at"] + MIN,
                    "msisdn": lead["msisdn"],
                    "product_id": "data_package_50",
                    "product_kind": "data_package",
                    "action": "subscribe",
                    "lead_id": lead["lead_id"],
                }
            )
    inp = tmp / "in"
    (inp / "reference").mkdir(parents=True)
    write_reference_csv(inp / "reference" / "products.csv", "products", PRODUCTS)
    _write(inp / "leads.jsonl", leads)
    _write(inp / "outcomes.jsonl", [])
    _write(inp / "orders.jsonl", orders)
    out = tmp / "out"
    effect = {"guardrail": guardrail, "guardrail_wait_hours": GUARDRAIL_WAIT_HOURS}
    replay("effect", make_settings(tmp / "work", effect=effect), inp, out)
    return out


def test_the_guardrail_pauses_a_harmful_campaign_once_at_the_first_look_that_trips(tmp_path):
    from udfs.effect import Watch, guardrail, guardrail_interval, guardrail_trips

    out = _harmful_case(tmp_path / "on", guardrail=True)
    min_sample = make_settings(tmp_path).effect.min_sample
    pauses = _lines(out / "guardrail.jsonl")
    assert [p["campaign_id"] for p in pauses] == ["charm"]
    (pause,) = pauses
    records = sorted(
        (r for r in _lines(out / "uplift.jsonl") if r["uplift_id"] == "campaign|charm||"), key=lambda r: r["version"]
    )
    tripped = [
        r
        for r in records
        if guardrail_trips(
            uplift(
                *(r[k] for k in ("treatment_leads", "treatment_converted", "control_leads", "control_converted")),
                min_sample,
            )
        )
    ]
    # the rules over the records in order: the first look whose 99 % interval lies below zero
    watch, first, clock = Watch(), None, 0
    for r in records:
        clock = max(clock, r["ts"])  # the guardrail's clock: the latest time seen
        u = uplift(
            *(r[k] for k in ("treatment_leads", "treatment_converted", "control_leads", "control_converted")),
            min_sample,
        )
        watch, pause_now = guardrail(u, clock, watch, min_sample, GUARDRAIL_WAIT_HOURS * 60 * MIN)
        if pause_now:
            first = (r, u)
            break
    r, u = first
    assert pause["uplift_version"] == r["version"] and pause["uplift"] == r["uplift"]
    assert (pause["ci_low"], pause["ci_high"]) == guardrail_interval(u)
    assert pause["ci_high"] < 0 and pause["state"] == "paused" and pause["by"] == "guardrail"
    # judged an hour after the look fell due: past the first record below zero, and a look's size reached before
    assert r["version"] > tripped[0]["version"]
    assert min(r["treatment_leads"], r["control_leads"]) >= min_sample
    assert len(tripped) > 1  # it kept tripping, and was paused once
    assert not _lines(_harmful_case(tmp_path / "off", guardrail=False) / "guardrail.jsonl")  # the setting turns it off
