"""ingest: the valid/DLQ split is right, loses nothing, and is the same in replay and streaming."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.support import make_settings
from touchpoint.clients.kafka_io import RateLimitedProducer, wait_for_total
from touchpoint.runner.embedded import replay, start, wait_running
from touchpoint.schemas import errors

pytestmark = pytest.mark.slow

#: the raw inputs ingest reads; each has a ``<topic>-normalised`` output
RAW = ("signaling", "xdr", "orders")

HANDWRITTEN = {
    "signaling": [
        (
            '{"event_id":"s1","event_type":"mo_call","ts":1762012800000,"msisdn":"13900000001","imsi":"460001234567890",'
            '"imei":"356938031234567","lac":4101,"cell_id":4101001,"rat":"g3","called_number":"114"}',
            None,
        ),
        (
            '{"event_id":"s2","event_type":"location_update","ts":1762012860000,"msisdn":"13900000001",'
            '"imsi":"460001234567890","cell_id":4101002,"rat":"LTE"}',
            None,
        ),
        ("not json at all", ("bad_json", "not a JSON object")),
        ('["an", "array"]', ("bad_json", "not a JSON object")),
        (
            '{"event_id":"s3","event_type":"teleport","ts":1762012860000,"msisdn":"13900000001","imsi":"460001234567890"}',
            ("unknown_event_type", "teleport"),
        ),
        (
            '{"event_id":"s4","event_type":"mo_call","ts":1762012860000,"msisdn":"13900000001","imsi":"460001234567890"}',
            ("missing_field", "called_number"),
        ),
        (
            '{"event_id":"s5","event_type":"attach","ts":1762012860,"msisdn":"13900000001","imsi":"460001234567890"}',
            ("ts_out_of_range", "1762012860"),
        ),
        (
            '{"event_id":"s6","event_type":"attach","ts":1762012900000,"msisdn":"13900000001","imsi":"460001234567890",'
            '"rat":"WIMAX"}',
            ("invalid_value", "rat"),
        ),
        (
            '{"event_id":"s7","event_type":"attach","ts":1762012900000,"imsi":"460001234567890"}',
            ("missing_field", "msisdn"),
        ),
        (
            '{"event_id":"s8","event_type":"attach","ts":"soon","msisdn":"13900000001","imsi":"460001234567890"}',
            ("invalid_value", "ts"),
        ),
        (
            '{"event_id":"s9","event_type":"detach","ts":4102444800000,"msisdn":"13900000001","imsi":"460001234567890"}',
            ("ts_out_of_range", "4102444800000"),
        ),
        (
            '{"event_id":"s10","event_type":"detach","ts":1762012900000,"msisdn":"1390000000x","imsi":"460001234567890"}',
            ("invalid_value", "msisdn"),
        ),
    ],
    "xdr": [
        (
            '{"event_id":"x1","ts":1762012800000,"msisdn":"13900000001","imsi":"460001234567890","rat":"LTE",'
            '"bytes_up":100,"bytes_down":2000,"app":"video"}',
            None,
        ),
        (
            '{"event_id":"x2","ts":1762012800000,"msisdn":"13900000001","imsi":"460001234567890","rat":"LTE",'
            '"bytes_up":-1,"bytes_down":2000}',
            ("invalid_value", "bytes_up"),
        ),
        (
            '{"event_id":"x3","ts":1762012800000,"msisdn":"13900000001","imsi":"460001234567890","rat":"LTE","by',
            ("bad_json", "not a JSON object"),
        ),
        (
            '{"event_id":"x4","ts":1762012800000,"msisdn":"13900000001","imsi":"460001234567890","bytes_up":1,'
            '"bytes_down":2}',
            ("missing_field", "rat"),
        ),
    ],
    "orders": [
        (
            '{"order_id":"o1","ts":1762012800000,"msisdn":"13900000001","product_id":"data_package_50",'
            '"product_kind":"data_package","action":"subscribe","channel":"sms","lead_id":null}',
            None,
        ),
        (
            '{"order_id":"o2","ts":1762012800000,"msisdn":"13900000001","product_id":"data_package_50",'
            '"product_kind":"data_package","action":"upgrade"}',
            ("unknown_action", "upgrade"),
        ),
        (
            '{"order_id":"o3","ts":1762012800000,"msisdn":"13900000001","product_id":"data_package_50",'
            '"product_kind":"spaceship","action":"subscribe"}',
            ("invalid_value", "product_kind"),
        ),
        (
            '{"order_id":"o4","ts":1762012800000,"msisdn":"13900000001","product_kind":"data_package",'
            '"action":"subscribe"}',
            ("missing_field", "product_id"),
        ),
        (
            '{"order_id":"o5","ts":1762012800000,"msisdn":"13900000001","product_id":"data_package_50",'
            '"product_kind":"data_package","action":"subscribe","lead_id":7}',
            ("invalid_value", "lead_id"),
        ),
    ],
}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_handwritten_defects_get_exact_reasons(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    for topic, rows in HANDWRITTEN.items():
        (inp / f"{topic}.jsonl").write_text("".join(line + "\n" for line, _ in rows))
    out = tmp_path / "out"
    replay("ingest", make_settings(tmp_path / "work"), inp, out)
    dlq = {(r["source"], r["raw"]): (r["reason"], r["detail"]) for r in _lines(out / "dlq.jsonl")}
    expected_dlq = {(t, line): want for t, rows in HANDWRITTEN.items() for line, want in rows if want}
    assert dlq == expected_dlq
    sig = _lines(out / "signaling-normalised.jsonl")
    assert sorted(r["event_id"] for r in sig) == ["s1", "s2"]
    s1 = next(r for r in sig if r["event_id"] == "s1")
    assert s1["rat"] == "G3" and s1["cell_id"] == 4101001 and s1["called_number"] == "114"  # typed, normalised
    assert [r["event_id"] for r in _lines(out / "xdr-normalised.jsonl")] == ["x1"]
    assert [r["order_id"] for r in _lines(out / "orders-normalised.jsonl")] == ["o1"]
    # a dead order keeps its id (the DLQ's event_id) and ts
    assert {r["event_id"] for r in _lines(out / "dlq.jsonl") if r["source"] == "orders"} == {"o2", "o3", "o4", "o5"}


def _expected_valid(path: Path, schema: str, settings) -> tuple[list[dict], list[str]]:
    """Independent oracle: JSON object + JSON Schema + time bounds. Returns (valid records, invalid lines)."""
    valid, invalid = [], []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            invalid.append(line)
            continue
        if isinstance(rec, dict) and isinstance(rec.get("rat"), str):
            rec["rat"] = rec["rat"].strip().upper()
        ok = (
            isinstance(rec, dict)
            and not errors(schema, rec)
            and settings.ingest.ts_min_ms <= rec["ts"] < settings.ingest.ts_max_ms
        )
        if ok:
            valid.append({k: v for k, v in rec.items() if v is not None})
        else:
            invalid.append(line)
    return valid, invalid


def _key(rec: dict) -> str:
    return json.dumps(rec, sort_keys=True)


@pytest.fixture(scope="module")
def city_replay(dense_city, tmp_path_factory):
    out = tmp_path_factory.mktemp("ingest-replay")
    settings = make_settings(tmp_path_factory.mktemp("work"))
    replay("ingest", settings, dense_city, out)
    return settings, out


def test_simulated_city_split_matches_schema_oracle_and_simulator(dense_city, city_replay):
    settings, out = city_replay
    dlq = _lines(out / "dlq.jsonl")
    for topic in RAW:
        valid, invalid = _expected_valid(dense_city / f"{topic}.jsonl", topic, settings)
        got = _lines(out / f"{topic}-normalised.jsonl")
        assert sorted(map(_key, got)) == sorted(map(_key, valid))
        assert sum(1 for r in dlq if r["source"] == topic) == len(invalid)
    # nothing lost: every raw line is either normalised or a dead letter
    raw = sum(len((dense_city / f"{t}.jsonl").read_text().splitlines()) for t in RAW)
    normalised = sum(len(_lines(out / f"{t}-normalised.jsonl")) for t in RAW)
    assert normalised + len(dlq) == raw
    # the DLQ reasons are exactly the defects the simulator planted
    planted = json.loads((dense_city / "summary.json").read_text())["malformed"]
    assert Counter(r["reason"] for r in dlq) == Counter({k: v for k, v in planted.items() if v})


def test_streaming_gives_the_same_split_as_replay(dense_city, city_replay, broker, tmp_path):
    _, replay_out = city_replay
    outputs = ("signaling_normalised", "xdr_normalised", "orders_normalised", "dlq")
    topics = {k: f"ingest-test-{k}" for k in (*RAW, *outputs)}
    settings = make_settings(tmp_path / "work", broker, topics=topics, kafka={"partitions": 2})  # order-insensitive
    from touchpoint.infra import stack

    stack.create_topics(broker, list(topics.values()), settings.kafka.partitions)
    with RateLimitedProducer(settings) as producer:
        for topic in RAW:
            for line in (dense_city / f"{topic}.jsonl").read_bytes().splitlines():
                producer.send(topic, line)
    job = start("ingest", settings)
    try:
        wait_running(job, timeout=120)
        got = wait_for_total(broker, [topics[k] for k in outputs], producer.sent, timeout_s=240)
    finally:
        job.cancel()
    for key in outputs:
        streamed = sorted(_key(json.loads(v)) for v in got[topics[key]])
        replayed = sorted(map(_key, _lines(replay_out / f"{key.replace('_', '-')}.jsonl")))  # default topic names
        assert streamed == replayed, key


# --- the rules' two homes agree: udfs/ingest_rules.py (specification) and the JVM functions the job runs ---

_SIG = {
    "event_id": "e",
    "event_type": "mo_call",
    "ts": 1762012800000,
    "msisdn": "13900000001",
    "imsi": "460001234567890",
    "imei": "356938031234567",
    "lac": 4101,
    "cell_id": 4101001,
    "rat": " g3",
    "called_number": "114",
    "duration_s": 30,
}
_XDR = {
    "event_id": "x",
    "ts": 1762012800000,
    "msisdn": "13900000001",
    "imsi": "460001234567890",
    "rat": "lte",
    "apn": "cmnet",
    "bytes_up": 1,
    "bytes_down": 2,
}
_ORDER = {
    "order_id": "o",
    "ts": 1762012800000,
    "msisdn": "13900000001",
    "product_id": "data_package_50",
    "product_kind": "data_package",
    "action": "subscribe",
    "channel": "sms",
}
#: values a producer may send in any field: wrong types, bounds, unicode, nesting
_ODD_VALUES = [
    "1762012800000",
    1.5,
    1.0,
    True,
    None,
    [1, 2],
    {"a": {"b": [None]}},
    -1,
    0,
    2**63 - 1,
    2**63,
    2**64 - 1,
    10**20,
    -(2**63) - 1,
    "",
    " LTE\u00a0",
    "G3",
    "teleport",
    "unsubscribe",
    "trial",
    "1" * 5000,
    "\u4e2d\u6587",
    "13900000001",
    "460001234567890",
]
#: whole lines where two JSON parsers may part ways
_ODD_LINES = [
    '{"event_id":"d1","ts":"x","ts":1762012800000,"msisdn":"13900000001","imsi":"460001234567890",'
    '"rat":"LTE","bytes_up":1,"bytes_down":2}',
    '{"event_id":"d2","ts":1762012800000,"msisdn":"13900000001","imsi":"460001234567890","rat":"LTE",'
    '"bytes_up":1,"bytes_down":2} trailing',
    '{"event_id":"d3","ts":1762012800000,"msisdn":"13900000001","imsi":"460001234567890","rat":"LTE",'
    '"bytes_up":NaN,"bytes_down":2}',
    '{"event_id":"d4","ts":1762012800000,"msisdn":"13900000001","imsi":"460001234567890","rat":"LTE",'
    '"bytes_up":1,"bytes_down":2,"extra":1e400}',
    '{"event_id":"d5\\ud800","ts":1762012800000,"msisdn":"13900000001","imsi":"460001234567890","rat":"LTE",'
    '"bytes_up":1,"bytes_down":2}',
    '{"event_id":"d6\\ud83d\\ude00","ts":1762012800000,"msisdn":"13900000001","imsi":"460001234567890",'
    '"rat":"LTE","bytes_up":1,"bytes_down":2,"deep":' + "[" * 200 + "]" * 200 + "}",
    '{"event_id":"d7","ts":-0,"msisdn":"13900000001","imsi":"460001234567890","rat":"LTE","bytes_up":1E2,'
    '"bytes_down":2}',
    "null",
    "123",
    '"a string"',
    "{}",
    " " * 3 + '{"event_id":"d8","ts":1762012800000,"msisdn":"13900000001","imsi":"460001234567890","rat":"LTE",'
    '"bytes_up":1,"bytes_down":2}   ',
]


def _corpus(city: Path) -> dict[str, list[str]]:
    """Every field of a valid record replaced by every odd value, the odd lines, and the city's own lines."""
    lines: dict[str, list[str]] = {"signaling": [], "xdr": list(_ODD_LINES), "orders": []}
    for topic, good in (("signaling", _SIG), ("xdr", _XDR), ("orders", _ORDER)):
        for i, field_name in enumerate([*good, "event_type", "vlr_plmn", "forward_to", "app", "lead_id"]):
            for j, value in enumerate(_ODD_VALUES):
                rec = dict(good, event_id=f"{topic[0]}{i}-{j}")
                rec[field_name] = value
                lines[topic].append(json.dumps(rec, ensure_ascii=False))
        lines[topic] += (city / f"{topic}.jsonl").read_text().splitlines()[:400]
    return lines


