"""The Flink REST API of any Flink 2.3 cluster (the web UI's own API): overview, jobs, stop with a savepoint,
cancel. Plain HTTP with the standard library; every failure is a :class:`ClusterError` with one line."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

#: A job's name on the cluster is the job's name with this prefix (``pipeline.name``).
JOB_PREFIX = "touchpoint-"


class ClusterError(RuntimeError):
    """The cluster is unreachable, or refused or failed a request; the message says which."""


def _call(url: str, path: str, method: str = "GET", body: dict | None = None, timeout: float = 10.0) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{url.rstrip('/')}{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read()
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")
        with contextlib.suppress(ValueError, AttributeError):  # Flink answers {"errors": [...]}
            detail = "; ".join(json.loads(detail).get("errors", [detail]))
        first = (detail.splitlines() or [""])[0][:300]
        raise ClusterError(f"Flink cluster at {url}: {method} {path}: HTTP {e.code}: {first}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise ClusterError(
            f"no Flink cluster answers at {url} ({reason}); is it up? (touchpoint cluster status)"
        ) from None
    return json.loads(text) if text else {}


def overview(url: str, quiet: bool = False) -> dict | None:
    """``/overview``: TaskManagers, slots, jobs by state. With ``quiet``, None when it does not answer."""
    try:
        return _call(url, "/overview", timeout=3.0)
    except ClusterError:
        if quiet:
            return None
        raise


@dataclass
class Job:
    id: str
    name: str
    state: str
    start_time: int  # ms
    duration_ms: int

    @property
    def job(self) -> str:
        """The Touchpoint job name (``ingest``), or the cluster's name for a job Touchpoint did not submit."""
        return self.name.removeprefix(JOB_PREFIX)


def jobs(url: str) -> list[Job]:
    """Every job the cluster knows, newest first."""
    found = [
        Job(j["jid"], j["name"], j["state"], j.get("start-time", 0), j.get("duration", 0))
        for j in _call(url, "/jobs/overview").get("jobs", [])
    ]
    return sorted(found, key=lambda j: -j.start_time)


def find(url: str, job: str) -> Job:
    """The running job called ``job`` (Touchpoint's name, the cluster's name or a job id)."""
    running = [j for j in jobs(url) if j.state in ("RUNNING", "CREATED", "RESTARTING", "INITIALIZING")]
    match = [j for j in running if job in (j.id, j.name, j.job)]
    if not match:
        names = ", ".join(sorted({j.job for j in running})) or "none"
        raise ClusterError(f"no running job {job!r} on {url} (running: {names})")
    return match[0]


#: States a job does not leave.
ENDED = ("FINISHED", "FAILED", "CANCELED")


def cancel(url: str, job_id: str) -> None:
    _call(url, f"/jobs/{job_id}?mode=cancel", method="PATCH")


def state(url: str, job_id: str) -> str:
    """A job's state (RUNNING, FINISHED, FAILED, ...)."""
    return _call(url, f"/jobs/{job_id}")["state"]


@dataclass
class SubmittedJob:
    """A job submitted to a cluster, with the calls a caller makes of a mini-cluster job
    (touchpoint.runner.embedded.StreamingJob): its state, waiting for a bounded one to end, cancelling."""

    name: str
    job_id: str
    url: str

    def status(self) -> str:
        return state(self.url, self.job_id)

    def wait(self, timeout: float = 3600.0) -> None:
        """Until a bounded job has finished; a job that failed or was cancelled raises."""
        deadline = time.monotonic() + timeout
        while (now := self.status()) not in ENDED:
            if time.monotonic() > deadline:
                raise ClusterError(f"{self.name} still {now} after {timeout:.0f} s")
            time.sleep(0.2)
        if now != "FINISHED":
            raise ClusterError(f"{self.name} ended {now} on {self.url}")

    def cancel(self) -> None:
        with contextlib.suppress(ClusterError):  # already finished or cancelled
            if self.status() not in ENDED:
                cancel(self.url, self.job_id)


def stop_with_savepoint(url: str, job: Job, directory: str, timeout: float = 300.0) -> str:
    """Stop ``job`` after a savepoint into ``directory`` (a URI or a path the cluster can write); returns the
    savepoint's path, for ``touchpoint submit --from-savepoint``."""
    trigger = _call(url, f"/jobs/{job.id}/stop", "POST", {"targetDirectory": directory, "drain": False})
    request = trigger["request-id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = _call(url, f"/jobs/{job.id}/savepoints/{request}")
        if answer.get("status", {}).get("id") == "COMPLETED":
            op = answer.get("operation", {})
            if "location" in op:
                return op["location"]
            cause = op.get("failure-cause", {}).get("stack-trace", "unknown cause")
            raise ClusterError(f"savepoint of {job.job} failed: {cause.splitlines()[0]}")
        time.sleep(0.5)
    raise ClusterError(f"savepoint of {job.job} not done after {timeout:.0f} s")
