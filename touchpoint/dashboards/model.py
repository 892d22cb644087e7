"""The dashboards as files: ``grafana/dashboards/*.json`` (Grafana's dashboard JSON model) over the ClickHouse
tables, queried through the official ClickHouse plugin (``grafana-clickhouse-datasource``), and the provisioning
files beside them. Everything else in this package reads dashboards through :func:`load_dashboards`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from touchpoint import HOME
from touchpoint.resources import resource_dir

GRAFANA_DIR = resource_dir("grafana")

DASHBOARDS_DIR = GRAFANA_DIR / "dashboards"

DATASOURCE_FILE = GRAFANA_DIR / "provisioning" / "datasources" / "clickhouse.yaml"

PROVIDER_FILE = GRAFANA_DIR / "provisioning" / "dashboards" / "touchpoint.yaml"

#: Built by `make setup` from @grafana/schema (grafana/schema/build.sh).
SCHEMA_FILE = HOME / "work" / "grafana" / "dashboard.schema.json"

DATASOURCE_TYPE = "grafana-clickhouse-datasource"

DATASOURCE_UID = "touchpoint-clickhouse"

FOLDER_UID = "touchpoint"

FOLDER_TITLE = "Touchpoint"

#: Panel types that query the datasource; others (text, row) have no targets.
QUERY_PANEL_TYPES = {
    "geomap",
    "table",
    "stat",
    "timeseries",
    "barchart",
    "bargauge",
    "gauge",
    "piechart",
    "histogram",
    "heatmap",
    "state-timeline",
    "status-history",
    "xychart",
    "logs",
}


class DashboardError(RuntimeError):
    """A dashboard, the provisioning or Grafana failed us; the message is one line."""


def one_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:400] if text else type(e).__name__


@dataclass
class Dashboard:
    path: Path
    model: dict[str, Any]

    @property
    def uid(self) -> str:
        return str(self.model.get("uid", ""))

    @property
    def title(self) -> str:
        return str(self.model.get("title", ""))

    def panels(self) -> list[dict[str, Any]]:
        """Every panel, those nested in collapsed rows included, rows themselves excluded."""
        out = []
        for p in self.model.get("panels", []) or []:
            if p.get("type") == "row":
                out.extend(p.get("panels", []) or [])
            else:
                out.append(p)
        return out

    def variables(self) -> list[dict[str, Any]]:
        return list((self.model.get("templating") or {}).get("list", []) or [])

    def panel(self, panel_id: int) -> dict[str, Any]:
        for p in self.panels():
            if p.get("id") == panel_id:
                return p
        raise DashboardError(f"dashboard {self.uid} has no panel {panel_id}")


def load_dashboards(directory: Path = DASHBOARDS_DIR) -> list[Dashboard]:
    directory = Path(directory)
    files = sorted(directory.glob("*.json"))
    if not files:
        raise DashboardError(f"no dashboards (*.json) in {directory}")
    out = []
    for f in files:
        try:
            model = json.loads(f.read_text())
        except json.JSONDecodeError as e:
            raise DashboardError(f"{f.name}: not valid JSON: {e}") from None
        if not isinstance(model, dict):
            raise DashboardError(f"{f.name}: a dashboard must be a JSON object")
        out.append(Dashboard(f, model))
    return out


def dashboard_by_uid(uid: str, directory: Path = DASHBOARDS_DIR) -> Dashboard:
    for d in load_dashboards(directory):
        if d.uid == uid:
            return d
    raise DashboardError(f"no dashboard with uid {uid} in {directory}")


def panel_sql(panel: dict[str, Any]) -> str:
    targets = panel.get("targets") or []
    if len(targets) != 1:
        raise DashboardError(f"panel {panel.get('id')} has {len(targets)} queries, expected 1")
    return targets[0].get("rawSql", "")


def variable_sql(var: dict[str, Any]) -> str:
    q = var.get("query")
    if isinstance(q, dict):
        q = q.get("rawSql") or q.get("query") or ""
    return str(q or "")
