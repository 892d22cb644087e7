"""touchpoint/flink/pipeline.py without a job: how a replay counts the records it has written so far."""

from __future__ import annotations

from touchpoint.flink.pipeline import _LineCounter


def test_progress_counts_each_record_once_across_part_renames(tmp_path):
    parts = tmp_path / "_parts" / "triggers"
    parts.mkdir(parents=True)
    counter = _LineCounter(tmp_path / "_parts")
    assert counter.count() == 0
    in_progress = parts / ".part-0.inprogress"
    in_progress.write_bytes(b'{"a":1}\n{"a":2}\n')
    assert counter.count() == 2
    with in_progress.open("ab") as f:
        f.write(b'{"a":3}\n')
    in_progress.rename(parts / "part-0")  # finished: same file, new name
    (parts / ".part-1.inprogress").write_bytes(b'{"a":4}\n')
    assert counter.count() == 4
    assert counter.count() == 4
