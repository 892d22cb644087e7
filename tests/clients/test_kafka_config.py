"""One ``kafka`` settings section reaches every client in its own dialect: the Java client (the Flink Kafka
connector), librdkafka (the Python tools) and kafka-python (``leads tail``); secrets stay out of files other
than the owner's and out of every message."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from tests.support import TOUCHPOINT
from touchpoint import ROOT
from touchpoint.clients.kafka_config import java_properties, kafka_python, librdkafka
from touchpoint.config import ConfigError, load_settings, secrets_of, write_settings

SASL = {
    "bootstrap": "kafka-1.example:9093",
    "security_protocol": "SASL_SSL",
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_username": "touchpoint",
    "sasl_password": 'p"w\\1',
    "ssl_ca_file": "/etc/kafka/ca.pem",
}


def test_plaintext_adds_nothing():
    k = load_settings().kafka
    assert java_properties(k) == {}
    assert librdkafka(k) == {"bootstrap.servers": k.bootstrap}
    assert librdkafka("127.0.0.1:1", acks="all") == {"bootstrap.servers": "127.0.0.1:1", "acks": "all"}
    assert kafka_python(k) == {"bootstrap_servers": k.bootstrap, "security_protocol": "PLAINTEXT"}


def test_sasl_ssl_in_each_dialect():
    k = load_settings(kafka=SASL | {"java_properties": {"ssl.endpoint.identification.algorithm": ""}}).kafka
    assert java_properties(k) == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        # quotes and backslashes of the password escaped as JAAS reads them
        "sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="touchpoint" password="p\\"w\\\\1";',
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": "/etc/kafka/ca.pem",
        "ssl.endpoint.identification.algorithm": "",
    }
    assert librdkafka(k, **{"group.id": "g"}) == {
        "bootstrap.servers": "kafka-1.example:9093",
        "security.protocol": "sasl_ssl",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "touchpoint",
        "sasl.password": 'p"w\\1',
        "ssl.ca.location": "/etc/kafka/ca.pem",
        "group.id": "g",
    }
    assert kafka_python(k) == {
        "bootstrap_servers": "kafka-1.example:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "touchpoint",
        "sasl_plain_password": 'p"w\\1',
        "ssl_cafile": "/etc/kafka/ca.pem",
    }
    plain = load_settings(kafka=SASL | {"sasl_mechanism": "PLAIN", "security_protocol": "SASL_PLAINTEXT"}).kafka
    assert java_properties(plain)["sasl.jaas.config"].startswith(
        "org.apache.kafka.common.security.plain.PlainLoginModule required"
    )
    assert "ssl.truststore.location" not in java_properties(plain)  # no TLS, no trust store


def test_sasl_needs_credentials_and_secrets_come_from_files(tmp_path):
    with pytest.raises(ConfigError, match="invalid setting kafka: security_protocol SASL_SSL needs sasl_username"):
        load_settings(kafka={"security_protocol": "SASL_SSL"})
    secret = tmp_path / "kafka.password"
    secret.write_text("from-a-file\n")
    s = load_settings(kafka=SASL | {"sasl_password": None, "sasl_password_file": str(secret)})
    assert librdkafka(s.kafka)["sasl.password"] == "from-a-file"
    assert "from-a-file" not in repr(s) and "from-a-file" not in str(s.model_dump())
    missing = load_settings(kafka=SASL | {"sasl_password": None, "sasl_password_file": str(tmp_path / "none")})
    with pytest.raises(ConfigError, match=r"kafka.sasl_password_file .*none: No such file"):
        missing.kafka.password()


def test_written_settings_keep_secrets_for_their_owner_only(tmp_path):
    s = load_settings(kafka=SASL, clickhouse={"password": "ch-pw"}, grafana={"token": "gr-tok"})
    assert sorted(secrets_of(s)) == sorted(['p"w\\1', "ch-pw", "gr-tok"])
    path = write_settings(s, tmp_path / "job.yaml")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    back = load_settings(path)
    assert back.kafka.password() == 'p"w\\1' and back.clickhouse.login_password() == "ch-pw"
    assert back.grafana.api_token() == "gr-tok"


@pytest.mark.slow
def test_no_password_in_errors_or_debug_output(tmp_path):
    """A refused or unreachable secured broker: the one-line error and the --debug traceback name the broker,
    never the password."""
    from touchpoint.infra import stack

    password = "Sup3r-Secret-Kafka"
    env = {
        **os.environ,
        "TOUCHPOINT_KAFKA__BOOTSTRAP": f"127.0.0.1:{stack.free_port()}",
        "TOUCHPOINT_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "TOUCHPOINT_KAFKA__SASL_USERNAME": "touchpoint",
        "TOUCHPOINT_KAFKA__SASL_PASSWORD": password,
        "TOUCHPOINT_CLICKHOUSE__PASSWORD": "Sup3r-Secret-ClickHouse",
    }
    for debug in (["--debug"],):  # the traceback holds all the one-line error does, and more
        for args in (
            ["campaigns", "publish", str(ROOT / "campaigns" / "dial-114-12580.yaml")],
            ["leads", "tail", "--timeout", "2"],
            ["load", "--max-seconds", "3", "--url", f"clickhouse://127.0.0.1:{stack.free_port()}"],
        ):
            out = subprocess.run([TOUCHPOINT, *debug, *args], capture_output=True, text=True, env=env, timeout=120)
            text = out.stdout + out.stderr
            assert out.returncode != 0 or args[0] == "load", (args, text)
            assert args[0] == "load" or "touchpoint: error:" in text or "Error" in text, (args, text)
            assert "Sup3r-Secret" not in text, (args, text)
