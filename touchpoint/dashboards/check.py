"""Grafana dashboards: ``touchpoint dashboards check`` and ``touchpoint dashboards push``.

The dashboards are provisioned JSON files (``grafana/dashboards/*.json``) over the ClickHouse tables the loader
writes (``sql/clickhouse/``), queried through the official ClickHouse plugin (``grafana-clickhouse-datasource``).
No Grafana runs here, so ``check`` does what Grafana would do, without Grafana:

1. **Schema.** Each dashboard is validated against Grafana's own dashboard JSON model: the ``Dashboard`` type that
   Grafana publishes in the npm package ``@grafana/schema``, turned into a JSON Schema at setup time
   (``grafana/schema/build.sh``, ``make setup`` → ``work/grafana/dashboard.schema.json``).
2. **Structure** the schema cannot express: unique uids and panel ids, panels inside the 24-column grid and not
   overlapping, every query on the Touchpoint datasource, refIds unique, every ``$variable`` defined, every
   ``$__macro`` one the plugin knows, time-series panels asking for the time-series format; and the two
   provisioning files (datasource type and uid the dashboards use, provider folder).
3. **Queries.** Every template-variable query and every panel query runs against ClickHouse (``clickhouse.url``:
   embedded chdb or a server) with the plugin's macros expanded exactly as the plugin does for a time range —
   ``$__timeFilter(col)``, ``$__fromTime``/``$__toTime`` (and ``_ms``), ``$__timeInterval(col)``,
   ``$__interval_s``, ``$__dateFilter``, ``$__conditionalAll(cond, $var)`` — and the template variables as
   Grafana substitutes them (``$v``, ``${v}``, ``${v:singlequote}``, ``[[v]]``; a multi-value variable without a
   format becomes ``'a','b'`` as in the plugin). A panel that uses variables runs twice: with "All" and with the
   first value. The columns a panel's options name (Geomap latitude/longitude/size/colour/text fields, a bar
   chart's x field) must be in the result, and a time-series query must return a DateTime column. With
   ``--require-data`` an empty result (in the "All" run) fails too.

``push`` creates or updates the datasource (by uid) and the folder, then posts every dashboard to
``/api/dashboards/db`` with ``overwrite``, through the maintained ``grafana-client`` package.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from touchpoint import ROOT
from touchpoint.config import Settings

GRAFANA_DIR = ROOT / "grafana"
DASHBOARDS_DIR = GRAFANA_DIR / "dashboards"
DATASOURCE_FILE = GRAFANA_DIR / "provisioning" / "datasources" / "clickhouse.yaml"
PROVIDER_FILE = GRAFANA_DIR / "provisioning" / "dashboards" / "touchpoint.yaml"
#: Built by `make setup` from @grafana/schema (grafana/schema/build.sh).
SCHEMA_FILE = ROOT / "work" / "grafana" / "dashboard.schema.json"

DATASOURCE_TYPE = "grafana-clickhouse-datasource"
DATASOURCE_UID = "touchpoint-clickhouse"
FOLDER_UID = "touchpoint"
FOLDER_TITLE = "Touchpoint"

#: Backend macros of the ClickHouse plugin (pkg/macros) and sqlds' conditionalAll (applied in the frontend).
PLUGIN_MACROS = {"timeFilter", "timeFilter_ms", "dateFilter", "dateTimeFilter", "dt", "fromTime", "toTime",
                 "fromTime_ms", "toTime_ms", "timeInterval", "timeInterval_ms", "interval_s", "conditionalAll"}
#: Grafana's global variables (frontend), substituted before the plugin's macros.
GLOBAL_VARIABLES = {"__from", "__to", "__interval", "__interval_ms", "__range", "__range_s", "__range_ms",
                    "__dashboard", "__org", "__user"}
#: Panel types that query the datasource; others (text, row) have no targets.
QUERY_PANEL_TYPES = {"geomap", "table", "stat", "timeseries", "barchart", "bargauge", "gauge", "piechart",
                     "histogram", "heatmap", "state-timeline", "status-history", "xychart", "logs"}


class DashboardError(RuntimeError):
    """A dashboard, the provisioning or Grafana failed us; the message is one line."""


# --- loading ----------------------------------------------------------------------------------------------------


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


# --- schema and structure -----------------------------------------------------------------------------------------


def load_schema(path: Path | None = None) -> dict[str, Any]:
    path = Path(path or SCHEMA_FILE)
    if not path.is_file():
        raise DashboardError(f"Grafana dashboard schema {path} not found: run `make setup` (it builds the schema "
                             "from the npm package @grafana/schema) or pass --schema FILE")
    try:
        schema = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise DashboardError(f"{path}: not valid JSON: {e}") from None
    return schema


def schema_source(schema: dict[str, Any]) -> str:
    v = schema.get("x-grafana-schema-version")
    return f"@grafana/schema {v}" if v else "a dashboard JSON Schema"


def schema_errors(dashboard: Dashboard, schema: dict[str, Any]) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft7Validator(schema)
    out = []
    for e in sorted(validator.iter_errors(dashboard.model), key=lambda e: list(map(str, e.absolute_path))):
        for leaf in _leaves(e):
            out.append(f"{_json_path(leaf.absolute_path)}: {leaf.message[:300]}")
    return out


def _leaves(error) -> list:
    """For an ``anyOf`` failure (a panel is a Panel or a RowPanel), the errors of the branch that came closest
    (fewest errors), recursively; other errors as they are."""
    if not error.context:
        return [error]
    branches: dict[Any, list] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else 0, []).append(sub)
    best = min(branches.values(), key=len)
    return [leaf for sub in best for leaf in _leaves(sub)]


def _json_path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(root)"


_VAR_REF = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")


def referenced_variables(sql: str) -> set[str]:
    names = set()
    for m in _VAR_REF.finditer(sql):
        name = m.group(1) or m.group(2) or m.group(3)
        if name.startswith("__"):
            continue
        names.add(name)
    return names


def structure_errors(dashboard: Dashboard, datasource_uid: str = DATASOURCE_UID) -> list[str]:
    """What Grafana would accept but would not work: see the module docstring."""
    errs: list[str] = []
    m = dashboard.model
    for key in ("uid", "title"):
        if not m.get(key):
            errs.append(f"{key} is missing")
    if dashboard.uid and not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dashboard.uid):
        errs.append(f"uid {dashboard.uid!r}: Grafana uids are at most 40 of [A-Za-z0-9_-]")
    var_names = [v.get("name") for v in dashboard.variables()]
    for v in dashboard.variables():
        if v.get("type") == "query":
            ds = v.get("datasource") or {}
            if ds.get("uid") != datasource_uid:
                errs.append(f"variable {v.get('name')}: datasource uid {ds.get('uid')!r}, expected {datasource_uid!r}")
            if not _variable_sql(v):
                errs.append(f"variable {v.get('name')}: empty query")
    ids: dict[Any, str] = {}
    boxes: list[tuple[int, int, int, int, Any]] = []
    for p in dashboard.panels():
        pid = p.get("id")
        label = f"panel {pid} ({p.get('title', '')!r})"
        if not isinstance(pid, int):
            errs.append(f"{label}: id must be an integer")
        elif pid in ids:
            errs.append(f"{label}: id also used by {ids[pid]}")
        else:
            ids[pid] = repr(p.get("title", ""))
        if not p.get("title"):
            errs.append(f"{label}: no title")
        g = p.get("gridPos") or {}
        try:
            x, y, w, h = (int(g[k]) for k in "xywh")
        except (KeyError, TypeError, ValueError):
            errs.append(f"{label}: gridPos needs integer x, y, w, h")
        else:
            if x < 0 or w < 1 or h < 1 or x + w > 24:
                errs.append(f"{label}: gridPos {g} outside the 24-column grid")
            for bx, by, bw, bh, other in boxes:
                if x < bx + bw and bx < x + w and y < by + bh and by < y + h:
                    errs.append(f"{label}: overlaps panel {other}")
            boxes.append((x, y, w, h, pid))
        if p.get("type") not in QUERY_PANEL_TYPES:
            continue
        targets = p.get("targets") or []
        if not targets:
            errs.append(f"{label}: no queries")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs) or not all(refs):
            errs.append(f"{label}: refIds must be present and unique, got {refs}")
        for t in targets:
            ds = t.get("datasource") or p.get("datasource") or {}
            if ds.get("uid") != datasource_uid or ds.get("type") != DATASOURCE_TYPE:
                errs.append(f"{label}: query {t.get('refId')} is not on datasource {datasource_uid} ({DATASOURCE_TYPE})")
            sql = t.get("rawSql") or ""
            if not sql.strip():
                errs.append(f"{label}: query {t.get('refId')} has no rawSql")
            if t.get("editorType", "sql") != "sql":
                errs.append(f"{label}: query {t.get('refId')} must use the SQL editor (editorType sql)")
            for name in sorted(referenced_variables(sql) - set(var_names)):
                errs.append(f"{label}: query {t.get('refId')} uses ${name}, which is not a dashboard variable")
            for name in sorted(set(re.findall(r"\$__(\w+)", sql)) - PLUGIN_MACROS - {g[2:] for g in GLOBAL_VARIABLES}):
                errs.append(f"{label}: query {t.get('refId')} uses unknown macro $__{name}")
            wants_ts = p.get("type") == "timeseries"
            if wants_ts and t.get("format") != 0:
                errs.append(f"{label}: a time-series panel needs format 0 (time series), got {t.get('format')!r}")
            if not wants_ts and t.get("format") not in (1, None):
                errs.append(f"{label}: a {p.get('type')} panel needs format 1 (table), got {t.get('format')!r}")
    return errs


def provisioning_errors(datasource_file: Path = DATASOURCE_FILE, provider_file: Path = PROVIDER_FILE,
                        datasource_uid: str = DATASOURCE_UID) -> list[str]:
    errs = []
    try:
        ds_doc = yaml.safe_load(Path(datasource_file).read_text())
        pv_doc = yaml.safe_load(Path(provider_file).read_text())
    except (OSError, yaml.YAMLError) as e:
        return [f"provisioning: {str(e).splitlines()[0]}"]
    if ds_doc.get("apiVersion") != 1:
        errs.append(f"{datasource_file.name}: apiVersion must be 1")
    sources = [d for d in ds_doc.get("datasources") or [] if d.get("uid") == datasource_uid]
    if len(sources) != 1:
        errs.append(f"{datasource_file.name}: needs exactly one datasource with uid {datasource_uid}")
    else:
        d = sources[0]
        if d.get("type") != DATASOURCE_TYPE:
            errs.append(f"{datasource_file.name}: type {d.get('type')!r}, expected {DATASOURCE_TYPE}")
        jd = d.get("jsonData") or {}
        if jd.get("protocol") != "native":
            errs.append(f"{datasource_file.name}: jsonData.protocol must be native")
        for key in ("host", "port", "username", "defaultDatabase"):
            if key not in jd:
                errs.append(f"{datasource_file.name}: jsonData.{key} missing")
    if pv_doc.get("apiVersion") != 1:
        errs.append(f"{provider_file.name}: apiVersion must be 1")
    providers = pv_doc.get("providers") or []
    if not providers or any(p.get("type") != "file" or not (p.get("options") or {}).get("path") for p in providers):
        errs.append(f"{provider_file.name}: needs file providers with options.path")
    return errs


# --- macros and variables -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime
    interval_s: int

    @classmethod
    def of(cls, start: datetime, end: datetime, max_points: int = 1000) -> "TimeRange":
        if start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        if end.tzinfo is None:
            end = end.replace(tzinfo=timezone.utc)
        if end <= start:
            raise DashboardError(f"time range ends ({end:%Y-%m-%dT%H:%M:%SZ}) before it starts "
                                 f"({start:%Y-%m-%dT%H:%M:%SZ})")
        return cls(start, end, nice_interval((end - start).total_seconds() / max_points))

    def __str__(self) -> str:
        return (f"{self.start.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ} .. "
                f"{self.end.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ} (interval {self.interval_s}s)")


#: Grafana rounds the panel interval to one of these (seconds).
_NICE = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400]


def nice_interval(seconds: float) -> int:
    for step in _NICE:
        if seconds <= step:
            return step
    return int(math.ceil(seconds / 86400) * 86400)


@dataclass(frozen=True)
class Variable:
    """A template variable's current value: ``values`` selected, ``all`` when "All" is selected (then ``values``
    are all its options, as Grafana expands them)."""

    name: str
    values: tuple[str, ...]
    all: bool = False
    multi: bool = True

    def describe(self) -> str:
        return f"{self.name}=All" if self.all else f"{self.name}={','.join(self.values)}"


def _sql_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _format(var: Variable, fmt: str | None) -> str:
    vals = list(var.values)
    if fmt in ("singlequote",):
        return ",".join(_sql_quote(v) for v in vals)
    if fmt == "sqlstring":
        return ",".join("'" + v.replace("'", "''") + "'" for v in vals)
    if fmt == "doublequote":
        return ",".join('"' + v.replace('"', '\\"') + '"' for v in vals)
    if fmt in ("csv", "raw"):
        return ",".join(vals)
    if fmt == "pipe":
        return "|".join(vals)
    if fmt == "regex":
        return "(" + "|".join(re.escape(v) for v in vals) + ")" if len(vals) != 1 else re.escape(vals[0])
    if fmt == "text":
        return "All" if var.all else " + ".join(vals)
    if fmt is not None:
        raise DashboardError(f"variable format {fmt!r} is not supported by the checker")
    # no format: the plugin's own formatter — a list becomes 'a','b', a single value stays raw
    if var.multi or var.all or len(vals) != 1:
        return "'" + "','".join(vals) + "'"
    return vals[0]


def _macro_args(sql: str, open_paren: int) -> tuple[list[str], int]:
    """Arguments of a macro call whose ``(`` is at ``open_paren``: (args, index after the closing paren)."""
    depth, start, args, i, quote = 0, open_paren + 1, [], open_paren, None
    while i < len(sql):
        c = sql[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "'\"`":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                args.append(sql[start:i])
                return [a.strip() for a in args], i + 1
        elif c == "," and depth == 1:
            args.append(sql[start:i])
            start = i + 1
        i += 1
    raise DashboardError(f"unbalanced parentheses after {sql[max(0, open_paren - 20):open_paren + 1]!r}")


def _conditional_all(sql: str, variables: dict[str, Variable]) -> str:
    """``$__conditionalAll(condition, $var)``: the condition, or ``1=1`` when ``$var`` is All or empty."""
    macro = "$__conditionalAll("
    while (i := sql.rfind(macro)) >= 0:
        args, end = _macro_args(sql, i + len(macro) - 1)
        if len(args) != 2:
            raise DashboardError(f"$__conditionalAll needs 2 arguments, got {len(args)}")
        m = re.search(r"\$\{(\w+)\}|\$(\w+)", args[1])
        var = variables.get((m.group(1) or m.group(2))) if m else None
        phrase = args[0]
        if var is not None and (var.all or not var.values or var.values == ("",)):
            phrase = "1=1"
        sql = sql[:i] + phrase + sql[end:]
    return sql


def _ts(dt: datetime) -> int:
    return int(dt.timestamp())


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def _backend_macro(name: str, args: list[str], rng: TimeRange) -> str:
    frm, to = rng.start, rng.end

    def need(n: int) -> None:
        if len(args) != n:
            raise DashboardError(f"$__{name} expects {n} argument(s), got {len(args)}")

    if name == "fromTime":
        return f"toDateTime({_ts(frm)})"
    if name == "toTime":
        return f"toDateTime({_ts(to)})"
    if name == "fromTime_ms":
        return f"fromUnixTimestamp64Milli({_ms(frm)})"
    if name == "toTime_ms":
        return f"fromUnixTimestamp64Milli({_ms(to)})"
    if name == "timeFilter":
        need(1)
        return f"{args[0]} >= toDateTime({_ts(frm)}) AND {args[0]} <= toDateTime({_ts(to)})"
    if name == "timeFilter_ms":
        need(1)
        return (f"{args[0]} >= fromUnixTimestamp64Milli({_ms(frm)}) AND "
                f"{args[0]} <= fromUnixTimestamp64Milli({_ms(to)})")
    if name == "dateFilter":
        need(1)
        return (f"{args[0]} >= toDate('{frm.astimezone(timezone.utc):%Y-%m-%d}') AND "
                f"{args[0]} <= toDate('{to.astimezone(timezone.utc):%Y-%m-%d}')")
    if name in ("dateTimeFilter", "dt"):
        need(2)
        return (f"({args[0]} >= toDate('{frm.astimezone(timezone.utc):%Y-%m-%d}') AND "
                f"{args[0]} <= toDate('{to.astimezone(timezone.utc):%Y-%m-%d}')) AND "
                f"({args[1]} >= toDateTime({_ts(frm)}) AND {args[1]} <= toDateTime({_ts(to)}))")
    if name == "timeInterval":
        need(1)
        return f"toStartOfInterval(toDateTime({args[0]}), INTERVAL {max(rng.interval_s, 1)} second)"
    if name == "timeInterval_ms":
        need(1)
        return f"toStartOfInterval(toDateTime64({args[0]}, 3), INTERVAL {max(rng.interval_s, 1) * 1000} millisecond)"
    if name == "interval_s":
        return str(max(rng.interval_s, 1))
    raise DashboardError(f"unknown macro $__{name}")


def expand(sql: str, rng: TimeRange, variables: dict[str, Variable] | None = None) -> str:
    """The SQL the plugin sends to ClickHouse for ``rng`` and ``variables``: Grafana's variable substitution
    (frontend), then the plugin's macros (backend)."""
    variables = variables or {}
    sql = _conditional_all(sql, variables)
    globals_ = {
        "__from": str(_ms(rng.start)), "__to": str(_ms(rng.end)),
        "__interval": f"{rng.interval_s}s", "__interval_ms": str(rng.interval_s * 1000),
        "__range_s": str(int((rng.end - rng.start).total_seconds())),
        "__range_ms": str(int((rng.end - rng.start).total_seconds() * 1000)),
        "__range": f"{int((rng.end - rng.start).total_seconds())}s",
    }

    def substitute(m: re.Match) -> str:
        whole = m.group(0)
        name = m.group(1) or m.group(3) or m.group(5)
        fmt = m.group(2) or m.group(4)
        if name in globals_:
            return globals_[name]
        var = variables.get(name)
        if var is None:
            return whole  # a backend macro ($__timeFilter) or an unknown name: left as Grafana leaves it
        return _format(var, fmt)

    sql = re.sub(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]|\$(\w+)(?!\w)", substitute, sql)

    out, i = [], 0
    for m in re.finditer(r"\$__(\w+)", sql):
        if m.start() < i:
            continue
        name = m.group(1)
        out.append(sql[i:m.start()])
        end = m.end()
        args: list[str] = []
        if end < len(sql) and sql[end] == "(" and name not in ("fromTime", "toTime", "fromTime_ms", "toTime_ms",
                                                                 "interval_s"):
            args, end = _macro_args(sql, end)
        out.append(_backend_macro(name, args, rng))
        i = end
    out.append(sql[i:])
    return "".join(out)


# --- ClickHouse -------------------------------------------------------------------------------------------------

#: Time columns whose extent is the default range of `check` and of the report.
TIME_COLUMNS = [("region_metrics", "window_start"), ("decisions", "trigger_ts"), ("decisions", "decided_at"),
                ("leads", "created_at"), ("triggers", "ts"), ("triggers", "detected_at"), ("outcomes", "ts"),
                ("traffic", "window_start"), ("dlq_counts", "minute"), ("loader_progress", "ts")]


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
        parts = [f"SELECT min({c}) AS lo, max({c}) AS hi FROM {self.database}.{t} WHERE {c} > toDateTime(0)"
                 for t, c in TIME_COLUMNS if t in have]
        if not parts:
            raise DashboardError(f"ClickHouse database {self.database} has none of the Touchpoint tables "
                                 f"({self.backend.describe()}): run `touchpoint db migrate` and `touchpoint load`")
        rows = self.backend.query(
            "SELECT toUnixTimestamp(min(lo)), toUnixTimestamp(max(hi)) FROM (" + " UNION ALL ".join(parts) +
            ") WHERE lo > toDateTime(0)")
        if not rows or rows[0][0] in (None, 0):
            return None
        lo, hi = (datetime.fromtimestamp(int(v), timezone.utc) for v in rows[0])
        return TimeRange.of(lo, hi + timedelta(seconds=1))


def open_queries(settings: Settings, url: str | None = None) -> Queries:
    from touchpoint.clickhouse import backends as clickhouse

    backend = clickhouse.connect(settings, url)
    try:
        names = {r[0] for r in backend.query("SHOW DATABASES")}
    except Exception:
        backend.close()
        raise
    if backend.database not in names:
        where = backend.describe()
        backend.close()
        raise DashboardError(f"ClickHouse database {settings.clickhouse.database} not found ({where}): "
                             "run `touchpoint db migrate` and `touchpoint load`")
    return Queries(backend)


# --- running the panels --------------------------------------------------------------------------------------------


def _variable_sql(var: dict[str, Any]) -> str:
    q = var.get("query")
    if isinstance(q, dict):
        q = q.get("rawSql") or q.get("query") or ""
    return str(q or "")


@dataclass
class Outcome:
    """One checked item (a variable or a panel): one output line."""

    label: str
    ok: bool
    detail: str
    empty: bool = False


@dataclass
class CheckReport:
    lines: list[str] = field(default_factory=list)
    panels: int = 0
    failed: int = 0
    empty: int = 0

    @property
    def ok(self) -> bool:
        return self.failed == 0


def _panel_field_errors(panel: dict[str, Any], result: Result) -> list[str]:
    names = set(result.names)
    errs = []
    opts = panel.get("options") or {}
    if panel.get("type") == "geomap":
        for layer in opts.get("layers") or []:
            loc = layer.get("location") or {}
            wanted = []
            if loc.get("mode") == "coords":
                wanted += [("latitude", loc.get("latitude")), ("longitude", loc.get("longitude"))]
            style = (layer.get("config") or {}).get("style") or {}
            for key in ("size", "color", "text"):
                fld = (style.get(key) or {}).get("field")
                if fld:
                    wanted.append((f"style.{key}", fld))
            for what, fld in wanted:
                if fld not in names:
                    errs.append(f"layer {layer.get('name')!r} {what} field {fld!r} is not a column "
                                f"(columns: {', '.join(result.names)})")
    if opts.get("xField") and opts["xField"] not in names:
        errs.append(f"xField {opts['xField']!r} is not a column (columns: {', '.join(result.names)})")
    if panel.get("type") == "timeseries" and not any(t.startswith(("DateTime", "Nullable(DateTime"))
                                                     for _, t in result.columns):
        errs.append("a time-series query must return a DateTime column")
    return errs


def _one_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:400] if text else type(e).__name__


