"""touchpoint/harness/bench_scale.py without a run: reading checkpoint figures from Flink's log, and peak memory."""

from __future__ import annotations

import os

from touchpoint.harness import bench_scale

LINE = (
    "2026-11-25 20:00:34,960 INFO  org.apache.flink.runtime.checkpoint.CheckpointCoordinator    [] - Completed "
    "checkpoint {n} for job {job} ({size} bytes, checkpointDuration={ms} ms, finalizationTime=1 ms).\n"
)


def test_checkpoints_of_one_job_come_from_flinks_log(tmp_path):
    (tmp_path / "flink-root-python-vm.log").write_text(
        LINE.format(n=2, job="aa11", size=2048, ms=31)
        + LINE.format(n=1, job="aa11", size=1024, ms=20)
        + LINE.format(n=1, job="bb22", size=9, ms=5)
        + "2026-11-25 20:00:35 INFO something else\n"
    )
    assert bench_scale.checkpoints(tmp_path, "aa11") == [(1, 1024, 20), (2, 2048, 31)]
    assert bench_scale.checkpoints(tmp_path, "cc33") == []


def test_peak_memory_of_this_process_is_known():
    assert bench_scale.memory_mb(os.getpid()) > 1
    assert bench_scale.memory_mb(2**30) == 0.0  # no such process
    assert 1 < bench_scale.memory_mb(os.getpid(), "VmRSS") <= bench_scale.memory_mb(os.getpid())  # now <= peak
