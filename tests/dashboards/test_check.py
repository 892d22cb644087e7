"""Every panel query run against ClickHouse (embedded chdb, the project's migrations) with the plugin's macros
expanded: exact results on a known data set, and `touchpoint dashboards check` one line per panel."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from tests.dashboards.sample import (
    CAMPAIGNS,
    GUARDRAIL,
    MIN_SAMPLE,
    REGIONS,
    T0,
    VARIANTS,
    WINDOWS,
    config_file,
    sample_data,
)
from tests.support import run_cli
from touchpoint.dashboards import check, model, queries
from touchpoint.dashboards.macros import TimeRange, Variable, expand
from udfs.effect import uplift

# --- queries against ClickHouse ------------------------------------------------------------------------------------


def _run(settings, uid: str, panel_id: int, variables=None, rng=None):
    d = model.dashboard_by_uid(uid)
    q = queries.open_queries(settings)
    try:
        rng = rng or q.data_range()
        vars_ = check.resolve_variables(q, d, rng)
        vars_.update(variables or {})
        return q.run(expand(model.panel_sql(d.panel(panel_id)), rng, vars_))
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
        assert got["window_start"] == datetime.fromtimestamp(exp[5], UTC).replace(tzinfo=None)
        assert got["g3_coverage"] == pytest.approx(exp[11], abs=1e-4)
        assert (got["lat"], got["lon"]) == (exp[3], exp[4])
    # the tiny region's latest published window is earlier than the others'
    assert rows["r-gulou-res"]["window_start"] < rows["r-xinjiekou-mall"]["window_start"]
    # region kind filter
    malls = _run(
        settings, "touchpoint-micro-regions", 1, {"region_kind": Variable("region_kind", ("mall",), all=False)}
    )
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
    # the latest uplift record of each campaign, as the effect job computed it (udfs/effect.py)
    ctrl = {r["campaign"]: r for r in _run(settings, "touchpoint-campaigns", 6).dicts()}
    assert set(ctrl) == set(expected["control"])
    for cid, c in expected["control"].items():
        assert {k: ctrl[cid][k] for k in c} == c, cid
        u = uplift(*c.values(), min_sample=MIN_SAMPLE)
        assert (ctrl[cid]["uplift"], ctrl[cid]["ci_low"], ctrl[cid]["ci_high"]) == (u.absolute, u.ci_low, u.ci_high)
        assert ctrl[cid]["estimate"] == ("yes" if u.enough_data else "not enough data")
    assert {r["estimate"] for r in ctrl.values()} == {"yes", "not enough data"}  # the sample has both


def test_results_per_campaign_variant_and_control_with_the_guardrail(sample):
    """The results panel: per campaign its treatment leads, each variant and its control group, counted once
    (leads and outcomes are delivered twice in the sample); each variant's uplift against the campaign's control
    group; the guardrail's latest word on the campaign."""
    settings, expected = sample
    rows = _run(settings, "touchpoint-campaigns", 9).dicts()
    got = {(r["campaign"], r["arm"]): r for r in rows}
    assert set(got) == set(expected["results"])
    for key, want in expected["results"].items():
        assert {k: got[key][k] for k in want} == want, key
    # order: campaign, then its treatment, its variants, its control
    mall = [r["arm"] for r in rows if r["campaign"] == "mall-entry-shop"]
    assert mall == ["treatment", *sorted(f"variant {v}" for v in VARIANTS["mall-entry-shop"]), "control"]
    for gid, counts in expected["variant_counts"].items():
        _, cid, _, _, v = gid.split("|")
        u, r = uplift(*counts, min_sample=MIN_SAMPLE), got[(cid, f"variant {v}")]
        assert (r["uplift"], r["ci_low"], r["ci_high"]) == (u.absolute, u.ci_low, u.ci_high)
    for cid, c in expected["control"].items():
        u = uplift(*c.values(), min_sample=MIN_SAMPLE)
        assert got[(cid, "treatment")]["uplift"] == u.absolute
        assert got[(cid, "treatment")]["estimate"] == ("yes" if u.enough_data else "not enough data")
    latest = {cid: (state, by, reason) for cid, state, by, reason, _ in GUARDRAIL}  # in time order
    for (cid, _), r in got.items():
        state, by, reason = latest.get(cid, ("", "", ""))
        want = f"paused: {reason}" if state == "paused" else f"resumed by {by}" if state == "active" else ""
        assert r["guardrail"] == want, cid


def test_variant_share_per_interval(sample):
    settings, expected = sample
    rows = _run(settings, "touchpoint-campaigns", 10).dicts()
    per_variant: dict[str, int] = {}
    for r in rows:
        per_variant[r["variant"]] = per_variant.get(r["variant"], 0) + r["leads"]
    want = {
        f"{cid} {v.split()[1]}": e["leads"] for (cid, v), e in expected["results"].items() if v.startswith("variant")
    }
    assert per_variant == want


def test_journey_funnel_counts_each_trial_once(sample):
    settings, expected = sample
    (row,) = _run(settings, "touchpoint-campaigns", 8).dicts()
    want = expected["journey"]
    assert row["journey"] == "music-club-trial"
    assert {k: row[k] for k in want} == want
    assert row["conversion_rate"] == pytest.approx(want["converted"] / want["started"], abs=1e-4)


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
    total = sum(len([p for p in d.panels() if p["type"] in model.QUERY_PANEL_TYPES]) for d in model.load_dashboards())
    assert len(panel_lines) == total == 25
    assert all(ln.startswith("  ok") for ln in panel_lines), out.stdout
    assert "provisioning: ok" in out.stdout and "@grafana/schema" in lines[0]
    assert lines[-1].startswith("25 panels in 3 dashboards: all ok")
    # a time range with no data: queries still run; --require-data turns the empty ones into failures
    out = run_cli(
        "dashboards",
        "check",
        "--require-data",
        "--from",
        "2020-01-01T00:00:00Z",
        "--to",
        "2020-01-02T00:00:00Z",
        "--config",
        str(cfg),
    )
    assert out.returncode == 1 and "EMPTY" in out.stdout and "failed" in out.stdout.splitlines()[-1]


def test_check_fails_on_bad_sql_with_one_line_per_panel(sample, tmp_path):
    settings, _ = sample
    ddir = tmp_path / "dash"
    shutil.copytree(model.DASHBOARDS_DIR, ddir)
    f = ddir / "pipeline-health.json"
    broken = json.loads(f.read_text())
    broken["panels"][3]["targets"][0]["rawSql"] = "SELECT no_such_column FROM dlq_counts WHERE $__timeFilter(minute)"
    broken["panels"][1]["bogus"] = True
    f.write_text(json.dumps(broken))
    cfg = config_file(settings, tmp_path)
    out = run_cli("dashboards", "check", "--dashboards", str(ddir), "--config", str(cfg))
    assert out.returncode == 1
    bad = [ln for ln in out.stdout.splitlines() if ln.startswith("  FAIL")]
    assert len(bad) == 1 and "#4" in bad[0] and "no_such_column" in bad[0], out.stdout
    head = next(ln for ln in out.stdout.splitlines() if ln.startswith("touchpoint-pipeline "))
    assert "schema FAIL panels[1]: Additional properties are not allowed ('bogus' was unexpected)" in head
    assert out.stdout.splitlines()[-1].startswith("25 panels in 3 dashboards: 2 failed")
    assert out.stderr == ""


def test_check_without_database_is_one_line_error(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"paths:\n  work_dir: {tmp_path / 'empty'}\n")
    out = run_cli("dashboards", "check", "--config", str(cfg))
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "touchpoint db migrate" in out.stderr