def resolve_variables(queries: Queries, dashboard: Dashboard, rng: TimeRange,
                      on_result: Callable[[Outcome], None] | None = None) -> dict[str, Variable]:
    """Run each query variable (in order, so one may use another) and select All."""
    variables: dict[str, Variable] = {}
    for v in dashboard.variables():
        name = v.get("name")
        t0 = time.perf_counter()
        if v.get("type") == "query":
            try:
                res = queries.run(expand(_variable_sql(v), rng, variables))
                values = tuple(str(r[0]) for r in res.rows)
                ok, detail = True, f"{len(values)} values ({(time.perf_counter() - t0) * 1000:.0f} ms)"
            except Exception as e:  # noqa: BLE001 - reported per variable
                values, ok, detail = (), False, _one_line(e)
        elif v.get("type") == "custom":
            values = tuple(s.strip() for s in str(v.get("query", "")).split(",") if s.strip())
            ok, detail = True, f"{len(values)} values (custom)"
        elif v.get("type") in ("constant", "textbox"):
            values = (str(v.get("query", "")),)
            ok, detail = True, "constant"
        else:
            values, ok, detail = (), False, f"variable type {v.get('type')!r} is not supported by the checker"
        variables[name] = Variable(name, values, all=bool(v.get("includeAll")), multi=bool(v.get("multi")))
        if on_result:
            on_result(Outcome(f"var ${name}", ok, detail, empty=ok and not values))
    return variables


