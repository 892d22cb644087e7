"""``touchpoint report --out report.html``: one self-contained HTML page read from ClickHouse.

For readers without Grafana (a marketer's mailbox, a printout): the micro-region map — every region as a circle at
its centroid on an equirectangular projection, colour = G3 coverage, area ~ subscribers present, each region's
latest published window — the top G3 opportunity regions, the lead funnel per campaign, and the campaign results
per campaign and variant (uplift intervals drawn, variant share over time, the guardrail's state). Everything is
inline (CSS, SVG, a little JavaScript for tooltips); the page loads nothing from anywhere.

The numbers come from the dashboards' own panel queries (``grafana/dashboards/``), run for the whole span of the
data with every variable at "All", so the report and Grafana cannot disagree.

This module reads and writes the report; the parts live next to it: ``report_data`` (the panel queries),
``report_map`` (the SVG map and its legend), ``report_results`` (the campaign results), ``report_page`` (the page
and its tables), ``report_format`` (how values are written). Their public names are importable from here too.
"""

from __future__ import annotations

from pathlib import Path

from touchpoint.config import Settings
from touchpoint.dashboards.queries import open_queries
from touchpoint.dashboards.report_data import (
    FUNNEL_PANEL,
    JOURNEY_PANEL,
    MAP_PANEL,
    RESULTS_PANEL,
    SHARE_PANEL,
    SUPPRESSED_PANEL,
    TOP_PANEL,
    ReportData,
    collect,
)
from touchpoint.dashboards.report_format import coverage_colour
from touchpoint.dashboards.report_map import MAP_H, MAP_W, PAD, R_MAX, R_MIN, Projection, render_legend, render_map
from touchpoint.dashboards.report_page import render, render_funnel

__all__ = [
    "FUNNEL_PANEL",
    "JOURNEY_PANEL",
    "MAP_H",
    "MAP_PANEL",
    "MAP_W",
    "PAD",
    "R_MAX",
    "RESULTS_PANEL",
    "R_MIN",
    "SHARE_PANEL",
    "SUPPRESSED_PANEL",
    "TOP_PANEL",
    "Projection",
    "ReportData",
    "collect",
    "coverage_colour",
    "read_data",
    "render",
    "render_funnel",
    "render_legend",
    "render_map",
    "save",
    "write_report",
]


def write_report(settings: Settings, out: Path, url: str | None = None) -> str:
    return save(read_data(settings, url), out)


def read_data(settings: Settings, url: str | None = None) -> ReportData:
    """What the report shows, read from ClickHouse with the dashboards' own panel queries."""
    queries = open_queries(settings, url)
    try:
        return collect(queries)
    finally:
        queries.backend.close()


def save(data: ReportData, out: Path) -> str:
    """Write the page atomically; returns a one-line summary."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render(data), encoding="utf-8")
    tmp.replace(out)
    if data.range is None:
        return f"wrote {out}: no data in ClickHouse yet ({data.where})"
    return (
        f"wrote {out}: {len(data.regions)} regions, {len(data.top)} opportunity regions, "
        f"{len(data.funnel)} campaigns; data {data.range.start:%Y-%m-%d %H:%M} .. "
        f"{data.range.end:%Y-%m-%d %H:%M} UTC from {data.where}"
    )
