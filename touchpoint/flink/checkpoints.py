"""Where a streaming job's checkpoints live, and which one it resumes from.

Each job checkpoints under ``<flink.checkpoints_dir>/<job name>/<Flink job id>/chk-N``; a checkpoint is complete
once its ``_metadata`` file exists. Checkpoints are retained when a job is cancelled or its process dies, so the
next ``touchpoint run JOB`` resumes from the newest one, state and Kafka offsets included (``--fresh`` does not).
Finding the newest needs a listable directory, so resuming by default works for ``file://`` checkpoints; on
``s3://`` or ``hdfs://`` name the checkpoint with ``--from-savepoint PATH``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

from touchpoint.config import Settings


def checkpoints_uri(settings: Settings, job_name: str) -> str:
    """The URI under which job ``job_name`` checkpoints."""
    root = settings.flink.checkpoints_dir or (settings.paths.work_dir / "checkpoints").as_uri()
    return f"{root.rstrip('/')}/{job_name}"


def local_dir(uri: str) -> Path | None:
    """The local path of a ``file://`` URI, else None."""
    parsed = urlparse(uri)
    return Path(parsed.path) if parsed.scheme in ("", "file") else None


def local_root(settings: Settings, job_name: str) -> Path | None:
    """The local folder of job ``job_name``'s checkpoints (None if they are not on a local file system)."""
    return local_dir(checkpoints_uri(settings, job_name))


def exists(path: str) -> bool:
    """Whether a savepoint or checkpoint path (plain, or a URI Flink printed) exists; True for a remote file
    system, which only the cluster can check."""
    parsed = urlparse(path)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path if parsed.scheme else path).exists()
    return True


def completed(root: Path, job_id: str = "*") -> list[Path]:
    """Completed checkpoints (``chk-N`` folders with ``_metadata``) under ``root/<job id>/``, oldest first."""
    found = [p.parent for p in root.glob(f"{job_id}/chk-*/_metadata")]
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, int(p.name.split("-")[1])))


def latest(settings: Settings, job_name: str) -> Path | None:
    """The newest completed checkpoint of any earlier run of ``job_name`` (None if there is none, or if the
    checkpoints are not on a local file system)."""
    root = local_root(settings, job_name)
    if root is None or not root.is_dir():
        return None
    done = completed(root)
    return done[-1] if done else None


def prune_runs(settings: Settings, job_name: str, keep: Path | None) -> None:
    """Delete the checkpoint folders of earlier runs, except the run holding ``keep`` (a restored job reads
    its files until its own first checkpoint completes)."""
    root = local_root(settings, job_name)
    if root is None or not root.is_dir():
        return
    for run in root.iterdir():
        if run.is_dir() and (keep is None or run != keep.parent):
            shutil.rmtree(run, ignore_errors=True)


class CheckpointSpaceError(RuntimeError):
    """The checkpoint directory cannot take checkpoints; one line naming it."""


def check_space(settings: Settings, job_name: str) -> None:
    """Before a streaming job starts: its local checkpoint directory can be created and written, and has at least
    ``flink.checkpoint_min_free_mb`` free. A full disk would otherwise fail the job at its first checkpoint, then
    at each restart, with Flink's "checkpoint failed" rather than the reason. (Remote file systems: unchecked.)"""
    root = local_root(settings, job_name)
    if root is None:
        return
    uri = checkpoints_uri(settings, job_name)
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".probe-{os.getpid()}"
        with probe.open("wb") as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
        probe.unlink()
    except OSError as e:
        raise CheckpointSpaceError(f"checkpoint directory {uri} cannot be written: {e.strerror}") from None
    free_mb = shutil.disk_usage(root).free / 2**20
    need = settings.flink.checkpoint_min_free_mb
    if free_mb < need:
        raise CheckpointSpaceError(
            f"checkpoint directory {uri} has {free_mb:.1f} MB free, below flink.checkpoint_min_free_mb ({need:g}): "
            "free some space or point flink.checkpoints_dir elsewhere"
        )
