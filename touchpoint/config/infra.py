"""Settings of what Touchpoint connects to and where it keeps things: paths, Kafka and its topics, ClickHouse and
its loader, Grafana, pseudonyms."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from touchpoint import HOME
from touchpoint.config.base import Section, read_secret
from touchpoint.resources import resource_dir


class Paths(Section):
    """Where Touchpoint reads its inputs from and writes what it generates."""

    work_dir: Path = HOME / "work"
    """Everything generated at run time (jars, broker/ClickHouse data, PID files, logs) lives here."""
    reference_dir: Path = HOME / "work" / "city" / "reference"
    """Reference CSVs (cells, regions, handsets, profiles, number_ranges) for streaming jobs; replay reads
    INPUT/reference instead."""
    jars: Path = HOME / "work" / "jars"
    """Kafka connector jars extracted by `make setup` (separate, so a test's work dir can be temporary)."""
    plmn: Path = HOME / "work" / "reference" / "plmn.csv"
    """Global PLMN table (MCC+MNC -> country, operator) built by `make setup` (touchpoint/infra/plmn.py); read by the
    triggers job in both modes. Separate like the jars, so a test's work dir can be temporary."""
    campaigns: Path = resource_dir("campaigns")
    """Campaign files a replay uses when its input has no campaigns/ folder (the shipped examples)."""
    journeys: Path = resource_dir("journeys")
    """Trial journey files a replay uses when its input has no journeys/ folder (the shipped examples)."""

    @property
    def run(self) -> Path:
        return self.work_dir / "run"


class Kafka(Section):
    """The Kafka cluster every job, client and tool uses, and how they connect to it (docs/security.md)."""

    bootstrap: str = "127.0.0.1:19092"
    """Bootstrap servers, ``host:port`` (several separated by commas)."""
    partitions: int = Field(4, ge=1)
    """Partitions of the topics the local stack creates (the most parallel a job can read them). Producers may key
    raw records any way they like: each job takes event time from the raw partitions themselves
    (docs/operations.md)."""
    group_prefix: str = "touchpoint"
    """Consumer groups are ``<group_prefix>-<job>`` (``-loader``, ``-leads-tail``): what lag is reported under."""
    session_timeout_ms: int = 6000
    """Consumer session timeout. Tansu takes about half of it to form a group; keep it short."""
    sink_properties: dict[str, str] = {"linger.ms": "20", "batch.size": "262144"}
    """Kafka producer properties of every Flink job's sinks (the Flink Kafka connector's ``properties.*``).
    Batching cuts the broker's per-request work, which on a small machine shares the cores with Flink;
    linger bounds the latency it adds."""
    retention_hours: float = Field(168.0, gt=0)
    """Retention of the event topics `touchpoint stack up` creates (raw, normalised, triggers, leads, ...): they
    hold subscribers' numbers and locations, so they keep them no longer than replays and recovery need
    (docs/privacy.md). Definition topics are compacted instead."""
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    """Security of every Kafka connection, the Flink jobs' sources and sinks and every Python client alike
    (docs/security.md)."""
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    """The SASL mechanism, with ``SASL_PLAINTEXT`` or ``SASL_SSL``."""
    sasl_username: str | None = None
    """The SASL user; required with ``SASL_PLAINTEXT`` or ``SASL_SSL``."""
    sasl_password: SecretStr | None = None
    """The SASL password. Set it through the environment (TOUCHPOINT_KAFKA__SASL_PASSWORD) or a file
    (``sasl_password_file``), never on a command line."""
    sasl_password_file: Path | None = None
    """A file holding the SASL password (one line), e.g. a mounted secret."""
    ssl_ca_file: Path | None = None
    """PEM file of the CA that signed the brokers' certificates (SSL, SASL_SSL); default: the system's CAs."""
    java_properties: dict[str, str] = {}
    """Any other client property of the Flink Kafka connector (its ``properties.*``, the Java client's names):
    mutual TLS, OAUTHBEARER, timeouts."""
    librdkafka_properties: dict[str, str] = {}
    """Any other client property of the Python clients (librdkafka's names), as ``java_properties`` for Flink."""

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> Kafka:
        if self.security_protocol.startswith("SASL") and (
            not self.sasl_username or (self.sasl_password is None and self.sasl_password_file is None)
        ):
            raise ValueError(
                f"security_protocol {self.security_protocol} needs sasl_username and sasl_password (or "
                "sasl_password_file)"
            )
        return self

    def password(self) -> str | None:
        return read_secret(self.sasl_password, self.sasl_password_file, "kafka.sasl_password")


class Topics(Section):
    """Topic names (README, Topics and schemas; each topic's records in schemas/). Inputs first, then what the jobs
    write."""

    signaling: str = "signaling"
    """Raw signaling lines from the probes (schemas/signaling.schema.json)."""
    xdr: str = "xdr"
    """Raw xDR lines: one data session's usage each (schemas/xdr.schema.json)."""
    campaigns: str = "campaigns"
    """Campaign definitions (touchpoint campaigns publish): compacted, keyed by campaign id; the latest wins."""
    journeys: str = "journeys"
    """Trial journey definitions (touchpoint journeys publish): compacted, keyed by trial product; the latest wins."""
    orders: str = "orders"
    """Orders from the business support system: subscriptions and cancellations of products."""
    profiles: str = "profiles"
    """Subscriber profiles (touchpoint reference publish): compacted, keyed by msisdn, one JSON row of
    schemas/reference/profiles.schema.json each; the latest row wins. Carries every profile and every change of
    one (consent, do-not-disturb, products)."""
    cells: str = "reference-cells"
    """Reference data: cells and their micro-region (compacted, keyed by cell; the latest row of a cell wins)."""
    regions: str = "reference-regions"
    """Reference data: micro-regions, their kind and whether they are watched."""
    handsets: str = "reference-handsets"
    """Reference data: handset models by TAC (the first 8 digits of the IMEI)."""
    number_ranges: str = "reference-number-ranges"
    """Reference data: the province of each 7-digit number prefix (inbound roamers from other provinces)."""
    products: str = "reference-products"
    """Reference data: the product catalogue, product id -> name, kind, family."""
    signaling_normalised: str = "signaling-normalised"
    """Valid signaling events, typed, for consumers outside the pipeline (no job reads them back)."""
    xdr_normalised: str = "xdr-normalised"
    """Valid xDRs, typed, as ``signaling_normalised``."""
    orders_normalised: str = "orders-normalised"
    """Valid orders, typed, as ``signaling_normalised``."""
    behaviour: str = "behaviour"
    """Each subscriber's behaviour per event-time hour (calls, data, regions): the decision job's profile input."""
    triggers: str = "triggers"
    """Detected trigger events, one per situation (docs/triggers.md)."""
    region_metrics: str = "region-metrics"
    """Micro-region metrics per window: subscribers present, G3 share (the Grafana map)."""
    journey_events: str = "journey-events"
    """Each trial journey's steps (journey_step triggers, which the decision job turns into leads) and ends."""
    leads: str = "leads"
    """Leads for the outbound systems (SMS gateway, call centre, shop CRM), keyed by msisdn."""
    decisions: str = "decisions"
    """One record per (trigger, matching campaign): the lead, or why there was none."""
    outcomes: str = "outcomes"
    """Delivery reports of the outbound systems, and each lead's conversion or expiry (the effect job)."""
    uplift: str = "uplift"
    """Treatment vs control conversion per campaign, campaign and day, trigger kind and programme; keyed by group,
    the latest record of a group wins."""
    guardrail: str = "guardrail"
    """Campaigns paused by the guardrail (their uplift interval wholly below zero) and resumed by marketers; keyed
    by campaign, the latest record of a campaign wins."""
    console_audit: str = "console-audit"
    """Every change made in the console (docs/console.md): who, when, what, the definition before and after."""
    dlq: str = "dlq"
    """Dead letters: every record a job could not take, with its reason and the original (schemas/dlq.schema.json)."""
    traffic: str = "traffic"
    """Events per minute and feed, with how many were late or invalid (the operations dashboard)."""
    passthrough: str = "bench-passthrough"
    """Output of the benchmark baseline job only."""


class ClickHouse(Section):
    """Where the loader writes and the dashboards read. ``url`` picks the backend: ``chdb:`` (embedded, data in
    ``paths.work_dir/chdb``; ``chdb:///ABS/PATH`` elsewhere; one process per data directory) or
    ``clickhouse://HOST:PORT`` (a server, native protocol via clickhouse-driver)."""

    url: str = "chdb:"
    """The backend: ``chdb:``, ``chdb:///ABS/PATH`` or ``clickhouse://HOST:PORT``."""
    database: str = "touchpoint"
    """The database of the analytics tables (created by `touchpoint db migrate`)."""
    host: str = "127.0.0.1"
    """The local stack's server (Debian clickhouse-server): its address. Tests start their own on free ports."""
    native_port: int = 19000
    """The local stack's server: its native-protocol port."""
    http_port: int = 18123
    """The local stack's server: its HTTP port."""
    retention_days: int = Field(90, ge=1)
    """Keep this many days of data (TTL where the server supports it, else `touchpoint db prune` drops partitions)."""
    user: str = "default"
    """Login to a server (``clickhouse://`` URLs; the embedded chdb has no server and no login: its files are
    private to the user running Touchpoint)."""
    password: SecretStr | None = None
    """The server password, from the environment (TOUCHPOINT_CLICKHOUSE__PASSWORD) or ``password_file``, never the
    URL."""
    password_file: Path | None = None
    """A file holding the server password (one line), e.g. a mounted secret."""
    secure: bool = False
    """TLS to the server (its secure native port, usually 9440)."""
    ca_file: Path | None = None
    """PEM file of the CA the server's certificate is verified against (with ``secure``); default: the system's."""

    def login_password(self) -> str:
        return read_secret(self.password, self.password_file, "clickhouse.password") or ""


class Loader(Section):
    """`touchpoint load`: output topics -> ClickHouse."""

    group_id: str | None = None
    """Consumer group (default: <kafka.group_prefix>-loader)."""
    topics: list[str] | None = None
    """Topic keys loaded, each into the table of the same name (default: every topic the loader has a table for,
    touchpoint/clickhouse/rows.py)."""
    batch_rows: int = Field(50_000, ge=1)
    """A batch (every table's rows read since the last commit) is inserted and committed when it holds this many
    rows, or ``batch_seconds`` after it started, whichever comes first."""
    batch_seconds: float = Field(2.0, gt=0)
    """A batch is inserted and committed at most this long after it started (``batch_rows``)."""
    retry_initial_s: float = Field(0.5, gt=0)
    """While ClickHouse cannot be written, consuming pauses and the insert is retried: first after this long, then
    twice as long each time, up to ``retry_max_s``."""
    retry_max_s: float = Field(30.0, gt=0)
    """The longest wait between two retries of an insert (``retry_initial_s``)."""


class Grafana(Section):
    """`touchpoint dashboards push`: the Grafana to push to and its service-account token (docs/security.md)."""

    url: str | None = None
    """Grafana's base URL, e.g. https://grafana.example.com."""
    token: SecretStr | None = None
    """The service-account token: from the environment (TOUCHPOINT_GRAFANA__TOKEN, or GRAFANA_TOKEN) or a file,
    never a command line."""
    token_file: Path | None = None
    """A file holding the token (one line), e.g. a mounted secret."""

    def api_token(self) -> str | None:
        return read_secret(self.token, self.token_file, "grafana.token") or os.environ.get("GRAFANA_TOKEN") or None


class Privacy(Section):
    """Pseudonyms of subscribers in the analytics tables (docs/privacy.md)."""

    pseudonym_key: SecretStr | None = None
    """The key of the keyed pseudonym (HMAC-SHA256) of MSISDN, IMSI and IMEI in every ClickHouse table. Set it
    (environment or file) in production and keep it with the other secrets: whoever holds it can test whether
    a given number is in the data. Without either, a random key is made once in ``<work_dir>/secrets``."""
    pseudonym_key_file: Path | None = None
    """A file holding the pseudonym key (one line), e.g. a mounted secret."""
    lookup_database: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """The one table mapping pseudonyms back to MSISDNs (of subscribers who got a lead) lives in this database,
    apart from the analytics tables, so that access to it is granted on its own (default:
    ``<clickhouse.database>_pii``)."""
