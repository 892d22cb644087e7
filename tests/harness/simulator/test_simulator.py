"""The synthetic city: determinism, record validity, defects as announced, planted situations, and the reference
trigger detector (touchpoint/harness/simulator/truth.py) against docs/triggers.md on hand-built timelines."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pytest
from jsonschema import Draft202012Validator

from touchpoint import ROOT
from touchpoint.config import load_settings
from touchpoint.harness.simulator import MALFORMED_REASONS, TOPICS, simulate, truth
from touchpoint.harness.simulator.lookups import load_reference
from touchpoint.harness.simulator.subscriber import luhn
from touchpoint.reference import REFERENCE_NAMES, kafka_key, read_reference_csv
from udfs import trigger_kinds
from udfs.kinds import Reference

MB = 1_048_576
MIN = 60_000
HOUR = 3_600_000

#: Short trigger windows so that every kind fits in a 10-hour city.
SHORT = {"zero_usage_hours": 3, "power_on_min_off_hours": 2, "roam_in_gap_hours": 3}


def _schema(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text()))


def _classify(line: bytes, validator: Draft202012Validator, settings) -> tuple[str | None, dict | None]:
    """(None, record) for a record ingest accepts, else (reason, record or None), using the DLQ reason names."""
    try:
        rec = json.loads(line)
    except ValueError:
        return "bad_json", None
    if validator.is_valid(rec) and settings.ingest.ts_min_ms <= rec["ts"] < settings.ingest.ts_max_ms:
        return None, rec
    if "msisdn" not in rec or "ts" not in rec or (rec.get("event_type") == "mo_call" and "called_number" not in rec):
        return "missing_field", rec
    if "event_type" in rec and rec["event_type"] not in validator.schema["properties"]["event_type"]["enum"]:
        return "unknown_event_type", rec
    if not settings.ingest.ts_min_ms <= rec["ts"] < settings.ingest.ts_max_ms:
        return "ts_out_of_range", rec
    return "invalid_value", rec


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A 10-hour city with every trigger kind planted, parsed once: (dir, settings, summary, parsed files)."""
    settings = load_settings(triggers=SHORT, simulator={"malformed_rate": 0.005, "duplicate_rate": 0.01})
    out = tmp_path_factory.mktemp("sim-city")
    result = simulate(settings, seed=11, subscribers=200, hours=10, out_dir=out)
    summary = json.loads((out / "summary.json").read_text())
    parsed = {}
    for topic in TOPICS:
        v = _schema(topic)
        rows = []
        for line in (out / f"{topic}.jsonl").read_bytes().splitlines():
            reason, rec = _classify(line, v, settings)
            rows.append((line, reason, rec))
        parsed[topic] = rows
    return out, settings, summary, parsed, result


def _valid(parsed, topic):
    return [rec for _line, reason, rec in parsed[topic] if reason is None]


# --------------------------------------------------------------------------------------------- the generated city


def test_same_seed_same_bytes_other_seed_other_city(tmp_path):
    s = load_settings()
    for d in ("a", "b"):
        simulate(s, seed=3, subscribers=60, hours=6, out_dir=tmp_path / d)
    simulate(s, seed=4, subscribers=60, hours=6, out_dir=tmp_path / "c")
    simulate(load_settings(simulator={"chunk_subscribers": 7}), seed=3, subscribers=60, hours=6, out_dir=tmp_path / "d")
    names = [str(p.relative_to(tmp_path / "a")) for p in sorted((tmp_path / "a").rglob("*")) if p.is_file()]
    assert {"signaling.jsonl", "xdr.jsonl", "orders.jsonl", "ground_truth.jsonl", "summary.json"} <= set(names)
    assert {f"reference/{n}.csv" for n in REFERENCE_NAMES} <= set(names)
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n
        # the chunk size changes the memory used, not the output
        if n != "summary.json":
            assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "d" / n).read_bytes(), n
    assert (tmp_path / "a" / "signaling.jsonl").read_bytes() != (tmp_path / "c" / "signaling.jsonl").read_bytes()


