"""Bytes per subscriber of the decision job's keyed state, without Flink.

:class:`~jobs.decisions.operators.SubscriberDecisions` keeps, per msisdn, two byte arrays packed by
jobs/decisions/state.py (each stored pickled, as ``Types.PICKLED_BYTE_ARRAY``):

- ``profile``: ValueState, the profile's values as one pickled tuple (no TTL);
- ``history``: ValueState, the last 48 hourly buckets and the contact record, pickled and deflated (TTL).

(``pending`` holds triggers for ``ordering.reorder_ms`` only and is empty between bursts.)

:func:`model` builds that state for ``n`` synthetic subscribers — profiles cycled from a city's ``profiles.csv``,
48 consecutive hourly buckets taken from a city's ``behaviour`` output (consecutive, so that a subscriber's hours
look like a real one's and compress like them), a contact record with a few entries — packs every value as the job
does and adds the bytes Flink writes around each value in a full checkpoint of the heap state backend
(:data:`FRAMING`). :func:`subscribers` yields the same subscribers as input records, so a benchmark can feed them
to the real job and compare with the size of its checkpoint.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from jobs.decisions.state import PROFILE_FIELDS, pack_history, pack_profile
from udfs.behaviour import KEEP_HOURS, Bucket, compact
from udfs.contact_policy import Contacts
from udfs.units import HOUR_MS, MINUTE_MS

#: Per subscriber, the triggers a contact record remembers: (kind, context, campaign that matches it).
TRIGGERS = (
    ("dial_114", {"called_number": "114"}, "dial-114-12580"),
    ("power_on", {"off_minutes": 600}, "power-on-welcome"),
    ("dial_hotline", {"called_number": "10086"}, "hotline-promo"),
)


class Framing(NamedTuple):
    """Bytes Flink's serializers add around the packed values in a full heap-backend checkpoint
    (per state and key: VoidNamespace 1 byte + key Row(STRING msisdn): 1-byte null mask, varint length, chars)."""

    per_state_key_extra: int = 1 + 1 + 1  # namespace byte, row mask, string length (msisdn < 127 chars)
    value: int = 4 + 16  # byte[] length (BytePrimitiveArraySerializer) + pickling the packed bytes (~16 B)
    ttl: int = 8  # TtlValue: last-access timestamp

    def subscriber(self, msisdn: str) -> int:
        key = self.per_state_key_extra + len(msisdn.encode())
        profile = key + self.value
        history = key + self.ttl + self.value
        return profile + history


FRAMING = Framing()


class Subscriber(NamedTuple):
    msisdn: str
    profile_row: dict[str, Any]  # a profiles.csv row (typed, read_reference_csv)
    hours: list[tuple[int, int]]  # (hour_start ms, index into the bucket pool)
    triggers: list[dict[str, Any]]  # trigger records, in ts order


def bucket_pool(behaviour_records: Iterable[dict[str, Any]]) -> list[Bucket]:
    """Buckets as the job stores them, from ``behaviour`` records (event-time markers skipped), each subscriber's
    hours in a row."""
    records = [r for r in behaviour_records if r.get("msisdn") and "calls_mo" in r]
    return [compact(r) for r in sorted(records, key=lambda r: (r["msisdn"], r.get("hour_start") or 0))]


def profile_state(row: dict[str, Any]) -> dict[str, Any]:
    """The profile dict the job keeps for a reference row (products a list)."""
    out = {k: row.get(k) for k in PROFILE_FIELDS}
    products = out["products"]
    out["products"] = [p for p in products.split(";") if p] if isinstance(products, str) else list(products or [])
    return out


def bucket_record(msisdn: str, hour: int, b: Bucket) -> dict[str, Any]:
    """A ``behaviour`` record carrying exactly a bucket's values (what the job's ``compact`` reads back)."""
    return {
        "msisdn": msisdn,
        "hour_start": hour,
        "calls_mo": b.calls_mo,
        "calls_mt": b.calls_mt,
        "call_seconds": b.call_seconds,
        "sms": b.sms,
        "bytes_up": b.bytes_up,
        "bytes_down": b.bytes_down,
        "g3_bytes": b.g3_bytes,
        "hotline_dials": b.hotline_dials,
        "distinct_cells": b.distinct_cells,
        "regions": list(b.regions),
        "roaming": b.roaming,
        "last_tac": b.last_tac,
    }


def subscribers(
    n: int,
    pool: list[Bucket],
    profile_rows: list[dict[str, Any]],
    start_ms: int,
    seed: int = 1,
    hours: int = KEEP_HOURS,
) -> Iterator[Subscriber]:
    """``n`` synthetic subscribers, each with a profile (cycled from ``profile_rows``, new msisdn), a bucket in
    each of ``hours`` hours from ``start_ms`` (a run of consecutive ``pool`` entries from a random start) and the
    :data:`TRIGGERS` half an hour after the last of them."""
    if not pool or not profile_rows:
        raise ValueError("need a non-empty bucket pool and at least one profile")
    rng = random.Random(seed)
    first = start_ms - start_ms % HOUR_MS
    trigger_ts = first + hours * HOUR_MS + 30 * MINUTE_MS
    for i in range(n):
        msisdn = f"138{i:08d}"
        row = profile_rows[i % len(profile_rows)] | {"msisdn": msisdn}
        at = rng.randrange(len(pool))
        picks = [(first + h * HOUR_MS, (at + h) % len(pool)) for h in range(hours)]
        triggers = [
            {
                "trigger_id": f"t-{i:08x}{j:08x}",
                "msisdn": msisdn,
                "kind": kind,
                "ts": trigger_ts + j * MINUTE_MS,
                "detected_at": trigger_ts + j * MINUTE_MS,
                "context": ctx,
            }
            for j, (kind, ctx, _) in enumerate(TRIGGERS)
        ]
        yield Subscriber(msisdn, row, picks, triggers)


def contacts_state(sub: Subscriber) -> Contacts:
    """The contact record after the subscriber's triggers: every one decided, the first one a lead."""
    c = Contacts()
    for j, (trigger, (_, _, campaign)) in enumerate(zip(sub.triggers, TRIGGERS)):
        c.record(trigger["trigger_id"], trigger["ts"], campaign if j == 0 else None, delivered=j == 0)
    return c


