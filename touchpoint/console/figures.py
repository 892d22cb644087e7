"""What the console shows from ClickHouse: the rows of the dashboards' own panel queries (the funnel, the
suppressions by reason, the results per arm, the trial journeys, the micro-region map and its top table), over the
whole span of the data, so the console, the report and Grafana cannot disagree. ClickHouse out of reach is a
message naming it, not an error page: the console shows what it has from Kafka."""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from touchpoint.config import Settings
from touchpoint.dashboards import report_data as panels
from touchpoint.dashboards.macros import TimeRange, sql_quote


@dataclass
class Figures:
    """Per campaign: the funnel row, the suppressions by reason, the results' arms; per journey its row; the map's
    regions and the top opportunity regions. ``problem`` says why there are none."""

    where: str = ""
    range: TimeRange | None = None
    funnel: dict[str, dict[str, Any]] = field(default_factory=dict)
    reasons: dict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    results: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    journeys: dict[str, dict[str, Any]] = field(default_factory=dict)
    problem: str | None = None


@dataclass
class MapData:
    where: str = ""
    range: TimeRange | None = None
    regions: list[dict[str, Any]] = field(default_factory=list)
    top: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None


class ClickHouseFigures:
    """One connection to ClickHouse for the console's threads, opened when first needed and again after a
    failure (a server restarted, chdb's directory freed)."""

    def __init__(self, settings: Settings, url: str | None = None):
        self.settings, self.url = settings, url
        self._queries = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return self.url or self.settings.clickhouse.url

    def _run(self, read):
        """``read(queries)`` under the lock; a failure closes the connection and becomes a one-line problem."""
        from touchpoint.dashboards.queries import open_queries

        with self._lock:
            try:
                if self._queries is None:
                    self._queries = open_queries(self.settings, self.url)
                return read(self._queries), None
            except Exception as e:  # any failure to reach or read ClickHouse: named, the page goes on
                self.close_locked()
                first = " ".join(str(e).split())[:300]
                return None, f"ClickHouse ({self.describe()}, database {self.settings.clickhouse.database}): {first}"

    def close_locked(self) -> None:
        if self._queries is not None:
            with contextlib.suppress(Exception):  # closing a connection that already failed
                self._queries.backend.close()
            self._queries = None

    def close(self) -> None:
        with self._lock:
            self.close_locked()

    def of(self, kind: str) -> Figures:
        """The figures of one kind of definition: campaigns (funnel, suppressions, results) or journeys."""

        def read(q) -> Figures:
            rng = q.data_range()
            f = Figures(f"{q.backend.describe()}, database {q.database}", rng)
            if rng is None:
                return f
            if kind == "journeys":
                f.journeys = {r["journey"]: r for r in panels.panel_rows(q, panels.JOURNEY_PANEL, rng)}
                return f
            f.funnel = {r["campaign"]: r for r in panels.panel_rows(q, panels.FUNNEL_PANEL, rng)}
            for r in panels.panel_rows(q, panels.BY_REASON_PANEL, rng):
                f.reasons[r["campaign"]].append((r["reason"], int(r["suppressed"])))
            for r in panels.panel_rows(q, panels.RESULTS_PANEL, rng):
                f.results[r["campaign"]].append(r)
            return f

        figures, problem = self._run(read)
        return figures if figures is not None else Figures(problem=problem)

    def audit(self, kind: str, target: str, limit: int = 20) -> tuple[list[dict[str, Any]], str | None]:
        """The latest changes made in the console to one definition (the console_audit table), newest first."""

        def read(q) -> list[dict[str, Any]]:
            sql = (
                "SELECT ts, user, role, action, changes, note FROM console_audit FINAL "
                f"WHERE kind = {sql_quote(kind)} AND target = {sql_quote(target)} "
                f"ORDER BY ts_ms DESC LIMIT {int(limit)}"
            )
            return q.run(sql).dicts()

        rows, problem = self._run(read)
        return rows or [], problem

    def map(self) -> MapData:
        def read(q) -> MapData:
            rng = q.data_range()
            m = MapData(f"{q.backend.describe()}, database {q.database}", rng)
            if rng is not None:
                m.regions = panels.panel_rows(q, panels.MAP_PANEL, rng)
                m.top = panels.panel_rows(q, panels.TOP_PANEL, rng)
            return m

        data, problem = self._run(read)
        return data if data is not None else MapData(problem=problem)
