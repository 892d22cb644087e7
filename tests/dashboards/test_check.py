"""Grafana dashboards: schema + structure, every panel query run against ClickHouse (embedded chdb, the
project's migrations) with the plugin's macros expanded, exact results on a known data set, and
`dashboards push` against a mock Grafana HTTP server (no Grafana can run here)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import threading
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support import make_settings
from touchpoint import ROOT
from touchpoint.clickhouse import backends as clickhouse
from touchpoint.dashboards import check as dashboards
from touchpoint.dashboards.check import TimeRange, Variable, expand
from tests.support import TOUCHPOINT

#: Recent, because dlq and loader_progress have a short TTL (14 and 7 days): older rows vanish at insert.
T0 = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
WINDOWS = 8  # 15-minute windows: 01:00 .. 03:00 UTC

#: (id, name, kind, lat, lon, typical subscribers present, typical G3 coverage)
REGIONS = [
    ("r-xinjiekou-mall", "Xinjiekou Mall", "mall", 32.0417, 118.7840, 380, 0.18),
    ("r-deji-plaza", "Deji Plaza", "mall", 32.0446, 118.7896, 260, 0.22),
    ("r-hexi-mall", "Hexi Wanda Mall", "mall", 32.0030, 118.7300, 210, 0.35),
    ("r-south-station", "Nanjing South Station", "transport", 31.9686, 118.7975, 420, 0.41),
    ("r-railway-station", "Nanjing Railway Station", "transport", 32.0892, 118.7973, 300, 0.38),
    ("r-xianlin-campus", "Xianlin Campus", "campus", 32.1082, 118.9140, 330, 0.62),
    ("r-gulou-campus", "Gulou Campus", "campus", 32.0566, 118.7781, 240, 0.55),
    ("r-zhujiang-store", "Zhujiang Road Handset Store", "handset_store", 32.0487, 118.7879, 40, 0.27),
    ("r-confucius", "Confucius Temple", "scenic", 32.0205, 118.7886, 190, 0.12),
    ("r-hexi-office", "Hexi Office Tower", "office", 32.0089, 118.7400, 160, 0.48),
    ("r-jiangning-res", "Jiangning Residences", "residential", 31.9536, 118.8400, 280, 0.30),
    ("r-gulou-res", "Gulou Residences", "residential", 32.0700, 118.7700, 8, 0.25),  # tiny: some windows withheld
]
PRODUCTS = ["G3 data pack", "G3 handset bundle", "Voice 58", "SMS 100", "Family plan"]
#: campaign -> (trigger kind, triggers, lead share, control share)
CAMPAIGNS = {
    "mall-entry-shop": ("region_entry", 60, 0.5, 0.1),
    "dial-114-12580": ("dial_114", 30, 0.6, 0.1),
    "handset-store-g3": ("handset_store_visits", 12, 0.7, 0.0),
    "quota-20mb-reminder": ("quota_20mb", 25, 0.8, 0.12),
}
REASONS = ["audience", "cooldown", "contact_cap", "quiet_hours", "no_consent", "budget", "lower_priority"]


def _s(dt: datetime) -> int:
    return int(dt.timestamp())


def sample_data(seed: int = 7) -> tuple[dict[str, list[tuple]], dict]:
    """A small, realistic day of Touchpoint output: table -> rows (in COLUMNS order), and the expected answers."""
    rnd = random.Random(seed)
    rows: dict[str, list[tuple]] = defaultdict(list)
    expected: dict = {"latest": {}, "funnel": {}, "suppressed": defaultdict(int), "control": {}}

    for rid, name, kind, lat, lon, subs, cov in REGIONS:
        rows["regions"].append((rid, name, kind, int(kind != "residential"), lat, lon))
        for w in range(WINDOWS):
            present = max(1, int(subs * rnd.uniform(0.8, 1.2)))
            if subs < 10 and w >= WINDOWS - 3:
                continue  # under region_metrics.min_subscribers: not published (its latest window is earlier)
            g3 = int(round(present * min(0.95, max(0.0, cov + w * 0.01 + rnd.uniform(-0.03, 0.03)))))
            capable = min(present, g3 + int((present - g3) * rnd.uniform(0.25, 0.45)))
            opportunities = capable - g3
            counts = sorted((p, rnd.randint(1, present)) for p in PRODUCTS)
            start = T0 + timedelta(minutes=15 * w)
            row = (rid, name, kind, lat, lon, _s(start), _s(start + timedelta(minutes=15)), present, g3, capable,
                   opportunities, g3 / present, rnd.uniform(0.05, 0.5), [p for p, _ in counts],
                   [c for _, c in counts])
            rows["region_metrics"].append(row)
            expected["latest"][rid] = row
    # a redelivered region record (ReplacingMergeTree twin) must not change anything
    rows["region_metrics"].append(rows["region_metrics"][3])

    n = 0
    for cid, (kind, triggers, lead_share, control_share) in CAMPAIGNS.items():
        f = {"triggers": 0, "leads": 0, "delivered": 0, "converted": 0}
        c = {"treatment_leads": 0, "treatment_converted": 0, "control_leads": 0, "control_converted": 0}
        for i in range(triggers):
            n += 1
            ts = T0 + timedelta(seconds=rnd.randint(0, WINDOWS * 900 - 1))
            msisdn = f"1395{n:07d}"
            tid = f"t-{cid[:6]}-{i:04d}"
            detected = ts + timedelta(seconds=rnd.randint(1, 70))
            rows["triggers"].append((tid, msisdn, kind, _s(ts), _s(ts) * 1000, _s(detected), _s(detected) * 1000,
                                     json.dumps({"campaign_hint": cid}, sort_keys=True)))
            decided = detected + timedelta(seconds=1)
            u = rnd.random()
            result = "lead" if u < lead_share else ("control" if u < lead_share + control_share else "suppressed")
            reason = "" if result != "suppressed" else rnd.choice(REASONS)
            lead_id = f"l-{cid[:6]}-{i:04d}" if result != "suppressed" else ""
            did = f"d-{cid[:6]}-{i:04d}"
            drow = (did, tid, kind, msisdn, cid, _s(ts), _s(decided), _s(decided) * 1000, result, reason,
                    f"data_mb_24h gte 200 (is {rnd.uniform(0, 150):.1f})" if reason == "audience" else "", lead_id,
                    _s(decided) if lead_id else 0)
            rows["decisions"].append(drow)
            if i % 7 == 0:
                rows["decisions"].append(drow)  # at-least-once: the same decision twice
            f["triggers"] += 1
            if result == "suppressed":
                expected["suppressed"][reason] += 1
                continue
            control = result == "control"
            rows["leads"].append((lead_id, msisdn, cid, f"offer-{cid[:8]}", "sms", ["sms", "outbound_call"],
                                  f"Hello from {cid}", tid, kind, _s(ts), _s(ts) * 1000, _s(decided),
                                  _s(decided) * 1000, _s(decided), _s(ts + timedelta(hours=48)), int(control),
                                  [f"trigger:{kind}", "priority:5"] + (["control_group"] if control else [])))
            converted = False
            if control:
                c["control_leads"] += 1
                converted = rnd.random() < 0.08
                c["control_converted"] += converted
            else:
                f["leads"] += 1
                c["treatment_leads"] += 1
                if rnd.random() < 0.9:
                    f["delivered"] += 1
                    at = decided + timedelta(seconds=5)
                    rows["outcomes"].append((f"o-{lead_id}-d", lead_id, tid, msisdn, cid, "delivered", "",
                                             _s(at), _s(at) * 1000, ""))
                    converted = rnd.random() < 0.3
                    f["converted"] += converted
                    c["treatment_converted"] += converted
            if converted:
                at = decided + timedelta(minutes=rnd.randint(5, 90))
                order = f"ord-{lead_id}"
                rows["outcomes"].append((f"o-{lead_id}-c", lead_id, tid, msisdn, cid, "converted", "order", _s(at),
                                         _s(at) * 1000, order))
                rows["orders"].append((order, msisdn, "g3-pack", "data", "subscribe", "sms", lead_id, _s(at),
                                       _s(at) * 1000))
        expected["funnel"][cid] = f
        expected["control"][cid] = c
    rows["outcomes"].append(rows["outcomes"][0])  # redelivered outcome

    for minute in range(WINDOWS * 15):
        start = T0 + timedelta(minutes=minute)
        for source, etype, base in [("signaling", "location_update", 900), ("signaling", "mo_call", 240),
                                    ("signaling", "mo_sms", 120), ("xdr", "data_session", 600)]:
            rows["traffic"].append((_s(start), _s(start + timedelta(minutes=1)), source, etype,
                                    int(base * rnd.uniform(0.8, 1.2))))
        if minute % 4 == 0:
            for topic, end in [("triggers", 200), ("decisions", 260), ("region_metrics", 90)]:
                lag = rnd.randint(0, 40)
                rows["loader_progress"].append((_s(start), topic, 0, end * minute - lag, end * minute, lag, 100,
                                                "touchpoint-loader"))
    for k in range(40):
        ts = T0 + timedelta(minutes=rnd.randint(0, WINDOWS * 15 - 1))
        reason = rnd.choice(["bad_json", "missing_field", "late", "ts_out_of_range"])
        rows["dlq"].append(("signaling" if k % 3 else "xdr", reason, "field ts" if reason != "bad_json" else "",
                            f"e{k}", _s(ts), _s(ts) * 1000, "{broken", f"dlq-{k}"))
    return rows, expected


COLUMNS = {
    "regions": ["region_id", "name", "kind", "watched", "lat", "lon"],
    "region_metrics": ["region_id", "region_name", "region_kind", "lat", "lon", "window_start", "window_end",
                       "subscribers", "g3_subscribers", "g3_capable", "opportunities", "g3_coverage", "g3_data_share",
                       "product_names", "product_counts"],
    "triggers": ["trigger_id", "msisdn", "kind", "ts", "ts_ms", "detected_at", "detected_at_ms", "context"],
    "decisions": ["decision_id", "trigger_id", "trigger_kind", "msisdn", "campaign_id", "trigger_ts", "decided_at",
                  "decided_at_ms", "result", "reason", "detail", "lead_id", "deliver_at"],
    "leads": ["lead_id", "msisdn", "campaign_id", "offer_id", "channel", "channels", "message", "trigger_id",
              "trigger_kind", "trigger_ts", "trigger_ts_ms", "created_at", "created_at_ms", "deliver_at", "expires_at",
              "control", "reasons"],
    "outcomes": ["outcome_id", "lead_id", "trigger_id", "msisdn", "campaign_id", "status", "reason", "ts", "ts_ms",
                 "order_id"],
    "orders": ["order_id", "msisdn", "product_id", "product_kind", "action", "channel", "lead_id", "ts", "ts_ms"],
    "traffic": ["window_start", "window_end", "source", "event_type", "events"],
    "loader_progress": ["ts", "topic", "partition", "committed", "end_offset", "lag", "rows", "group_id"],
    "dlq": ["source", "reason", "detail", "event_id", "ts", "event_ts_ms", "raw", "dlq_id"],
}


def load_sample(settings, seed: int = 7) -> dict:
    """Migrate the chdb database of ``settings`` with the project's migrations and load the sample; returns the
    expected answers. Closes chdb again (one data directory per process, and the code under test opens it)."""
    rows, expected = sample_data(seed)
    with clickhouse.connect(settings) as backend:
        clickhouse.migrate(backend, settings)
        for table, cols in COLUMNS.items():
            backend.insert(table, cols, rows[table])
    return expected


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("dash-work"))
    expected = load_sample(settings)
    return settings, expected


def run_cli(*args, **kw):
    return subprocess.run([TOUCHPOINT, *args], capture_output=True, text=True, timeout=300, **kw)


def config_file(settings, directory: Path) -> Path:
    p = directory / "touchpoint.yaml"
    p.write_text(f"paths:\n  work_dir: {settings.paths.work_dir}\n")
    return p


# --- macros ------------------------------------------------------------------------------------------------------

RANGE = TimeRange(datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc), datetime(2026, 11, 2, 3, 0, tzinfo=timezone.utc), 30)


def test_macros_expand_like_the_clickhouse_plugin():
    sql = ("SELECT $__timeInterval(ts) AS time, count() / $__interval_s FROM t "
           "WHERE $__timeFilter(ts) AND ts_ms >= $__fromTime_ms AND day >= $__fromTime AND x <= $__toTime "
           "AND $__dateFilter(d)")
    assert expand(sql, RANGE) == (
        "SELECT toStartOfInterval(toDateTime(ts), INTERVAL 30 second) AS time, count() / 30 FROM t "
        "WHERE ts >= toDateTime(1793581200) AND ts <= toDateTime(1793588400) "
        "AND ts_ms >= fromUnixTimestamp64Milli(1793581200000) AND day >= toDateTime(1793581200) "
        "AND x <= toDateTime(1793588400) AND d >= toDate('2026-11-02') AND d <= toDate('2026-11-02')")


def test_template_variables_and_conditional_all():
    one = {"campaign": Variable("campaign", ("mall-entry-shop",), all=False)}
    every = {"campaign": Variable("campaign", ("a", "b'c"), all=True)}
    sql = "WHERE $__conditionalAll(campaign_id IN (${campaign:singlequote}), $campaign) AND k = '$campaign'"
    assert expand(sql, RANGE, one) == "WHERE campaign_id IN ('mall-entry-shop') AND k = ''mall-entry-shop''"
    assert expand(sql, RANGE, every) == "WHERE 1=1 AND k = ''a','b'c''"
    assert expand("x IN (${campaign:singlequote}) [[campaign]] ${campaign:csv}", RANGE, every) == \
        "x IN ('a','b\\'c') 'a','b'c' a,b'c"
    single = {"k": Variable("k", ("mall",), multi=False)}
    assert expand("kind = '${k}' AND $__from < $__to", RANGE, single) == \
        "kind = 'mall' AND 1793581200000 < 1793588400000"


def test_nice_interval_and_range():
    assert dashboards.nice_interval(0.2) == 1
    assert dashboards.nice_interval(7.2) == 10
    assert TimeRange.of(RANGE.start, RANGE.end).interval_s == 10  # 2 h / 1000 points
    with pytest.raises(dashboards.DashboardError, match="before it starts"):
        TimeRange.of(RANGE.end, RANGE.start)


# --- static validation ---------------------------------------------------------------------------------------------


def test_dashboards_pass_grafana_schema_and_structure():
    schema = dashboards.load_schema()  # built by `make setup` from @grafana/schema
    assert schema.get("x-grafana-schema-version"), "schema not built by grafana/schema/build.sh"
    ds = dashboards.load_dashboards()
    assert {d.uid for d in ds} == {"touchpoint-micro-regions", "touchpoint-campaigns", "touchpoint-pipeline"}
    for d in ds:
        assert dashboards.schema_errors(d, schema) == [], d.path.name
        assert dashboards.structure_errors(d) == [], d.path.name
    assert dashboards.provisioning_errors() == []
    geomap = dashboards.dashboard_by_uid("touchpoint-micro-regions").panel(1)
    assert geomap["type"] == "geomap"
    style = geomap["options"]["layers"][0]["config"]["style"]
    assert (style["color"]["field"], style["size"]["field"]) == ("g3_coverage", "subscribers")
    assert "$__timeFilter(window_start)" in dashboards.panel_sql(geomap)
    campaign_var = dashboards.dashboard_by_uid("touchpoint-campaigns").variables()[0]
    assert campaign_var["name"] == "campaign"


def test_schema_and_structure_catch_broken_dashboards():
    schema = dashboards.load_schema()
    d = dashboards.dashboard_by_uid("touchpoint-campaigns")
    broken = json.loads(json.dumps(d.model))
    broken["panels"][0]["gridPos"] = {"x": 0, "y": 0, "w": 12}          # schema: h required
    broken["panels"][1]["bogus"] = True                                  # schema: no extra properties
    broken["panels"][2]["targets"][0]["rawSql"] += " AND $nosuchvar"     # structure: undefined variable
    broken["panels"][3]["targets"][0]["datasource"] = {"type": "mysql", "uid": "other"}
    broken["panels"][4]["id"] = broken["panels"][5]["id"]
    bd = dashboards.Dashboard(d.path, broken)
    errs = dashboards.schema_errors(bd, schema)
    assert any("panels[0]" in e and "'h' is a required property" in e for e in errs)
    assert any("panels[1]" in e and "bogus" in e for e in errs)
    serrs = dashboards.structure_errors(bd)
    assert any("$nosuchvar" in e for e in serrs)
    assert any("not on datasource touchpoint-clickhouse" in e for e in serrs)
    assert any("id also used" in e for e in serrs)


# --- queries against ClickHouse ------------------------------------------------------------------------------------


def _run(settings, uid: str, panel_id: int, variables=None, rng=None):
    d = dashboards.dashboard_by_uid(uid)
    q = dashboards.open_queries(settings)
    try:
        rng = rng or q.data_range()
        vars_ = dashboards.resolve_variables(q, d, rng)
        vars_.update(variables or {})
        return q.run(expand(dashboards.panel_sql(d.panel(panel_id)), rng, vars_))
    finally:
        q.backend.close()


def test_map_shows_latest_window_per_region(sample):
    settings, expected = sample
    res = _run(settings, "touchpoint-micro-regions", 1)
    rows = {r["region_id"]: r for r in res.dicts()}
    assert set(rows) == {r[0] for r in REGIONS}
    for rid, exp in expected["latest"].items():
        got = rows[rid]
        assert (got["subscribers"], got["g3_subscribers"], got["opportunities"]) == (exp[7], exp[8], exp[10])
        assert got["window_start"] == datetime.fromtimestamp(exp[5], timezone.utc).replace(tzinfo=None)
        assert got["g3_coverage"] == pytest.approx(exp[11], abs=1e-4)
        assert (got["lat"], got["lon"]) == (exp[3], exp[4])
    # the tiny region's latest published window is earlier than the others'
    assert rows["r-gulou-res"]["window_start"] < rows["r-xinjiekou-mall"]["window_start"]
    # region kind filter
    malls = _run(settings, "touchpoint-micro-regions", 1,
                 {"region_kind": Variable("region_kind", ("mall",), all=False)})
    assert {r["region_kind"] for r in malls.dicts()} == {"mall"} and len(malls.rows) == 3


def test_top_opportunities_sorted(sample):
    settings, expected = sample
    res = _run(settings, "touchpoint-micro-regions", 3).dicts()
    want = sorted((r for r in expected["latest"].values() if r[10] > 0), key=lambda r: (-r[10], r[11], r[1]))[:10]
    assert [r["region"] for r in res] == [r[1] for r in want]


def test_funnel_counts_exact_with_duplicates(sample):
    settings, expected = sample
    res = {r["campaign"]: r for r in _run(settings, "touchpoint-campaigns", 3).dicts()}
    assert set(res) == set(CAMPAIGNS)
    for cid, f in expected["funnel"].items():
        got = res[cid]
        assert {k: got[k] for k in f} == f, cid
        assert got["lead_rate"] == pytest.approx(f["leads"] / f["triggers"], abs=1e-4)
    one = _run(settings, "touchpoint-campaigns", 3, {"campaign": Variable("campaign", ("dial-114-12580",))})
    assert [r["campaign"] for r in one.dicts()] == ["dial-114-12580"]
    total = _run(settings, "touchpoint-campaigns", 1).dicts()[0]
    assert total["triggers"] == sum(f["triggers"] for f in expected["funnel"].values())
    assert total["converted"] == sum(f["converted"] for f in expected["funnel"].values())


def test_suppressions_and_control_group(sample):
    settings, expected = sample
    supp = {r["reason"]: r["suppressed"] for r in _run(settings, "touchpoint-campaigns", 4).dicts()}
    assert supp == dict(expected["suppressed"])
    ctrl = {r["campaign"]: r for r in _run(settings, "touchpoint-campaigns", 6).dicts()}
    for cid, c in expected["control"].items():
        assert {k: ctrl[cid][k] for k in c} == c, cid
        if c["control_leads"]:
            assert ctrl[cid]["uplift"] == pytest.approx(
                c["treatment_converted"] / c["treatment_leads"] - c["control_converted"] / c["control_leads"], abs=2e-4)


def test_pipeline_events_per_second_and_dlq(sample):
    settings, _ = sample
    rows, _ = sample_data()
    rng = TimeRange(T0, T0 + timedelta(minutes=WINDOWS * 15), 60)
    eps = _run(settings, "touchpoint-pipeline", 1, rng=rng).dicts()
    sig = [r for r in eps if r["source"] == "signaling"]
    first = sum(r[4] for r in rows["traffic"] if r[2] == "signaling" and r[0] == int(T0.timestamp()))
    assert sig[0]["events_per_s"] == pytest.approx(first / 60)
    dlq = _run(settings, "touchpoint-pipeline", 4, rng=rng).dicts()
    assert sum(r["records"] for r in dlq) == len(rows["dlq"])


def test_check_cli_runs_every_panel_on_data(sample, tmp_path):
    settings, _ = sample
    cfg = config_file(settings, tmp_path)
    out = run_cli("dashboards", "check", "--require-data", "--config", str(cfg))
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    panel_lines = [ln for ln in lines if ln.startswith("  ") and " #" in ln]
    total = sum(len([p for p in d.panels() if p["type"] in dashboards.QUERY_PANEL_TYPES])
                for d in dashboards.load_dashboards())
    assert len(panel_lines) == total == 22
    assert all(ln.startswith("  ok") for ln in panel_lines), out.stdout
    assert "provisioning: ok" in out.stdout and "@grafana/schema" in lines[0]
    assert lines[-1].startswith("22 panels in 3 dashboards: all ok")
    # a time range with no data: queries still run; --require-data turns the empty ones into failures
    out = run_cli("dashboards", "check", "--require-data", "--from", "2020-01-01T00:00:00Z",
                  "--to", "2020-01-02T00:00:00Z", "--config", str(cfg))
    assert out.returncode == 1 and "EMPTY" in out.stdout and "failed" in out.stdout.splitlines()[-1]


def test_check_fails_on_bad_sql_with_one_line_per_panel(sample, tmp_path):
    settings, _ = sample
    ddir = tmp_path / "dash"
    shutil.copytree(dashboards.DASHBOARDS_DIR, ddir)
    f = ddir / "pipeline-health.json"
    model = json.loads(f.read_text())
    model["panels"][3]["targets"][0]["rawSql"] = "SELECT no_such_column FROM dlq_counts WHERE $__timeFilter(minute)"
    model["panels"][1]["bogus"] = True
    f.write_text(json.dumps(model))
    cfg = config_file(settings, tmp_path)
    out = run_cli("dashboards", "check", "--dashboards", str(ddir), "--config", str(cfg))
    assert out.returncode == 1
    bad = [ln for ln in out.stdout.splitlines() if ln.startswith("  FAIL")]
    assert len(bad) == 1 and "#4" in bad[0] and "no_such_column" in bad[0], out.stdout
    head = next(ln for ln in out.stdout.splitlines() if ln.startswith("touchpoint-pipeline "))
    assert "schema FAIL panels[1]: Additional properties are not allowed ('bogus' was unexpected)" in head
    assert out.stdout.splitlines()[-1].startswith("22 panels in 3 dashboards: 2 failed")
    assert out.stderr == ""


def test_check_without_database_is_one_line_error(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"paths:\n  work_dir: {tmp_path / 'empty'}\n")
    out = run_cli("dashboards", "check", "--config", str(cfg))
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "touchpoint db migrate" in out.stderr


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
            return self._reply(200, {"status": "success", "uid": d["uid"], "version": version,
                                     "url": f"/d/{d['uid']}/x"})
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
    env = {"PATH": str(ROOT / ".venv" / "bin") + ":/usr/bin:/bin", "CLICKHOUSE_HOST": "ch.internal",
           "CLICKHOUSE_NATIVE_PORT": "9440", "CLICKHOUSE_SECURE": "true", "CLICKHOUSE_PASSWORD": "pw"}
    out = run_cli("dashboards", "push", "--url", grafana.url, "--token", "s3cret", env=env)
    assert out.returncode == 0, out.stderr
    calls = [(m, p) for m, p, _, _ in grafana.calls]
    assert calls == [
        ("GET", "/api/health"),
        ("GET", "/api/datasources/uid/touchpoint-clickhouse"),
        ("POST", "/api/datasources"),
        ("GET", "/api/folders/touchpoint"),
        ("POST", "/api/folders"),
        ("POST", "/api/dashboards/db"), ("POST", "/api/dashboards/db"), ("POST", "/api/dashboards/db"),
    ]
    assert all(auth == "Bearer s3cret" for *_, auth in grafana.calls)
    ds = grafana.calls[2][2]
    assert ds["type"] == "grafana-clickhouse-datasource" and ds["uid"] == "touchpoint-clickhouse"
    assert ds["jsonData"] == {"protocol": "native", "host": "ch.internal", "port": 9440, "secure": True,
                              "username": "default", "defaultDatabase": "touchpoint", "dialTimeout": "10",
                              "queryTimeout": "60"}
    assert ds["secureJsonData"] == {"password": "pw"}
    posted = [c[2] for c in grafana.calls if c[1] == "/api/dashboards/db"]
    assert {b["dashboard"]["uid"] for b in posted} == {"touchpoint-micro-regions", "touchpoint-campaigns",
                                                        "touchpoint-pipeline"}
    assert all(b["overwrite"] is True and b["folderUid"] == "touchpoint" and b["dashboard"]["id"] is None
               for b in posted)
    local = {d.uid: d.model for d in dashboards.load_dashboards()}
    assert all(b["dashboard"]["panels"] == local[b["dashboard"]["uid"]]["panels"] for b in posted)
    assert "datasource touchpoint-clickhouse created" in out.stdout

    # second push: the datasource is updated by uid, the folder exists, dashboards overwritten (version 2)
    grafana.calls.clear()
    out = run_cli("dashboards", "push", "--url", grafana.url, "--token", "s3cret", env=env)
    assert out.returncode == 0, out.stderr
    assert [(m, p) for m, p, _, _ in grafana.calls][:4] == [
        ("GET", "/api/health"), ("GET", "/api/datasources/uid/touchpoint-clickhouse"),
        ("PUT", "/api/datasources/uid/touchpoint-clickhouse"), ("GET", "/api/folders/touchpoint")]
    assert "datasource touchpoint-clickhouse updated" in out.stdout and "(version 2)" in out.stdout


def test_push_errors_are_one_line(grafana):
    out = run_cli("dashboards", "push", "--url", grafana.url, "--token", "wrong")
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "refused the token" in out.stderr
    assert [p for _, p, _, _ in grafana.calls] == ["/api/health"]
    out = run_cli("dashboards", "push", "--url", "http://127.0.0.1:9", "--token", "x")
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "cannot reach Grafana" in out.stderr
    out = run_cli("dashboards", "push", "--token", "x")
    assert out.returncode == 2 and "needs --url" in out.stderr