def run_panel(queries: Queries, panel: dict[str, Any], rng: TimeRange,
              variables: dict[str, Variable]) -> tuple[Outcome, Result | None]:
    """Run a panel's queries with All selected (and again with each variable's first value, if it uses any)."""
    label = f"#{panel.get('id')} {panel.get('type')} {panel.get('title', '')!r}"
    t0 = time.perf_counter()
    first: Result | None = None
    runs = []
    try:
        for target in panel.get("targets") or []:
            sql = target.get("rawSql", "")
            used = {n: variables[n] for n in referenced_variables(sql) if n in variables}
            res = queries.run(expand(sql, rng, variables))
            first = first or res
            errs = _panel_field_errors(panel, res)
            if errs:
                return Outcome(label, False, errs[0]), res
            runs.append(f"{len(res.rows)} rows")
            one = {n: Variable(n, v.values[:1], all=False, multi=v.multi) for n, v in used.items() if v.values}
            if one:
                res1 = queries.run(expand(sql, rng, {**variables, **one}))
                runs.append(f"{len(res1.rows)} with {' '.join(v.describe() for v in one.values())}")
    except Exception as e:  # noqa: BLE001 - one line per panel
        return Outcome(label, False, _one_line(e)), first
    ms = (time.perf_counter() - t0) * 1000
    return Outcome(label, True, f"{', '.join(runs)} ({ms:.0f} ms)", empty=first is None or not first.rows), first


