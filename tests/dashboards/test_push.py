"""`touchpoint dashboards push` against a mock Grafana HTTP server (a mock because no Grafana can run here)."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import run_cli
from touchpoint import ROOT
from touchpoint.dashboards import model

# --- push (mock Grafana) --------------------------------------------------------------------------------------------


class MockGrafana(ThreadingHTTPServer):
    """Just enough of Grafana's HTTP API; records every call."""

    def __init__(self, token: str):
        self.calls: list[tuple[str, str, dict | None, str]] = []
        self.token = token
        self.datasources: dict[str, dict] = {}
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: MockGrafana

    def log_message(self, *args):
        pass

    def _reply(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        s = self.server
        n = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(n)) if n else None
        s.calls.append((method, self.path, body, self.headers.get("Authorization", "")))
        if self.headers.get("Authorization") != f"Bearer {s.token}":
            return self._reply(401, {"message": "invalid API key"})
        path = self.path
        if method == "GET" and path == "/api/health":  # grafana-client's health check
            return self._reply(200, {"database": "ok", "version": "11.3.0"})
        if path.startswith("/api/datasources/uid/"):
            uid = path.rsplit("/", 1)[1]
            if method == "GET":
                ds = s.datasources.get(uid)
                return self._reply(200, ds) if ds else self._reply(404, {"message": "Data source not found"})
            if method == "PUT":
                s.datasources[uid] = body
                return self._reply(200, {"message": "Datasource updated", "datasource": body})
        if method == "POST" and path == "/api/datasources":
            s.datasources[body["uid"]] = body
            return self._reply(200, {"message": "Datasource added", "datasource": body})
        if path.startswith("/api/folders"):
            if method == "GET":
                uid = path.rsplit("/", 1)[1]
                f = s.folders.get(uid)
                return self._reply(200, f) if f else self._reply(404, {"message": "folder not found"})
            if method == "POST":
                s.folders[body["uid"]] = body
                return self._reply(200, {"uid": body["uid"], "title": body["title"]})
        if method == "POST" and path == "/api/dashboards/db":
            d = body["dashboard"]
            version = s.dashboards.get(d["uid"], {}).get("version", 0) + 1
            s.dashboards[d["uid"]] = {"version": version, "body": body}
            return self._reply(
                200, {"status": "success", "uid": d["uid"], "version": version, "url": f"/d/{d['uid']}/x"}
            )
        return self._reply(404, {"message": f"not mocked: {method} {path}"})

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")


@pytest.fixture
def grafana():
    srv = MockGrafana("s3cret")
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_push_against_mock_grafana_http(grafana, tmp_path):
    env = {
        "PATH": str(ROOT / ".venv" / "bin") + ":/usr/bin:/bin",
        "CLICKHOUSE_HOST": "ch.internal",
        "CLICKHOUSE_NATIVE_PORT": "9440",
        "CLICKHOUSE_SECURE": "true",
        "CLICKHOUSE_PASSWORD": "pw",
        "TOUCHPOINT_GRAFANA__TOKEN": "s3cret",  # the token from the environment, never the command line
    }
    out = run_cli("dashboards", "push", "--grafana-url", grafana.url, env=env)
    assert out.returncode == 0, out.stderr
    calls = [(m, p) for m, p, _, _ in grafana.calls]
    assert calls == [
        ("GET", "/api/health"),
        ("GET", "/api/datasources/uid/touchpoint-clickhouse"),
        ("POST", "/api/datasources"),
        ("GET", "/api/folders/touchpoint"),
        ("POST", "/api/folders"),
        ("POST", "/api/dashboards/db"),
        ("POST", "/api/dashboards/db"),
        ("POST", "/api/dashboards/db"),
    ]
    assert all(auth == "Bearer s3cret" for *_, auth in grafana.calls)
    ds = grafana.calls[2][2]
    assert ds["type"] == "grafana-clickhouse-datasource" and ds["uid"] == "touchpoint-clickhouse"
    assert ds["jsonData"] == {
        "protocol": "native",
        "host": "ch.internal",
        "port": 9440,
        "secure": True,
        "username": "default",
        "defaultDatabase": "touchpoint",
        "dialTimeout": "10",
        "queryTimeout": "60",
    }
    assert ds["secureJsonData"] == {"password": "pw"}
    posted = [c[2] for c in grafana.calls if c[1] == "/api/dashboards/db"]
    assert {b["dashboard"]["uid"] for b in posted} == {
        "touchpoint-micro-regions",
        "touchpoint-campaigns",
        "touchpoint-pipeline",
    }
    assert all(
        b["overwrite"] is True and b["folderUid"] == "touchpoint" and b["dashboard"]["id"] is None for b in posted
    )
    local = {d.uid: d.model for d in model.load_dashboards()}
    assert all(b["dashboard"]["panels"] == local[b["dashboard"]["uid"]]["panels"] for b in posted)
    assert "datasource touchpoint-clickhouse created" in out.stdout

    # second push: the datasource is updated by uid, the folder exists, dashboards overwritten (version 2)
    grafana.calls.clear()
    out = run_cli("dashboards", "push", "--grafana-url", grafana.url, env=env)
    assert out.returncode == 0, out.stderr
    assert [(m, p) for m, p, _, _ in grafana.calls][:4] == [
        ("GET", "/api/health"),
        ("GET", "/api/datasources/uid/touchpoint-clickhouse"),
        ("PUT", "/api/datasources/uid/touchpoint-clickhouse"),
        ("GET", "/api/folders/touchpoint"),
    ]
    assert "datasource touchpoint-clickhouse updated" in out.stdout and "(version 2)" in out.stdout


def test_push_errors_are_one_line(grafana, tmp_path):
    token_file = tmp_path / "grafana.token"
    token_file.write_text("wrong-token-123\n")
    clean = {k: v for k, v in os.environ.items() if "GRAFANA" not in k}
    from_file = clean | {"TOUCHPOINT_GRAFANA__TOKEN_FILE": str(token_file)}
    out = run_cli("dashboards", "push", "--grafana-url", grafana.url, env=from_file)
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "refused the token" in out.stderr
    assert [p for _, p, _, _ in grafana.calls] == ["/api/health"]
    assert grafana.calls[0][3] == "Bearer wrong-token-123"  # read from the file, newline dropped
    # the token is in no message, not even a traceback
    out = run_cli("--debug", "dashboards", "push", "--grafana-url", grafana.url, env=from_file)
    assert out.returncode != 0 and "Traceback" in out.stderr and "wrong-token-123" not in out.stdout + out.stderr
    with_token = clean | {"GRAFANA_TOKEN": "x"}
    out = run_cli("dashboards", "push", "--grafana-url", "http://127.0.0.1:9", env=with_token)
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "cannot reach Grafana" in out.stderr
    out = run_cli("dashboards", "push", env=with_token)
    assert out.returncode == 2 and "needs --grafana-url" in out.stderr and out.stderr.count("\n") == 1
    out = run_cli("dashboards", "push", env=with_token | {"TOUCHPOINT_GRAFANA__URL": "http://127.0.0.1:9"})
    assert out.returncode == 1 and "cannot reach Grafana at http://127.0.0.1:9" in out.stderr  # the setting's URL
    out = run_cli("dashboards", "push", "--grafana-url", grafana.url, env=clean)
    assert out.returncode == 2 and "needs a Grafana token" in out.stderr and out.stderr.count("\n") == 1
    # a token on the command line (visible to every user in ps) is not accepted
    out = run_cli("dashboards", "push", "--grafana-url", grafana.url, "--token", "x", env=clean)
    assert out.returncode == 2 and "unrecognized arguments: --token" in out.stderr
