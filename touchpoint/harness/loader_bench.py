"""Loader throughput for ``make bench``: synthetic records of every loaded topic, produced to fresh topics and
loaded into a fresh database; rows/s from the first record read to the last commit."""

from __future__ import annotations

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


def synthetic_records(n: int, seed: int = 1, start_ms: int | None = None) -> Iterator[tuple[str, dict]]:
    """``n`` valid records for the loaded topics, deterministic for a seed: (topic key, record). Mix: ~half
    behaviour, then triggers, decisions, leads, traffic, region_metrics, orders, outcomes, uplift, journey_events,
    dlq. Every record has
    its own id (behaviour: its own (msisdn, hour)), over the 72 hours from ``start_ms`` (default: 72 h ago)."""
    import random

    rnd = random.Random(seed)
    hour = HOUR_MS
    start = start_ms if start_ms is not None else (int(time.time() * 1000) // hour - 72) * hour
    kinds = [*trigger_kinds.fixed_names()[:4], trigger_kinds.quota_kind(20)]
    mix = (
        ["behaviour"] * 10
        + ["triggers"] * 3
        + ["decisions"] * 2
        + ["leads"] * 2
        + ["traffic", "region_metrics", "orders", "outcomes", "uplift", "journey_events", "dlq"]
    )
    for i in range(n):
        key = mix[i % len(mix)]
        msisdn = f"139{(i // 72) % 10**8:08d}"
        ts = start + (i % 72) * hour + rnd.randrange(hour)
        if key == "behaviour":
            up, down = rnd.randrange(10**6), rnd.randrange(10**7)
            g3 = rnd.randrange(up + down + 1)
            rec = {
                "msisdn": msisdn,
                "hour_start": ts - ts % hour,
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
        elif key == "triggers":
            rec = {
                "trigger_id": f"t-{i:016x}",
                "msisdn": msisdn,
                "kind": rnd.choice(kinds),
                "ts": ts,
                "detected_at": ts + rnd.randrange(2000),
                "context": {"n": i},
            }
        elif key == "decisions":
            rec = {
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
        elif key == "leads":
            rec = {
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
                "expires_at": ts + 48 * hour,
                "attribution_until": ts + 7 * 24 * hour,
                "control": False,
                "reasons": ["trigger:dial_114"],
            }
        elif key == "traffic":
            w = ts - ts % MINUTE_MS
            rec = {
                "window_start": w,
                "window_end": w + MINUTE_MS,
                "source": "signaling",
                "event_type": f"type{i}",
                "events": rnd.randrange(1, 1000),
            }
        elif key == "region_metrics":
            w = ts - ts % 900_000
            rec = {
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
        elif key == "orders":
            rec = {
                "order_id": f"o-{i}",
                "ts": ts,
                "msisdn": msisdn,
                "product_id": "data_package_50",
                "product_kind": "data_package",
                "action": "subscribe",
                "channel": "sms",
            }
        elif key == "outcomes":
            rec = {
                "outcome_id": f"oc-{i}",
                "msisdn": msisdn,
                "campaign_id": "c1",
                "status": "delivered",
                "ts": ts,
                "lead_id": f"l-{i:020x}",
            }
        elif key == "uplift":
            nt, nc = rnd.randrange(100, 1000), rnd.randrange(30, 100)
            u = uplift(nt, rnd.randrange(nt // 5), nc, rnd.randrange(nc // 10), min_sample=30)
            rec = {
                "uplift_id": f"campaign_day|c{i % 10}||{i}",
                "scope": "campaign_day",
                "campaign_id": f"c{i % 10}",
                "day": str(i),
                **u.record(),
                "version": i + 1,
                "ts": ts,
            }
        elif key == "journey_events":
            step = ("welcome", "usage_nudge", "feedback", "reminder", "end")[i % 5]
            rec = {
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
                    "trial_start": ts - 6 * hour,
                    "trial_end": ts + 6 * hour,
                    "usage_mb": rnd.randrange(50) / 2,
                }
                | ({"result": "not_converted", "reason": "low_usage"} if step == "end" else {}),
            }
        else:
            rec = {
                "source": "signaling",
                "reason": "bad_json",
                "detail": None,
                "event_id": f"s-{i}",
                "ts": ts,
                "raw": f"{{broken {i}",
            }
        yield key, rec


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
