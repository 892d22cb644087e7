"""The settings object: file + environment, with errors that name the field."""

import pytest

from touchpoint.config import ConfigError, load_settings


def test_defaults_are_consistent():
    s = load_settings()
    # the simulator must never delay an event beyond the watermark bound the jobs use
    assert s.simulator.max_delay_ms <= s.event_time.max_out_of_orderness_ms
    assert s.ingest.ts_min_ms < s.ingest.ts_max_ms


def test_file_then_env_precedence(tmp_path, monkeypatch):
    f = tmp_path / "tp.yaml"
    f.write_text("kafka:\n  bootstrap: filehost:1\n  partitions: 4\ntriggers:\n  dwell_minutes: 45\n")
    monkeypatch.setenv("TOUCHPOINT_KAFKA__BOOTSTRAP", "envhost:2")
    s = load_settings(f)
    assert s.kafka.bootstrap == "envhost:2"  # env wins
    assert s.kafka.partitions == 4  # the rest of the section still comes from the file
    assert s.triggers.dwell_minutes == 45


def test_config_env_var_names_the_file(tmp_path, monkeypatch):
    f = tmp_path / "tp.yaml"
    f.write_text("flink:\n  parallelism: 2\n")
    monkeypatch.setenv("TOUCHPOINT_CONFIG", str(f))
    assert load_settings().flink.parallelism == 2


@pytest.mark.parametrize(
    "text, field",
    [
        ("triggers:\n  dwell_minutes: -3\n", "triggers.dwell_minutes"),
        ("kafka:\n  partitions: many\n", "kafka.partitions"),
        ("kafka:\n  bootstrapp: x:1\n", "kafka.bootstrapp"),
        ("simulator:\n  start: '2026-11-02T00:00:00'\n", "simulator"),
        ("decisions:\n  timezone: Mars/Base\n", "decisions.timezone"),
        ("decisions:\n  quiet_start: '25:00'\n", "decisions.quiet_start"),
        ("region_metrics:\n  min_subscribers: 0\n", "region_metrics.min_subscribers"),
        ("triggers:\n  timezone: Mars/Base\n", "triggers.timezone"),
        ("triggers:\n  billing_month: '2026-13'\n", "triggers.billing_month"),
        ("triggers:\n  quota_thresholds_mb: [5, 5]\n", "triggers.quota_thresholds_mb"),
        ("triggers:\n  kinds: [teleport]\n", "triggers.kinds"),
        ("triggers:\n  kinds: [quota_10mb]\n", "triggers.kinds"),  # 10 is not a threshold
        ("privacy:\n  lookup_database: 'pii; DROP'\n", "privacy.lookup_database"),
        ("kafka:\n  security_protocol: SASL_SSL\n", "kafka"),  # no credentials
        ("kafka:\n  security_protocol: TLS\n", "kafka.security_protocol"),
        ("flink:\n  checkpoint_min_free_mb: -1\n", "flink.checkpoint_min_free_mb"),
        ("flink:\n  options: [pipeline.object-reuse]\n", "flink.options"),
        ("kafka:\n  retention_hours: 0\n", "kafka.retention_hours"),
    ],
)
def test_bad_values_name_the_field(tmp_path, text, field):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_settings(f)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.yaml")
    bad = tmp_path / "b.yaml"
    bad.write_text("kafka: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad)


def test_the_simulated_profile_snapshot_must_be_in_the_billing_month(tmp_path):
    """The quota triggers read triggers.billing_month; the simulator's profiles are a snapshot of its start month,
    so a start outside that month is refused with the setting to change."""
    from touchpoint.harness.simulator import simulate

    s = load_settings(paths={"work_dir": str(tmp_path)}, simulator={"start": "2026-12-01T00:00:00+08:00"})
    with pytest.raises(ValueError, match=r"triggers\.billing_month: '2026-12'"):
        simulate(s, seed=1, subscribers=5, hours=1, out_dir=tmp_path / "city")
    s = load_settings(
        paths={"work_dir": str(tmp_path)},
        simulator={"start": "2026-12-01T00:00:00+08:00"},
        triggers={"billing_month": "2026-12"},
    )
    assert simulate(s, seed=1, subscribers=5, hours=1, out_dir=tmp_path / "city").signaling > 0


def test_a_negative_density_names_the_field(tmp_path, monkeypatch):
    # the suite sets the density through the environment (tests/conftest.py), which beats a file
    from touchpoint.config import ConfigError, load_settings

    monkeypatch.delenv("TOUCHPOINT_SIMULATOR__EVENTS_PER_SUBSCRIBER_HOUR")
    path = tmp_path / "touchpoint.yaml"
    path.write_text("simulator:\n  events_per_subscriber_hour: -1\n")
    with pytest.raises(ConfigError, match="simulator.events_per_subscriber_hour"):
        load_settings(path)
