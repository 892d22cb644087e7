"""Helpers shared by the test modules (fixtures are in conftest.py): settings in a work dir, the installed
``touchpoint`` command, and running ingest before a job in one replay."""

from __future__ import annotations

import subprocess
from pathlib import Path

from touchpoint import ROOT
from touchpoint.config import Settings, load_settings
from touchpoint.reference import rows_to_csv_text

#: The installed command, as a user runs it.
TOUCHPOINT = str(ROOT / ".venv" / "bin" / "touchpoint")


def make_settings(work_dir: Path, bootstrap: str | None = None, **overrides) -> Settings:
    overrides.setdefault("paths", {})["work_dir"] = str(work_dir)
    if bootstrap:
        overrides.setdefault("kafka", {})["bootstrap"] = bootstrap
    return load_settings(**overrides)


def replay_after_ingest(job: str, city: Path, tmp_path_factory) -> tuple[Settings, Path, dict]:
    """``ingest`` then ``job`` over ``city`` in one output dir (the job reads ingest's normalised output)."""
    from touchpoint.runner.embedded import replay

    settings = make_settings(tmp_path_factory.mktemp(f"{job}-w"))
    out = tmp_path_factory.mktemp(f"{job}-out")
    replay("ingest", settings, city, out)
    return settings, out, replay(job, settings, city, out)


def run_cli(*args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    """The installed ``touchpoint`` command with ``args``; output captured as text."""
    return subprocess.run([TOUCHPOINT, *args], capture_output=True, text=True, timeout=timeout, **kw)


def csv_header(name: str) -> str:
    """The header line of reference file ``name`` (cells, regions, handsets, profiles, number_ranges)."""
    return rows_to_csv_text(name, [])
