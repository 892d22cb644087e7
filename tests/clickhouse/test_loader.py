"""`touchpoint load`: topics -> ClickHouse on both backends with the real broker; exact counts, conversions,
de-duplication of redelivered records, a SIGKILLed loader, and a ClickHouse server that goes away mid-load."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import orjson
import pytest
import yaml

from tests.support import TOUCHPOINT, make_settings
from touchpoint import ROOT
from touchpoint.clickhouse import backends
from touchpoint.clickhouse.loader import Loader
from touchpoint.clickhouse.rows import LOADABLE, Converter
from touchpoint.clients.kafka_io import RateLimitedProducer
from touchpoint.harness.loader_bench import measure, synthetic_records
from touchpoint.infra import stack
from touchpoint.privacy import Pseudonymiser, pseudonym_key

EXAMPLES = ROOT / "schemas" / "examples"
#: an event-time marker on the triggers topic (touchpoint.clients.kafka_io.advance_event_time): never a row
MARKER = {
    "event_id": "event-time-marker-0",
    "ts": 1,
    "msisdn": "10000",
    "trigger_id": "event-time-marker",
    "kind": "event_time_marker",
    "detected_at": 1,
    "context": {},
}
HOUR = 3_600_000
#: The ClickHouse outage the loader rides out (the loader retries every retry_max_s meanwhile).
CLICKHOUSE_OUTAGE_S = 60
#: How to count distinct records per table (the de-duplication key).
DISTINCT = {
    "triggers": "trigger_id",
    "leads": "lead_id",
    "decisions": "decision_id",
    "behaviour": "msisdn, hour_start",
    "region_metrics": "region_id, window_start",
    "outcomes": "outcome_id",
    "orders": "order_id",
    "uplift": "uplift_id",
    "guardrail": "campaign_id, ts_ms, state",
    "journey_events": "event_id",
    "console_audit": "audit_id",
    "traffic": "source, event_type, window_start",
    "dlq": "dlq_id",
}


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


# --- conversions (no broker, no ClickHouse) ---------------------------------------------------------------------


KEY = b"test-pseudonym-key"


def pseudonym(kind: str, value: str, key: bytes = KEY) -> str:
    """The keyed pseudonym, recomputed here from its definition (docs/privacy.md)."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:16]


@pytest.fixture(scope="module")
def conv():
    return Converter(make_settings(Path("/tmp/unused")), Pseudonymiser(KEY))