@dataclass
class StateBytes:
    """Summed sizes over a set of subscribers."""

    subscribers: int = 0
    profile: int = 0  # packed payloads
    history: int = 0  # buckets + contact record, deflated together
    bucket_entries: int = 0
    framing: int = 0  # Flink serializers around the payloads (FRAMING)

    @property
    def payload(self) -> int:
        return self.profile + self.history

    @property
    def total(self) -> int:
        return self.payload + self.framing

    def per_subscriber(self) -> float:
        return self.total / max(1, self.subscribers)


def model(subs: Iterable[Subscriber], pool: list[Bucket], framing: Framing = FRAMING) -> StateBytes:
    """Pack every subscriber's state as the job stores it and sum."""
    out = StateBytes()
    for sub in subs:
        out.subscribers += 1
        out.profile += len(pack_profile(profile_state(sub.profile_row)))
        out.history += len(pack_history({h: tuple(pool[i]) for h, i in sub.hours}, contacts_state(sub)))
        out.bucket_entries += len(sub.hours)
        out.framing += framing.subscriber(sub.msisdn)
    return out


def behaviour_lines(sub: Subscriber, pool: list[Bucket]) -> Iterator[bytes]:
    for hour, i in sub.hours:
        yield json.dumps(bucket_record(sub.msisdn, hour, pool[i])).encode()


def active_hours(behaviour_records: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """(buckets, distinct subscribers) of a behaviour output: how many hours a subscriber is active."""
    subs: set[str] = set()
    n = 0
    for r in behaviour_records:
        if r.get("msisdn") and "calls_mo" in r:
            n += 1
            subs.add(r["msisdn"])
    return n, len(subs)
