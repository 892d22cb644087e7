"""Hostile raw lines through the ingest job, in replay and once through Kafka: the job keeps running, every
line is either a normalised record or a dead letter with a reason, the counts add up exactly, and the split is
the one the Python rules (udfs/ingest_rules.py) give, line by line."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from hypothesis import strategies as st

from tests.fuzz.strategies import fixed_corpus, hostile_lines
from tests.fuzz.test_rules import CHECKS
from tests.support import make_settings
from touchpoint.clients.kafka_io import RateLimitedProducer, wait_for_total
from touchpoint.infra import stack
from touchpoint.runner.embedded import replay, start, wait_running

pytestmark = pytest.mark.slow
RAW = tuple(sorted(CHECKS))
OUTPUTS = ("signaling_normalised", "xdr_normalised", "orders_normalised", "dlq")
LINES_PER_TOPIC = 300
#: how many lines the corpus holds (every one checked against the rules, in replay and in streaming)
CORPUS_SIZE = LINES_PER_TOPIC * len(RAW)


def _key(rec: dict) -> str:
    if isinstance(rec.get("raw"), str):  # bytes that are not UTF-8: Java and Python replace them by more or fewer
        rec = rec | {"raw": re.sub("\ufffd+", "\ufffd", rec["raw"])}  # U+FFFD; only the text around them counts
    return json.dumps(rec, sort_keys=True, ensure_ascii=False)


def expected(corpus: dict[str, list[bytes]]) -> dict[str, list[str]]:
    """Per output, the records the Python rules make of the corpus (sorted keys): a valid line's typed fields, or
    a dead letter with its reason, detail, the raw line, and the id and ts if they had the right type."""
    out: dict[str, list[str]] = {k: [] for k in OUTPUTS}
    for topic, lines in corpus.items():
        check, fields = CHECKS[topic]
        for line in lines:
            *values, reason, detail, raw = check(line)
            typed = {f: v for f, v in zip(fields, values) if v is not None}
            if reason is None:
                out[f"{topic}_normalised"].append(_key(typed))
            else:
                kept = {"event_id": typed.get(fields[0]), "ts": typed.get("ts")}
                letter = {"source": topic, "reason": reason, "detail": detail, "raw": raw}
                out["dlq"].append(_key(letter | {k: v for k, v in kept.items() if v is not None}))
    return {k: sorted(v) for k, v in out.items()}


def fuzz_corpus(n: int) -> dict[str, list[bytes]]:
    """``n`` hostile lines per raw topic, the same every run: hypothesis explores its strategies (derandomized)
    and each example adds one line per topic. Flink then runs once over all of them."""
    corpus: dict[str, list[bytes]] = {t: [] for t in RAW}

    def collect(data: st.DataObject) -> None:
        for t in RAW:
            corpus[t].append(data.draw(hostile_lines(t)))

    fixed_corpus(n, collect)
    return {t: lines[:n] for t, lines in corpus.items()}  # hypothesis may run one example more


def same(got: list[str], want: list[str], what: str) -> None:
    extra, missing = (
        sorted((Counter(got) - Counter(want)).elements()),
        sorted((Counter(want) - Counter(got)).elements()),
    )
    assert got == want, f"{what}: unexpected {[x[:300] for x in extra[:3]]}, missing {[x[:300] for x in missing[:3]]}"


def test_hostile_lines_are_each_valid_or_dead_in_replay_and_streaming(broker, tmp_path_factory):
    corpus = fuzz_corpus(LINES_PER_TOPIC)
    tmp = tmp_path_factory.mktemp("ingest-fuzz")
    want = expected(corpus)
    assert sum(map(len, want.values())) == CORPUS_SIZE
    assert want["dlq"] and all(want[f"{t}_normalised"] for t in RAW)  # both outcomes, on every topic

    # replay: the files, one line each
    inp = tmp / "in"
    inp.mkdir()
    for topic, lines in corpus.items():
        (inp / f"{topic}.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))
    out = tmp / "out"
    replay("ingest", make_settings(tmp / "work"), inp, out)
    for key in OUTPUTS:
        path = out / f"{key.replace('_', '-')}.jsonl"
        got = sorted(_key(json.loads(x)) for x in path.read_text().split("\n") if x)  # not splitlines: U+2028
        same(got, want[key], f"replay {key}")

    # streaming: the same lines as Kafka records, read until every one came out somewhere
    topics = {k: f"fuzz-{k}" for k in (*RAW, *OUTPUTS)}
    s = make_settings(tmp / "work-streaming", broker, topics=topics)
    stack.create_topics(broker, list(topics.values()), s.kafka.partitions)
    with RateLimitedProducer(s) as producer:
        for topic, lines in corpus.items():
            for line in lines:
                producer.send(topic, line)
    job = start("ingest", s)
    try:
        wait_running(job, timeout=120)
        got = wait_for_total(broker, [topics[k] for k in OUTPUTS], CORPUS_SIZE, timeout_s=240)
    finally:
        job.cancel()
    for key in OUTPUTS:
        same(sorted(_key(json.loads(v)) for v in got[topics[key]]), want[key], f"streaming {key}")
