"""The triggers job against ground truth: a simulated city in replay (every enabled kind, exact), the same
through Kafka in streaming mode, hand-written edge cases, and an independent DuckDB recomputation."""

from __future__ import annotations

import csv
import json
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support import make_settings
from touchpoint.clients.kafka_io import (
    EVENT_TIME_MARKER,
    RateLimitedProducer,
    advance_event_time,
    consume,
    wait_for_total,
)
from touchpoint.infra import stack
from touchpoint.runner.embedded import replay, start, wait_running

pytestmark = pytest.mark.slow
MIN = 60_000


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _key(r: dict) -> tuple:
    return r["msisdn"], r["kind"], r["ts"], json.dumps(r["context"], sort_keys=True)


def _truth(city: Path, kinds: list[str]) -> Counter:
    return Counter(_key(r) for r in _lines(city / "ground_truth.jsonl") if r["kind"] in kinds)


def _comparable(triggers: list[dict], truth_keys: Counter) -> Counter:
    """Trigger keys with context trimmed to the fields the ground truth has (the job may add e.g. country)."""
    truth_ctx = {k[:3]: set(json.loads(k[3])) for k in truth_keys}
    out = Counter()
    for t in triggers:
        fields = truth_ctx.get((t["msisdn"], t["kind"], t["ts"]))
        ctx = {k: v for k, v in t["context"].items() if fields is None or k in fields}
        out[(t["msisdn"], t["kind"], t["ts"], json.dumps(ctx, sort_keys=True))] += 1
    return out


@pytest.fixture(scope="module")
def city(replayed_city) -> Path:
    return replayed_city[0]


@pytest.fixture(scope="module")
def replayed(replayed_city):
    return replayed_city[1:]


def _assert_exact(triggers: list[dict], truth: Counter, kinds: list[str]) -> None:
    got = _comparable(triggers, truth)
    for kind in kinds:
        want = Counter({k: n for k, n in truth.items() if k[1] == kind})
        have = Counter({k: n for k, n in got.items() if k[1] == kind})
        assert have == want, f"{kind}: missing {list(want - have)[:3]}, extra {list(have - want)[:3]}"


def test_replay_equals_ground_truth_for_every_enabled_kind(city, replayed):
    settings, out = replayed
    kinds = settings.triggers.kinds
    truth = _truth(city, kinds)
    present = {k[1] for k in truth}
    assert present == set(kinds), f"the city lacks {set(kinds) - present}: the test would prove nothing"
    triggers = _lines(out / "triggers.jsonl")
    _assert_exact(triggers, truth, kinds)
    # records follow the schema and their ids are deterministic and unique
    from touchpoint.schemas import errors

    assert all(errors("triggers", t) == [] for t in triggers)
    assert len({t["trigger_id"] for t in triggers}) == len(triggers)


def test_replay_at_a_networks_density_equals_ground_truth(dense_city, tmp_path):
    """~60 events per subscriber-hour, most of them on the cell the subscriber is already on: the location kinds
    see twenty times more events and must find exactly the same entries and stays."""
    settings = make_settings(tmp_path / "work")
    out = tmp_path / "out"
    replay("triggers", settings, dense_city, out)
    summary = json.loads((dense_city / "summary.json").read_text())
    assert summary["events"]["per_subscriber_hour"] > 50
    kinds = settings.triggers.kinds
    truth = _truth(dense_city, kinds)
    assert {"region_entry", "dwell", "handset_store_visits"} <= {k[1] for k in truth}
    _assert_exact(_lines(out / "triggers.jsonl"), truth, kinds)


def test_replay_all_keeps_both_jobs_dead_letters(city, replayed):
    _, out = replayed
    planted = json.loads((city / "summary.json").read_text())["malformed"]
    reasons = Counter(r["reason"] for r in _lines(out / "dlq.jsonl"))
    assert reasons == Counter({k: v for k, v in planted.items() if v})  # ingest's; no late events in the city


