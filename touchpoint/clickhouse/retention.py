"""Retention where the server has no TTL (18.16): drop whole partitions older than each table's retention.

The retention of a table comes from its ``${ttl(...)}`` marker in the migrations, so TTL (where supported) and
pruning keep the same data.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from touchpoint.clickhouse.backends import Backend
from touchpoint.clickhouse.migrations import CREATE_TABLE, MIGRATIONS_DIR, TTL_MARKER, discover, split_statements
from touchpoint.config import Settings


def retention_tables(settings: Settings, directory: Path = MIGRATIONS_DIR) -> dict[str, int]:
    """table -> retention days, from the ``${ttl(...)}`` markers of the migrations."""
    out: dict[str, int] = {}
    for m in discover(directory):
        for stmt in split_statements(m.text):
            t, ttl = CREATE_TABLE.search(stmt), TTL_MARKER.search(stmt)
            if t and ttl:
                days = settings.clickhouse.retention_days
                out[t.group(1)] = days if ttl.group(2) is None else min(days, int(ttl.group(2)))
    return out


def partition_end(partition: str) -> datetime | None:
    """End (exclusive) of a ``toYYYYMM`` / ``toYYYYMMDD`` partition, or None for other partition keys."""
    p = partition.strip("'")
    try:
        if re.fullmatch(r"\d{6}", p):
            y, m = int(p[:4]), int(p[4:])
            return datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
        if re.fullmatch(r"\d{8}", p):
            return datetime(int(p[:4]), int(p[4:6]), int(p[6:]), tzinfo=UTC) + timedelta(days=1)
    except ValueError:
        return None
    return None


def prune(
    backend: Backend, settings: Settings, now: datetime | None = None, dry_run: bool = False
) -> list[tuple[str, str]]:
    """Drop the partitions whose whole period is older than the table's retention; returns (table, partition).

    Needed where the server has no TTL (18.16); harmless elsewhere. A monthly partition goes when its last day
    is older than the retention, so such a table keeps up to a month more than ``retention_days``."""
    now = now or datetime.now(UTC)
    db = backend.database
    dropped = []
    for table, days in sorted(retention_tables(settings).items()):
        cutoff = now - timedelta(days=days)
        parts = backend.query(
            f"SELECT DISTINCT partition FROM system.parts WHERE database = '{db}' "
            f"AND table = '{table}' AND active ORDER BY partition"
        )
        for (partition,) in parts:
            end = partition_end(str(partition))
            if end is not None and end <= cutoff:
                if not dry_run:
                    backend.execute(f"ALTER TABLE {db}.{table} DROP PARTITION {str(partition).strip(chr(39))}")
                dropped.append((table, str(partition)))
    return dropped
