"""What the report shows, read from ClickHouse: the rows of the dashboards' own panel queries
(``grafana/dashboards/``), run over the whole span of the data with every variable at "All", so the report and
Grafana cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from touchpoint.dashboards.check import resolve_variables
from touchpoint.dashboards.macros import TimeRange, expand
from touchpoint.dashboards.model import dashboard_by_uid, panel_sql
from touchpoint.dashboards.queries import Queries

#: (dashboard uid, panel id) of the queries the report shows.
MAP_PANEL = ("touchpoint-micro-regions", 1)
TOP_PANEL = ("touchpoint-micro-regions", 3)
FUNNEL_PANEL = ("touchpoint-campaigns", 3)
SUPPRESSED_PANEL = ("touchpoint-campaigns", 4)
CONTROL_PANEL = ("touchpoint-campaigns", 6)
JOURNEY_PANEL = ("touchpoint-campaigns", 8)


@dataclass
class ReportData:
    """The rows of each section of the page; ``range`` is None while ClickHouse holds no data."""

    where: str
    range: TimeRange | None
    regions: list[dict[str, Any]] = field(default_factory=list)
    top: list[dict[str, Any]] = field(default_factory=list)
    funnel: list[dict[str, Any]] = field(default_factory=list)
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    control: list[dict[str, Any]] = field(default_factory=list)
    journeys: list[dict[str, Any]] = field(default_factory=list)


def _panel_rows(queries: Queries, ref: tuple[str, int], rng: TimeRange) -> list[dict[str, Any]]:
    d = dashboard_by_uid(ref[0])
    variables = resolve_variables(queries, d, rng)  # every variable at "All"
    return queries.run(expand(panel_sql(d.panel(ref[1])), rng, variables)).dicts()


def collect(queries: Queries) -> ReportData:
    rng = queries.data_range()
    data = ReportData(f"{queries.backend.describe()}, database {queries.database}", rng)
    if rng is None:
        return data
    data.regions = _panel_rows(queries, MAP_PANEL, rng)
    data.top = _panel_rows(queries, TOP_PANEL, rng)
    data.funnel = _panel_rows(queries, FUNNEL_PANEL, rng)
    data.suppressed = _panel_rows(queries, SUPPRESSED_PANEL, rng)
    data.control = _panel_rows(queries, CONTROL_PANEL, rng)
    data.journeys = _panel_rows(queries, JOURNEY_PANEL, rng)
    return data