def test_valid_records_validate_and_defects_match_the_summary(city):
    out, settings, summary, parsed, result = city
    for topic in TOPICS:
        rows = parsed[topic]
        assert len(rows) == summary["lines"][topic] == summary["files"][f"{topic}.jsonl"]
        reasons = Counter(r for _l, r, _rec in rows if r is not None)
        expected = summary["malformed_by_topic"].get(topic, {})
        assert reasons == Counter({k: v for k, v in expected.items() if v}), topic
        assert sum(1 for _l, r, _rec in rows if r is None) == summary["valid_lines"][topic]
        for line, reason, rec in rows:
            # compact, stable key order, no nulls in raw records
            if reason is None:
                assert line == json.dumps(rec, separators=(",", ":")).encode()
                assert None not in rec.values()
                assert not rec.get("event_id", "").startswith("m-")
            elif rec is not None:
                assert rec["event_id"].startswith("m-")
    assert summary["malformed"] == {
        r: sum(summary["malformed_by_topic"][t][r] for t in ("signaling", "xdr")) for r in MALFORMED_REASONS
    }
    assert set(summary["malformed"]) == set(MALFORMED_REASONS)
    # the scenario is big enough to show every defect kind
    assert all(summary["malformed"].values()), summary["malformed"]
    assert result.malformed == sum(summary["malformed"].values())


def test_duplicates_are_exact_copies_and_disorder_is_bounded(city):
    out, settings, summary, parsed, _ = city
    bound = summary["params"]["max_delay_ms"]
    assert bound <= settings.event_time.max_out_of_orderness_ms
    start, end = summary["params"]["start_ts"], summary["params"]["end_ts"]
    for topic in TOPICS:
        id_field = "order_id" if topic == "orders" else "event_id"
        lines_by_id: dict[str, list[bytes]] = defaultdict(list)
        max_ts = -1
        for line, reason, rec in parsed[topic]:
            if reason is not None:
                continue
            lines_by_id[rec[id_field]].append(line)
            assert rec["ts"] >= max_ts - bound, (topic, rec)
            max_ts = max(max_ts, rec["ts"])
            assert start <= rec["ts"] < end
        extra = 0
        for copies in lines_by_id.values():
            assert len(set(copies)) == 1  # exact copies
            assert len(copies) <= 2
            extra += len(copies) - 1
        assert extra == summary["duplicates"][topic]
    assert summary["duplicates"]["signaling"] > 0 and summary["duplicates"]["xdr"] > 0


def test_subscriber_timelines_are_strictly_increasing_and_well_formed(city):
    out, settings, summary, parsed, _ = city
    ref = {n: read_reference_csv(out / "reference" / f"{n}.csv") for n in REFERENCE_NAMES}
    ranges = {r["prefix"]: r["province"] for r in ref["number_ranges"]}
    profiles = {p["msisdn"]: p for p in ref["profiles"]}
    by_msisdn: dict[str, dict[str, dict]] = defaultdict(dict)
    for topic in TOPICS:
        for rec in _valid(parsed, topic):
            by_msisdn[rec["msisdn"]][rec.get("event_id") or rec["order_id"]] = rec
    assert len(profiles) == 200
    assert set(profiles) <= set(by_msisdn)
    roamers = set(by_msisdn) - set(profiles)
    assert len(roamers) == summary["params"]["roamers"] >= 2
    for m, recs in by_msisdn.items():
        ts = sorted(r["ts"] for r in recs.values())
        assert len(ts) == len(set(ts)), f"two events of {m} at the same ts"
    for p in profiles.values():
        assert len(p["msisdn"]) == 11 and ranges[p["msisdn"][:7]] == settings.network.home_province
        assert p["imsi"][:5] in settings.network.home_plmns and len(p["imsi"]) == 15
        assert p["data_quota_mb"] in (0, 30, 50, 100, 300, 500, 1024)
        assert p["data_used_mb"] < p["data_quota_mb"] or p["data_quota_mb"] == 0
    for rec in _valid(parsed, "signaling"):
        if "imei" in rec:
            assert len(rec["imei"]) == 15 and luhn(rec["imei"][:14]) == rec["imei"][14]
        if rec.get("vlr_plmn"):
            assert "cell_id" not in rec and "lac" not in rec
    assert {r["event_type"] for r in _valid(parsed, "signaling")} == set(summary["events"]["signaling"])


