"""What ``make bench`` leaves behind: ``result.json`` (every figure it printed, the machine, the commit), a bar
chart (``result.svg``), and the README's performance table rendered from that file.

``touchpoint bench publish`` copies the latest result into ``docs/bench/`` and rewrites the README block between
the markers below, so the figures a reader sees are the ones a run produced (tests/harness/test_bench_report.py
holds the README equal to ``docs/bench/result.json``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "docs" / "bench"
README = ROOT / "README.md"
BEGIN = "<!-- bench:begin (touchpoint bench publish writes this block from docs/bench/result.json) -->"
END = "<!-- bench:end -->"


def machine() -> dict[str, Any]:
    """Cores, load and commit: the context without which a figure means little."""
    one, five, _ = os.getloadavg()
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True).stdout)
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", False
    load = {"load_1m": round(one, 2), "load_5m": round(five, 2)}
    return {"cores": os.cpu_count(), **load, "commit": commit, "dirty": dirty}


def write(result: dict[str, Any], out_dir: Path) -> Path:
    """``out_dir/result.json`` and ``out_dir/result.svg``; returns the JSON path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "result.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    (out_dir / "result.svg").write_text(svg(result))
    return path


def svg(result: dict[str, Any]) -> str:
    """A horizontal bar chart of events/s per path, each bar labelled with its ratio to the passthrough."""
    rows = result["throughput"]
    width, bar_h, gap, left, right = 720, 26, 10, 170, 150
    top = 40
    height = top + len(rows) * (bar_h + gap) + 20
    peak = max(r["events_per_s"] for r in rows) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="13">',
        f'<text x="10" y="22" font-size="15" font-weight="bold">events/s per path, ratio to the Kafka passthrough '
        f"(one run, {result['machine']['cores']} cores, commit {result['machine']['commit']})</text>",
    ]
    for i, r in enumerate(rows):
        y = top + i * (bar_h + gap)
        w = (width - left - right) * r["events_per_s"] / peak
        colour = "#7f7f7f" if r["path"] == "passthrough" else "#1f77b4"
        parts += [
            f'<text x="{left - 8}" y="{y + bar_h * 0.7:.0f}" text-anchor="end">{r["path"]}</text>',
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>',
            f'<text x="{left + w + 6:.1f}" y="{y + bar_h * 0.7:.0f}">{r["events_per_s"]:,.0f} ev/s  '
            f"x{r['ratio']:.2f}</text>",
        ]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _density(result: dict[str, Any]) -> str:
    per_hour = result.get("events_per_subscriber_hour")  # runs before issue 22: ~3
    return f" at {per_hour:g} events per subscriber-hour" if per_hour else ""


def _startup(result: dict[str, Any]) -> str:
    """The submissions' start-up, and the cluster's time per event against the mini-cluster's without it."""
    if "startup_s" not in result:
        return ""
    startup = ", ".join(f"{k} {v:g} s" for k, v in result["startup_s"].items())
    ratios = ", ".join(f"{k} {v:g}x" for k, v in result.get("cluster_vs_mini_cluster", {}).items())
    return (
        f" Start-up (first job submitted -> first trigger): {startup}; the cluster's time per event after it, against"
        f" the mini-cluster's: {ratios}."
    )


def readme_block(result: dict[str, Any]) -> str:
    """The README's performance table (and what it was measured on), from one result."""
    m = result["machine"]
    lines = [
        BEGIN,
        "",
        "| path | events/s | vs passthrough |",
        "|---|---|---|",
        *(f"| {r['path']} | {r['events_per_s'] / 1000:,.1f} k | {r['ratio']:.2f} |" for r in result["throughput"]),
        "",
        f"Over {result['events']:,} raw events{_density(result)}; commit `{m['commit']}`"
        f"{' (with local changes)' if m['dirty'] else ''}, {m['cores']} cores, load average {m['load_1m']} at the end "
        f"of the run.{_startup(result)} Latency p99 (ms): "
        + ", ".join(f"{k} {v['p99']:,.0f}" for k, v in result["latency_ms"].items() if v)
        + ". Checkpointed state per subscriber (bytes): "
        + ", ".join(f"{k} {v:,.0f}" for k, v in result["state_bytes_per_subscriber"].items())
        + ". Chart: [docs/bench/result.svg](docs/bench/result.svg).",
        "",
        END,
    ]
    return "\n".join(lines)


def publish(result_json: Path) -> None:
    """Copy a run's result into docs/bench/ and rewrite the README block from it."""
    result = json.loads(result_json.read_text())
    PUBLISHED.mkdir(parents=True, exist_ok=True)
    shutil.copy(result_json, PUBLISHED / "result.json")
    (PUBLISHED / "result.svg").write_text(svg(result))
    text = README.read_text()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{README} has no bench block ({BEGIN} ... {END})")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + readme_block(result) + tail)
