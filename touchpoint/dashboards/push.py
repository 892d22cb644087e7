"""``touchpoint dashboards push``: install the dashboards in a running Grafana through its HTTP API.

Creates or updates the ClickHouse datasource (by uid, from the provisioning file with its ``$VARIABLES`` filled
as Grafana fills them) and the Touchpoint folder, then posts every dashboard to ``/api/dashboards/db`` with
``overwrite``, through the maintained ``grafana-client`` package. Nothing is pushed unless every dashboard is
valid.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from touchpoint.config import Settings
from touchpoint.dashboards.lint import load_schema, schema_errors, structure_errors
from touchpoint.dashboards.model import (
    DASHBOARDS_DIR,
    DATASOURCE_FILE,
    DATASOURCE_TYPE,
    DATASOURCE_UID,
    FOLDER_TITLE,
    FOLDER_UID,
    SCHEMA_FILE,
    DashboardError,
    load_dashboards,
    one_line,
)

_ENV_REF = re.compile(r"\$\{(\w+)\}|\$(\w+)")


def datasource_env(settings: Settings) -> dict[str, str]:
    """The variables the datasource provisioning file uses: the environment, else touchpoint's settings."""
    ch = settings.clickhouse
    defaults = {
        "CLICKHOUSE_HOST": ch.host,
        "CLICKHOUSE_NATIVE_PORT": str(ch.native_port),
        "CLICKHOUSE_DATABASE": ch.database,
        "CLICKHOUSE_USER": ch.user,
        "CLICKHOUSE_PASSWORD": ch.login_password(),
        "CLICKHOUSE_SECURE": str(ch.secure).lower(),
    }
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
            return _ENV_REF.sub(
                lambda m: env.get(m.group(1) or m.group(2), os.environ.get(m.group(1) or m.group(2), "")), v
            )
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


def push(
    settings: Settings,
    url: str,
    token: str,
    *,
    directory: Path = DASHBOARDS_DIR,
    schema_path: Path | None = None,
    out: Callable[[str], None] = print,
    timeout: float = 15.0,
) -> int:
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
        out(
            f"datasource {DATASOURCE_UID} {'updated' if exists else 'created'}: {DATASOURCE_TYPE}, native "
            f"{jd.get('host')}:{jd.get('port')}, database {jd.get('defaultDatabase')}"
        )
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
            res = api.dashboard.update_dashboard(
                {
                    "dashboard": model,
                    "folderUid": FOLDER_UID,
                    "overwrite": True,
                    "message": "touchpoint dashboards push",
                }
            )
            out(f"dashboard {d.uid} -> {where}{res.get('url', '')} (version {res.get('version', '?')})")
    except GrafanaUnauthorizedError:
        raise DashboardError(f"Grafana at {where} refused the token (401 Unauthorized)") from None
    except GrafanaException as e:
        raise DashboardError(f"Grafana at {where}: {one_line(e)}") from None
    except (OSError, ConnectionError) as e:
        raise DashboardError(f"cannot reach Grafana at {where}: {one_line(e)}") from None
    except Exception as e:
        if type(e).__module__.startswith(("requests", "urllib3")):
            raise DashboardError(f"cannot reach Grafana at {where}: {one_line(e)}") from None
        raise
    return len(dashboards)
