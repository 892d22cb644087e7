"""Loader throughput for ``make bench``: synthetic records of every loaded topic, produced to fresh topics and
loaded into a fresh database; rows/s from the first record read to the last commit."""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson

from touchpoint.clickhouse.backends import connect
from touchpoint.clickhouse.loader import Loader
from touchpoint.clickhouse.rows import LOADABLE
from touchpoint.clients.kafka_io import RateLimitedProducer
from touchpoint.config import Settings
from touchpoint.infra.stack import create_topics
from udfs import trigger_kinds
from udfs.effect import uplift
from udfs.units import HOUR_MS, MINUTE_MS

#: the topics of the synthetic records, in turn: about half behaviour, as in a real pipeline's output
TOPIC_MIX = (
    ["behaviour"] * 10
    + ["triggers"] * 3
    + ["decisions"] * 2
    + ["leads"] * 2
    + [
        "traffic",
        "region_metrics",
        "orders",
        "outcomes",
        "uplift",
        "guardrail",
        "journey_events",
        "console_audit",
        "dlq",
    ]
)


def synthetic_records(n: int, seed: int = 1, start_ms: int | None = None) -> Iterator[tuple[str, dict]]:
    """``n`` valid records for the loaded topics, deterministic for a seed: (topic key, record). Mix: ~half
    behaviour, then triggers, decisions, leads, traffic, region_metrics, orders, outcomes, uplift, guardrail,
    journey_events, console_audit, dlq (:data:`TOPIC_MIX`). Every record has its own id (behaviour: its own
    (msisdn, hour)), over the 72 hours from ``start_ms`` (default: 72 h ago)."""
    rnd = random.Random(seed)
    start = start_ms if start_ms is not None else (int(time.time() * 1000) // HOUR_MS - 72) * HOUR_MS
    kinds = [*trigger_kinds.fixed_names()[:4], trigger_kinds.quota_kind(20)]
    for i in range(n):
        key = TOPIC_MIX[i % len(TOPIC_MIX)]
        msisdn = f"139{(i // 72) % 10**8:08d}"
        ts = start + (i % 72) * HOUR_MS + rnd.randrange(HOUR_MS)
        yield key, _record(key, rnd, i, msisdn, ts, kinds)


def _record(key: str, rnd: random.Random, i: int, msisdn: str, ts: int, kinds: list[str]) -> dict:
    """Record ``i`` of topic ``key``, of subscriber ``msisdn`` at ``ts``. Each draws from ``rnd`` in a fixed order,
    so that a seed gives the same records."""
    if key == "behaviour":
        return _behaviour(rnd, msisdn, ts)
    if key == "triggers":
        return _trigger(rnd, i, msisdn, ts, kinds)
    if key == "decisions":
        return _decision(rnd, i, msisdn, ts, kinds)
    if key == "leads":
        return _lead(rnd, i, msisdn, ts, kinds)
    if key == "traffic":
        return _traffic(rnd, i, ts)
    if key == "region_metrics":
        return _region_metrics(i, ts)
    if key == "orders":
        return _order(i, msisdn, ts)
    if key == "outcomes":
        return _outcome(i, msisdn, ts)
    if key == "uplift":
        return _uplift(rnd, i, ts)
    if key == "guardrail":
        return _guardrail(i, ts)
    if key == "journey_events":
        return _journey_event(rnd, i, msisdn, ts)
    if key == "console_audit":
        return _console_audit(i, ts)
    return _dead_letter(i, ts)


def _guardrail(i: int, ts: int) -> dict:
    """A pause of campaign ``c-<i>`` (its own campaign: the table keeps every pause and resume)."""
    return {
        "campaign_id": f"c-{i}",
        "state": "paused",
        "by": "guardrail",
        "reason": "uplift interval below zero",
        "uplift": -0.1,
        "ci_low": -0.2,
        "ci_high": -0.01,
        "uplift_version": i,
        "ts": ts,
    }


def _console_audit(i: int, ts: int) -> dict:
    """A marketer's pause of campaign ``c-<i>`` in the console."""
    return {
        "audit_id": f"a-{i}",
        "ts": ts,
        "user": "ana",
        "role": "marketer",
        "action": "pause",
        "kind": "campaigns",
        "target": f"c-{i}",
        "changes": ['status: "active" -> "paused"'],
        "before": '{"status": "active"}',
        "after": '{"status": "paused"}',
        "note": "",
    }


def _behaviour(rnd: random.Random, msisdn: str, ts: int) -> dict:
    """The subscriber's hourly bucket holding ``ts``."""
    up, down = rnd.randrange(10**6), rnd.randrange(10**7)
    g3 = rnd.randrange(up + down + 1)
    return {
        "msisdn": msisdn,
        "hour_start": ts - ts % HOUR_MS,
        "calls_mo": rnd.randrange(5),
        "calls_mt": rnd.randrange(5),
        "call_seconds": rnd.randrange(900),
        "sms": rnd.randrange(4),
        "bytes_up": up,
        "bytes_down": down,
        "g3_bytes": g3,
        "g3_data_share": g3 / (up + down or 1),
        "hotline_dials": rnd.randrange(2),
        "distinct_cells": rnd.randrange(1, 6),
        "regions": [f"mall-{rnd.randrange(20):03d}"],
        "roaming": rnd.random() < 0.05,
        "last_imei": f"35693803{rnd.randrange(10**7):07d}",
        "last_tac": "35693803",
    }


def _trigger(rnd: random.Random, i: int, msisdn: str, ts: int, kinds: list[str]) -> dict:
    return {
        "trigger_id": f"t-{i:016x}",
        "msisdn": msisdn,
        "kind": rnd.choice(kinds),
        "ts": ts,
        "detected_at": ts + rnd.randrange(2000),
        "context": {"n": i},
    }


def _decision(rnd: random.Random, i: int, msisdn: str, ts: int, kinds: list[str]) -> dict:
    return {
        "decision_id": f"d-{i:020x}",
        "trigger_id": f"t-{i:016x}",
        "trigger_kind": rnd.choice(kinds),
        "msisdn": msisdn,
        "campaign_id": f"c{rnd.randrange(10)}",
        "trigger_ts": ts,
        "decided_at": ts + 1500,
        "result": "suppressed",
        "reason": "audience",
        "detail": "x",
    }


def _lead(rnd: random.Random, i: int, msisdn: str, ts: int, kinds: list[str]) -> dict:
    return {
        "lead_id": f"l-{i:020x}",
        "msisdn": msisdn,
        "campaign_id": f"c{rnd.randrange(10)}",
        "offer_id": "o1",
        "product_id": "o1",
        "channel": "sms",
        "channels": ["sms"],
        "message": "hello",
        "trigger_id": f"t-{i:016x}",
        "trigger_kind": rnd.choice(kinds),
        "trigger_ts": ts,
        "created_at": ts + 1000,
        "deliver_at": ts,
        "expires_at": ts + 48 * HOUR_MS,
        "attribution_until": ts + 7 * 24 * HOUR_MS,
        "control": False,
        "reasons": ["trigger:dial_114"],
    }


def _traffic(rnd: random.Random, i: int, ts: int) -> dict:
    """The minute window holding ``ts``, of an event type of its own."""
    w = ts - ts % MINUTE_MS
    return {
        "window_start": w,
        "window_end": w + MINUTE_MS,
        "source": "signaling",
        "event_type": f"type{i}",
        "events": rnd.randrange(1, 1000),
    }


def _region_metrics(i: int, ts: int) -> dict:
    """The 15-minute window holding ``ts``, of a region of its own."""
    w = ts - ts % 900_000
    return {
        "region_id": f"R{i:06d}",
        "region_kind": "mall",
        "window_start": w,
        "window_end": w + 900_000,
        "subscribers": 50,
        "g3_subscribers": 10,
        "g3_capable": 30,
        "g3_coverage": 0.2,
        "opportunities": 20,
        "g3_data_share": 0.3,
        "products": {"g3_basic": 9, "12580": 4},
    }


def _order(i: int, msisdn: str, ts: int) -> dict:
    return {
        "order_id": f"o-{i}",
        "ts": ts,
        "msisdn": msisdn,
        "product_id": "data_package_50",
        "product_kind": "data_package",
        "action": "subscribe",
        "channel": "sms",
    }


def _outcome(i: int, msisdn: str, ts: int) -> dict:
    return {
        "outcome_id": f"oc-{i}",
        "msisdn": msisdn,
        "campaign_id": "c1",
        "status": "delivered",
        "ts": ts,
        "lead_id": f"l-{i:020x}",
    }


def _uplift(rnd: random.Random, i: int, ts: int) -> dict:
    """A campaign-day's uplift, its figures as the effect job computes them (udfs/effect.py)."""
    nt, nc = rnd.randrange(100, 1000), rnd.randrange(30, 100)
    u = uplift(nt, rnd.randrange(nt // 5), nc, rnd.randrange(nc // 10), min_sample=30)
    return {
        "uplift_id": f"campaign_day|c{i % 10}||{i}",
        "scope": "campaign_day",
        "campaign_id": f"c{i % 10}",
        "day": str(i),
        **u.record(),
        "version": i + 1,
        "ts": ts,
    }


def _journey_event(rnd: random.Random, i: int, msisdn: str, ts: int) -> dict:
    """A trial journey's step, every fifth one its end (not converted)."""
    step = ("welcome", "usage_nudge", "feedback", "reminder", "end")[i % 5]
    return {
        "trigger_id": f"j-{i:020x}",
        "msisdn": msisdn,
        "kind": "journey_end" if step == "end" else "journey_step",
        "ts": ts,
        "detected_at": ts + 1000,
        "context": {
            "journey_id": "music-club-trial",
            "journey_name": "Music Club free trial",
            "step": step,
            "order_id": f"o-trial-{i // 5}",
            "trial_product": "music_club_trial",
            "product_id": "music_club",
            "trial_start": ts - 6 * HOUR_MS,
            "trial_end": ts + 6 * HOUR_MS,
            "usage_mb": rnd.randrange(50) / 2,
        }
        | ({"result": "not_converted", "reason": "low_usage"} if step == "end" else {}),
    }


def _dead_letter(i: int, ts: int) -> dict:
    """A raw signaling line ingest could not parse."""
    return {
        "source": "signaling",
        "reason": "bad_json",
        "detail": None,
        "event_id": f"s-{i}",
        "ts": ts,
        "raw": f"{{broken {i}",
    }


def measure(
    settings: Settings,
    url: str | None = None,
    records: int = 200_000,
    seed: int = 1,
    batch_rows: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Loader throughput: produce ``records`` synthetic records (:func:`synthetic_records`) to fresh topics at
    ``kafka.bootstrap``, load them with a fresh group into a fresh database of ``url`` (default
    ``clickhouse.url``; ``chdb:`` -> a temporary directory), and return rows/s from the first record read to the
    last commit (group join and producing excluded). Drops the database (or directory) afterwards. chdb: call it
    in a process that has no other chdb directory open."""
    run_id = f"{int(time.time())}{threading.get_ident() % 1000:03d}"
    url = url or settings.clickhouse.url
    tmp = None
    if url.rstrip("/") == "chdb:":
        tmp = tempfile.mkdtemp(
            prefix="touchpoint-bench-chdb-", dir=settings.paths.work_dir if settings.paths.work_dir.exists() else None
        )
        url = f"chdb://{tmp}"
    keys = [k for k in LOADABLE]
    topics = {k: f"bench-load-{run_id}-{k.replace('_', '-')}" for k in keys}
    loader_cfg = settings.loader.model_dump() | {"topics": keys, "group_id": f"bench-loader-{run_id}"}
    if batch_rows:
        loader_cfg["batch_rows"] = batch_rows
    s = settings.model_copy(
        update={
            "topics": settings.topics.model_copy(update=topics),
            "loader": settings.loader.model_copy(update=loader_cfg),
        }
    )
    database = f"touchpoint_bench_{run_id}"
    create_topics(s.kafka.bootstrap, list(topics.values()), 1)
    with RateLimitedProducer(s) as producer:
        for key, rec in synthetic_records(records, seed):
            producer.send(key, orjson.dumps(rec))
    stats = Loader(s, url, database=database, until_idle=3.0, max_seconds=600, progress=progress).run()
    result = {
        "backend": stats.backend,
        "records": records,
        "rows": stats.total,
        "seconds": round((stats.last_commit_at or 0) - (stats.first_record_at or 0), 3),
        "rows_per_s": round(stats.rows_per_s),
        "batch_rows": s.loader.batch_rows,
    }
    try:
        with connect(s, url, database) as b:
            b.execute(f"DROP DATABASE IF EXISTS {database}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return result