def check(settings: Settings, *, url: str | None = None, start: datetime | None = None, end: datetime | None = None,
          require_data: bool = False, schema_path: Path | None = None, directory: Path = DASHBOARDS_DIR,
          out: Callable[[str], None] = print) -> CheckReport:
    """Validate every dashboard and run every query; one line per dashboard, variable and panel."""
    report = CheckReport()

    def emit(line: str) -> None:
        report.lines.append(line)
        out(line)

    dashboards = load_dashboards(directory)
    schema = load_schema(schema_path)
    emit(f"schema: {Path(schema_path or SCHEMA_FILE)} ({schema_source(schema)})")
    prov = provisioning_errors()
    emit("provisioning: " + ("ok" if not prov else "FAIL " + "; ".join(prov)))
    report.failed += bool(prov)
    uids = [d.uid for d in dashboards]
    dup = {u for u in uids if uids.count(u) > 1}
    if dup:
        raise DashboardError(f"dashboard uid(s) used twice: {', '.join(sorted(dup))}")

    queries = open_queries(settings, url)
    try:
        if start is None or end is None:
            data = queries.data_range()
            if data is None:
                now = datetime.now(timezone.utc)
                data = TimeRange.of(now - timedelta(hours=6), now)
            rng = TimeRange.of(start or data.start, end or data.end)
        else:
            rng = TimeRange.of(start, end)
        emit(f"range: {rng}; ClickHouse {queries.backend.describe()}, database {queries.database}")
        for d in dashboards:
            errs = schema_errors(d, schema)
            serrs = structure_errors(d)
            more = f" (+{len(errs) - 1} more)" if len(errs) > 1 else ""
            smore = f" (+{len(serrs) - 1} more)" if len(serrs) > 1 else ""
            emit(f"{d.uid} ({d.path.name}): schema {'ok' if not errs else 'FAIL ' + errs[0] + more}, "
                 f"structure {'ok' if not serrs else 'FAIL ' + serrs[0] + smore}; "
                 f"{len(d.panels())} panels, {len(d.variables())} variables")
            report.failed += bool(errs or serrs)

            def show(o: Outcome) -> None:
                bad = not o.ok or (require_data and o.empty)
                word = "FAIL " if not o.ok else ("EMPTY" if o.empty else "ok   ")
                emit(f"  {word} {d.uid} {o.label}: {o.detail}")
                report.failed += bad
                report.empty += o.empty

            variables = resolve_variables(queries, d, rng, show)
            for p in d.panels():
                if p.get("type") not in QUERY_PANEL_TYPES:
                    continue
                report.panels += 1
                outcome, _ = run_panel(queries, p, rng, variables)
                show(outcome)
    finally:
        queries.backend.close()
    emit(f"{report.panels} panels in {len(dashboards)} dashboards: "
         f"{'all ok' if report.ok else f'{report.failed} failed'}"
         f"{f', {report.empty} empty' if report.empty else ''}"
         f"{' (empty results fail: --require-data)' if require_data and report.empty else ''}")
    return report


