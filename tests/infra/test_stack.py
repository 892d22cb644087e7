"""The local stack: the Debian ClickHouse server over the native protocol, chdb persistence, PID hygiene."""

import subprocess
import sys
import time

import pytest

from touchpoint.infra import stack


@pytest.mark.slow
def test_clickhouse_driver_talks_to_the_debian_server(clickhouse_server):
    from clickhouse_driver import Client

    client = Client("127.0.0.1", port=clickhouse_server)
    version = client.execute("SELECT version()")[0][0]
    assert version.split(".")[0].isdigit()
    client.execute("DROP TABLE IF EXISTS probe")
    client.execute("CREATE TABLE probe (msisdn String, n UInt32) ENGINE = MergeTree ORDER BY msisdn")
    # rows always go as data, never inline VALUES (the old server hangs on those through the driver)
    client.execute("INSERT INTO probe (msisdn, n) VALUES", [("13900000001", 1), ("13900000002", 2)])
    assert client.execute("SELECT sum(n), count() FROM probe") == [(3, 2)]


def test_chdb_persists_a_table(tmp_path):
    # Each chdb data dir belongs to one process, so write and read back in two fresh processes.
    path = tmp_path / "chdb"
    write = (
        f"from chdb.session import Session; s = Session({str(path)!r}); "
        's.query("CREATE TABLE IF NOT EXISTS t (k String, v UInt64) ENGINE = MergeTree ORDER BY k"); '
        "s.query(\"INSERT INTO t VALUES ('a', 1), ('b', 41)\")"
    )
    read = (
        f"from chdb.session import Session; s = Session({str(path)!r}); "
        "print(s.query('SELECT sum(v) FROM t', 'CSV').data().strip())"
    )
    subprocess.run([sys.executable, "-c", write], check=True)
    out = subprocess.run([sys.executable, "-c", read], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "42"


def test_stop_only_kills_what_it_started(tmp_path):
    # A stale PID file pointing at an unrelated process must not kill it.
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        run = tmp_path / "run"
        run.mkdir()
        (run / "tansu.json").write_text(f'{{"name": "tansu", "pid": {other.pid}, "port": 1, "log": ""}}')
        assert stack.stop(run, "tansu", "tansu") is False
        assert other.poll() is None
    finally:
        other.kill()


@pytest.mark.slow
def test_tansu_up_is_idempotent_and_down_stops_it(tmp_path):
    run = tmp_path / "run"
    port = stack.free_port()
    first = stack.start_tansu(run, port)
    try:
        assert stack.start_tansu(run, port).pid == first.pid  # already running: reused
        stack.create_topics(first.address, ["a", "b"], 2)
        stack.create_topics(first.address, ["a", "b"], 2)  # idempotent
    finally:
        assert stack.stop(run, "tansu", "tansu") is True
    deadline = time.monotonic() + 5
    while stack.port_open(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not stack.port_open(port)


def test_port_taken_by_someone_else_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        with pytest.raises(stack.StackError, match="taken by another program"):
            stack.start_tansu(tmp_path / "run", s.getsockname()[1])