def test_every_trigger_kind_is_planted(city):
    out, settings, summary, parsed, _ = city
    kinds = trigger_kinds.names(settings.triggers.quota_thresholds_mb)
    assert summary["not_planted"] == {}
    rows = [json.loads(line) for line in (out / "ground_truth.jsonl").read_bytes().splitlines()]
    planted = Counter(r["kind"] for r in rows if r["planted"])
    assert set(planted) == set(kinds), set(kinds) - set(planted)
    assert planted == Counter({k: v for k, v in summary["planted"].items() if v})
    # natural occurrences are in the ground truth too
    assert any(not r["planted"] for r in rows if r["kind"] == "region_entry")
    assert rows == sorted(rows, key=truth.sort_key)


def test_default_settings_plant_every_kind_in_30_hours(tmp_path):
    summary = simulate(load_settings(), seed=2, subscribers=300, hours=30, out_dir=tmp_path)
    data = json.loads((tmp_path / "summary.json").read_text())
    assert summary.not_planted == {} and data["not_planted"] == {}
    assert all(data["planted"].values()), data["planted"]


def test_kinds_that_do_not_fit_are_reported(tmp_path):
    simulate(load_settings(simulator={"roamer_fraction": 0}), seed=2, subscribers=40, hours=3, out_dir=tmp_path)
    data = json.loads((tmp_path / "summary.json").read_text())
    assert "needs" in data["not_planted"]["zero_usage"]
    assert "needs" in data["not_planted"]["power_on"]
    assert "roam_in" in data["not_planted"]
    assert data["planted"]["dial_114"] >= 1


def test_ground_truth_points_at_clean_events(city):
    out, settings, summary, parsed, _ = city
    at = defaultdict(set)
    for topic in TOPICS:
        for rec in _valid(parsed, topic):
            at[rec["msisdn"]].add(rec["ts"])
    orders = {o["order_id"]: o for o in _valid(parsed, "orders")}
    window = round(settings.triggers.zero_usage_hours * HOUR)
    rows = [json.loads(line) for line in (out / "ground_truth.jsonl").read_bytes().splitlines()]
    assert rows
    for r in rows:
        if r["kind"] == "zero_usage":
            o = orders[r["context"]["order_id"]]
            assert o["msisdn"] == r["msisdn"] and o["ts"] + window == r["ts"] <= summary["data_end_ts"]
        else:
            assert r["ts"] in at[r["msisdn"]], r


def test_ground_truth_equals_detector_over_the_emitted_files(city):
    """Recompute the truth from what a consumer sees: valid lines only, duplicates included, arrival order."""
    out, settings, summary, parsed, _ = city
    ref = load_reference(out / "reference")
    got = truth.detect(
        _valid(parsed, "signaling"),
        _valid(parsed, "xdr"),
        _valid(parsed, "orders"),
        ref,
        truth.Params.from_settings(settings),
    )
    rows = [json.loads(line) for line in (out / "ground_truth.jsonl").read_bytes().splitlines()]
    for r in rows:
        del r["planted"]
    assert got == rows


