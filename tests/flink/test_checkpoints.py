"""Which checkpoint `touchpoint run` resumes from: the newest completed one of any earlier run of the job
(a checkpoint without _metadata was cut short), only on a local file system; superseded runs are pruned, never
the one resumed from."""

from __future__ import annotations

import os

from tests.support import make_settings
from touchpoint.flink import checkpoints


def _checkpoint(root, run: str, n: int, complete: bool = True, mtime: int = 0):
    d = root / run / f"chk-{n}"
    d.mkdir(parents=True)
    if complete:
        (d / "_metadata").write_bytes(b"x")
        os.utime(d / "_metadata", ns=(mtime, mtime))
    return d


def test_latest_is_the_newest_completed_checkpoint_across_runs(tmp_path):
    s = make_settings(tmp_path / "work")
    assert checkpoints.latest(s, "decisions") is None
    root = checkpoints.local_root(s, "decisions")
    assert root == tmp_path / "work" / "checkpoints" / "decisions"
    _checkpoint(root, "run-a", 40, mtime=1_000)
    newest = _checkpoint(root, "run-b", 3, mtime=2_000)  # a later run numbers from 1 again
    _checkpoint(root, "run-b", 4, complete=False)  # killed while writing it
    _checkpoint(root, "other-job-run", 9, mtime=3_000)
    (root / "other-job-run" / "chk-9" / "_metadata").unlink()
    assert checkpoints.latest(s, "decisions") == newest
    assert checkpoints.latest(s, "ingest") is None


def test_prune_keeps_the_run_resumed_from(tmp_path):
    s = make_settings(tmp_path / "work")
    root = checkpoints.local_root(s, "ingest")
    _checkpoint(root, "old", 1, mtime=1)
    keep = _checkpoint(root, "new", 2, mtime=2)
    checkpoints.prune_runs(s, "ingest", keep=keep)
    assert sorted(p.name for p in root.iterdir()) == ["new"]
    checkpoints.prune_runs(s, "ingest", keep=None)  # --fresh
    assert list(root.iterdir()) == []


def test_remote_checkpoints_are_not_searched_and_paths_are_checked_only_locally(tmp_path):
    s = make_settings(tmp_path / "work", flink={"checkpoints_dir": "s3://bucket/cp/"})
    assert checkpoints.checkpoints_uri(s, "ingest") == "s3://bucket/cp/ingest"
    assert checkpoints.latest(s, "ingest") is None
    assert checkpoints.exists("s3://bucket/savepoint-1")
    assert not checkpoints.exists(f"file:{tmp_path}/none")
    (tmp_path / "sp").mkdir()
    assert checkpoints.exists(f"file:{tmp_path}/sp") and checkpoints.exists(str(tmp_path / "sp"))
