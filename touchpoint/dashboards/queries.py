"""Panel SQL against one ClickHouse backend, with the Touchpoint database as the current one (as the datasource's
``defaultDatabase``), and the time range the data covers (the default range of a check and of the report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from touchpoint.config import Settings
from touchpoint.dashboards.macros import TimeRange
from touchpoint.dashboards.model import DashboardError

#: Time columns whose extent is the default range of `check` and of the report.
TIME_COLUMNS = [
    ("region_metrics", "window_start"),
    ("decisions", "trigger_ts"),
    ("decisions", "decided_at"),
    ("leads", "created_at"),
    ("triggers", "ts"),
    ("triggers", "detected_at"),
    ("outcomes", "ts"),
    ("traffic", "window_start"),
    ("dlq_counts", "minute"),
    ("loader_progress", "ts"),
]


@dataclass
class Result:
    columns: list[tuple[str, str]]
    rows: list[tuple]

    @property
    def names(self) -> list[str]:
        return [c[0] for c in self.columns]

    def dicts(self) -> list[dict[str, Any]]:
        names = self.names
        return [dict(zip(names, r)) for r in self.rows]


class Queries:
    """Panel SQL against one ClickHouse backend (touchpoint.clickhouse), with the configured database as the
    current one: the dashboards name tables without a database, as the datasource's ``defaultDatabase`` does."""

    def __init__(self, backend):
        self.backend = backend
        self.database = backend.database

    def run(self, sql: str) -> Result:
        self.backend.execute(f"USE {self.database}")  # again each time: a server connection re-opens after an error
        columns = [(r[0], r[1]) for r in self.backend.query(f"DESCRIBE TABLE ({sql})")]
        return Result(columns, self.backend.query(sql))

    def tables(self) -> set[str]:
        rows = self.backend.query(f"SELECT name FROM system.tables WHERE database = '{self.database}'")
        return {r[0] for r in rows}

    def data_range(self) -> TimeRange | None:
        """From the earliest to one second past the latest time in the Touchpoint tables (None: no data)."""
        have = self.tables()
        parts = [
            f"SELECT min({c}) AS lo, max({c}) AS hi FROM {self.database}.{t} WHERE {c} > toDateTime(0)"
            for t, c in TIME_COLUMNS
            if t in have
        ]
        if not parts:
            raise DashboardError(
                f"ClickHouse database {self.database} has none of the Touchpoint tables "
                f"({self.backend.describe()}): run `touchpoint db migrate` and `touchpoint load`"
            )
        rows = self.backend.query(
            "SELECT toUnixTimestamp(min(lo)), toUnixTimestamp(max(hi)) FROM ("
            + " UNION ALL ".join(parts)
            + ") WHERE lo > toDateTime(0)"
        )
        if not rows or rows[0][0] in (None, 0):
            return None
        lo, hi = (datetime.fromtimestamp(int(v), UTC) for v in rows[0])
        return TimeRange.of(lo, hi + timedelta(seconds=1))


def open_queries(settings: Settings, url: str | None = None) -> Queries:
    from touchpoint.clickhouse.backends import connect

    backend = connect(settings, url)
    try:
        names = {r[0] for r in backend.query("SHOW DATABASES")}
    except Exception:
        backend.close()
        raise
    if backend.database not in names:
        where = backend.describe()
        backend.close()
        raise DashboardError(
            f"ClickHouse database {settings.clickhouse.database} not found ({where}): "
            "run `touchpoint db migrate` and `touchpoint load`"
        )
    return Queries(backend)