def test_sink_gets_the_file_records_in_arrival_order(tmp_path):
    s = load_settings()
    simulate(s, seed=8, subscribers=40, hours=4, out_dir=tmp_path / "files")
    got: dict[str, list[bytes]] = defaultdict(list)
    keys_ok = []

    def sink(topic: str, line: bytes, key: bytes) -> None:
        got[topic].append(line)
        if topic in TOPICS:
            keys_ok.append(key.decode() in line.decode() or b'"msisdn"' not in line)
        else:  # reference rows first, keyed by id, as `touchpoint reference publish` sends them
            assert not keys_ok, "a reference row after the events"
            assert key == kafka_key(topic, json.loads(line)), topic

    simulate(s, seed=8, subscribers=40, hours=4, out_dir=tmp_path / "sink", sink=sink)
    for t in TOPICS:
        assert got[t] == (tmp_path / "files" / f"{t}.jsonl").read_bytes().splitlines(), t
        assert not (tmp_path / "sink" / f"{t}.jsonl").exists()
    for name in REFERENCE_NAMES:
        rows = read_reference_csv(tmp_path / "files" / "reference" / f"{name}.csv")
        assert [json.loads(x) for x in got[name]] == rows, name
    assert all(keys_ok)
    assert (tmp_path / "sink" / "ground_truth.jsonl").read_bytes() == (
        tmp_path / "files" / "ground_truth.jsonl"
    ).read_bytes()


def test_reference_files_validate_and_make_a_city(city):
    out, settings, summary, parsed, _ = city
    rows = {}
    for name in REFERENCE_NAMES:
        v = _schema(f"reference/{name}")
        example = json.loads((ROOT / "schemas" / "examples" / "reference" / f"{name}.json").read_text())
        assert v.is_valid(example), name
        rows[name] = read_reference_csv(out / "reference" / f"{name}.csv")
        assert rows[name], name
        for r in rows[name]:
            errors = list(v.iter_errors(r))
            assert not errors, (name, r, errors[0].message)
        assert len(rows[name]) == summary["files"][f"reference/{name}.csv"]
    cells, regions = rows["cells"], rows["regions"]
    assert len({c["cell_id"] for c in cells}) == len(cells) >= 100
    assert set(Counter(c["rat"] for c in cells)) == {"GSM", "G3", "LTE", "NR"}
    kinds = Counter(r["kind"] for r in regions)
    assert (
        kinds["handset_store"] >= 2 and kinds["mall"] >= 3 and all(kinds[k] for k in ("campus", "transport", "scenic"))
    )
    size = Counter(c["region_id"] for c in cells if c["region_id"])
    for r in regions:
        assert 1 <= size[r["region_id"]] <= 4
        assert r["watched"] == (r["kind"] not in ("residential", "office"))
        if r["kind"] == "handset_store":
            assert size[r["region_id"]] == 1
    assert set(size) == {r["region_id"] for r in regions}
    tacs = [h["tac"] for h in rows["handsets"]]
    assert len(tacs) == len(set(tacs)) >= 30
    assert {True, False} == {h["g3_capable"] for h in rows["handsets"]}
    provinces = {r["province"] for r in rows["number_ranges"]}
    assert settings.network.home_province in provinces and len(provinces) >= 3
    products = Counter(p for prof in rows["profiles"] for p in prof["products"])
    assert products["g3_basic"] + products["g3_data_100"] > 0


# ------------------------------------------------------------------------------------- the reference detector

T0 = 1_793_548_800_000  # 2026-11-02T00:00+08:00, the default simulator.start
HOME_IMSI = "460001234567890"


def _ref() -> Reference:
    cells = [
        {"cell_id": 1, "region_id": "mall-1"},
        {"cell_id": 2, "region_id": "mall-1"},
        {"cell_id": 3, "region_id": None},
        {"cell_id": 4, "region_id": "store-1"},
        {"cell_id": 5, "region_id": "store-2"},
        {"cell_id": 6, "region_id": "res-1"},
        {"cell_id": 7, "region_id": None},
    ]
    regions = [
        {"region_id": "mall-1", "kind": "mall", "watched": True},
        {"region_id": "store-1", "kind": "handset_store", "watched": True},
        {"region_id": "store-2", "kind": "handset_store", "watched": False},
        {"region_id": "res-1", "kind": "residential", "watched": False},
    ]
    handsets = [{"tac": "86000001", "brand": "Huawei", "model": "T2211", "tier": "low", "g3_capable": True}]
    profiles = [{"msisdn": "13900000001", "data_quota_mb": 100, "data_used_mb": 70}]
    ranges = [{"prefix": "1390000", "province": "JS"}, {"prefix": "1381000", "province": "BJ"}]
    return Reference.from_rows(cells, regions, handsets, profiles, ranges)


