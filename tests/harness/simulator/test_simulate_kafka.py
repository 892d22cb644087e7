"""`touchpoint simulate --kafka` puts exactly the file-mode records on the topics, and the city's reference data on
the reference topics."""

import json
import subprocess

import pytest

from touchpoint import ROOT
from touchpoint.clients.kafka_io import consume, read_topics
from touchpoint.infra import stack
from touchpoint.reference import REFERENCE_NAMES, read_reference_csv

pytestmark = pytest.mark.slow


def test_simulate_to_kafka_equals_files(broker, tmp_path):
    args = ["--seed", "3", "--subscribers", "40", "--hours", "3", "--quiet"]
    exe = str(ROOT / ".venv" / "bin" / "touchpoint")
    subprocess.run([exe, "simulate", *args, "--out", str(tmp_path / "files")], check=True, capture_output=True)
    topics = {k: f"simk-{k}" for k in ("signaling", "xdr", "orders", *REFERENCE_NAMES)}
    stack.create_topics(broker, list(topics.values()), 2)
    env_topics = {f"TOUCHPOINT_TOPICS__{k.upper()}": v for k, v in topics.items()}
    import os

    out = subprocess.run(
        [exe, "simulate", *args, "--kafka", broker, "--rate", "20000", "--out", str(tmp_path / "k")],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **env_topics},
    )
    assert "signaling" in out.stdout  # the summary is printed
    got = read_topics(broker, list(topics.values()), idle_s=3)
    for key in ("signaling", "xdr", "orders"):
        expected = sorted((tmp_path / "files" / f"{key}.jsonl").read_bytes().splitlines())
        assert sorted(got[topics[key]]) == expected, key
    for name in REFERENCE_NAMES:
        rows = read_reference_csv(tmp_path / "files" / "reference" / f"{name}.csv")
        assert sorted(map(json.loads, got[topics[name]]), key=json.dumps) == sorted(rows, key=json.dumps), name
    # reference data and ground truth still go to --out, identical to file mode
    for name in ("ground_truth.jsonl", "reference/cells.csv", "reference/profiles.csv"):
        assert (tmp_path / "k" / name).read_bytes() == (tmp_path / "files" / name).read_bytes()
    assert json.loads((tmp_path / "k" / "summary.json").read_text())["truth"]


def test_sigterm_stops_producing_and_delivers_what_was_produced(broker, tmp_path):
    """Like every long-running command, `simulate --kafka` ends within seconds of SIGTERM, losing nothing: the
    events it says it produced are all on the topics."""
    import os
    import re
    import signal
    import time

    topics = {k: f"simstop-{k}" for k in ("signaling", "xdr", "orders", *REFERENCE_NAMES)}
    stack.create_topics(broker, list(topics.values()), 1)
    env = {**os.environ, **{f"TOUCHPOINT_TOPICS__{k.upper()}": v for k, v in topics.items()}}
    args = ["simulate", "--seed", "3", "--subscribers", "200", "--hours", "24", "--quiet", "--rate", "1000"]
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "touchpoint"), *args, "--kafka", broker, "--out", str(tmp_path / "k")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # the reference data first, then events at 1,000/s: stop once they flow (however slowly the machine starts it)
    started = consume(broker, [topics["signaling"]], until=lambda o: len(o[topics["signaling"]]) > 0, timeout_s=120)
    assert started[topics["signaling"]], proc.stderr.read() if proc.poll() is not None else "no event after 120 s"
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    rc = proc.wait(30)
    took = time.monotonic() - sent
    err = proc.stderr.read()
    assert rc == 0 and took < 10, (rc, took, err)
    produced = int(re.search(r"simulate: stopped; (\d+) events produced and delivered", err).group(1))
    got = read_topics(broker, list(topics.values()), idle_s=3)  # reference rows first, then events
    assert 0 < produced == sum(map(len, got.values())) and got[topics["signaling"]]
