"""touchpoint/harness/bench_report.py: the published result, its chart, and the README table rendered from it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from touchpoint.harness import bench_report

PUBLISHED = bench_report.PUBLISHED / "result.json"


def _result() -> dict:
    return json.loads(PUBLISHED.read_text())


def test_the_readme_shows_the_published_result():
    text = bench_report.README.read_text()
    block = text[text.index(bench_report.BEGIN) : text.index(bench_report.END) + len(bench_report.END)]
    assert block == bench_report.readme_block(_result())


def test_the_published_result_has_every_figure_and_its_context():
    r = _result()
    paths = {row["path"] for row in r["throughput"]}
    assert {"passthrough", "ingest", "whole pipeline"} <= paths
    base = next(row for row in r["throughput"] if row["path"] == "passthrough")
    assert base["ratio"] == 1
    for row in r["throughput"]:  # a ratio is events/s over the passthrough's of the same run
        assert abs(row["ratio"] - row["events_per_s"] / base["events_per_s"]) < 0.01, row
    assert r["machine"]["cores"] >= 1 and r["machine"]["commit"]
    assert r["latency_ms"]["event->lead"]["p99"] > 0
    # at a network's density (issue 22), with the sparse city of earlier runs as a row of its own
    assert r["events_per_subscriber_hour"] > 20 and "whole pipeline, sparse city" in paths
    assert set(r["cluster_vs_mini_cluster"]) == {"p1", "p2"} and r["startup_s"]["mini-cluster"] > 0
    per_job = {k: v for k, v in r["state_bytes_per_subscriber"].items() if k != "all jobs"}
    assert abs(r["state_bytes_per_subscriber"]["all jobs"] - sum(per_job.values())) <= len(per_job)  # rounding


def test_the_chart_is_svg_with_one_bar_per_path(tmp_path):
    r = _result()
    root = ET.fromstring(bench_report.svg(r))
    bars = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len(bars) == len(r["throughput"])
    widths = [float(b.get("width")) for b in bars]
    fastest = max(range(len(widths)), key=widths.__getitem__)
    assert r["throughput"][fastest]["events_per_s"] == max(row["events_per_s"] for row in r["throughput"])
    path = bench_report.write(r, tmp_path)
    assert json.loads(path.read_text()) == r and (tmp_path / "result.svg").exists()


def test_publish_without_a_result_is_a_one_line_error(tmp_path):
    from tests.support import run_cli

    done = run_cli("bench", "publish", "--result", str(tmp_path / "missing.json"), timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        f"touchpoint: {tmp_path / 'missing.json'} not found; run `make bench` first"
    ]


def test_publish_refuses_a_readme_without_the_bench_block(tmp_path, monkeypatch):
    import pytest

    readme = tmp_path / "README.md"
    readme.write_text("# no block here\n")
    monkeypatch.setattr(bench_report, "README", readme)
    monkeypatch.setattr(bench_report, "PUBLISHED", tmp_path / "bench")
    with pytest.raises(ValueError, match="no bench block"):
        bench_report.publish(PUBLISHED)
    assert readme.read_text() == "# no block here\n"