P = truth.Params.from_settings(load_settings())
REF = _ref()
_n = iter(range(10**6))


def ev(
    minute: float,
    event_type: str = "location_update",
    cell: int | None = None,
    msisdn: str = "13900000001",
    imsi: str = HOME_IMSI,
    **kw,
) -> dict:
    e = {
        "event_id": f"e{next(_n)}",
        "event_type": event_type,
        "ts": T0 + round(minute * MIN),
        "msisdn": msisdn,
        "imsi": imsi,
    }
    if cell is not None:
        e["cell_id"] = cell
    e.update(kw)
    return e


def xdr(minute: float, mb: float, msisdn: str = "13900000001") -> dict:
    return {
        "event_id": f"x{next(_n)}",
        "ts": T0 + round(minute * MIN),
        "msisdn": msisdn,
        "imsi": HOME_IMSI,
        "rat": "LTE",
        "bytes_up": 0,
        "bytes_down": round(mb * MB),
    }


def kinds_at(rows, kind):
    return [(r["ts"] - T0) / MIN for r in rows if r["kind"] == kind]


def run(sig=(), xdrs=(), orders=()):
    return truth.detect(list(sig), list(xdrs), list(orders), REF, P)


def test_region_entry_ping_pong_does_not_retrigger():
    sig = [
        ev(0, cell=7),
        ev(10, cell=1),
        ev(12, cell=3),
        ev(14, cell=2),
        ev(16, cell=3),
        ev(18, cell=1),
        ev(30, cell=7),
        ev(37, cell=1),  # 19 min after the last event in the mall: no entry
        ev(55, cell=7),
        ev(80, cell=2),
    ]  # 25 min outside: entry
    rows = run(sig)
    assert kinds_at(rows, "region_entry") == [10, 80]
    assert rows[0]["context"] == {"region_id": "mall-1", "region_kind": "mall"}


def test_region_entry_needs_a_previous_location_event():
    assert kinds_at(run([ev(0, cell=1), ev(5, cell=3), ev(40, cell=1)]), "region_entry") == [40]
    # events without a known cell are not location events (abroad, unknown cell)
    sig = [ev(0, cell=3), ev(30, cell=999), ev(31, vlr_plmn="45400"), ev(60, cell=1)]
    assert kinds_at(run(sig), "region_entry") == [60]
    # unwatched regions never fire
    assert kinds_at(run([ev(0, cell=3), ev(30, cell=6)]), "region_entry") == []


def test_dwell_fires_once_per_stay_and_not_for_short_stays():
    T = P.dwell_minutes
    sig = [
        ev(0, cell=3),
        ev(10, cell=1),
        ev(20, cell=2),
        ev(10 + T - 0.5, cell=1),
        ev(10 + T - 0.1, cell=3),
        # next stay: exactly T later fires, and only once
        ev(100, cell=1),
        ev(100 + T, cell=2),
        ev(100 + T + 5, cell=1),
        ev(200, cell=7),
    ]
    rows = run(sig)
    assert kinds_at(rows, "dwell") == [100 + T]
    d = [r for r in rows if r["kind"] == "dwell"][0]
    assert d["context"] == {
        "region_id": "mall-1",
        "region_kind": "mall",
        "stay_start": T0 + 100 * MIN,
        "dwell_minutes": T,
    }


def test_dwell_restarts_after_ping_pong():
    T = P.dwell_minutes
    sig = [ev(0, cell=3), ev(10, cell=1), ev(12, cell=3), ev(14, cell=1), ev(10 + T, cell=2), ev(14 + T, cell=1)]
    rows = run(sig)
    assert kinds_at(rows, "region_entry") == [10]
    assert kinds_at(rows, "dwell") == [14 + T]
    # the subscriber's very first location event does not open a stay
    assert kinds_at(run([ev(0, cell=1), ev(T + 1, cell=1)]), "dwell") == []