def test_jvm_functions_apply_exactly_the_python_rules(small_city, tmp_path):
    from udfs.ingest_rules import ORDERS_FIELDS, REASONS, SIGNALING_FIELDS, XDR_FIELDS, IngestRules

    settings = make_settings(tmp_path / "work")
    corpus = _corpus(small_city)
    inp = tmp_path / "in"
    inp.mkdir()
    for topic, lines in corpus.items():
        (inp / f"{topic}.jsonl").write_text("".join(line + "\n" for line in lines))
    out = tmp_path / "out"
    replay("ingest", settings, inp, out)

    from touchpoint.schemas import enum

    rules = IngestRules(
        settings.ingest.ts_min_ms,
        settings.ingest.ts_max_ms,
        frozenset(enum("signaling", "event_type")),
        frozenset(enum("signaling", "rat")),
        frozenset(enum("orders", "action")),
        frozenset(enum("orders", "product_kind")),
    )
    want_valid: dict[str, list[str]] = {t: [] for t in RAW}
    want_dlq = []
    for topic, fields, check in (
        ("signaling", SIGNALING_FIELDS, rules.check_signaling),
        ("xdr", XDR_FIELDS, rules.check_xdr),
        ("orders", ORDERS_FIELDS, rules.check_orders),
    ):
        for line in corpus[topic]:
            *values, reason, detail, raw = check(line)
            rec = {f: v for f, v in zip(fields, values) if v is not None}
            if reason is None:
                want_valid[topic].append(_key(rec))
            else:
                dlq = {"source": topic, "reason": reason, "detail": detail, "raw": raw}
                kept = {"event_id": rec.get(fields[0]), "ts": rec.get("ts")}  # the record's id and ts
                want_dlq.append(_key(dlq | {k: v for k, v in kept.items() if v is not None}))
    for topic in RAW:
        assert sorted(map(_key, _lines(out / f"{topic}-normalised.jsonl"))) == sorted(want_valid[topic]), topic
    assert sorted(map(_key, _lines(out / "dlq.jsonl"))) == sorted(want_dlq)
    # the corpus exercises every reason and both outcomes
    assert {json.loads(k)["reason"] for k in want_dlq} == set(REASONS)
    assert all(want_valid.values())