def test_duckdb_recomputes_region_entries_and_dials(city, replayed):
    """Independent of Flink and of the simulator's detector: window functions in DuckDB."""
    import duckdb

    settings, out = replayed
    t = settings.triggers
    con = duckdb.connect()
    con.execute(f"CREATE TABLE ev AS SELECT * FROM read_json_auto('{out / 'signaling-normalised.jsonl'}')")
    con.execute(f"CREATE TABLE cells AS SELECT * FROM read_csv_auto('{city / 'reference' / 'cells.csv'}')")
    con.execute(f"CREATE TABLE regions AS SELECT * FROM read_csv_auto('{city / 'reference' / 'regions.csv'}')")
    entries = con.execute(f"""
        WITH u AS (SELECT DISTINCT event_id, msisdn, ts, cell_id FROM ev),
        loc AS (SELECT u.msisdn, u.ts, c.region_id, r.watched
                FROM u JOIN cells c ON u.cell_id = c.cell_id LEFT JOIN regions r ON c.region_id = r.region_id),
        w AS (SELECT *, lag(region_id) OVER (PARTITION BY msisdn ORDER BY ts) AS prev_region,
                        lag(ts) OVER (PARTITION BY msisdn ORDER BY ts) AS prev_ts FROM loc),
        v AS (SELECT *, lag(ts) OVER (PARTITION BY msisdn, region_id ORDER BY ts) AS prev_in FROM w
              WHERE region_id IS NOT NULL)
        SELECT msisdn, ts, region_id FROM v
        WHERE watched AND prev_ts IS NOT NULL AND prev_region IS DISTINCT FROM region_id
          AND (prev_in IS NULL OR ts - prev_in >= {t.region_entry_min_outside_minutes * MIN})""").fetchall()
    dials = con.execute(f"""
        SELECT DISTINCT event_id, msisdn, ts, called_number FROM ev
        WHERE event_type = 'mo_call' AND called_number IN ('{t.directory_number}',
              {", ".join(f"'{n}'" for n in t.hotline_numbers)})""").fetchall()
    triggers = _lines(out / "triggers.jsonl")
    flink_entries = sorted(
        (x["msisdn"], x["ts"], x["context"]["region_id"]) for x in triggers if x["kind"] == "region_entry"
    )
    flink_dials = sorted(
        (x["msisdn"], x["ts"], x["context"]["called_number"])
        for x in triggers
        if x["kind"] in ("dial_114", "dial_hotline")
    )
    assert flink_entries == sorted(entries) and len(entries) > 50
    assert flink_dials == sorted((m, ts, n) for _, m, ts, n in dials) and dials


# --- hand-written edge cases ------------------------------------------------------------------------


def _cells(city: Path):
    """A watched mall cell, a neighbour cell outside any region, and a second watched region's cell."""
    cells = list(csv.DictReader((city / "reference" / "cells.csv").open()))
    regions = {r["region_id"]: r for r in csv.DictReader((city / "reference" / "regions.csv").open())}
    mall = next(c for c in cells if c["region_id"] and regions[c["region_id"]]["kind"] == "mall")
    outside = next(c for c in cells if not c["region_id"])
    other = next(
        c
        for c in cells
        if c["region_id"] and regions[c["region_id"]]["watched"] == "true" and c["region_id"] != mall["region_id"]
    )
    return int(mall["cell_id"]), mall["region_id"], int(outside["cell_id"]), int(other["cell_id"])


def _home_prefix(city: Path) -> str:
    from touchpoint.config import load_settings

    home = load_settings().network.home_province
    return next(
        r["prefix"] for r in csv.DictReader((city / "reference" / "number_ranges.csv").open()) if r["province"] == home
    )