# --- push ---------------------------------------------------------------------------------------------------------

_ENV_REF = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def datasource_env(settings: Settings) -> dict[str, str]:
    """The variables the datasource provisioning file uses: the environment, else touchpoint's settings."""
    ch = settings.clickhouse
    defaults = {"CLICKHOUSE_HOST": ch.host, "CLICKHOUSE_NATIVE_PORT": str(ch.native_port),
                "CLICKHOUSE_DATABASE": ch.database, "CLICKHOUSE_USER": "default", "CLICKHOUSE_PASSWORD": "",
                "CLICKHOUSE_SECURE": "false"}
    return {k: os.environ.get(k, v) for k, v in defaults.items()}


def datasource_payload(settings: Settings, datasource_file: Path = DATASOURCE_FILE) -> dict[str, Any]:
    """The provisioned datasource as a body for ``/api/datasources``, variables substituted as Grafana does."""
    doc = yaml.safe_load(Path(datasource_file).read_text())
    src = next((d for d in doc.get("datasources") or [] if d.get("uid") == DATASOURCE_UID), None)
    if src is None:
        raise DashboardError(f"{datasource_file}: no datasource with uid {DATASOURCE_UID}")
    env = datasource_env(settings)

    def sub(v: Any) -> Any:
        if isinstance(v, str):
            return _ENV_REF.sub(lambda m: env.get(m.group(1) or m.group(2), os.environ.get(m.group(1) or m.group(2), "")), v)
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        if isinstance(v, list):
            return [sub(x) for x in v]
        return v

    src = sub(src)
    jd = dict(src.get("jsonData") or {})
    if str(jd.get("port", "")).isdigit():
        jd["port"] = int(jd["port"])
    if isinstance(jd.get("secure"), str):
        jd["secure"] = jd["secure"].strip().lower() == "true"
    body = {k: src[k] for k in ("name", "uid", "type", "access", "isDefault") if k in src}
    body["jsonData"] = jd
    body["secureJsonData"] = dict(src.get("secureJsonData") or {})
    return body


