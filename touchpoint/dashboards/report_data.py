"""What the report shows, read from ClickHouse: the rows of the dashboards' own panel queries
(``grafana/dashboards/``), run over the whole span of the data with every variable at "All", so the report and
Grafana cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from touchpoint.dashboards.check import resolve_variables
from touchpoint.dashboards.macros import TimeRange, expand
from touchpoint.dashboards.model import dashboard_by_uid, panel_sql
from touchpoint.dashboards.queries import Queries

#: Intervals of the variant share over time in the report and the terminal (Grafana picks its own from the width).
SHARE_INTERVALS = 12
#: (dashboard uid, panel id) of the queries the report shows.
MAP_PANEL = ("touchpoint-micro-regions", 1)
TOP_PANEL = ("touchpoint-micro-regions", 3)
FUNNEL_PANEL = ("touchpoint-campaigns", 3)
SUPPRESSED_PANEL = ("touchpoint-campaigns", 4)
BY_REASON_PANEL = ("touchpoint-campaigns", 5)
JOURNEY_PANEL = ("touchpoint-campaigns", 8)
RESULTS_PANEL = ("touchpoint-campaigns", 9)
SHARE_PANEL = ("touchpoint-campaigns", 10)


@dataclass
class ReportData:
    """The rows of each section of the page; ``range`` is None while ClickHouse holds no data."""

    where: str
    range: TimeRange | None
    regions: list[dict[str, Any]] = field(default_factory=list)
    top: list[dict[str, Any]] = field(default_factory=list)
    funnel: list[dict[str, Any]] = field(default_factory=list)
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    journeys: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    share: list[dict[str, Any]] = field(default_factory=list)


def panel_rows(queries: Queries, ref: tuple[str, int], rng: TimeRange) -> list[dict[str, Any]]:
    d = dashboard_by_uid(ref[0])
    variables = resolve_variables(queries, d, rng)  # every variable at "All"
    return queries.run(expand(panel_sql(d.panel(ref[1])), rng, variables)).dicts()


def collect(queries: Queries) -> ReportData:
    rng = queries.data_range()
    data = ReportData(f"{queries.backend.describe()}, database {queries.database}", rng)
    if rng is None:
        return data
    data.regions = panel_rows(queries, MAP_PANEL, rng)
    data.top = panel_rows(queries, TOP_PANEL, rng)
    data.funnel = panel_rows(queries, FUNNEL_PANEL, rng)
    data.suppressed = panel_rows(queries, SUPPRESSED_PANEL, rng)
    data.journeys = panel_rows(queries, JOURNEY_PANEL, rng)
    data.results, data.share = campaign_results(queries, rng)
    return data


def campaign_results(
    queries: Queries, rng: TimeRange | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows of the results panel and of the variant share panel, over ``rng`` (default: all the data)."""
    rng = rng or queries.data_range()
    if rng is None:
        return [], []
    return panel_rows(queries, RESULTS_PANEL, rng), panel_rows(queries, SHARE_PANEL, _share_range(queries, rng))


def _share_range(queries: Queries, rng: TimeRange) -> TimeRange:
    """The span of the leads that offer a variant, within ``rng``, in :data:`SHARE_INTERVALS` intervals: the data's
    range may run on (a replay's decisions are stamped when they ran), and the share is about the leads."""
    lo, hi = queries.backend.query(
        f"SELECT toUnixTimestamp(min(trigger_ts)), toUnixTimestamp(max(trigger_ts)) + 1 FROM {queries.database}.leads "
        f"WHERE variant_id != '' AND trigger_ts >= toDateTime({int(rng.start.timestamp())}) "
        f"AND trigger_ts < toDateTime({int(rng.end.timestamp())})"
    )[0]
    if not lo:
        return TimeRange.of(rng.start, rng.end, max_points=SHARE_INTERVALS)
    start, end = (datetime.fromtimestamp(t, UTC) for t in (lo, hi))
    return TimeRange.of(start, end, max_points=SHARE_INTERVALS)