def test_edge_cases(city, tmp_path):
    mall, mall_region, outside, other = _cells(city)
    prefix = _home_prefix(city)  # home-province numbers: none of these subscribers is a roamer
    t0 = 1_793_600_000_000
    n = iter(range(10_000))

    def ev(suffix, minute, cell=None, etype="location_update", **extra):
        """One event; ts gets the suffix in ms so no two subscribers share a timestamp."""
        msisdn = prefix + suffix[-4:]
        rec = {
            "event_id": f"e{next(n)}",
            "event_type": etype,
            "ts": t0 + int(minute * MIN) + int(msisdn[-2:]),
            "msisdn": msisdn,
            "imsi": "4600000" + msisdn[-8:],
            "rat": "LTE",
        }
        if cell is not None:
            rec["cell_id"] = cell
        return rec | extra

    lines: list[dict] = []
    # ping-pong at the border: one entry, no re-trigger while bouncing in and out within 20 min
    lines += [
        ev("0001", m, c)
        for m, c in [(0, outside), (1, mall), (3, outside), (5, mall), (8, outside), (10, mall), (12, outside)]
    ]
    # a stay that ends 1 minute before the dwell time: entry, no dwell; then a stay of exactly 30 min: dwell
    lines += [
        ev("0002", m, c)
        for m, c in [
            (0, outside),
            (1, mall),
            (15, mall),
            (30, mall),
            (31, outside),
            (60, outside),
            (61, mall),
            (80, mall),
            (91, mall),
            (95, mall),
        ]
    ]
    # out of order within the bound: the mall event arrives 30 s before the earlier outside event
    ooo = [ev("0003", m, c) for m, c in [(0, outside), (0.5, mall), (40, mall)]]
    ooo[1]["arrival"] = ooo[0]["ts"] - 1
    lines += ooo
    # duplicated events: exact copies never double a trigger
    lines += [ev("0004", 0, outside), ev("0004", 1, mall), ev("0004", 2, mall, "mo_call", called_number="114")]
    lines += [dict(lines[-2], arrival=lines[-2]["ts"] + 1), dict(lines[-1], arrival=lines[-1]["ts"] + 1)]
    # a subscriber with no profile (not in profiles.csv) still gets triggers; it also moves to another region
    lines += [
        ev("0005", 0, outside),
        ev("0005", 2, mall),
        ev("0005", 4, other),
        ev("0005", 5, other, "call_forward_set", forward_to="13800000000"),
    ]
    # a late event: it arrives after event time reached minute 200, far beyond the 60 s bound
    lines += [ev("0009", 200, outside), ev("0009", 300, outside)]
    late = ev("0006", 100, mall, "mo_call", called_number="114")
    late["arrival"] = lines[-2]["ts"] + 1
    lines.append(late)
    # arrival order = event time except where a case above says otherwise
    lines.sort(key=lambda r: r.get("arrival", r["ts"]))
    for r in lines:
        r.pop("arrival", None)

    inp = tmp_path / "in"
    (inp / "reference").mkdir(parents=True)
    for f in (city / "reference").iterdir():
        shutil.copy(f, inp / "reference" / f.name)
    (inp / "signaling.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    # data traffic: a small on-time session at minute 200, then a late one for minute 100 (no quota crossed)
    xdrs = [
        {
            "event_id": f"x{i}",
            "ts": t0 + m * MIN,
            "msisdn": prefix + "0007",
            "imsi": "460000000000007",
            "rat": "LTE",
            "bytes_up": 1000,
            "bytes_down": 2000,
        }
        for i, m in enumerate((200, 300, 100))
    ]
    (inp / "xdr.jsonl").write_text("".join(json.dumps(x) + "\n" for x in xdrs))
    # data packages (zero_usage, a 60 min window here): the xDR at minute 200 ends the window of the order at 140
    # (an xDR at the window's end counts as usage) but not of the order at 200 itself (nor of its duplicate),
    # which fires at 260; the window of the order at 250 ends after the data (minute 300): a replay drops it
    orders = [
        {
            "order_id": f"o{m}",
            "ts": t0 + m * MIN,
            "msisdn": prefix + msisdn,
            "product_id": "data_package_50" if kind == "data_package" else "music_club",
            "product_kind": kind,
            "action": "subscribe",
        }
        for m, msisdn, kind in [
            (140, "0007", "data_package"),
            (200, "0007", "data_package"),
            (200, "0007", "data_package"),
            (250, "0008", "data_package"),
            (10, "0008", "value_added"),
        ]
    ]
    # a product the catalogue does not know: a dead letter (and no zero_usage, having no xDR of its own to miss)
    orders.append({**orders[-1], "order_id": "o-unknown", "product_id": "no_such_product", "ts": t0 + 5 * MIN})
    (inp / "orders.jsonl").write_text("".join(json.dumps(x) + "\n" for x in sorted(orders, key=str)))
    out = tmp_path / "out"
    replay("triggers", make_settings(tmp_path / "w", triggers={"zero_usage_hours": 1}), inp, out)

    got = sorted(
        ("1390000" + x["msisdn"][-4:], x["kind"], (x["ts"] - t0) // MIN) for x in _lines(out / "triggers.jsonl")
    )
    assert got == sorted(
        [
            ("13900000001", "region_entry", 1),
            ("13900000002", "region_entry", 1),
            ("13900000002", "region_entry", 61),
            ("13900000002", "dwell", 91),
            ("13900000003", "region_entry", 0),
            ("13900000003", "dwell", 40),
            ("13900000004", "region_entry", 1),
            ("13900000004", "dial_114", 2),
            ("13900000005", "region_entry", 2),
            ("13900000005", "region_entry", 4),
            ("13900000005", "call_forward_set", 5),
            ("13900000007", "zero_usage", 260),
        ]
    )
    dlq = _lines(out / "dlq.jsonl")
    assert sorted((d["source"], d["reason"], d["event_id"]) for d in dlq) == [
        ("orders", "unknown_product", "o-unknown"),
        ("signaling", "late", late["event_id"]),
        ("xdr", "late", "x2"),
    ]
    assert next(d for d in dlq if d["reason"] == "unknown_product")["detail"] == "no_such_product"


# --- streaming through Kafka ------------------------------------------------------------------------


def test_streaming_equals_replay_and_a_region_added_while_running_fires(broker, tmp_path):
    """A smaller city through Kafka: the triggers job streaming over the raw topics gives the replay's triggers.
    Then a watched region is published while it runs: an entry into it fires, without a restart."""
    from touchpoint.clients import reference
    from touchpoint.harness.simulator import simulate
    from touchpoint.reference import REFERENCE_NAMES

    city = tmp_path / "city"
    simulate(make_settings(tmp_path / "w0"), seed=4, subscribers=80, hours=12, out_dir=city)
    replay_out = tmp_path / "replay"
    replay("all", make_settings(tmp_path / "w1"), city, replay_out)
    expected = Counter(_key(t) for t in _lines(replay_out / "triggers.jsonl"))
    assert len(expected) > 20

    raw = ("signaling", "xdr", "orders")
    keys = (*raw, "dlq", "triggers", *REFERENCE_NAMES)
    topics = {k: f"trig-stream-{k}" for k in keys}
    # Four partitions, the raw lines keyed by msisdn as some probes send them (tests/jobs/test_event_time.py tries
    # every other keying); the job takes event time from each raw partition.
    settings = make_settings(tmp_path / "w2", broker, topics=topics, kafka={"partitions": 4})
    settings.paths.reference_dir = city / "reference"
    stack.create_topics(broker, list(topics.values()), settings.kafka.partitions)
    published = reference.publish(settings, city / "reference")
    jobs = [start("triggers", settings)]
    try:
        for job in jobs:
            wait_running(job, timeout=120)
        with RateLimitedProducer(settings) as producer:
            for key in raw:
                for line in (city / f"{key}.jsonl").read_bytes().splitlines():
                    producer.send(key, line, key=_msisdn(line))
        # a far-future event right after the data on each raw partition closes event time (its watermark is its own)
        end = json.loads((city / "summary.json").read_text())["data_end_ts"]
        for key in raw:
            advance_event_time(settings, key, end + 24 * 3_600_000)
        got = wait_for_total(broker, [topics["triggers"]], sum(expected.values()), timeout_s=300)
        # past the data's end the marker is the stream going on: a day without xDRs may fire zero_usage there,
        # which the replay, bounded by its data, does not
        streamed = Counter(
            _key(t)
            for t in map(json.loads, got[topics["triggers"]])
            if t["msisdn"] != EVENT_TIME_MARKER and t["ts"] <= end
        )
        assert streamed == expected

        entry = _enter_a_new_region(settings, city, published, start_ts=end + 25 * 3_600_000)
        found = consume(
            broker,
            [topics["triggers"]],
            until=lambda o: any(_entered(json.loads(x), entry) for x in o[topics["triggers"]]),
            timeout_s=120,
        )[topics["triggers"]]
    finally:
        for job in jobs:
            job.cancel()
    fired = [t for t in map(json.loads, found) if _entered(t, entry)]
    assert [(t["ts"], t["context"]) for t in fired] == [
        (entry["ts"], {"region_id": "live-mall", "region_kind": "mall"})
    ]


def _entered(trigger: dict, entry: dict) -> bool:
    return trigger["msisdn"] == entry["msisdn"] and trigger["kind"] == "region_entry"


def _enter_a_new_region(settings, city: Path, published: dict[str, int], start_ts: int) -> dict:
    """Publish a watched region ``live-mall`` and move a cell into it; once the triggers job has read both (its
    group committed them at a checkpoint), send a new subscriber's location events: one outside, then one in
    that cell. Returns the entering event."""
    from touchpoint.clients import reference
    from touchpoint.clients.kafka_io import committed
    from touchpoint.flink.pipeline import default_group
    from touchpoint.reference import kafka_key, read_reference_csv

    cells = read_reference_csv(city / "reference" / "cells.csv")
    regions = read_reference_csv(city / "reference" / "regions.csv")
    inside = next(c for c in cells if c["region_id"] is None or not _watched(regions, c["region_id"]))
    outside = next(c for c in cells if c["cell_id"] != inside["cell_id"])
    region = dict(regions[0], region_id="live-mall", name="Opened Today", kind="mall", watched=True)
    moved = dict(inside, region_id="live-mall")
    reference.produce(
        settings,
        [
            ("regions", kafka_key("regions", region), reference.encode(region)),
            ("cells", kafka_key("cells", moved), reference.encode(moved)),
        ],
    )
    t = settings.topics
    want = {t.regions: published[t.regions] + 1, t.cells: published[t.cells] + 1}
    deadline = time.monotonic() + 120
    while committed(settings.kafka.bootstrap, default_group(settings, "triggers"), want, 4) != want:
        assert time.monotonic() < deadline, "the triggers job did not read the new region within 120 s"
        time.sleep(0.5)

    template = next(
        r
        for r in map(json.loads, (city / "signaling.jsonl").read_text().splitlines()[:2000])
        if isinstance(r, dict) and r.get("event_type") == "location_update" and r.get("cell_id")
    )
    msisdn = "13999990001"
    events = [
        dict(
            template, event_id=f"live-{i}", msisdn=msisdn, ts=start_ts + i * 600_000, cell_id=c["cell_id"], lac=c["lac"]
        )
        for i, c in enumerate((outside, inside))
    ]
    with RateLimitedProducer(settings) as producer:
        for e in events:
            producer.send("signaling", json.dumps(e).encode(), key=msisdn.encode())
    for key in ("signaling", "xdr", "orders"):
        advance_event_time(settings, key, start_ts + 24 * 3_600_000)
    return events[-1]


def _watched(regions: list[dict], region_id: str) -> bool:
    return any(r["region_id"] == region_id and r["watched"] for r in regions)


def _msisdn(line: bytes) -> bytes | None:
    """The Kafka key a probe gives a raw line: its subscriber (none for a line that is not a JSON object)."""
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    return str(rec["msisdn"]).encode() if isinstance(rec, dict) and rec.get("msisdn") else None
