"""``touchpoint dashboards check``: validate every dashboard and run every query, as Grafana would, without Grafana.

1. Grafana's schema and the structure (touchpoint.dashboards.lint), and the provisioning files.
2. Every template-variable query and every panel query runs against ClickHouse (``clickhouse.url``: embedded chdb
   or a server) with the plugin's macros expanded for a time range (touchpoint.dashboards.macros). A panel that uses
   variables runs twice: with "All" and with the first value. The columns a panel's options name (Geomap
   latitude/longitude/size/colour/text fields, a bar chart's x field) must be in the result, and a time-series query
   must return a DateTime column. With ``--require-data`` an empty result (in the "All" run) fails too.

One output line per dashboard, variable and panel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from touchpoint.config import Settings
from touchpoint.dashboards.lint import load_schema, provisioning_errors, schema_errors, schema_source, structure_errors
from touchpoint.dashboards.macros import TimeRange, Variable, expand, referenced_variables
from touchpoint.dashboards.model import (
    DASHBOARDS_DIR,
    QUERY_PANEL_TYPES,
    SCHEMA_FILE,
    Dashboard,
    DashboardError,
    load_dashboards,
    one_line,
    variable_sql,
)
from touchpoint.dashboards.queries import Queries, Result, open_queries


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
                    errs.append(
                        f"layer {layer.get('name')!r} {what} field {fld!r} is not a column "
                        f"(columns: {', '.join(result.names)})"
                    )
    if opts.get("xField") and opts["xField"] not in names:
        errs.append(f"xField {opts['xField']!r} is not a column (columns: {', '.join(result.names)})")
    if panel.get("type") == "timeseries" and not any(
        t.startswith(("DateTime", "Nullable(DateTime")) for _, t in result.columns
    ):
        errs.append("a time-series query must return a DateTime column")
    return errs


def resolve_variables(
    queries: Queries, dashboard: Dashboard, rng: TimeRange, on_result: Callable[[Outcome], None] | None = None
) -> dict[str, Variable]:
    """Run each query variable (in order, so one may use another) and select All."""
    variables: dict[str, Variable] = {}
    for v in dashboard.variables():
        name = v.get("name")
        t0 = time.perf_counter()
        if v.get("type") == "query":
            try:
                res = queries.run(expand(variable_sql(v), rng, variables))
                values = tuple(str(r[0]) for r in res.rows)
                ok, detail = True, f"{len(values)} values ({(time.perf_counter() - t0) * 1000:.0f} ms)"
            except Exception as e:  # noqa: BLE001 - reported per variable
                values, ok, detail = (), False, one_line(e)
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


def run_panel(
    queries: Queries, panel: dict[str, Any], rng: TimeRange, variables: dict[str, Variable]
) -> tuple[Outcome, Result | None]:
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
        return Outcome(label, False, one_line(e)), first
    ms = (time.perf_counter() - t0) * 1000
    return Outcome(label, True, f"{', '.join(runs)} ({ms:.0f} ms)", empty=first is None or not first.rows), first


def check(
    settings: Settings,
    *,
    url: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    require_data: bool = False,
    schema_path: Path | None = None,
    directory: Path = DASHBOARDS_DIR,
    out: Callable[[str], None] = print,
) -> CheckReport:
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
                now = datetime.now(UTC)
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
            emit(
                f"{d.uid} ({d.path.name}): schema {'ok' if not errs else 'FAIL ' + errs[0] + more}, "
                f"structure {'ok' if not serrs else 'FAIL ' + serrs[0] + smore}; "
                f"{len(d.panels())} panels, {len(d.variables())} variables"
            )
            report.failed += bool(errs or serrs)

            def show(o: Outcome, uid: str = d.uid) -> None:
                bad = not o.ok or (require_data and o.empty)
                word = "FAIL " if not o.ok else ("EMPTY" if o.empty else "ok   ")
                emit(f"  {word} {uid} {o.label}: {o.detail}")
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
    emit(
        f"{report.panels} panels in {len(dashboards)} dashboards: "
        f"{'all ok' if report.ok else f'{report.failed} failed'}"
        f"{f', {report.empty} empty' if report.empty else ''}"
        f"{' (empty results fail: --require-data)' if require_data and report.empty else ''}"
    )
    return report
