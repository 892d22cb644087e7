"""The properties of every Kafka connection, from the one ``kafka`` settings section, in each client's dialect:
the Java client's (the Flink Kafka connector's ``properties.*``), librdkafka's (confluent-kafka: the simulator,
publishers, the loader) and kafka-python's (``leads tail``). One security setting reaches them all
(docs/security.md); the password appears in no log line (settings hold it as a SecretStr)."""

from __future__ import annotations

from typing import Any

from touchpoint.config import Kafka

#: A broker as the clients take it: the settings' ``kafka`` section, or a bare bootstrap address (a plaintext
#: broker, such as the local stack's or a test's).
Broker = Kafka | str

_JAAS_MODULES = {
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
}


def address(broker: Broker) -> str:
    """The bootstrap address, for messages."""
    return broker if isinstance(broker, str) else broker.bootstrap


def _jaas_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def java_properties(kafka: Kafka) -> dict[str, str]:
    """Security properties of the Java client, without ``bootstrap.servers`` (the Flink tables set it)."""
    props: dict[str, str] = {}
    if kafka.security_protocol != "PLAINTEXT":
        props["security.protocol"] = kafka.security_protocol
    if kafka.security_protocol.startswith("SASL"):
        props["sasl.mechanism"] = kafka.sasl_mechanism
        props["sasl.jaas.config"] = (
            f"{_JAAS_MODULES[kafka.sasl_mechanism]} required username={_jaas_quote(kafka.sasl_username or '')} "
            f"password={_jaas_quote(kafka.password() or '')};"
        )
    if kafka.ssl_ca_file is not None and kafka.security_protocol.endswith("SSL"):
        props |= {"ssl.truststore.type": "PEM", "ssl.truststore.location": str(kafka.ssl_ca_file)}
    return props | kafka.java_properties


def librdkafka(broker: Broker, **extra: Any) -> dict[str, Any]:
    """A confluent-kafka client's configuration: the bootstrap address, security, then ``extra``."""
    if isinstance(broker, str):
        return {"bootstrap.servers": broker, **extra}
    conf: dict[str, Any] = {"bootstrap.servers": broker.bootstrap}
    if broker.security_protocol != "PLAINTEXT":
        conf["security.protocol"] = broker.security_protocol.lower()
    if broker.security_protocol.startswith("SASL"):
        conf |= {
            "sasl.mechanism": broker.sasl_mechanism,
            "sasl.username": broker.sasl_username,
            "sasl.password": broker.password(),
        }
    if broker.ssl_ca_file is not None and broker.security_protocol.endswith("SSL"):
        conf["ssl.ca.location"] = str(broker.ssl_ca_file)
    return conf | broker.librdkafka_properties | extra


def kafka_python(kafka: Kafka) -> dict[str, Any]:
    """kafka-python's keyword arguments for the same connection (``bootstrap_servers`` included)."""
    kw: dict[str, Any] = {"bootstrap_servers": kafka.bootstrap, "security_protocol": kafka.security_protocol}
    if kafka.security_protocol.startswith("SASL"):
        kw |= {
            "sasl_mechanism": kafka.sasl_mechanism,
            "sasl_plain_username": kafka.sasl_username,
            "sasl_plain_password": kafka.password(),
        }
    if kafka.ssl_ca_file is not None and kafka.security_protocol.endswith("SSL"):
        kw["ssl_cafile"] = str(kafka.ssl_ca_file)
    return kw