def test_examples_convert_to_rows(conv):
    t, row, bad = conv.convert("triggers", orjson.dumps(example("triggers")), 1)
    assert (t, bad) == ("triggers", False)
    assert row == (
        "t-9f2c1a7e44b0d3aa",
        pseudonym("msisdn", "13951234567"),  # never the number itself
        "dial_114",
        1762012812,
        1762012812345,
        1762012813,
        1762012813020,
        f'{{"called_number":"{pseudonym("msisdn", "114")}"}}',
    )
    assert not conv.lookups  # only a lead's subscriber goes to the lookup table
    _, lead, _ = conv.convert("leads", orjson.dumps(example("leads")), 1)
    assert lead[1] == pseudonym("msisdn", "13951234567")
    assert conv.lookups == [(lead[1], "13951234567", example("leads")["created_at"] // 1000)]
    conv.lookups.clear()
    assert lead[5] == ["sms"] and lead[9:11] == (1762012812, 1762012812345) and lead[15] == 0  # control false
    assert lead[16][0] == "trigger:dial_114"
    _, dec, _ = conv.convert("decisions", orjson.dumps(example("decisions")), 1)
    assert dec[9] == "audience" and dec[11] == "" and dec[12] == 0  # lead_id and deliver_at absent
    _, beh, _ = conv.convert("behaviour", orjson.dumps(example("behaviour")), 1)
    assert beh == (
        pseudonym("msisdn", "13951234567"),
        1762012800,
        3,
        1,
        450,
        2,
        120000,
        5400000,
        3312000,
        1,
        4,
        0.6,
        ["mall-001", "office-003"],
        0,
        pseudonym("imei", "356938031234562"),
        "35693803",  # the handset model (TAC) is not personal: the G3 views need it
    )
    _, rm, _ = conv.convert("region_metrics", orjson.dumps(example("region-metrics")), 1)
    products = example("region-metrics")["products"]
    assert rm[-2] == sorted(products) and rm[-1] == [products[k] for k in sorted(products)]
    _, oc, _ = conv.convert("outcomes", orjson.dumps(example("outcomes")), 1)
    assert oc[1] == "" and oc[6] == "do_not_disturb" and oc[9] == ""  # null lead_id, absent order_id
    _, order, _ = conv.convert("orders", orjson.dumps(example("orders")), 1)
    assert order == (
        "o-7-3",
        pseudonym("msisdn", "13951234567"),
        "data_package_50",
        "data_package",
        "subscribe",
        "sms",
        "",
        1762016400,
        1762016400000,
    )
    _, tr, _ = conv.convert("traffic", orjson.dumps(example("traffic")), 1)
    assert tr == (1762012800, 1762012860, "signaling", "mo_call", 412)
    value = orjson.dumps(example("dlq"))
    _, d, _ = conv.convert("dlq", value, 1)
    assert d[:6] == ("signaling", "missing_field", "msisdn", "s-7-991", 1762012812, 1762012812345)
    assert d[6].startswith('{"event_id":"s-7-991"') and d[7] == conv.convert("dlq", value, 2)[1][7]
    raw = json.loads(d[6])  # the dead letter's raw record, its personal fields pseudonymised
    original = json.loads(example("dlq")["raw"])
    assert raw == original | {"imsi": pseudonym("imsi", original["imsi"])}
    # a raw line that is not JSON keeps its shape; its long digit runs are pseudonymised
    _, bad, _ = conv.convert("dlq", orjson.dumps(example("dlq") | {"raw": "13951234567,x,12345"}), 1)
    assert bad[6] == f"#{pseudonym('msisdn', '13951234567')},x,12345"


def test_nulls_become_defaults_and_odd_times_are_bounded(conv):
    rec = example("behaviour") | {"g3_data_share": None, "regions": None, "last_imei": None, "last_tac": None}
    _, row, bad = conv.convert("behaviour", orjson.dumps(rec), 1)
    assert not bad and row[11] is None and row[12] == [] and row[14:] == ("", "")
    # a dead letter without ts (or with an implausible one) is dated by its Kafka timestamp
    for ts in (None, -5, 99_999_999_999_999):
        _, d, _ = conv.convert("dlq", orjson.dumps(example("dlq") | {"ts": ts}), 1_700_000_000_123)
        assert d[4] == 1_700_000_000 and d[5] == ts
    _, t, _ = conv.convert("triggers", orjson.dumps(example("triggers") | {"ts": -1}), 1)
    assert t[3] == 0


@pytest.mark.parametrize(
    "topic, value, reason, detail",
    [
        ("triggers", b"{not json", "bad_json", "triggers: not JSON"),
        ("triggers", b"[1, 2]", "bad_json", "triggers: not a JSON object"),
        ("leads", b"", "bad_json", "leads: empty record"),
        (
            "triggers",
            orjson.dumps({k: v for k, v in example("triggers").items() if k != "msisdn"}),
            "missing_field",
            "triggers: msisdn",
        ),
        (
            "behaviour",
            orjson.dumps(example("behaviour") | {"calls_mo": "three"}),
            "invalid_value",
            "behaviour: calls_mo (expected an integer)",
        ),
        ("behaviour", orjson.dumps(example("behaviour") | {"sms": -1}), "invalid_value", "behaviour: sms"),
        ("dlq", orjson.dumps({"source": "x", "reason": "late"}), "missing_field", "dlq: raw"),
    ],
)
def test_bad_records_become_loader_dead_letters(conv, topic, value, reason, detail):
    t, row, bad = conv.convert(topic, value, 1_700_000_000_000)
    assert t == "dlq" and bad
    assert row[0] == "loader" and row[1] == reason and row[2].startswith(detail)
    assert row[4] == 1_700_000_000 and row[6] == hidden(value.decode())


#: field -> kind of number, as docs/privacy.md lists them
PERSONAL = {"msisdn": "msisdn", "called_number": "msisdn", "calling_number": "msisdn", "forward_to": "msisdn"}
PERSONAL |= {"imsi": "imsi", "imei": "imei", "old_imei": "imei", "new_imei": "imei", "last_imei": "imei"}


def hide(v, key: bytes = KEY):
    """``v`` with the values of personal fields (at any depth) replaced by their pseudonyms."""
    if isinstance(v, dict):
        return {
            k: pseudonym(PERSONAL[k], str(x), key) if k in PERSONAL and x is not None else hide(x, key)
            for k, x in v.items()
        }
    return [hide(x, key) for x in v] if isinstance(v, list) else v


def hidden(text: str) -> str:
    """A bad record's text as the dlq table keeps it: verbatim unless it is JSON with subscriber numbers."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return text if hide(parsed) == parsed else json.dumps(hide(parsed), separators=(",", ":"))


def test_event_time_markers_are_skipped(conv):
    assert conv.convert("triggers", orjson.dumps(MARKER), 1) is None


def test_unknown_topic_keys_are_refused(tmp_path):
    with pytest.raises(ValueError, match="loader.topics: unknown topic key 'signaling'"):
        Loader(make_settings(tmp_path, loader={"topics": ["triggers", "signaling"]}))


def test_defaults_follow_the_tables_and_the_group_prefix(tmp_path):
    """Without settings the loader reads every topic it has a table for, as <kafka.group_prefix>-loader; the setting
    and then --group override the group."""
    s = make_settings(tmp_path)
    default = Loader(s)
    assert sorted(default.table_of.values()) == sorted(LOADABLE) and default.group_id == "touchpoint-loader"
    assert Loader(make_settings(tmp_path, kafka={"group_prefix": "tp"})).group_id == "tp-loader"
    assert Loader(make_settings(tmp_path, loader={"group_id": "g1"})).group_id == "g1"
    assert Loader(make_settings(tmp_path, loader={"group_id": "g1"}), group="g2").group_id == "g2"
    only = Loader(make_settings(tmp_path, loader={"topics": ["leads"]}))
    assert only.table_of == {s.topics.leads: "leads"}


# --- helpers for the Kafka tests --------------------------------------------------------------------------------


def loader_settings(tmp_path: Path, broker: str, url: str, partitions: dict[str, int] | None = None, **loader):
    """Settings with fresh topics, group and database; creates the topics."""
    u = uuid.uuid4().hex[:8]
    topics = {k: f"{k.replace('_', '-')}-{u}" for k in LOADABLE}
    cfg = {"group_id": f"loader-{u}", "batch_seconds": 0.5, "retry_initial_s": 0.2, "retry_max_s": 2.0} | loader
    s = make_settings(
        tmp_path / f"work-{u}", broker, topics=topics, loader=cfg, clickhouse={"url": url, "database": f"tp_{u}"}
    )
    for key, name in topics.items():
        stack.create_topics(broker, [name], (partitions or {}).get(key, 1))
    return s


def write_config(s, path: Path) -> Path:
    data = {
        "paths": {"work_dir": str(s.paths.work_dir)},
        "kafka": {"bootstrap": s.kafka.bootstrap},
        "topics": s.topics.model_dump(),
        "loader": s.loader.model_dump(),
        "clickhouse": {"url": s.clickhouse.url, "database": s.clickhouse.database},
    }
    path.write_text(yaml.safe_dump(data))
    return path


def produce(s, records, rate: float | None = None) -> None:
    with RateLimitedProducer(s, rate=rate) as p:
        for key, value in records:
            m = re.search(rb'"msisdn":"(\d+)"', value)
            p.send(key, value, key=m.group(1) if m else None)


def query(s, sql: str):
    # open and close each time: the test process may need other chdb directories (one per process at a time)
    with backends.connect(s) as b:
        return b.query(sql)


def counts(s, final: bool = False) -> dict[str, int]:
    db = s.clickhouse.database
    return {t: query(s, f"SELECT count() FROM {db}.{t}{' FINAL' if final else ''}")[0][0] for t in DISTINCT}


def distinct(s) -> dict[str, int]:
    db = s.clickhouse.database
    return {t: query(s, f"SELECT uniqExact({key}) FROM {db}.{t}")[0][0] for t, key in DISTINCT.items()}


def dataset(n: int, seed: int = 3):
    """n synthetic records plus bad ones and a marker: (records, expected rows per table, bad per topic)."""
    records = [(k, orjson.dumps(r)) for k, r in synthetic_records(n, seed)]
    bad = [
        ("triggers", b"{not json"),
        ("behaviour", orjson.dumps({"msisdn": "13900000000", "hour_start": 1})),
        ("leads", orjson.dumps(example("leads") | {"control": "maybe"})),
    ]
    marker = (
        "triggers",
        orjson.dumps(MARKER),
    )
    expected = Counter(k for k, _ in records)
    expected["dlq"] += len(bad)
    return records + bad + [marker], dict(expected), Counter(k for k, _ in bad)


@pytest.fixture(params=["chdb", "server"])
def url(request, tmp_path):
    if request.param == "chdb":
        return f"chdb://{tmp_path / 'chdb'}"
    return f"clickhouse://127.0.0.1:{request.getfixturevalue('clickhouse_server')}"


# --- the loader on both backends --------------------------------------------------------------------------------


@pytest.mark.slow
def test_load_is_exact_and_replays_de_duplicate(broker, url, tmp_path):
    s = loader_settings(tmp_path, broker, url, partitions={"behaviour": 2}, batch_rows=700)
    records, expected, bad = dataset(3000)
    produce(s, records)
    stats = Loader(s, until_idle=4, max_seconds=240).run()
    assert stats.unloaded == 0 and stats.markers == 1 and dict(stats.bad) == dict(bad)
    assert dict(stats.rows) == expected
    assert counts(s) == {t: expected[t] for t in DISTINCT}
    db = s.clickhouse.database

    # spot checks of the conversions, against the records as produced
    good = [(k, orjson.loads(v)) for k, v in records[:3000]]
    recs = {k: [r for kk, r in good if kk == k] for k in DISTINCT}
    key = pseudonym_key(s)  # this installation's own, made by the loader's first run
    b0 = recs["behaviour"][0]
    row = query(
        s,
        f"SELECT toUnixTimestamp(hour_start), calls_mo, bytes_down, g3_data_share, regions, roaming, "
        f"last_tac FROM {db}.behaviour WHERE msisdn = '{pseudonym('msisdn', b0['msisdn'], key)}' "
        f"AND hour_start = toDateTime({b0['hour_start'] // 1000})",
    )
    assert row == [
        (
            b0["hour_start"] // 1000,
            b0["calls_mo"],
            b0["bytes_down"],
            pytest.approx(b0["g3_data_share"]),
            b0["regions"],
            int(b0["roaming"]),
            b0["last_tac"],
        )
    ]
    t0 = recs["triggers"][0]
    assert query(
        s,
        f"SELECT toUnixTimestamp(ts), ts_ms, toUnixTimestamp(detected_at), context FROM {db}.triggers "
        f"WHERE trigger_id = '{t0['trigger_id']}'",
    ) == [(t0["ts"] // 1000, t0["ts"], t0["detected_at"] // 1000, orjson.dumps(hide(t0["context"], key)).decode())]
    # privacy: no subscriber's number in clear in any table; the lookup table pairs exactly the leads' subscribers
    numbers = {r["msisdn"] for _, r in good if "msisdn" in r}
    for table in ("triggers", "leads", "decisions", "behaviour", "outcomes", "orders", "journey_events"):
        stored = {m for (m,) in query(s, f"SELECT DISTINCT msisdn FROM {db}.{table}")}
        want = {pseudonym("msisdn", r["msisdn"], key) for r in recs[table]}
        assert stored == want and not stored & numbers, table
    texts = [t for (t,) in query(s, f"SELECT concat(raw, ' ', detail) FROM {db}.dlq")]
    texts += [c for (c,) in query(s, f"SELECT context FROM {db}.triggers")]
    assert not [n for n in numbers if any(n in t for t in texts)]
    assert set(query(s, f"SELECT pseudonym, msisdn FROM {db}_pii.subscriber_lookup FINAL")) == {
        (pseudonym("msisdn", r["msisdn"], key), r["msisdn"]) for r in recs["leads"]
    }
    r0 = recs["region_metrics"][0]
    assert query(
        s,
        f"SELECT product_names, product_counts, region_name FROM {db}.region_metrics "
        f"WHERE region_id = '{r0['region_id']}'",
    ) == [(sorted(r0["products"]), [r0["products"][k] for k in sorted(r0["products"])], "")]
    assert query(s, f"SELECT reason, detail FROM {db}.dlq WHERE source = 'loader' ORDER BY detail") == [
        ("missing_field", "behaviour: calls_mo"),
        ("invalid_value", "leads: control (expected a boolean)"),
        ("bad_json", "triggers: not JSON"),
    ]
    # progress rows: the committed offsets reach the end of every partition
    ends = dict(
        ((t, p), o)
        for t, p, o in query(
            s, f"SELECT topic, partition, max(committed) FROM {db}.loader_progress GROUP BY topic, partition"
        )
    )
    assert sum(ends.values()) == len(records)
    assert {t for t, _ in ends} == set(s.topics.model_dump()[k] for k in LOADABLE)

    # everything again (an upstream job redelivering after a restart): the same group loads the copies ...
    produce(s, records)
    again = Loader(s, until_idle=4, max_seconds=240).run()
    assert again.total == sum(expected.values())
    raw = counts(s)
    assert all(raw[t] >= expected[t] for t in DISTINCT)
    # ... and every de-duplicated view is exact
    assert counts(s, final=True) == {t: expected[t] for t in DISTINCT}
    assert distinct(s) == {t: expected[t] for t in DISTINCT}
    assert query(s, f"SELECT sum(records), uniqExactMerge(distinct_records) FROM {db}.dlq_counts") == [
        (2 * expected["dlq"], expected["dlq"])
    ]
    beh = recs["behaviour"]
    newest = max(r["hour_start"] for r in beh)
    window = [r for r in beh if r["hour_start"] > newest - 48 * HOUR]
    assert query(s, f"SELECT count(), sum(active_hours), sum(calls_mo), sum(bytes_up) FROM {db}.behaviour_48h") == [
        (
            len({r["msisdn"] for r in window}),
            len(window),
            sum(r["calls_mo"] for r in window),
            sum(r["bytes_up"] for r in window),
        )
    ]


# --- a loader killed mid-way, restarted ----------------------------------------------------------------------


def watch(proc: subprocess.Popen, lines: list[str]) -> threading.Thread:
    def pump():
        for line in proc.stderr:
            lines.append(line)

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    return t


def loaded_rows(lines: list[str]) -> int:
    got = [int(m.group(1).replace(",", "")) for ln in lines if (m := re.match(r"load: ([\d,]+) rows", ln))]
    return max(got, default=0)


def start_loader(cfg: Path, *extra: str) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen(
        [TOUCHPOINT, "load", "--config", str(cfg), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    watch(proc, lines)
    return proc, lines


@pytest.mark.slow
def test_a_killed_loader_restarts_without_losses(broker, url, tmp_path):
    s = loader_settings(tmp_path, broker, url, batch_rows=300, batch_seconds=0.2)
    records = [(k, orjson.dumps(r)) for k, r in synthetic_records(24_000, seed=9)]
    expected = Counter(k for k, _ in records)
    produce(s, records)
    cfg = write_config(s, tmp_path / "load.yaml")

    proc, lines = start_loader(cfg, "--until-idle", "6")
    deadline = time.monotonic() + 180
    while loaded_rows(lines) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, "".join(lines)
    partial = sum(counts(s, final=True).values())
    assert 0 < partial < len(records), f"not killed mid-way: {partial} rows"

    proc, lines = start_loader(cfg, "--until-idle", "6")
    assert proc.wait(300) == 0, "".join(lines)
    assert counts(s, final=True) == {t: expected[t] for t in DISTINCT}
    assert distinct(s) == {t: expected[t] for t in DISTINCT}
    # the restart resumed from the committed offsets instead of reloading everything
    assert loaded_rows(lines) < len(records)


@pytest.mark.slow
def test_sigterm_inserts_and_commits_what_was_read(broker, clickhouse_server, tmp_path):
    # a long batch window: on SIGTERM the records read so far are still only in the loader's memory
    s = loader_settings(tmp_path, broker, f"clickhouse://127.0.0.1:{clickhouse_server}", batch_seconds=120)
    records = [(k, orjson.dumps(r)) for k, r in synthetic_records(500, seed=2)]
    produce(s, records)
    cfg = write_config(s, tmp_path / "load.yaml")
    proc, lines = start_loader(cfg)
    deadline = time.monotonic() + 60
    while "group" not in "".join(lines) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(8)  # group join (~3 s on Tansu) and the first fetch
    assert counts(s)["behaviour"] == 0  # nothing inserted yet
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0, "".join(lines)
    assert proc.stdout.read().startswith("loaded 500 rows into server 18.16")
    assert sum(counts(s).values()) == 500
    # the offsets were committed: a second run has nothing to load
    again = subprocess.run(
        [TOUCHPOINT, "load", "--config", str(cfg), "--until-idle", "4", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0 and again.stdout.startswith("loaded 0 rows"), again.stdout + again.stderr


# --- ClickHouse goes away while records keep coming --------------------------------------------------------------


@pytest.mark.slow
def test_loader_waits_for_clickhouse_and_catches_up(broker, tmp_path):
    run, data = tmp_path / "ch-run", tmp_path / "ch-data"
    tcp, http = stack.free_port(), stack.free_port()
    stack.start_clickhouse(run, data, tcp, http)
    try:
        s = loader_settings(tmp_path, broker, f"clickhouse://127.0.0.1:{tcp}", batch_rows=500, batch_seconds=0.3)
        records = [(k, orjson.dumps(r)) for k, r in synthetic_records(9_000, seed=5)]
        expected = Counter(k for k, _ in records)
        proc, lines = start_loader(write_config(s, tmp_path / "load.yaml"), "--until-idle", "8")
        producer = threading.Thread(target=produce, args=(s, records, 600.0))  # ~15 s of records
        producer.start()
        deadline = time.monotonic() + 120
        while loaded_rows(lines) == 0 and time.monotonic() < deadline:
            assert proc.poll() is None, "".join(lines)
            time.sleep(0.1)
        assert stack.stop(run, "clickhouse", "clickhouse")
        time.sleep(CLICKHOUSE_OUTAGE_S)  # down for a minute while records keep arriving, then all are in Kafka
        stack.start_clickhouse(run, data, tcp, http)
        back = time.monotonic()
        want = {t: expected[t] for t in DISTINCT}
        while counts(s, final=True) != want and time.monotonic() < back + 120:
            time.sleep(0.5)
        recovered = time.monotonic() - back
        print(f"\nClickHouse down {CLICKHOUSE_OUTAGE_S} s: every row loaded {recovered:.1f} s after it came back")
        producer.join(120)
        assert proc.wait(300) == 0, "".join(lines)
        out = "".join(lines) + proc.stdout.read()
        assert re.search(r"insert \d+ rows into [\w.]+ failed: .*; retry 1 in 0\.2 s", out), out
        assert re.search(r"ok after \d+ retries", out), out
        assert counts(s, final=True) == want  # nothing lost, nothing twice (FINAL: redelivered rows replace)
        assert distinct(s) == want
    finally:
        stack.stop(run, "clickhouse", "clickhouse")


# --- throughput (the lead calls measure() from `make bench`) ----------------------------------------------------


@pytest.mark.slow
def test_measure_reports_rows_per_second(broker, url, tmp_path):
    s = make_settings(tmp_path / "w", broker)
    s.paths.work_dir.mkdir(parents=True)
    result = measure(s, url, records=4000)
    assert result["rows"] == 4000 and result["rows_per_s"] > 0
    assert result["backend"].startswith("chdb" if url.startswith("chdb") else "server")