def test_duplicates_count_once():
    sig = [ev(0, cell=7), ev(10, cell=4), ev(20, cell=7), ev(45, cell=4), ev(50, cell=7), ev(75, cell=5)]
    once = run(sig)
    twice = run(sig + [dict(e) for e in sig])
    assert once == twice
    assert kinds_at(once, "handset_store_visits") == [75]
    v = [r for r in once if r["kind"] == "handset_store_visits"][0]["context"]
    assert v == {"visits": 3, "region_ids": ["store-1", "store-1", "store-2"]}
    assert kinds_at(run(sig + [ev(100, cell=7), ev(130, cell=4)]), "handset_store_visits") == [75]  # 4th: no


def test_handset_store_visits_window_is_inclusive():
    days = P.handset_store_window_ms // MIN
    sig = [
        ev(0, cell=7),
        ev(10, cell=4),
        ev(20, cell=7),
        ev(days / 2, cell=4),
        ev(days / 2 + 10, cell=7),
        ev(days + 10, cell=4),
    ]  # exactly N days after the first visit: still counted
    assert kinds_at(run(sig), "handset_store_visits") == [days + 10]
    sig[-1] = ev(days + 10.01, cell=4)
    assert kinds_at(run(sig), "handset_store_visits") == []


def test_quota_thresholds_and_several_in_one_xdr():
    # profile 100 MB quota, 70 used -> 30 MB remaining at the start
    rows = run(xdrs=[xdr(10, 9.5), xdr(20, 1), xdr(30, 25)])
    assert kinds_at(rows, "quota_20mb") == [20]
    assert kinds_at(rows, "quota_5mb") == [30] and kinds_at(rows, "quota_0mb") == [30]
    q0 = [r for r in rows if r["kind"] == "quota_0mb"][0]["context"]
    assert q0 == {"threshold_mb": 0, "remaining_bytes": round((30 - 9.5 - 1 - 25) * MB)}
    # exactly at the threshold fires; starting below never fires again
    assert kinds_at(run(xdrs=[xdr(10, 10)]), "quota_20mb") == [10]
    assert kinds_at(run(xdrs=[xdr(10, 10), xdr(20, 1)]), "quota_20mb") == [10]
    # no profile or no quota: nothing
    assert run(xdrs=[xdr(10, 100, msisdn="13900000009")]) == []


def test_quota_resets_with_the_billing_month():
    # 2026-12-01T00:00+08:00 is 29 days after the start; the new month starts at the full quota, used = 0
    dec = 29 * 24 * 60
    rows = run(xdrs=[xdr(10, 5), xdr(dec + 10, 79), xdr(dec + 20, 2)])
    assert kinds_at(rows, "quota_20mb") == [dec + 20]  # December: 100 - 79 = 21 > 20, then 19 <= 20
    rows = run(xdrs=[xdr(dec - 1, 25)])  # 30 -> 5 in November: 20 and 5 cross together
    assert kinds_at(rows, "quota_20mb") == [dec - 1] and kinds_at(rows, "quota_5mb") == [dec - 1]


def test_abnormal_usage_once_per_utc_hour():
    # T0 is 16:00 UTC; 17:00 UTC is minute 60
    rows = run(xdrs=[xdr(5, 200), xdr(30, 200), xdr(50, 150), xdr(55, 100), xdr(65, 450), xdr(70, 60)])
    assert kinds_at(rows, "abnormal_usage") == [50, 70]
    first = [r for r in rows if r["kind"] == "abnormal_usage"][0]["context"]
    assert first == {"hour_start": T0, "bytes": 550 * MB}


def test_zero_usage_window_and_end_of_data():
    w = P.zero_usage_window_ms // MIN
    order = {
        "order_id": "o1",
        "ts": T0 + 10 * MIN,
        "msisdn": "13900000001",
        "product_id": "data_package_50",
        "product_kind": "data_package",
        "action": "subscribe",
    }
    other = dict(order, order_id="o2", product_kind="value_added", product_id="12580")
    late = [ev(w + 20, cell=7)]
    rows = run(late, [xdr(5, 1)], [order, other])
    assert kinds_at(rows, "zero_usage") == [w + 10]
    assert rows[0]["context"] == {"order_id": "o1", "product_id": "data_package_50"}
    assert run([ev(w + 9, cell=7)], [], [order]) == []  # the data ends before the window does
    assert kinds_at(run(late, [xdr(w + 10, 1)], [order]), "zero_usage") == []  # usage at the very end counts
    assert kinds_at(run(late, [xdr(w + 10.01, 1)], [order]), "zero_usage") == [w + 10]


