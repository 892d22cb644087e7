"""The micro-region map, live: the report's map and top-opportunity table (touchpoint/dashboards/report_*),
served from ClickHouse and fetched again every ``console.refresh_seconds`` by the open page."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from markupsafe import Markup

from touchpoint.console.context import console
from touchpoint.dashboards import report_page
from touchpoint.dashboards.report_map import render_legend, render_map

blueprint = Blueprint("map", __name__)


def _parts() -> dict:
    data = console().figures.map()
    # the top panel names its regions; the region id links a table row to its circle (the report's script)
    id_by_name = {r["region_name"]: r["region_id"] for r in data.regions}
    top = [{**r, "region_id": id_by_name.get(r["region"], "")} for r in data.top]
    return {
        "data": data,
        # the report's own renderers: every value in them is escaped
        "map_svg": Markup(render_map(data.regions) + render_legend(data.regions)) if data.regions else None,
        "top_table": Markup(
            report_page.table(top, report_page.TOP_COLUMNS, "top", "No opportunities in the data.", "region_id")
        ),
    }


@blueprint.get("/map")
def page():
    return render_template("map.html", **_parts())


@blueprint.get("/map/_live")
def live():
    return render_template("_map.html", **_parts())


@blueprint.get("/report.css")
def report_css():
    return Response(report_page.CSS, mimetype="text/css")


@blueprint.get("/report.js")
def report_js():
    return Response(report_page.JS, mimetype="text/javascript")
