"""Bytes per subscriber of the decision job's keyed state, without Flink.

:class:`~jobs.decisions.operators.SubscriberDecisions` keeps, per msisdn, three states of
``Types.PICKLED_BYTE_ARRAY`` (in thread mode a value is ``pickle.dumps(value)``, stored by Flink as a byte array):

- ``profile``: ValueState, the profile dict built from the reference row (no TTL);
- ``buckets``: MapState hour (LONG) -> the values of a :class:`udfs.behaviour.Bucket` as a plain tuple, at
  most 48 + 1 entries (TTL);
- ``contacts``: ValueState, a :class:`udfs.contact_policy.Contacts` (TTL).

(``pending`` holds triggers for ``decisions.reorder_ms`` only and is empty between bursts.)

:func:`model` builds that state for ``n`` synthetic subscribers — profiles cycled from a city's ``profiles.csv``,
48 hourly buckets drawn from a city's ``behaviour`` output, a contact record with a few entries — pickles every
value as the job does and adds the bytes Flink writes around each value in a full checkpoint of the heap state
backend (:data:`FRAMING`). :func:`subscribers` yields the same subscribers as input records, so a benchmark can
feed them to the real job and compare with the size of its checkpoint.
"""

from __future__ import annotations

import json
import pickle
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from udfs.behaviour import KEEP_HOURS, Bucket, compact
from udfs.contact_policy import Contacts
from udfs.units import HOUR_MS, MINUTE_MS

#: The profile fields the decision job keeps (sql/decisions/subscriber_inputs.sql, JSON_OBJECT of the row).
PROFILE_FIELDS = (
    "msisdn",
    "brand",
    "plan",
    "data_quota_mb",
    "arpu_band",
    "age_band",
    "consent_marketing",
    "consent_location",
    "do_not_disturb",
    "products",
)

#: Per subscriber, the triggers a contact record remembers: (kind, context, campaign that matches it).
TRIGGERS = (
    ("dial_114", {"called_number": "114"}, "dial-114-12580"),
    ("power_on", {"off_minutes": 600}, "power-on-welcome"),
    ("dial_hotline", {"called_number": "10086"}, "hotline-promo"),
)


class Framing(NamedTuple):
    """Bytes Flink's serializers add around the pickled values in a full heap-backend checkpoint
    (per state and key: VoidNamespace 1 byte + key Row(STRING msisdn): 1-byte null mask, varint length, chars)."""

    per_state_key_extra: int = 1 + 1 + 1  # namespace byte, row mask, string length (msisdn < 127 chars)
    value: int = 4  # byte[] length (BytePrimitiveArraySerializer)
    ttl: int = 8  # TtlValue: last-access timestamp
    map_size: int = 4  # MapSerializer: entry count
    map_entry: int = 8 + 1  # LONG key + null flag

    def subscriber(self, msisdn: str, bucket_entries: int) -> int:
        key = self.per_state_key_extra + len(msisdn.encode())
        profile = key + self.value
        buckets = key + self.map_size + bucket_entries * (self.map_entry + self.ttl + self.value)
        contacts = key + self.ttl + self.value
        return profile + buckets + contacts


FRAMING = Framing()


class Subscriber(NamedTuple):
    msisdn: str
    profile_row: dict[str, Any]  # a profiles.csv row (typed, read_reference_csv)
    hours: list[tuple[int, int]]  # (hour_start ms, index into the bucket pool)
    triggers: list[dict[str, Any]]  # trigger records, in ts order


def bucket_pool(behaviour_records: Iterable[dict[str, Any]]) -> list[Bucket]:
    """Buckets as the job stores them, from ``behaviour`` records (event-time markers skipped)."""
    return [compact(r) for r in behaviour_records if r.get("msisdn") and "calls_mo" in r]


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
    each of ``hours`` hours from ``start_ms`` (drawn from ``pool``) and the :data:`TRIGGERS` half an hour
    after the last of them."""
    if not pool or not profile_rows:
        raise ValueError("need a non-empty bucket pool and at least one profile")
    rng = random.Random(seed)
    first = start_ms - start_ms % HOUR_MS
    trigger_ts = first + hours * HOUR_MS + 30 * MINUTE_MS
    for i in range(n):
        msisdn = f"138{i:08d}"
        row = profile_rows[i % len(profile_rows)] | {"msisdn": msisdn}
        picks = [(first + h * HOUR_MS, rng.randrange(len(pool))) for h in range(hours)]
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
    profile: int = 0  # pickled payloads
    buckets: int = 0
    contacts: int = 0
    bucket_entries: int = 0
    framing: int = 0  # Flink serializers around the payloads (FRAMING)

    @property
    def payload(self) -> int:
        return self.profile + self.buckets + self.contacts

    @property
    def total(self) -> int:
        return self.payload + self.framing

    def per_subscriber(self) -> float:
        return self.total / max(1, self.subscribers)


def model(subs: Iterable[Subscriber], pool: list[Bucket], framing: Framing = FRAMING) -> StateBytes:
    """Pickle every subscriber's state as the job stores it and sum. A bucket's pickle depends only on its
    values, so each pool entry is pickled once and its size reused (identical bytes, ~100x faster)."""
    pool_sizes = [len(pickle.dumps(tuple(b))) for b in pool]
    out = StateBytes()
    for sub in subs:
        out.subscribers += 1
        out.profile += len(pickle.dumps(profile_state(sub.profile_row)))
        out.buckets += sum(pool_sizes[i] for _, i in sub.hours)
        out.contacts += len(pickle.dumps(contacts_state(sub)))
        out.bucket_entries += len(sub.hours)
        out.framing += framing.subscriber(sub.msisdn, len(sub.hours))
    return out


def model_exact(subs: Iterable[Subscriber], pool: list[Bucket], framing: Framing = FRAMING) -> StateBytes:
    """:func:`model` without the per-pool-entry shortcut (every bucket pickled); for tests."""
    out = StateBytes()
    for sub in subs:
        out.subscribers += 1
        out.profile += len(pickle.dumps(profile_state(sub.profile_row)))
        out.buckets += sum(len(pickle.dumps(tuple(pool[i]))) for _, i in sub.hours)
        out.contacts += len(pickle.dumps(contacts_state(sub)))
        out.bucket_entries += len(sub.hours)
        out.framing += framing.subscriber(sub.msisdn, len(sub.hours))
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