def test_a_raw_lines_event_time_is_its_checked_ts(small_city, tmp_path):
    """The event time every job takes from a raw line (sql/tables/<topic>_raw.sql, the JVM's *_time functions) is,
    line by line, udfs.ingest_rules.event_time of the Python rules' check: its ts when valid, none (the epoch,
    which moves no watermark) when not. The check it reuses from the watermark generator is the same."""
    from datetime import UTC, datetime

    from jobs.ingest import read_raw, rules
    from touchpoint.flink.pipeline import Pipeline
    from udfs.ingest_rules import FIELDS, event_time

    settings = make_settings(tmp_path / "work")
    corpus = _corpus(small_city)
    inp = tmp_path / "in"
    inp.mkdir()
    for topic, lines in corpus.items():
        (inp / f"{topic}.jsonl").write_text("".join(line + "\n" for line in lines))
    p = Pipeline(settings=settings, mode="replay", job_name="event-time", input_dir=inp, output_dir=tmp_path / "out")
    read_raw(p, *RAW)
    checks = rules(settings)
    for topic in RAW:
        check = getattr(checks, f"check_{topic}")
        got = sorted(
            (line, int(datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp() * 1000))
            for line, at in p.t_env.execute_sql(f"SELECT line, CAST(rowtime AS STRING) FROM {topic}_raw").collect()
        )
        want = sorted((line, event_time(check(line), FIELDS[topic]) or 0) for line in corpus[topic])
        assert got == want, topic
        assert {at for _, at in want} - {0}, topic  # valid lines in the corpus
        # the checked view's ts is the same as the event time of a valid line
        checked = p.t_env.execute_sql(
            f"SELECT ts, CAST(rowtime AS STRING) FROM {topic}_checked WHERE reason IS NULL"
        ).collect()
        for ts, at in checked:
            assert ts == int(datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp() * 1000)


def test_the_benchmark_baseline_copies_every_raw_line_unchanged(small_city, tmp_path):
    out = tmp_path / "out"
    replay("passthrough", make_settings(tmp_path / "work"), small_city, out)
    raw = [x for topic in ("signaling", "xdr") for x in (small_city / f"{topic}.jsonl").read_text().splitlines()]
    assert sorted((out / "bench-passthrough.jsonl").read_text().splitlines()) == sorted(raw)