def test_power_on_roaming_call_triggers():
    sig = [
        ev(0, cell=7),
        ev(10, "detach", cell=7),
        ev(10 + 4 * 60, "attach", cell=7),
        ev(300, "detach", cell=7),
        ev(300 + 4 * 60 - 1, "attach", cell=7),
        ev(600, "mo_call", cell=7, called_number="114"),
        ev(601, "mo_call", cell=7, called_number="10086"),
        ev(602, "mo_call", cell=7, called_number="13900000002"),
        ev(603, "mt_call", cell=7, calling_number="114"),
        ev(604, "call_forward_set", cell=7, forward_to="13900000003"),
        ev(700, vlr_plmn="45400"),
        ev(710, vlr_plmn="45400"),
        ev(800, cell=7),
        ev(900, vlr_plmn="46002"),
        ev(901, vlr_plmn="44010"),
    ]
    rows = run(sig)
    assert [(r["kind"], (r["ts"] - T0) // MIN) for r in rows] == [
        ("power_on", 250),
        ("dial_114", 600),
        ("dial_hotline", 601),
        ("call_forward_set", 604),
        ("roam_out", 700),
        ("roam_out", 901),
    ]
    assert rows[0]["context"] == {"off_minutes": 240}
    assert rows[3]["context"] == {"forward_to": "13900000003"}
    assert kinds_at(run([ev(0, vlr_plmn="45400")]), "roam_out") == []  # the first event never fires


def test_roam_in_first_event_and_after_a_long_silence():
    gap = P.roam_in_gap_ms // MIN
    foreign = dict(msisdn="447700900001", imsi="234150000000001")
    national = dict(msisdn="13810001234", imsi="460000000000042")
    sig = [
        ev(0, cell=7, **foreign),
        ev(gap - 1, cell=7, **foreign),
        ev(2 * gap, cell=7, **foreign),
        ev(5, cell=7, **national),
        ev(6, cell=7),
    ]
    rows = run(sig)
    got = [(r["msisdn"], (r["ts"] - T0) // MIN, r["context"]) for r in rows if r["kind"] == "roam_in"]
    assert got == [
        ("447700900001", 0, {"plmn": "23415", "province": None}),
        ("13810001234", 5, {"plmn": "46000", "province": "BJ"}),
        ("447700900001", 2 * gap, {"plmn": "23415", "province": None}),
    ]
    # roamers never "roam out" from our network's point of view
    assert kinds_at(run([ev(0, cell=7, **foreign), ev(1, vlr_plmn="45400", **foreign)]), "roam_out") == []


def test_handset_change_by_imsi_with_catalogue_lookup():
    known, unknown = "860000010000018", "351234560000014"
    sig = [
        ev(0, cell=7, imei=known),
        ev(5, "mo_sms", cell=7, called_number="1"),
        ev(10, "attach", cell=7, imei=known),
        ev(20, "attach", cell=7, imei=unknown),
        ev(30, "imei_check", cell=7, imei=unknown),
    ]
    rows = [r for r in run(sig) if r["kind"] == "handset_change"]
    assert len(rows) == 1 and rows[0]["ts"] == T0 + 20 * MIN
    assert rows[0]["context"] == {
        "old_imei": known,
        "new_imei": unknown,
        "old_tac": "86000001",
        "new_tac": "35123456",
        "old_brand": "Huawei",
        "old_model": "T2211",
        "old_tier": "low",
        "old_g3_capable": True,
        "new_brand": None,
        "new_model": None,
        "new_tier": None,
        "new_g3_capable": None,
    }
