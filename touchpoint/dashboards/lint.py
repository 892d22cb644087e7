"""What can be checked without running a query: each dashboard against Grafana's own dashboard JSON Schema (the
``Dashboard`` type of the npm package ``@grafana/schema``, built by ``make setup``), the structure the schema cannot
express (unique uids and panel ids, panels inside the 24-column grid and not overlapping, every query on the
Touchpoint datasource, unique refIds, every ``$variable`` defined, every ``$__macro`` one the plugin knows,
time-series panels asking for the time-series format), and the two provisioning files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from touchpoint.dashboards.macros import GLOBAL_VARIABLES, PLUGIN_MACROS, referenced_variables
from touchpoint.dashboards.model import (
    DATASOURCE_FILE,
    DATASOURCE_TYPE,
    DATASOURCE_UID,
    PROVIDER_FILE,
    QUERY_PANEL_TYPES,
    SCHEMA_FILE,
    Dashboard,
    DashboardError,
    variable_sql,
)


def load_schema(path: Path | None = None) -> dict[str, Any]:
    path = Path(path or SCHEMA_FILE)
    if not path.is_file():
        raise DashboardError(
            f"Grafana dashboard schema {path} not found: run `make setup` (it builds the schema "
            "from the npm package @grafana/schema) or pass --schema FILE"
        )
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
            if not variable_sql(v):
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
                errs.append(
                    f"{label}: query {t.get('refId')} is not on datasource {datasource_uid} ({DATASOURCE_TYPE})"
                )
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


def provisioning_errors(
    datasource_file: Path = DATASOURCE_FILE, provider_file: Path = PROVIDER_FILE, datasource_uid: str = DATASOURCE_UID
) -> list[str]:
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
