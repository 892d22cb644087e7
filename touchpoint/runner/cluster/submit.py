"""``touchpoint submit``: a job to any Flink 2.3 cluster the standard PyFlink way, ``flink run --python``.

The Flink CLI of the PyFlink package runs :mod:`touchpoint.runner.cluster.entry` (the same job code as ``touchpoint
run``) with the submitter's settings, written to a file, and ships the project's Python packages
(``-pyfs``); the connector jars and Touchpoint's JVM functions travel as the job's ``pipeline.jars``. The
TaskManagers run Python functions with ``cluster.python_executable``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from urllib.parse import urlparse

from touchpoint import ROOT
from touchpoint.config import Settings, write_settings
from touchpoint.runner.cluster import rest
from touchpoint.runner.cluster.local import flink_home

#: The project's Python packages, shipped with every job.
PACKAGES = ("touchpoint", "jobs", "udfs")
_JOB_ID = re.compile(r"JobID ([0-9a-f]{32})")
_PYTHON_ERROR = re.compile(r"^[A-Za-z_.]*(Error|Exception): ")


def submit(
    settings: Settings,
    job: str,
    parallelism: int | None = None,
    savepoint: str | None = None,
    group: str | None = None,
    timeout: float = 300.0,
    bounded_offsets: dict[str, dict[int, int]] | None = None,
) -> str:
    """Submit ``job`` (detached) and return its Flink job id. ``bounded_offsets`` (topic key -> partition -> end
    offset) makes the job read only up to there and finish, as the benchmark's bounded runs do."""
    url = settings.cluster.rest_url
    rest.overview(url)  # a cluster that is down: one line, before the Flink CLI's stack trace
    if parallelism is not None:
        settings = settings.model_copy(deep=True)
        settings.flink.parallelism = parallelism
    submitted = settings.paths.work_dir / "submitted"
    submitted.mkdir(parents=True, exist_ok=True)
    stamp = f"{job}-{time.strftime('%Y%m%dT%H%M%S')}-{time.time_ns() % 10**9}"
    config = write_settings(settings, submitted / f"{stamp}.yaml")
    bounded = []
    if bounded_offsets:
        path = submitted / f"{stamp}-bounded.json"
        path.write_text(json.dumps(bounded_offsets))
        bounded = ["--bounded-offsets", str(path)]
    parsed = urlparse(url)
    python = settings.cluster.python_executable or sys.executable
    cmd = [
        str(flink_home() / "bin" / "flink"),
        "run",
        "--detached",
        f"-Drest.address={parsed.hostname}",
        f"-Drest.port={parsed.port or 8081}",
        *(["--fromSavepoint", savepoint] if savepoint else []),
        "-pyclientexec",
        sys.executable,
        "-pyexec",
        python,
        "-pyfs",
        ",".join(str(ROOT / p) for p in PACKAGES),
        "-pym",
        "touchpoint.runner.cluster.entry",
        job,
        "--config",
        str(config),
        *(["--group", group] if group else []),
        *bounded,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    found = _JOB_ID.search(done.stdout + done.stderr)
    if done.returncode != 0 or not found:
        raise rest.ClusterError(f"flink run {job} failed: {_cause(done.stdout + done.stderr)}")
    return found.group(1)


def _cause(output: str) -> str:
    """The job's Python error, else the innermost 'Caused by' (or the last error line) of the Flink CLI's output."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    python = [ln for ln in lines if _PYTHON_ERROR.match(ln)]  # the job's own Python error says the most
    if python:
        return python[-1][:400]
    causes = [ln for ln in lines if ln.startswith("Caused by:")]
    if causes:
        return causes[-1].removeprefix("Caused by:").strip()[:400]
    errors = [ln for ln in lines if "Error" in ln or "Exception" in ln]
    return (errors[-1] if errors else (lines[-1] if lines else "no output"))[:400]
