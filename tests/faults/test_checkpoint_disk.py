"""A full disk under the checkpoint directory: a streaming job does not start on one (a clear error instead of a
restart loop), and a job whose disk fills while it runs stops with the reason, not "checkpoint failed"."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.support import TOUCHPOINT
from touchpoint.infra import stack

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB file system of its own (tmpfs), to fill up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a small tmpfs needs root: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path) -> None:
    """Write until the file system is full."""
    with contextlib.suppress(OSError), (directory / "ballast").open("ab") as f:
        while True:
            f.write(b"\0" * 65536)
            f.flush()
            os.fsync(f.fileno())


def run_env(broker: str, disk: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    u = uuid.uuid4().hex[:8]
    topics = {k: f"{k}-{u}" for k in ("signaling", "xdr", "orders", "signaling_normalised", "xdr_normalised")}
    topics |= {k: f"{k}-{u}" for k in ("orders_normalised", "dlq")}
    stack.create_topics(broker, list(topics.values()), 1)
    env = os.environ | {f"TOUCHPOINT_TOPICS__{k.upper()}": v for k, v in topics.items()}
    return env | {
        "TOUCHPOINT_KAFKA__BOOTSTRAP": broker,
        "TOUCHPOINT_PATHS__WORK_DIR": str(tmp_path / "work"),
        "TOUCHPOINT_FLINK__CHECKPOINTS_DIR": disk.as_uri(),
        "TOUCHPOINT_FLINK__CHECKPOINT_INTERVAL_MS": "1000",
        **extra,
    }


def test_a_full_checkpoint_disk_is_refused_before_the_job_starts(broker, small_disk, tmp_path):
    fill(small_disk)
    out = subprocess.run(
        [TOUCHPOINT, "run", "ingest", "--max-seconds", "5"],
        env=run_env(broker, small_disk, tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert out.stderr == (
        f"touchpoint: error: checkpoint directory {small_disk.as_uri()}/ingest cannot be written: "
        "No space left on device\n"
    )
    (small_disk / "ballast").unlink()
    # room to write, but less than the settings ask for
    out = subprocess.run(
        [TOUCHPOINT, "run", "ingest", "--max-seconds", "5"],
        env=run_env(broker, small_disk, tmp_path, TOUCHPOINT_FLINK__CHECKPOINT_MIN_FREE_MB="100"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1 and "MB free, below flink.checkpoint_min_free_mb (100)" in out.stderr, out.stderr


def test_a_disk_filling_up_under_a_running_job_stops_it_with_the_reason(broker, small_disk, tmp_path):
    env = run_env(broker, small_disk, tmp_path, TOUCHPOINT_FLINK__CHECKPOINT_MIN_FREE_MB="1")
    proc = subprocess.Popen(
        [TOUCHPOINT, "run", "ingest"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert "running" in proc.stdout.readline()
        time.sleep(3)  # a checkpoint or two on the empty disk
        fill(small_disk)
        rc = proc.wait(180)
    finally:
        proc.kill()
    err = proc.stderr.read()
    assert rc == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(
        f"touchpoint: error: job ingest failed: checkpoint directory {small_disk.as_uri()}/ingest cannot be written: "
        "No space left on device (Flink: "
    ), err
