"""How a subscriber's records reach the raw topics as a network delivers them: each line arrives up to the
out-of-orderness bound late, some twice, and some records have a malformed extra copy with exactly one defect (the
reasons ingest must give them on the dead-letter topic); and what the emitted lines add up to."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from touchpoint.harness.simulator.runs import EventBuffer
from touchpoint.harness.simulator.subscriber import SubResult
from udfs.units import DAY_MS

TOPICS = ("signaling", "xdr", "orders")
#: Reasons of the malformed extra records (the DLQ reasons ingest must give them).
MALFORMED_REASONS = ("bad_json", "missing_field", "unknown_event_type", "ts_out_of_range", "invalid_value")
_SIG_REASON_W = (20, 25, 15, 25, 15)
_XDR_REASON_W = (25, 30, 0, 25, 20)
#: 2300-01-01T00:00:00Z in ms: the "far future" malformed timestamp.
YEAR_2300_MS = 10_413_792_000_000
MAX_SEQ = 1 << 20


_std_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True, check_circular=False).encode


def _std_dumps_nl(obj: Any) -> bytes:
    return (_std_encode(obj) + "\n").encode()


try:  # orjson (installed with apache-flink, via apache-beam) writes the same bytes for our ASCII-only records, faster
    import orjson

    _orjson_dumps = orjson.dumps

    def dumps_nl(obj: Any) -> bytes:
        """Compact JSON line (key order kept) ending in a newline."""
        # concatenating also copies the result into an exact-size object: orjson's own result keeps a 4 KiB buffer
        return _orjson_dumps(obj) + b"\n"

except ImportError:  # pragma: no cover
    dumps_nl = _std_dumps_nl


@dataclass
class Tally:
    """What the emitted records add up to, per topic index (signaling, xDR, orders) where it is a list."""

    clean: list[int] = field(default_factory=lambda: [0, 0, 0])
    dup: list[int] = field(default_factory=lambda: [0, 0, 0])
    mal: dict[str, Counter[str]] = field(default_factory=lambda: {t: Counter() for t in TOPICS[:2]})
    ev_types: Counter[str] = field(default_factory=Counter)
    data_end: int = -1
    plants_done: Counter[str] = field(default_factory=Counter)
    #: msisdn -> plan of a planted trial
    trials: dict[str, str] = field(default_factory=dict)
    #: Kafka keys, by subscriber index
    msisdns: list[bytes] = field(default_factory=list)
    #: seconds generating, detecting, emitting
    seconds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])

    def malformed(self) -> Counter[str]:
        """Malformed extras per reason, over the topics."""
        total: Counter[str] = Counter()
        for c in self.mal.values():
            total.update(c)
        return total

    def per_subscriber_hour(self, subscribers: int, hours: float) -> float:
        """The city's density: signaling + xDRs per subscriber-hour (roamers included, over the whole city)."""
        return (self.clean[0] + self.clean[1]) / max(1, subscribers) / hours

    def lines(self) -> list[int]:
        """Lines per topic: clean records, duplicates and malformed extras."""
        return [self.clean[i] + self.dup[i] + (sum(self.mal[TOPICS[i]].values()) if i < 2 else 0) for i in range(3)]


@dataclass
class Emission:
    """How one subscriber's records become lines in arrival order (delays, duplicates, malformed extras)."""

    seed: int
    start_ms: int
    #: one more than the largest arrival delay
    delay_span: int
    dup_rate: float
    mal_rate: float


def emit(res: SubResult, idx: int, em: Emission, buf: EventBuffer, tally: Tally) -> None:
    """The subscriber's records as lines with their arrival times (delayed by up to the out-of-orderness bound),
    with duplicates and malformed extras, appended to ``buf``."""
    if not res.ordered:
        tally.msisdns.append(b"")
        return
    clean = tally.clean
    clean[0] += len(res.signaling)
    clean[1] += len(res.xdrs)
    clean[2] += len(res.orders)
    tally.ev_types.update([d["event_type"] for d in res.signaling])
    tally.data_end = max(tally.data_end, res.ordered[-1][1]["ts"])
    tally.msisdns.append(res.ordered[0][1]["msisdn"].encode())
    rng = random.Random(f"{em.seed}/emit/{idx}")
    rnd = rng.random
    b_arr, b_top, b_lines = buf.arrival, buf.topic, buf.lines
    n0 = len(b_lines)
    m_no = 0
    s_rel, b1, dup_rate, mal_rate, dup = em.start_ms, em.delay_span, em.dup_rate, em.mal_rate, tally.dup
    for topic, d in res.ordered:
        ts = d["ts"]
        line = dumps_nl(d)
        arrival = ts - s_rel + int(rnd() * b1)
        b_arr.append(arrival)
        b_top.append(topic)
        b_lines.append(line)
        if topic == 2:
            continue
        if rnd() < dup_rate:
            b_arr.append(arrival + int(rnd() * (ts - s_rel + b1 - arrival)))
            b_top.append(topic)
            b_lines.append(line)
            dup[topic] += 1
        if rnd() < mal_rate:
            m_no += 1
            reason, bad = malformed(d, topic, rng, f"m-{em.seed}-{idx}-{m_no}")
            tally.mal[TOPICS[topic]][reason] += 1
            b_arr.append(ts - s_rel + int(rnd() * b1))
            b_top.append(topic)
            b_lines.append(bad)
    seq = len(b_lines) - n0
    buf.idx.extend([idx] * seq)
    if seq >= MAX_SEQ:
        raise RuntimeError(f"subscriber {idx} has too many records")


def malformed(d: dict[str, Any], topic: int, rng: random.Random, mid: str) -> tuple[str, bytes]:
    """An extra, invalid copy of record ``d`` with exactly one defect; returns (reason, line)."""
    reason = rng.choices(MALFORMED_REASONS, _SIG_REASON_W if topic == 0 else _XDR_REASON_W)[0]
    m = dict(d)
    m["event_id"] = mid
    if reason == "bad_json":  # a truncated line
        s = dumps_nl(m)
        return reason, s[: 1 + int(rng.random() * (len(s) - 3))] + b"\n"
    if reason == "missing_field":
        opts = ["msisdn", "ts"]
        if m.get("event_type") == "mo_call":
            opts.append("called_number")
        del m[rng.choice(opts)]
    elif reason == "unknown_event_type":
        m["event_type"] = "teleport"
    elif reason == "ts_out_of_range":  # seconds instead of ms, negative, or year 2300
        r = rng.random()
        ts = m["ts"]
        m["ts"] = ts // 1000 if r < 0.4 else (-ts if r < 0.7 else YEAR_2300_MS + ts % DAY_MS)
    else:
        m["rat"] = "WIMAX"
    return reason, dumps_nl(m)
