"""touchpoint/flink/pipeline.py: how a replay counts the records it has written so far; what the Kafka tables carry."""

from __future__ import annotations

import pytest

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


@pytest.mark.slow
def test_kafka_security_reaches_every_kafka_table(tmp_path):
    """The SASL/TLS settings are options of every Kafka source and sink Flink plans, a quote in the password
    included (the WITH clause quotes it)."""
    from jobs import ingest
    from tests.support import make_settings
    from touchpoint.flink.pipeline import Pipeline

    s = make_settings(tmp_path / "work")
    s.kafka = type(s.kafka)(
        bootstrap=s.kafka.bootstrap,
        security_protocol="SASL_SSL",
        sasl_mechanism="PLAIN",
        sasl_username="touchpoint",
        sasl_password="it's-secret",
        ssl_ca_file=tmp_path / "ca.pem",
    )
    p = Pipeline(s, "streaming", "ingest")
    ingest.build(p)
    kafka_tables = 0
    for name in sorted(set(p.t_env.list_tables()) - set(p.t_env.list_views())):
        ddl = p.t_env.execute_sql(f"SHOW CREATE TABLE `{name}`").collect().next()[0]
        if "'connector' = 'kafka'" not in ddl:
            continue
        kafka_tables += 1
        assert "'properties.security.protocol' = 'SASL_SSL'" in ddl, ddl
        assert "'properties.sasl.mechanism' = 'PLAIN'" in ddl
        assert "password=\"it''s-secret\";'" in ddl  # SHOW CREATE TABLE quotes it again, as we did
        assert f"'properties.ssl.truststore.location' = '{tmp_path / 'ca.pem'}'" in ddl
    assert kafka_tables == len(ingest.INPUTS) + len(ingest.OUTPUTS)
    p.t_env.explain_sql(p._inserts[0])  # the connector factories accept the options
