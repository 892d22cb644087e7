"""Hostile input for every boundary where records enter Touchpoint (hypothesis strategies).

Each strategy starts from a valid record of its topic and breaks it one way: random bytes, empty or blank
lines, non-UTF-8 bytes inside a value, huge lines and fields, deep nesting, duplicate keys, trailing garbage,
numbers as strings, NaN and Infinity, floats where integers belong, far-past and far-future times, unknown enum
values, any JSON value in any field, or a field left out. Sizes and depths are drawn as numbers, so a huge line
costs hypothesis one choice, not a million.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

TS = 1762012800000  # 2026-11-01T16:00Z, inside ingest's bounds

VALID: dict[str, dict] = {
    "signaling": {
        "event_id": "s-fuzz",
        "event_type": "mo_call",
        "ts": TS,
        "msisdn": "13900000001",
        "imsi": "460001234567890",
        "imei": "356938031234567",
        "lac": 4101,
        "cell_id": 4101001,
        "rat": "LTE",
        "called_number": "114",
        "duration_s": 30,
    },
    "xdr": {
        "event_id": "x-fuzz",
        "ts": TS,
        "msisdn": "13900000001",
        "imsi": "460001234567890",
        "imei": "356938031234567",
        "lac": 4101,
        "cell_id": 4101001,
        "rat": "G3",
        "apn": "cmnet",
        "app": "music",
        "bytes_up": 1000,
        "bytes_down": 20000,
        "duration_s": 60,
    },
    "orders": {
        "order_id": "o-fuzz",
        "ts": TS,
        "msisdn": "13900000001",
        "product_id": "data_package_50",
        "product_kind": "data_package",
        "action": "subscribe",
        "channel": "sms",
    },
}

#: JSON values of every type, nested a little
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)

#: values that are wrong in a way a producer plausibly gets wrong
odd_values = st.one_of(
    json_values,
    st.sampled_from(["", " ", "1762012800000", "null", "LTE ", "lte", "13900000001 ", "０１２３", "\u0000", "🙂"]),
    st.sampled_from([1.0, 1.5, -1, 0, 2**31, 2**31 - 1, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63), 2**64, 1e300]),
    st.integers(min_value=-(10**18), max_value=10**18),  # far past and far future times, negative counters
    st.text(min_size=1, max_size=30),  # unknown enum values, malformed numbers
)


def _line(record: dict) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


@st.composite
def field_replaced(draw, topic: str) -> bytes:
    rec = dict(VALID[topic])
    rec[draw(st.sampled_from(sorted(rec) + ["extra", "lead_id", "vlr_plmn", "forward_to"]))] = draw(odd_values)
    return _line(rec)


@st.composite
def field_dropped(draw, topic: str) -> bytes:
    rec = dict(VALID[topic])
    rec.pop(draw(st.sampled_from(sorted(rec))))
    return _line(rec)


@st.composite
def literal_in_field(draw, topic: str) -> bytes:
    """A token JSON does not have (NaN, Infinity, a leading zero, a bare word) where a number belongs."""
    rec = dict(VALID[topic], ts="@@")
    token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "01762012800000", "1e400", "0x1F", "true", "'1'"]))
    return _line(rec).replace(b'"@@"', token.encode())


@st.composite
def duplicate_key(draw, topic: str) -> bytes:
    rec = VALID[topic]
    key = draw(st.sampled_from(sorted(rec)))
    first = json.dumps(draw(odd_values), ensure_ascii=False)
    body = _line(rec).decode()
    return ("{" + json.dumps(key) + ":" + first + "," + body[1:]).encode()


@st.composite
def trailing_garbage(draw, topic: str) -> bytes:
    tail = draw(st.sampled_from([" x", "}", ",", " {}", "\t\t", " // note", "\x00", " " + json.dumps(VALID[topic])]))
    return _line(VALID[topic]) + tail.encode()


@st.composite
def huge(draw, topic: str) -> bytes:
    rec = dict(VALID[topic])
    size = draw(st.integers(min_value=1_000, max_value=300_000))
    rec[draw(st.sampled_from(["event_id", "msisdn", "extra", "apn"]))] = "9" * size
    return _line(rec)


@st.composite
def deeply_nested(draw, topic: str) -> bytes:
    # around the parsers' limit (1024 levels, the record itself included) and far past it
    depth = draw(st.one_of(st.integers(min_value=10, max_value=5_000), st.integers(min_value=996, max_value=1026)))
    rec = dict(VALID[topic], extra="@@")
    return _line(rec).replace(b'"@@"', b"[" * depth + b"]" * depth)


@st.composite
def not_utf8(draw, topic: str) -> bytes:
    """A valid record with a byte that is not UTF-8 inside one of its string values."""
    rec = dict(VALID[topic])
    key = draw(st.sampled_from([k for k, v in rec.items() if isinstance(v, str)]))
    rec[key] = "@@"
    bad = draw(
        st.sampled_from(
            [
                b"\xff",
                b"\xc3",
                b"\xed\xa0\x80",
                b"\xed\xbf\xbf",
                b"\xc0\x80",
                b"\xe0\x80\xaf",
                b"\xf4\x90\x80\x80",
                b"\x80abc",
            ]
        )
    )
    return _line(rec).replace(b"@@", bad)


#: random bytes and blank lines (no newline inside: a newline ends a line, on a file as in the jobs' sources)
noise = st.one_of(
    st.binary(max_size=300).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" ")),
    st.sampled_from([b"", b" ", b"\t", b"{}", b"[]", b"null", b"0", b'"x"', b"{", b"}", b"\xef\xbb\xbf{}"]),
)


def hostile_lines(topic: str) -> st.SearchStrategy[bytes]:
    """One raw line of ``topic`` (signaling, xdr, orders), broken in one of the ways above, or still valid."""
    return st.one_of(
        st.just(_line(VALID[topic])),
        field_replaced(topic),
        field_dropped(topic),
        literal_in_field(topic),
        duplicate_key(topic),
        trailing_garbage(topic),
        huge(topic),
        deeply_nested(topic),
        not_utf8(topic),
        noise,
    )


@st.composite
def record_like(draw, valid: dict) -> object:
    """``valid`` with one field replaced by an odd value or dropped; now and then not an object at all."""
    rec = dict(valid)
    key = draw(st.sampled_from(sorted(rec) + ["context", "extra"]))
    if draw(st.integers(0, 9)) == 0:
        return draw(odd_values)
    if draw(st.booleans()):
        rec[key] = draw(odd_values)
    else:
        rec.pop(key, None)
    return rec


def definitions(valid: dict) -> st.SearchStrategy[object]:
    """A definition (campaign, journey) as a producer bypassing the CLI might publish it: the valid one with one
    field (or one field of one nested object) replaced by any JSON value, dropped, or not an object at all."""

    @st.composite
    def broken(draw) -> object:
        rec = json.loads(json.dumps(valid))
        where = rec
        nested = [k for k, v in rec.items() if isinstance(v, dict)]
        if nested and draw(st.booleans()):
            where = rec[draw(st.sampled_from(nested))]
        key = draw(st.sampled_from(sorted(where) + ["unknown"]))
        if draw(st.booleans()):
            where[key] = draw(odd_values)
        else:
            where.pop(key, None)
        return rec

    return st.one_of(broken(), json_values)


def fixed_corpus(n: int, draw: Callable[[st.DataObject], None]) -> None:
    """Call ``draw`` on ``n`` examples hypothesis explores, the same ones every run (derandomized, nothing shrunk):
    how the Flink tests build one corpus, then run the job once over all of it."""

    @settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        draw(data)

    run()


def replay_output(out: Path, name: str) -> list[dict]:
    """The records a replay wrote to ``OUT/<name>.jsonl`` (lines split on newlines only: a value may hold U+2028)."""
    path = out / f"{name}.jsonl"
    return [json.loads(x) for x in path.read_text().split("\n") if x] if path.exists() else []
