"""touchpoint/harness/bench_stages.py and flink.options without a run: every stage is a job the pipeline has, its
kinds are kinds the triggers job detects, and an option to compare reaches the job's Flink configuration."""

from __future__ import annotations

from jobs import job
from touchpoint.flink.environment import _job_options
from touchpoint.harness import bench_stages
from udfs import trigger_kinds


def test_every_stage_is_a_job_and_its_kinds_are_detectable(settings):
    detectable = set(settings.triggers.kinds)
    families = [kinds for _label, _job, kinds in bench_stages.STAGES if kinds]
    for _label, name, kinds in bench_stages.STAGES:
        assert job(name).name == name
        if kinds:
            s = bench_stages._kinds(settings, kinds, {"pipeline.object-reuse": "false"})
            assert s.triggers.kinds and set(s.triggers.kinds) <= detectable
            assert s.flink.options["pipeline.object-reuse"] == "false"
    # the families together are every kind the catalogue has (the quota family once per threshold)
    covered = {k for kinds in families[1:] for k in bench_stages._kinds(settings, kinds, {}).triggers.kinds}
    assert covered == set(trigger_kinds.names(settings.triggers.quota_thresholds_mb))
    assert set(settings.triggers.kinds) == detectable  # _kinds copies, it does not change the settings it is given


def test_flink_options_take_yaml_scalars_as_flink_writes_them(tmp_path):
    from touchpoint.config import load_settings

    path = tmp_path / "touchpoint.yaml"
    path.write_text(
        "flink:\n  options:\n    pipeline.object-reuse: false\n    parallelism.default: 4\n    a.b: 200 ms\n"
    )
    assert load_settings(path).flink.options == {
        "pipeline.object-reuse": "false",
        "parallelism.default": "4",
        "a.b": "200 ms",
    }


def test_flink_options_override_touchpoints_own(settings):
    settings.flink.options = {"pipeline.object-reuse": "false", "table.optimizer.agg-phase-strategy": "ONE_PHASE"}
    options = _job_options(settings, "replay", "ingest")
    assert options["pipeline.object-reuse"] == "false"
    assert options["table.optimizer.agg-phase-strategy"] == "ONE_PHASE"
    assert options["pipeline.name"] == "touchpoint-ingest"
