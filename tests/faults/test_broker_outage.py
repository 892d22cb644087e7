"""The broker goes away under a running pipeline (the ingest job and the loader) and comes back: both reconnect by
themselves, and every record the broker kept is processed, exactly once by id. The outage is cut by a TCP proxy
in front of a real Tansu (tests/faults/proxy.py)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections import Counter

import pytest

from tests.faults.proxy import CuttableProxy
from tests.fuzz.test_rules import CHECKS
from tests.support import TOUCHPOINT, make_settings
from touchpoint.clickhouse import backends
from touchpoint.clickhouse.loader import Loader
from touchpoint.clients.kafka_io import RateLimitedProducer, consume
from touchpoint.infra import stack
from touchpoint.runner.embedded import start, wait_running

pytestmark = pytest.mark.slow
RAW = ("signaling", "xdr", "orders")
OUTPUTS = ("signaling_normalised", "xdr_normalised", "orders_normalised", "dlq")
OUTAGE_S = 15


@pytest.fixture
def cut_broker(tmp_path):
    """(bootstrap through the proxy, proxy): a Tansu of its own that advertises the proxy's address, so that every
    client connection goes through it."""
    tansu_port, proxy_port = stack.free_port(), stack.free_port()
    proxy = CuttableProxy(tansu_port, proxy_port)
    log = (tmp_path / "tansu.log").open("wb")
    proc = subprocess.Popen(
        [
            stack.tansu_binary(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{tansu_port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{proxy_port}",
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    bootstrap = f"127.0.0.1:{proxy_port}"
    try:
        stack.wait_healthy(lambda: stack.kafka_healthy(bootstrap), "Tansu", tmp_path / "tansu.log")
        yield bootstrap, proxy
    finally:
        proxy.close()
        proc.terminate()
        proc.wait(10)


def expected(city) -> dict[str, Counter]:
    """What ingest makes of the city's lines, by the rules: the distinct normalised records and dead letters."""
    out: dict[str, Counter] = {k: Counter() for k in OUTPUTS}
    for topic in RAW:
        check, fields = CHECKS[topic]
        for line in (city / f"{topic}.jsonl").read_bytes().splitlines():
            *values, reason, _, raw = check(line)
            if reason is None:
                out[f"{topic}_normalised"][values[0]] += 1
            else:
                out["dlq"][raw] += 1
    return out


def test_ingest_and_loader_ride_out_a_broker_outage(cut_broker, small_city, clickhouse_server, tmp_path):
    bootstrap, proxy = cut_broker
    # the Debian 18.16 server keeps every row (no TTL there; the city's dead letters are weeks old by event time)
    ch = {"url": f"clickhouse://127.0.0.1:{clickhouse_server}", "database": f"tp_outage_{uuid.uuid4().hex[:8]}"}
    s = make_settings(tmp_path / "work", bootstrap, clickhouse=ch)
    stack.create_topics(bootstrap, [getattr(s.topics, k) for k in (*RAW, *OUTPUTS)], s.kafka.partitions)
    want = expected(small_city)
    lines = {t: (small_city / f"{t}.jsonl").read_bytes().splitlines() for t in RAW}
    total = sum(map(len, lines.values()))

    job = start("ingest", s)
    loader = Loader(s, progress=False)  # the dlq topic, among others, into ClickHouse
    loading = threading.Thread(target=loader.run, daemon=True)
    try:
        wait_running(job, timeout=120)
        loading.start()

        def produce():
            with RateLimitedProducer(s, rate=total / 20) as p:  # about 20 s of records
                for t in RAW:
                    for line in lines[t]:
                        p.send(t, line)

        producing = threading.Thread(target=produce)
        producing.start()
        time.sleep(6)
        proxy.cut()  # the broker goes away mid-stream, for everyone: producer, job, loader
        time.sleep(OUTAGE_S)
        proxy.restore()
        back = time.monotonic()
        producing.join(180)

        def done(out):
            return all(len(set(_ids(k, out[getattr(s.topics, k)]))) >= len(want[k]) for k in OUTPUTS)

        topics = [getattr(s.topics, k) for k in OUTPUTS]
        got = consume(bootstrap, topics, until=done, timeout_s=240)
        recovered = time.monotonic() - back
        assert job.status() not in ("FAILED", "ENDED")  # it may have restarted from a checkpoint: that is recovery
        dead_letters = len(got[s.topics.dlq])
        while loader.stats.rows["dlq"] < dead_letters and time.monotonic() < back + 240:
            time.sleep(0.5)  # the loader, reconnected, catches up with the dead letters on the topic
        loaded_after = time.monotonic() - back
    finally:
        job.cancel()
        loader.stop()
        loading.join(60)
    for key in OUTPUTS:  # at-least-once: a record may come twice; by id, each exactly once
        assert Counter(set(_ids(key, got[getattr(s.topics, key)]))) == Counter(set(want[key])), key
    with backends.connect(s) as ch:
        loaded = ch.scalar(f"SELECT uniqExact(dlq_id) FROM {s.clickhouse.database}.dlq")
    assert loaded == len(want["dlq"]), (dict(loader.stats.rows), dead_letters, loader.stats.error)
    print(
        f"\nbroker cut for {OUTAGE_S} s: every record out of ingest {recovered:.1f} s and loaded "
        f"{loaded_after:.1f} s after it came back"
    )


def _ids(key: str, values: list[bytes]) -> list[str]:
    records = [json.loads(v) for v in values]
    if key == "dlq":
        return [r["raw"] for r in records]
    return [r.get("event_id") or r.get("order_id") for r in records]


def test_long_running_commands_stop_within_seconds_while_the_broker_is_gone(cut_broker, tmp_path):
    """SIGTERM (or Ctrl-C) ends `leads tail` and `load` within a few seconds even while every request to the
    broker hangs or fails: they stop between requests and bound their last commit and close."""
    import os
    import signal

    bootstrap, proxy = cut_broker
    env = os.environ | {
        "TOUCHPOINT_KAFKA__BOOTSTRAP": bootstrap,
        "TOUCHPOINT_PATHS__WORK_DIR": str(tmp_path / "work"),
        "TOUCHPOINT_CLICKHOUSE__URL": f"chdb://{tmp_path / 'chdb'}",
    }
    stack.create_topics(bootstrap, ["leads"], 1)
    commands = {"leads tail": ["leads", "tail"], "load": ["load"]}
    procs = {
        name: subprocess.Popen(
            [str(TOUCHPOINT), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name, args in commands.items()
    }
    try:
        time.sleep(8)  # both connected and reading
        proxy.cut()
        time.sleep(3)
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        took = {}
        for name, p in procs.items():
            p.wait(60)
            took[name] = time.monotonic() - sent
    finally:
        for p in procs.values():
            p.kill()
    assert all(p.returncode == 0 for p in procs.values()), {n: p.stderr.read()[-500:] for n, p in procs.items()}
    assert max(took.values()) < 15, took
    print(f"\nstopped with the broker gone: {', '.join(f'{n} {t:.1f} s' for n, t in took.items())}")