def _status(e: BaseException) -> int | None:
    return getattr(e, "status_code", None)


def push(settings: Settings, url: str, token: str, *, directory: Path = DASHBOARDS_DIR,
         schema_path: Path | None = None, out: Callable[[str], None] = print, timeout: float = 15.0) -> int:
    """Create/update the datasource, the folder and every dashboard; returns the number of dashboards pushed."""
    from grafana_client import GrafanaApi
    from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaUnauthorizedError

    dashboards = load_dashboards(directory)
    schema = None
    if Path(schema_path or SCHEMA_FILE).is_file():
        schema = load_schema(schema_path)
    for d in dashboards:  # nothing is pushed unless every dashboard is valid
        errs = (schema_errors(d, schema) if schema else []) + structure_errors(d)
        if errs:
            raise DashboardError(f"{d.path.name}: {errs[0]} (touchpoint dashboards check shows all)")
    body = datasource_payload(settings)

    api = GrafanaApi.from_url(url, credential=token, timeout=timeout)
    where = url.rstrip("/")
    try:
        info = api.health.check()
        out(f"Grafana {info.get('version', '?')} at {where}")
        try:
            api.datasource.get_datasource_by_uid(DATASOURCE_UID)
            exists = True
        except GrafanaClientError as e:
            if _status(e) != 404:
                raise
            exists = False
        if exists:
            api.datasource.update_datasource_by_uid(DATASOURCE_UID, body)
        else:
            api.datasource.create_datasource(body)
        jd = body["jsonData"]
        out(f"datasource {DATASOURCE_UID} {'updated' if exists else 'created'}: {DATASOURCE_TYPE}, native "
            f"{jd.get('host')}:{jd.get('port')}, database {jd.get('defaultDatabase')}")
        try:
            api.folder.get_folder(FOLDER_UID)
        except GrafanaClientError as e:
            if _status(e) != 404:
                raise
            api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
            out(f"folder {FOLDER_UID} created ({FOLDER_TITLE})")
        for d in dashboards:
            model = dict(d.model)
            model["id"] = None  # Grafana matches on uid; a numeric id from another instance would be refused
            res = api.dashboard.update_dashboard({"dashboard": model, "folderUid": FOLDER_UID, "overwrite": True,
                                                  "message": "touchpoint dashboards push"})
            out(f"dashboard {d.uid} -> {where}{res.get('url', '')} (version {res.get('version', '?')})")
    except GrafanaUnauthorizedError:
        raise DashboardError(f"Grafana at {where} refused the token (401 Unauthorized)") from None
    except GrafanaException as e:
        raise DashboardError(f"Grafana at {where}: {_one_line(e)}") from None
    except (OSError, ConnectionError) as e:
        raise DashboardError(f"cannot reach Grafana at {where}: {_one_line(e)}") from None
    except Exception as e:
        if type(e).__module__.startswith(("requests", "urllib3")):
            raise DashboardError(f"cannot reach Grafana at {where}: {_one_line(e)}") from None
        raise
    return len(dashboards)


def parse_time(text: str) -> datetime:
    """ISO-8601 (a naive value is UTC) or Unix seconds."""
    t = text.strip()
    if re.fullmatch(r"\d{9,11}", t):
        return datetime.fromtimestamp(int(t), timezone.utc)
    try:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise DashboardError(f"time {text!r}: expected ISO-8601 (2026-11-02T08:00:00Z) or Unix seconds") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


if __name__ == "__main__":  # pragma: no cover - convenience for developers
    from touchpoint.config import load_settings

    sys.exit(0 if check(load_settings()).ok else 1)
