"""ClickHouse: the migration files on both backends (embedded chdb and the Debian 18.16 server), the table
contract the dashboards code against, the rollups, retention and reference data."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import TOUCHPOINT, make_settings
from touchpoint.clickhouse import backends, migrations, retention
from touchpoint.clickhouse.reference import load_reference

HOUR = 3600

#: The contract (docs/clickhouse.md): table -> columns every backend must have, with these types.
CONTRACT = {
    "triggers": {
        "trigger_id": "String",
        "msisdn": "String",
        "kind": "String",
        "ts": "DateTime",
        "ts_ms": "Int64",
        "detected_at": "DateTime",
        "context": "String",
    },
    "leads": {
        "lead_id": "String",
        "msisdn": "String",
        "campaign_id": "String",
        "offer_id": "String",
        "channel": "String",
        "channels": "Array(String)",
        "message": "String",
        "trigger_id": "String",
        "trigger_kind": "String",
        "trigger_ts": "DateTime",
        "created_at": "DateTime",
        "deliver_at": "DateTime",
        "expires_at": "DateTime",
        "control": "UInt8",
        "reasons": "Array(String)",
        "variant_id": "String",
    },
    "decisions": {
        "decision_id": "String",
        "trigger_id": "String",
        "trigger_kind": "String",
        "msisdn": "String",
        "campaign_id": "String",
        "trigger_ts": "DateTime",
        "decided_at": "DateTime",
        "result": "String",
        "reason": "String",
        "detail": "String",
        "lead_id": "String",
    },
    "behaviour": {
        "msisdn": "String",
        "hour_start": "DateTime",
        **{
            c: "UInt64"
            for c in (
                "calls_mo",
                "calls_mt",
                "call_seconds",
                "sms",
                "bytes_up",
                "bytes_down",
                "g3_bytes",
                "hotline_dials",
                "distinct_cells",
            )
        },
        "g3_data_share": "Nullable(Float64)",
        "regions": "Array(String)",
        "roaming": "UInt8",
        "last_imei": "String",
        "last_tac": "String",
    },
    "handset_snapshot": {"msisdn": "String", "tac": "String", "updated": "DateTime"},
    "handsets": {"tac": "String", "brand": "String", "model": "String", "tier": "String", "g3_capable": "UInt8"},
    "regions": {
        "region_id": "String",
        "name": "String",
        "kind": "String",
        "watched": "UInt8",
        "lat": "Float64",
        "lon": "Float64",
    },
    "region_metrics": {
        "region_id": "String",
        "region_name": "String",
        "region_kind": "String",
        "lat": "Float64",
        "lon": "Float64",
        "window_start": "DateTime",
        "window_end": "DateTime",
        "subscribers": "UInt64",
        "g3_subscribers": "UInt64",
        "g3_capable": "UInt64",
        "opportunities": "UInt64",
        "g3_coverage": "Float64",
        "g3_data_share": "Nullable(Float64)",
        "product_names": "Array(String)",
        "product_counts": "Array(UInt64)",
    },
    "outcomes": {
        "outcome_id": "String",
        "lead_id": "String",
        "trigger_id": "String",
        "msisdn": "String",
        "campaign_id": "String",
        "status": "String",
        "reason": "String",
        "ts": "DateTime",
        "order_id": "String",
    },
    "orders": {
        "order_id": "String",
        "msisdn": "String",
        "product_id": "String",
        "product_kind": "String",
        "action": "String",
        "channel": "String",
        "lead_id": "String",
        "ts": "DateTime",
    },
    "dlq": {
        "source": "String",
        "reason": "String",
        "detail": "String",
        "event_id": "String",
        "ts": "DateTime",
        "raw": "String",
    },
    "dlq_counts": {"minute": "DateTime", "source": "String", "reason": "String", "records": "UInt64"},
    "traffic": {
        "window_start": "DateTime",
        "window_end": "DateTime",
        "source": "String",
        "event_type": "String",
        "events": "UInt64",
    },
    "loader_progress": {
        "ts": "DateTime",
        "topic": "String",
        "partition": "UInt32",
        "committed": "Int64",
        "end_offset": "Int64",
        "lag": "Int64",
        "rows": "UInt64",
    },
    "schema_migrations": {"version": "UInt32", "name": "String", "checksum": "String", "applied_at": "DateTime"},
}
VIEWS = ["behaviour_48h"]


# --- rendering, splitting, naming (no ClickHouse) ---------------------------------------------------------------


def test_render_resolves_features_ttl_and_database():
    text = (
        "CREATE TABLE ${db}.t (a String\n-- @if skip_indexes\n, INDEX i a TYPE bloom_filter GRANULARITY 1\n"
        "-- @else\n-- no index before 20.1\n, b String\n-- @endif\n) ENGINE = MergeTree ORDER BY a ${ttl(ts)};\n"
        "CREATE TABLE ${db}.d (ts DateTime) ENGINE = MergeTree ORDER BY ts ${ttl(ts, 7)};\n"
        "-- a comment with ${ttl(x, N)} and ${nothing} stays inert\n"
    )
    modern = migrations.render(text, database="tp", features={"ttl", "skip_indexes"}, retention_days=30)
    assert "INDEX i a TYPE bloom_filter" in modern and "b String" not in modern
    assert "TTL ts + INTERVAL 30 DAY" in modern and "TTL ts + INTERVAL 7 DAY" in modern
    assert "tp.t" in modern and "${" not in modern
    old = migrations.render(text, database="tp", features=set(), retention_days=30)
    assert "TTL" not in old and "INDEX" not in old and "b String" in old
    # the cap never extends the retention
    assert "INTERVAL 3 DAY" in migrations.render(text, database="tp", features={"ttl"}, retention_days=3)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("-- @if teleport\nSELECT 1\n-- @endif\n", "unknown feature 'teleport'"),
        ("-- @if ttl\nSELECT 1\n", "without -- @endif"),
        ("SELECT ${nope}", "unknown placeholder ${nope}"),
        ("-- @frobnicate\n", "unexpected directive"),
    ],
)
def test_render_refuses_what_it_does_not_know(text, needle):
    with pytest.raises(migrations.MigrationError, match=needle.replace("$", r"\$").replace("{", r"\{")):
        migrations.render(text, database="tp", features=set(), retention_days=1, name="x.sql")


def test_split_statements_respects_quotes_and_comments():
    sql = "SELECT 'a;b';\n-- comment; with semicolon\nSELECT \"x;\" -- trailing; comment\n;\n\n-- only a comment\n"
    assert migrations.split_statements(sql) == [
        "SELECT 'a;b'",
        '-- comment; with semicolon\nSELECT "x;" -- trailing; comment',
    ]


def test_discover_orders_files_and_refuses_bad_names(tmp_path):
    for name in ("002_b.sql", "001_a.sql", "010_c.sql"):
        (tmp_path / name).write_text("SELECT 1;")
    assert [m.version for m in migrations.discover(tmp_path)] == [1, 2, 10]
    (tmp_path / "3_bad.sql").write_text("SELECT 1;")
    with pytest.raises(migrations.MigrationError, match="3_bad.sql"):
        migrations.discover(tmp_path)


def test_shipped_migrations_render_for_both_servers():
    for m in migrations.discover():
        for feats in (set(), set(backends.FEATURES)):
            for stmt in migrations.split_statements(
                migrations.render(m.text, database="tp", features=feats, retention_days=9, name=m.path.name)
            ):
                assert "${" not in stmt and "@if" not in stmt


def test_partition_end_and_urls(settings):
    assert retention.partition_end("202612") == datetime(2027, 1, 1, tzinfo=UTC)
    assert retention.partition_end("20261130") == datetime(2026, 12, 1, tzinfo=UTC)
    assert retention.partition_end("tuple()") is None
    assert backends.parse_url("chdb:", settings)["path"] == (settings.paths.work_dir / "chdb").resolve()
    assert backends.parse_url("chdb:///srv/ch", settings)["path"].as_posix() == "/srv/ch"
    assert backends.parse_url("clickhouse://u:p%40ss@db.example:9440", settings) == {
        "kind": "server",
        "host": "db.example",
        "port": 9440,
        "user": "u",
        "password": "p@ss",
        "secure": False,
        "ca_file": None,
    }
    assert backends.parse_url("clickhouse://db", settings)["port"] == 9000
    assert backends.redact_url("clickhouse://u:p%40ss@db.example:9440") == "clickhouse://u:***@db.example:9440"
    # the login from the settings (a password from the environment or a file), TLS on the secure port
    secured = settings.model_copy(deep=True)
    secured.clickhouse = type(settings.clickhouse)(user="loader", password="pw", secure=True, ca_file="/etc/ca.pem")
    assert backends.parse_url("clickhouse://db", secured) == {
        "kind": "server",
        "host": "db",
        "port": 9440,
        "user": "loader",
        "password": "pw",
        "secure": True,
        "ca_file": "/etc/ca.pem",
    }
    with pytest.raises(backends.ClickHouseError, match="not understood"):
        backends.parse_url("postgres://x", settings)


def test_retention_comes_from_the_ttl_markers(settings):
    r = retention.retention_tables(settings)
    assert r["behaviour"] == settings.clickhouse.retention_days and r["dlq"] == 14 and r["loader_progress"] == 7
    assert "handset_snapshot" not in r and "regions" not in r and "schema_migrations" not in r


# --- both backends ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chdb_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture(scope="module", params=["chdb", pytest.param("server", marks=pytest.mark.slow)])
def backend(request, tmp_path_factory, chdb_dir):
    """A migrated backend (database ``tp_test``), once per kind for the module."""
    settings = make_settings(tmp_path_factory.mktemp("w"), clickhouse={"database": "tp_test"})
    if request.param == "chdb":
        b = backends.connect(settings, f"chdb://{chdb_dir}")
    else:
        port = request.getfixturevalue("clickhouse_server")
        b = backends.connect(settings, f"clickhouse://127.0.0.1:{port}")
        b.execute("DROP DATABASE IF EXISTS tp_test")
    first = migrations.migrate(b, settings)
    b.settings = settings
    b.first_applied = first
    yield b
    b.close()


def columns(b, table):
    return dict(b.query(f"SELECT name, type FROM system.columns WHERE database = '{b.database}' AND table = '{table}'"))


def test_migrations_apply_once_and_are_recorded(backend):
    assert [m.version for m in backend.first_applied] == [m.version for m in migrations.discover()]
    assert migrations.migrate(backend, backend.settings) == []  # second run: no-op
    rows = backend.query(
        f"SELECT version, name, checksum FROM {backend.database}.schema_migrations FINAL ORDER BY version"
    )
    assert rows == [(m.version, m.name, m.checksum) for m in migrations.discover()]
    assert backend.scalar(f"SELECT count() FROM {backend.database}.schema_migrations") == len(rows)


def test_tables_follow_the_contract(backend):
    for table, expected in CONTRACT.items():
        got = columns(backend, table)
        assert got, f"{table} missing"
        wrong = {c: (t, got.get(c)) for c, t in expected.items() if got.get(c) != t}
        assert not wrong, f"{table}: {wrong}"
    for view in VIEWS:
        assert columns(backend, view)


def test_version_detection_decides_ttl(backend):
    create = backend.scalar(f"SHOW CREATE TABLE {backend.database}.behaviour")
    if backend.kind == "chdb":
        assert backend.version_tuple >= (26,) and backend.features == frozenset(backends.FEATURES)
        assert "TTL hour_start + toIntervalDay(90)" in create
        assert "bloom_filter" in backend.scalar(f"SHOW CREATE TABLE {backend.database}.triggers")
    else:
        assert backend.version.startswith("18.16") and backend.features == frozenset()
        assert "TTL" not in create
        assert "INDEX" not in backend.scalar(f"SHOW CREATE TABLE {backend.database}.triggers")


def test_a_changed_migration_is_an_error_naming_it(backend, tmp_path):
    mig = tmp_path / "migs"
    shutil.copytree(migrations.MIGRATIONS_DIR, mig)
    b = backend
    db = b.database
    b.database = "tp_changed"
    try:
        b.execute("DROP DATABASE IF EXISTS tp_changed")
        assert len(migrations.migrate(b, b.settings, mig)) == len(migrations.discover())
        (mig / "002_behaviour_rollup.sql").write_text((mig / "002_behaviour_rollup.sql").read_text() + "\n-- x\n")
        with pytest.raises(
            migrations.MigrationError, match="002_behaviour_rollup.sql was changed after it was applied"
        ):
            migrations.migrate(b, b.settings, mig)
        (mig / "002_behaviour_rollup.sql").unlink()
        with pytest.raises(migrations.MigrationError, match="002 .*applied .*but not in"):
            migrations.migrate(b, b.settings, mig)
    finally:
        b.execute("DROP DATABASE IF EXISTS tp_changed")
        b.database = db


def _behaviour_rows(newest: int):
    """52 hours of two subscribers: (msisdn, hour, calls_mo, bytes_up, bytes_down, g3, regions, roaming, tac)."""
    rows = []
    for h in range(52):
        hour = newest - h * HOUR
        rows.append(
            (
                "13900000001",
                hour,
                h,
                1000 * h,
                2000,
                500 * (h % 3),
                [f"r{h % 4}", "mall-001"],
                int(h == 5),
                "35693803" if h % 10 == 0 else "",
            )
        )
        if h % 2:
            rows.append(("13900000002", hour, 1, 0, 0, 0, [], 0, "86012345" if h == 41 else ""))
    return rows


def _insert_behaviour(b, rows):
    cols = [
        "msisdn",
        "hour_start",
        "calls_mo",
        "calls_mt",
        "call_seconds",
        "sms",
        "bytes_up",
        "bytes_down",
        "g3_bytes",
        "hotline_dials",
        "distinct_cells",
        "g3_data_share",
        "regions",
        "roaming",
        "last_imei",
        "last_tac",
    ]
    b.insert(
        "behaviour",
        cols,
        [
            (m, h, c, 1, 60, 0, up, down, g3, 0, 2, None, reg, roam, "", tac)
            for m, h, c, up, down, g3, reg, roam, tac in rows
        ],
    )


def test_behaviour_48h_is_exact_and_survives_duplicates(backend):
    b, db = backend, backend.database
    newest = (int(datetime.now(UTC).timestamp()) // HOUR - 3) * HOUR
    rows = _behaviour_rows(newest)
    _insert_behaviour(b, rows)
    _insert_behaviour(b, rows[:40])  # redelivered
    _insert_behaviour(b, rows[10:20])
    got = {
        r[0]: r
        for r in b.query(
            f"SELECT msisdn, active_hours, calls_mo, calls, call_seconds, bytes_up, bytes_down, g3_bytes, "
            f"g3_data_share, regions, distinct_regions, roaming_hours, last_tac, toUnixTimestamp(window_start), "
            f"toUnixTimestamp(window_end) FROM {db}.behaviour_48h ORDER BY msisdn"
        )
    }
    for msisdn in ("13900000001", "13900000002"):
        window = [r for r in rows if r[0] == msisdn and r[1] > newest - 48 * HOUR]
        up, down, g3 = (sum(r[i] for r in window) for i in (3, 4, 5))
        regions = sorted({x for r in window for x in r[6]})
        tac = max((r for r in window if r[8]), key=lambda r: r[1])[8]
        assert got[msisdn][1:] == (
            len(window),
            sum(r[2] for r in window),
            sum(r[2] + 1 for r in window),
            60 * len(window),
            up,
            down,
            g3,
            pytest.approx(g3 / (up + down)) if up + down else None,
            regions,
            len(regions),
            sum(r[7] for r in window),
            tac,
            newest - 47 * HOUR,
            newest + HOUR,
        )
    # the raw table keeps the redelivered rows until merged; FINAL de-duplicates
    assert b.scalar(f"SELECT count() FROM {db}.behaviour FINAL") == len(rows)
    # handset snapshot: the latest TAC per subscriber
    snap = dict(b.query(f"SELECT msisdn, tac FROM {db}.handset_snapshot FINAL"))
    assert snap == {"13900000001": "35693803", "13900000002": "86012345"}


def test_dlq_counts_count_rows_and_distinct_records(backend):
    b, db = backend, backend.database
    t = int(datetime.now(UTC).timestamp()) // 60 * 60
    rows = [("ingest", "bad_json", "", "", t + i, None, f"x{i}", f"id{i}") for i in range(5)]
    cols = ["source", "reason", "detail", "event_id", "ts", "event_ts_ms", "raw", "dlq_id"]
    b.insert("dlq", cols, rows)
    b.insert("dlq", cols, rows[:2])  # redelivered
    got = b.query(f"SELECT sum(records), uniqExactMerge(distinct_records) FROM {db}.dlq_counts WHERE source = 'ingest'")
    assert got == [(7, 5)]
    assert b.scalar(f"SELECT count() FROM {db}.dlq FINAL WHERE source = 'ingest'") == 5


def test_prune_drops_only_partitions_past_retention(backend):
    b, db, s = backend, backend.database, backend.settings
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    ts = lambda days: int((now - timedelta(days=days)).timestamp())  # noqa: E731
    cols = ["source", "reason", "detail", "event_id", "ts", "event_ts_ms", "raw", "dlq_id"]
    if b.supports("ttl"):
        # TTL does the job: rows past retention go in the merge that follows the insert; prune drops nothing else
        real = datetime.now(UTC)
        old = int((real - timedelta(days=20)).timestamp())
        b.insert(
            "dlq",
            cols,
            [
                ("prune", "late", "", "", old, None, "r", "old"),
                ("prune", "late", "", "", int(real.timestamp()), None, "r", "new"),
            ],
        )
        # TTL runs in a merge right after the insert, asynchronously (the old row was seen now and then just after
        # the insert): OPTIMIZE ... FINAL runs that merge now.
        b.execute(f"OPTIMIZE TABLE {db}.dlq FINAL")
        assert b.query(f"SELECT dlq_id FROM {db}.dlq WHERE source = 'prune'") == [("new",)]
        retention.prune(b, s)  # may drop emptied partitions (dlq, dlq_counts), nothing else
        assert b.query(f"SELECT dlq_id FROM {db}.dlq WHERE source = 'prune'") == [("new",)]
        return
    b.insert("dlq", cols, [("prune", "late", "", "", ts(d), None, "r", f"p{d}") for d in (1, 13, 16, 40)])
    tcols = ["trigger_id", "msisdn", "kind", "ts", "ts_ms", "detected_at", "detected_at_ms", "context"]
    b.insert("triggers", tcols, [(f"t{d}", "1", "prune", ts(d), 0, ts(d), 0, "") for d in (10, 100, 150)])
    assert retention.prune(b, s, now=now, dry_run=True)  # lists, drops nothing
    assert b.scalar(f"SELECT count() FROM {db}.dlq WHERE source = 'prune'") == 4
    dropped = retention.prune(b, s, now=now)
    assert ("dlq", "20261106") in dropped and ("dlq", "20261013") in dropped
    assert sorted(b.query(f"SELECT dlq_id FROM {db}.dlq WHERE source = 'prune'")) == [("p1",), ("p13",)]
    # monthly partitions go when their whole month is past 90 days: 150 days (June) yes, 100 days (August) not
    assert sorted(b.query(f"SELECT trigger_id FROM {db}.triggers WHERE kind = 'prune'")) == [("t10",), ("t100",)]
    assert retention.prune(b, s, now=now) == []


def test_reference_data_loads_and_replaces(backend, tmp_path):
    b, db = backend, backend.database
    (tmp_path / "handsets.csv").write_text(
        "tac,brand,model,tier,g3_capable\n86012345,Huawei,T2211,low,true\n35693803,Apple,X,high,false\n"
    )
    (tmp_path / "regions.csv").write_text(
        "region_id,name,kind,watched,lat,lon\nmall-001,Xinjiekou Mall 1,mall,true,32.05,118.8\n"
    )
    assert load_reference(b, tmp_path) == {"handsets": 2, "regions": 1}
    assert load_reference(b, tmp_path) == {"handsets": 2, "regions": 1}  # replaces, no duplicates
    assert b.query(f"SELECT tac, brand, g3_capable FROM {db}.handsets ORDER BY tac") == [
        ("35693803", "Apple", 0),
        ("86012345", "Huawei", 1),
    ]
    assert b.query(f"SELECT * FROM {db}.regions") == [("mall-001", "Xinjiekou Mall 1", "mall", 1, 32.05, 118.8)]
    (tmp_path / "regions.csv").write_text("region_id,name,kind,watched,lat,lon\nr,n,mall,maybe,1,2\n")
    with pytest.raises(backends.ClickHouseError, match="regions.csv:2"):
        load_reference(b, tmp_path)


# --- the CLI ---------------------------------------------------------------------------------------------------


def test_db_cli_migrate_status_prune_and_errors(tmp_path):
    url = f"chdb://{tmp_path / 'cli-chdb'}"

    def run(*args):
        return subprocess.run([TOUCHPOINT, "db", *args, "--url", url], capture_output=True, text=True, timeout=300)

    out = run("migrate")
    assert out.returncode == 0, out.stderr
    assert "applied 001_tables.sql" in out.stdout
    assert f"up to date, {len(migrations.discover())} migrations" in out.stdout
    again = run("migrate")
    assert again.returncode == 0 and "applied" not in again.stdout.replace("up to date", "")
    status = run("status")
    assert status.stdout.count(" applied ") == len(migrations.discover())
    prune = run("prune", "--dry-run")
    assert prune.returncode == 0 and "0 partitions to drop" in prune.stdout and "TTL also applies" in prune.stdout
    bad = run("load-reference", str(tmp_path / "nowhere"))
    assert bad.returncode == 1 and bad.stderr.startswith("touchpoint: error: reference file")
    assert bad.stderr.count("\n") == 1
    usage = run("prune", "extra")
    assert usage.returncode == 2 and "unrecognized arguments: extra" in usage.stderr and usage.stderr.count("\n") == 1
    down = subprocess.run(
        [TOUCHPOINT, "db", "migrate", "--url", "clickhouse://127.0.0.1:1"], capture_output=True, text=True, timeout=60
    )
    assert down.returncode == 1 and down.stderr.count("\n") == 1 and "Connection refused" in down.stderr


@pytest.mark.slow
def test_a_server_login_from_the_settings_and_no_password_in_errors(clickhouse_server, session_dir, tmp_path):
    """A ClickHouse user with a password: the login comes from the settings (environment), never the URL; a
    wrong password is a one-line error that does not repeat it, with or without --debug."""
    import hashlib
    import os
    import time

    # ClickHouse 18 has no CREATE USER: a users.d file, which the server reloads by itself
    users_d = session_dir / "clickhouse" / "users.d"
    users_d.mkdir(exist_ok=True)
    digest = hashlib.sha256(b"Right-Pw-42").hexdigest()
    (users_d / "tp_loader.xml").write_text(
        f"<yandex><users><tp_loader><password_sha256_hex>{digest}</password_sha256_hex>"
        "<networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota>"
        "</tp_loader></users></yandex>"
    )
    url = f"clickhouse://127.0.0.1:{clickhouse_server}"
    s = make_settings(tmp_path / "w")
    s.clickhouse = type(s.clickhouse)(user="tp_loader", password="Right-Pw-42", database="tp_secured")
    deadline = time.monotonic() + 60
    while True:
        try:
            backends.connect(s, url).close()
            break
        except backends.ClickHouseError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)

    def run(password, *debug):
        env = os.environ | {
            "TOUCHPOINT_CLICKHOUSE__USER": "tp_loader",
            "TOUCHPOINT_CLICKHOUSE__PASSWORD": password,
            "TOUCHPOINT_CLICKHOUSE__DATABASE": "tp_secured",
        }
        cmd = [TOUCHPOINT, *debug, "db", "migrate", "--url", url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)

    try:
        ok = run("Right-Pw-42")
        assert ok.returncode == 0 and "up to date" in ok.stdout, ok.stderr
        for debug in ((), ("--debug",)):
            bad = run("Wrong-Pw-43", *debug)
            assert bad.returncode == 1 and "tp_loader" in bad.stderr, bad.stderr
            assert "Wrong-Pw-43" not in bad.stdout + bad.stderr and "Right-Pw-42" not in bad.stdout + bad.stderr
            if not debug:
                assert bad.stderr.count("\n") == 1
    finally:
        with backends.connect(s, url) as b:
            b.execute("DROP DATABASE IF EXISTS tp_secured")
        (users_d / "tp_loader.xml").unlink()
