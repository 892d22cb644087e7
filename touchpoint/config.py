"""The one typed settings object.

Values come from, in order of precedence: environment variables (``TOUCHPOINT_`` prefix, ``__`` between
nesting levels, e.g. ``TOUCHPOINT_KAFKA__BOOTSTRAP=host:9092``), a YAML file (``--config FILE`` or
``TOUCHPOINT_CONFIG``), then the defaults below. Every job, the simulator and the tests read the same
object, so a parameter such as the dwell time means the same thing to the ground truth and to Flink.
"""

from __future__ import annotations

import os
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from touchpoint import ROOT
from udfs import trigger_kinds
from udfs.units import DAY_MS, HOUR_MS, MB, MINUTE_MS


def known_zone(name: str) -> str:
    """An IANA time zone name, else a ValueError with an example."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}, e.g. Asia/Shanghai") from None
    return name


#: An IANA time zone name, checked when the settings load.
TimeZone = Annotated[str, AfterValidator(known_zone)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def read_secret(value: SecretStr | None, file: Path | None, name: str) -> str | None:
    """A secret set directly (``name``, e.g. from an environment variable) or in a file (``name_file``, e.g. a
    mounted Kubernetes secret; one line, trailing newline ignored). Never logged: settings hold it as SecretStr."""
    if value is not None:
        return value.get_secret_value()
    if file is None:
        return None
    try:
        return Path(file).read_text().rstrip("\r\n")
    except OSError as e:
        raise ConfigError(f"{name}_file {file}: {e.strerror}") from None


class Paths(_Section):
    #: Everything generated at run time (jars, broker/ClickHouse data, PID files, logs) lives here.
    work_dir: Path = ROOT / "work"
    #: Reference CSVs (cells, regions, handsets, profiles, number_ranges) for streaming jobs; replay reads
    #: INPUT/reference instead.
    reference_dir: Path = ROOT / "work" / "city" / "reference"
    #: Kafka connector jars extracted by `make setup` (separate, so a test's work dir can be temporary).
    jars: Path = ROOT / "work" / "jars"
    #: Global PLMN table (MCC+MNC -> country, operator) built by `make setup` (touchpoint/infra/plmn.py); read by the
    #: triggers job in both modes. Separate like the jars, so a test's work dir can be temporary.
    plmn: Path = ROOT / "work" / "reference" / "plmn.csv"
    #: Campaign files a replay uses when its input has no campaigns/ folder (the shipped examples).
    campaigns: Path = ROOT / "campaigns"
    #: Trial journey files a replay uses when its input has no journeys/ folder (the shipped examples).
    journeys: Path = ROOT / "journeys"

    @property
    def run(self) -> Path:
        return self.work_dir / "run"


class Kafka(_Section):
    bootstrap: str = "127.0.0.1:19092"
    #: Partitions of the topics the local stack creates (the most parallel a job can read them). Raw records
    #: keyed by msisdn with Kafka's default (murmur2) partitioner stay in their partition number through
    #: ingest, so a subscriber's events stay in order however unevenly partitions are read (docs/operations.md).
    partitions: int = Field(4, ge=1)
    group_prefix: str = "touchpoint"
    #: Tansu takes about half the session timeout to form a group; keep it short.
    session_timeout_ms: int = 6000
    #: Kafka producer properties of every Flink job's sinks (the Flink Kafka connector's ``properties.*``).
    #: Batching cuts the broker's per-request work, which on a small machine shares the cores with Flink;
    #: linger bounds the latency it adds.
    sink_properties: dict[str, str] = {"linger.ms": "20", "batch.size": "262144"}
    #: Retention of the event topics `touchpoint stack up` creates (raw, normalised, triggers, leads, ...): they
    #: hold subscribers' numbers and locations, so they keep them no longer than replays and recovery need
    #: (docs/privacy.md). Definition topics are compacted instead.
    retention_hours: float = Field(168.0, gt=0)
    #: Security of every Kafka connection, the Flink jobs' sources and sinks and every Python client alike
    #: (docs/security.md): PLAINTEXT, SSL (TLS), SASL_PLAINTEXT or SASL_SSL.
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    #: The password, or a file holding it (``sasl_password_file``); set it through the environment
    #: (TOUCHPOINT_KAFKA__SASL_PASSWORD) or a file, never on a command line.
    sasl_password: SecretStr | None = None
    sasl_password_file: Path | None = None
    #: PEM file of the CA that signed the brokers' certificates (SSL, SASL_SSL); default: the system's CAs.
    ssl_ca_file: Path | None = None
    #: Any other client property (mutual TLS, OAUTHBEARER, timeouts), once per client family: the Java client's
    #: names for the Flink Kafka connector (its ``properties.*``), librdkafka's for the Python clients.
    java_properties: dict[str, str] = {}
    librdkafka_properties: dict[str, str] = {}

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


class Topics(_Section):
    """Topic names (README, Topics and schemas). Inputs first, then what the jobs write."""

    signaling: str = "signaling"
    xdr: str = "xdr"
    campaigns: str = "campaigns"
    #: Trial journey definitions (touchpoint journeys publish): compacted, keyed by trial product; the latest wins.
    journeys: str = "journeys"
    orders: str = "orders"
    #: Reference data (touchpoint reference publish): compacted, keyed by id, one JSON row of
    #: schemas/reference/<name>.schema.json each; the latest row of an id wins. Profiles carry every profile and
    #: every change of one (consent, do-not-disturb, products).
    profiles: str = "profiles"
    cells: str = "reference-cells"
    regions: str = "reference-regions"
    handsets: str = "reference-handsets"
    number_ranges: str = "reference-number-ranges"
    #: The product catalogue: product id -> name, kind, family.
    products: str = "reference-products"
    signaling_normalised: str = "signaling-normalised"
    xdr_normalised: str = "xdr-normalised"
    orders_normalised: str = "orders-normalised"
    behaviour: str = "behaviour"
    triggers: str = "triggers"
    region_metrics: str = "region-metrics"
    #: Each trial journey's steps (journey_step triggers, which the decision job turns into leads) and ends.
    journey_events: str = "journey-events"
    leads: str = "leads"
    #: One record per (trigger, matching campaign): the lead, or why there was none.
    decisions: str = "decisions"
    #: Delivery reports of the outbound systems, and each lead's conversion or expiry (the effect job).
    outcomes: str = "outcomes"
    #: Treatment vs control conversion per campaign, campaign and day, trigger kind and programme; keyed by group,
    #: the latest record of a group wins.
    uplift: str = "uplift"
    dlq: str = "dlq"
    traffic: str = "traffic"
    #: Output of the benchmark baseline job only.
    passthrough: str = "bench-passthrough"


class Flink(_Section):
    parallelism: int = Field(1, ge=1)
    checkpoint_interval_ms: int = Field(5000, ge=100)
    restart_attempts: int = 3
    restart_delay_ms: int = 2000
    #: Idle state (duplicate detection, a subscriber's previous events) expires after this long without
    #: updates; a subscriber silent for longer starts afresh (e.g. no handset_change on the first event back).
    state_ttl_hours: float = Field(48.0, gt=0)
    #: Python functions (low-volume logic, and ingest's one-parse validation) run in this mode;
    #: "thread" measured ~2x faster than "process" here.
    python_execution_mode: Literal["thread", "process"] = "thread"
    python_bundle_size: int = Field(10_000, ge=1)
    #: Replay jobs checkpoint often: the file sink only publishes files on checkpoints.
    replay_checkpoint_interval_ms: int = Field(1000, ge=100)
    #: State backend of streaming jobs; None: the cluster's. The local cluster and the Kubernetes manifest use
    #: RocksDB (state on local disk, past memory; incremental checkpoints); the embedded mini-cluster of
    #: `touchpoint run` the heap, measured 5-8x faster there (docs/operations.md). Replay always uses the heap.
    state_backend: Literal["rocksdb", "hashmap"] | None = None
    incremental_checkpoints: bool = True
    #: Where streaming jobs' checkpoints go, one folder per job under it (default: <work_dir>/checkpoints).
    #: A URI: file:///... locally; s3://bucket/path or hdfs://... on a cluster (the file system plugin must be
    #: installed on the cluster).
    checkpoints_dir: str | None = None
    #: A streaming job does not start when its local checkpoint directory has less free space than this (a full
    #: disk fails every checkpoint, so the job would fail and restart in a loop).
    checkpoint_min_free_mb: float = Field(64.0, ge=0)
    #: Completed checkpoints kept per job. They are kept when a job is cancelled or dies, so that
    #: `touchpoint run` resumes from the newest (docs/operations.md).
    retained_checkpoints: int = Field(3, ge=1)
    #: Any Flink configuration option for every job (key -> value as Flink's configuration reads it, e.g.
    #: ``table.optimizer.agg-phase-strategy: ONE_PHASE``); it overrides what Touchpoint sets for the same key.
    options: dict[str, str] = {}

    @field_validator("options", mode="before")
    @classmethod
    def _option_values(cls, v: Any) -> Any:
        """YAML's true/false/numbers as Flink writes them (true, 512m, 200 ms are all strings to Flink)."""
        if not isinstance(v, dict):
            return v
        return {
            k: str(x).lower() if isinstance(x, bool) else str(x) if isinstance(x, int | float) else x
            for k, x in v.items()
        }

    @field_validator("checkpoints_dir")
    @classmethod
    def _uri(cls, v: str | None) -> str | None:
        if v is not None and "://" not in v:
            raise ValueError(f"expected a URI such as file:///data/checkpoints or s3://bucket/path, got {v!r}")
        return v


class Cluster(_Section):
    """A Flink cluster to submit jobs to (`touchpoint submit`, `touchpoint jobs`), and the local one that
    `touchpoint cluster up` starts from the PyFlink distribution (loopback only)."""

    #: REST endpoint of the cluster's JobManager (any Flink 2.3 cluster, not only the local one).
    rest_url: str = "http://127.0.0.1:8081"
    #: The local cluster: JobManager RPC port, TaskManagers, slots each, and memory per process.
    rpc_port: int = Field(6123, ge=1, le=65535)
    taskmanagers: int = Field(2, ge=1)
    #: 2 x 5 slots: the whole pipeline (events, decisions, effect) at parallelism 2, and a job more beside it.
    slots_per_taskmanager: int = Field(5, ge=1)
    jobmanager_memory: str = "1024m"
    taskmanager_memory: str = "2048m"
    #: The Python interpreter the cluster's TaskManagers run Python functions with (default: the one running
    #: this command; in a container image, the image's interpreter).
    python_executable: str | None = None


class Ingest(_Section):
    """Validation bounds. Absolute (not relative to the wall clock) so replay and streaming agree."""

    ts_min: datetime = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
    ts_max: datetime = datetime.fromisoformat("2100-01-01T00:00:00+00:00")

    @property
    def ts_min_ms(self) -> int:
        return int(self.ts_min.timestamp() * 1000)

    @property
    def ts_max_ms(self) -> int:
        return int(self.ts_max.timestamp() * 1000)


class EventTime(_Section):
    #: Bounded out-of-orderness of the watermark; the simulator never delays an event by more.
    max_out_of_orderness_ms: int = Field(60_000, ge=0)
    idle_timeout_ms: int = Field(30_000, ge=0)


class Network(_Section):
    """Who "we" are: the operator's PLMNs and province, for roaming decisions."""

    home_plmns: list[str] = ["46000", "46002", "46007", "46008"]
    home_province: str = "JS"


class Triggers(_Section):
    """Parameters of the trigger definitions in docs/triggers.md. Durations are set in the unit of their name; the
    triggers job and the ground truth both compute with the properties below (milliseconds, bytes)."""

    region_entry_min_outside_minutes: int = Field(20, ge=1)
    dwell_minutes: int = Field(30, ge=1)
    directory_number: str = "114"
    hotline_numbers: list[str] = ["10086"]
    handset_store_visits: int = Field(3, ge=1)
    handset_store_days: int = Field(7, ge=1)
    power_on_min_off_hours: float = Field(4.0, gt=0)
    #: One data-plan kind ``quota_<n>mb`` per threshold (remaining quota in MB).
    quota_thresholds_mb: list[int] = [20, 5, 0]
    zero_usage_hours: float = Field(24.0, gt=0)
    abnormal_usage_mb: int = Field(500, ge=1)
    roam_in_gap_hours: float = Field(24.0, gt=0)
    #: The billing calendar's zone: a billing month (quota kinds) is a calendar month here. (Quiet hours and budget
    #: days follow decisions.timezone, the subscribers' local time; both are usually the operator's zone.)
    timezone: TimeZone = "Asia/Shanghai"
    #: The billing month (yyyy-MM) whose usage the profiles' ``data_used_mb`` holds, i.e. the month of the profile
    #: snapshot; a later month starts from zero usage. Set it with each profile snapshot you load.
    billing_month: str = Field("2026-11", pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")
    #: Kinds the triggers job detects (recipes in sql/triggers/kinds/). Default: every kind it has a recipe for,
    #: with one quota kind per threshold.
    kinds: list[str] | None = Field(None, validate_default=True)

    @field_validator("quota_thresholds_mb")
    @classmethod
    def _thresholds(cls, v: list[int]) -> list[int]:
        if any(x < 0 for x in v) or len(set(v)) != len(v):
            raise ValueError("thresholds are distinct whole numbers of MB >= 0, e.g. [20, 5, 0]")
        return v

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, v: list[str] | None, info: ValidationInfo) -> list[str]:
        if "quota_thresholds_mb" not in info.data:  # invalid itself: reported on its own
            return v or []
        detectable = trigger_kinds.names(info.data["quota_thresholds_mb"])
        for kind in v or ():
            if kind not in detectable:
                threshold = trigger_kinds.quota_threshold(kind)
                raise ValueError(
                    f"{kind!r}: {threshold} MB is not in triggers.quota_thresholds_mb"
                    if threshold is not None
                    else f"the triggers job does not detect {kind!r}; it detects {', '.join(detectable)}"
                )
        return detectable if v is None else v

    @property
    def region_entry_min_outside_ms(self) -> int:
        return self.region_entry_min_outside_minutes * MINUTE_MS

    @property
    def dwell_ms(self) -> int:
        return self.dwell_minutes * MINUTE_MS

    @property
    def handset_store_window_ms(self) -> int:
        return self.handset_store_days * DAY_MS

    @property
    def power_on_min_off_ms(self) -> int:
        return round(self.power_on_min_off_hours * HOUR_MS)

    @property
    def zero_usage_window_ms(self) -> int:
        return round(self.zero_usage_hours * HOUR_MS)

    @property
    def abnormal_usage_bytes(self) -> int:
        return self.abnormal_usage_mb * MB

    @property
    def roam_in_gap_ms(self) -> int:
        return round(self.roam_in_gap_hours * HOUR_MS)


class Decisions(_Section):
    """The decision job and its contact policy (docs/decisions.md)."""

    #: Quiet hours, the budget day and message times are local to this zone.
    timezone: TimeZone = "Asia/Shanghai"
    #: A lead is worth nothing this long after its trigger: it expires (``expires_at``).
    lead_validity_hours: float = Field(48.0, gt=0)
    #: A lead's attribution window (docs/effect.md) unless its campaign sets ``attribution_days``.
    attribution_days: float = Field(7.0, gt=0)
    #: The global holdout: this share (percent) of subscribers, stable by msisdn, gets no marketing at all: every
    #: lead of theirs is a control lead (reason ``holdout``). The effect job measures the programme against them.
    holdout_percent: float = Field(2.0, ge=0, le=100)
    #: At most this many marketing leads (control-group leads excluded) per subscriber per window.
    max_leads_per_subscriber: int = Field(3, ge=0)
    contact_window_hours: float = Field(48.0, gt=0)
    #: No contact from quiet_start to quiet_end (local time, may wrap midnight); leads are deferred to quiet_end.
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    #: Kinds that reveal where the subscriber is: they also need location consent.
    location_kinds: list[str] = Field(default_factory=trigger_kinds.location_names)
    #: Streaming: a trigger waits this long (processing time) so that a subscriber's triggers arriving close
    #: together are decided in ts order. Replay always decides in exact ts order.
    reorder_ms: int = Field(1_000, ge=0)
    #: Streaming: a trigger of a subscriber whose profile is not in the job's state yet waits up to this long
    #: (processing time) for it, since the profiles topic is a separate input with no order against the
    #: triggers (at a start, a backlog of profiles can still be queued). Past it, the trigger is decided as
    #: `no_profile` (e.g. an inbound roamer, who has none).
    profile_wait_ms: int = Field(30_000, ge=0)


class Tags(_Section):
    """Thresholds of the tag library (udfs/tags.py), over the 48 h behaviour unless named otherwise."""

    heavy_data_mb_48h: float = Field(500.0, ge=0)
    frequent_caller_calls_48h: int = Field(20, ge=0)
    hotline_caller_dials_48h: int = Field(2, ge=0)
    roamer_hours_48h: int = Field(1, ge=0)
    #: Commuter: seen in at least one region of each group within 24 h.
    commuter_home_kinds: list[str] = ["residential"]
    commuter_work_kinds: list[str] = ["office", "campus"]


#: How a producer keys raw lines (simulator.keying): the raw lines of a network come keyed in any of these ways,
#: and the pipeline is exact for each (docs/operations.md, partitions and event time).
KEYINGS = {
    "none": "no key: librdkafka spreads the lines over the partitions, a batch at a time (a probe exporter that does "
    "not know the subscriber)",
    "msisdn": "keyed by msisdn, placed by librdkafka's default partitioner (CRC32: the C, C++, Python, Go and .NET "
    "clients)",
    "msisdn_murmur2": "keyed by msisdn, placed by murmur2 (the Java client's and Flink's partitioner)",
    "probe": "keyed by the probe that saw the event (its location area; an order by its order id)",
}
Keying = Literal[tuple(KEYINGS)]


class Simulator(_Section):
    start: datetime = datetime.fromisoformat("2026-11-02T00:00:00+08:00")
    #: How ``simulate --kafka`` (and the demo) key the raw lines they produce: one of :data:`KEYINGS`.
    keying: Keying = "none"
    timezone: TimeZone = "Asia/Shanghai"
    center_lat: float = 32.0603
    center_lon: float = 118.7969
    #: Signaling + xDR events per subscriber-hour, averaged over the day (a network makes 20-110; the daily curve
    #: goes from about a quarter at night to twice in the busy hour). A subscriber's own activity makes ~3; ordinary
    #: traffic on the subscriber's current cell (service requests, data sessions with their xDR, tracking-area
    #: updates: touchpoint/simulator/traffic.py) makes up the rest. 3 or less: none (the sparse city of early
    #: benches).
    events_per_subscriber_hour: float = Field(60.0, ge=0)
    #: Share of subscribers that get each planted situation (at least one per kind when it fits).
    plant_fraction: float = Field(0.02, ge=0, le=1)
    duplicate_rate: float = Field(0.005, ge=0, le=0.5)
    malformed_rate: float = Field(0.002, ge=0, le=0.5)
    #: Arrival delay bound; must not exceed event_time.max_out_of_orderness_ms.
    max_delay_ms: int = Field(30_000, ge=0)
    #: Subscribers generated and sorted in memory at once (bounds memory for 1 M subscribers).
    chunk_subscribers: int = Field(20_000, ge=1)
    #: Inbound roamers (foreign or other-province numbers), as a share of subscribers.
    roamer_fraction: float = Field(0.01, ge=0, le=1)
    #: The simulated outbound systems and customers (touchpoint/simulator/outbound.py), for the campaign funnel
    #: and effect tracking: the share of treatment leads delivered.
    delivery_rate: float = Field(0.95, ge=0, le=1)
    #: The base rate: a customer buys the offered product anyway (control leads, undelivered leads).
    control_conversion_rate: float = Field(0.03, ge=0, le=1)
    #: What a delivered offer adds to the base rate, unless ``campaign_uplift`` names the campaign.
    uplift: float = Field(0.09, ge=0, le=1)
    campaign_uplift: dict[str, float] = {}
    #: Share of conversions whose order names the lead (a reply to the SMS); BOSS orders name none.
    order_names_lead_rate: float = Field(0.5, ge=0, le=1)
    #: Share of subscribers who start a free trial of the first shipped journey's trial product (docs/journeys.md),
    #: planted to convert, not to use it, to use it little, to opt out, or to use it and let it lapse.
    trial_fraction: float = Field(0.03, ge=0, le=1)
    #: A simulated city lasts hours, a trial weeks: the city's journeys/ holds the shipped journeys with every
    #: duration scaled so that a trial lasts this long.
    journey_hours: float = Field(6.0, gt=0)


class Effect(_Section):
    """Effect tracking (docs/effect.md): which orders convert which leads, and the uplift over control leads."""

    #: Below this many leads in either arm (treatment, control) an uplift is "not enough data".
    min_sample: int = Field(30, ge=1)


class Journeys(_Section):
    """Trial journeys (docs/journeys.md)."""

    #: The longest trial a journey may run: the journeys job keeps a trial start this long (processing time) to
    #: join the subscriber's usage with it, and refuses a journey with a longer trial.
    max_trial_days: float = Field(92.0, gt=0)
    #: How long an hour of a subscriber's usage waits (processing time) for a trial start it may belong to.
    usage_wait_minutes: float = Field(60.0, gt=0)


class RegionMetrics(_Section):
    """The micro-region job (G3 coverage per micro-region and event-time window)."""

    window_minutes: int = Field(15, ge=1)
    #: Privacy: a region-window with fewer subscribers present is not published.
    min_subscribers: int = Field(5, ge=1)


class ClickHouse(_Section):
    """Where the loader writes and the dashboards read. ``url`` picks the backend: ``chdb:`` (embedded, data in
    ``paths.work_dir/chdb``; ``chdb:///ABS/PATH`` elsewhere; one process per data directory) or
    ``clickhouse://HOST:PORT`` (a server, native protocol via clickhouse-driver)."""

    url: str = "chdb:"
    database: str = "touchpoint"
    #: The local stack's server (Debian clickhouse-server); tests start their own on free ports.
    host: str = "127.0.0.1"
    native_port: int = 19000
    http_port: int = 18123
    #: Keep this many days of data (TTL where the server supports it, else `touchpoint db prune` drops partitions).
    retention_days: int = Field(90, ge=1)
    #: Login to a server (``clickhouse://`` URLs; the embedded chdb has no server and no login: its files are
    #: private to the user running Touchpoint). The password from the environment or a file, never the URL.
    user: str = "default"
    password: SecretStr | None = None
    password_file: Path | None = None
    #: TLS to the server (its secure native port, usually 9440), verified against ``ca_file`` (PEM) if set.
    secure: bool = False
    ca_file: Path | None = None

    def login_password(self) -> str:
        return read_secret(self.password, self.password_file, "clickhouse.password") or ""


class Grafana(_Section):
    """`touchpoint dashboards push`: the Grafana to push to and its service-account token (docs/security.md)."""

    url: str | None = None
    #: From the environment (TOUCHPOINT_GRAFANA__TOKEN, or GRAFANA_TOKEN) or a file, never a command line.
    token: SecretStr | None = None
    token_file: Path | None = None

    def api_token(self) -> str | None:
        return read_secret(self.token, self.token_file, "grafana.token") or os.environ.get("GRAFANA_TOKEN") or None


class Privacy(_Section):
    """Pseudonyms of subscribers in the analytics tables (docs/privacy.md)."""

    #: The key of the keyed pseudonym (HMAC-SHA256) of MSISDN, IMSI and IMEI in every ClickHouse table. Set it
    #: (environment or file) in production and keep it with the other secrets: whoever holds it can test whether
    #: a given number is in the data. Without either, a random key is made once in ``<work_dir>/secrets``.
    pseudonym_key: SecretStr | None = None
    pseudonym_key_file: Path | None = None
    #: The one table mapping pseudonyms back to MSISDNs (of subscribers who got a lead) lives in this database,
    #: apart from the analytics tables, so that access to it is granted on its own (default:
    #: ``<clickhouse.database>_pii``).
    lookup_database: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class Loader(_Section):
    """`touchpoint load`: output topics -> ClickHouse."""

    #: Consumer group (default: <kafka.group_prefix>-loader).
    group_id: str | None = None
    #: Topic keys loaded, each into the table of the same name (default: every topic the loader has a table for,
    #: touchpoint/clickhouse/rows.py).
    topics: list[str] | None = None
    batch_rows: int = Field(50_000, ge=1)
    batch_seconds: float = Field(2.0, gt=0)
    retry_initial_s: float = Field(0.5, gt=0)
    retry_max_s: float = Field(30.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOUCHPOINT_", env_nested_delimiter="__", extra="forbid")

    paths: Paths = Paths()
    kafka: Kafka = Kafka()
    topics: Topics = Topics()
    flink: Flink = Flink()
    cluster: Cluster = Cluster()
    ingest: Ingest = Ingest()
    event_time: EventTime = EventTime()
    network: Network = Network()
    triggers: Triggers = Triggers()
    decisions: Decisions = Decisions()
    tags: Tags = Tags()
    simulator: Simulator = Simulator()
    effect: Effect = Effect()
    journeys: Journeys = Journeys()
    region_metrics: RegionMetrics = RegionMetrics()
    clickhouse: ClickHouse = ClickHouse()
    loader: Loader = Loader()
    grafana: Grafana = Grafana()
    privacy: Privacy = Privacy()

    @field_validator("simulator")
    @classmethod
    def _start_is_aware(cls, v: Simulator) -> Simulator:
        if v.start.tzinfo is None:
            raise ValueError("simulator.start needs a UTC offset, e.g. 2026-11-02T00:00:00+08:00")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file (passed as init kwargs), so CI can override one value.
        return env_settings, init_settings


class ConfigError(ValueError):
    """A settings file or variable is invalid; the message names the field."""


def write_settings(settings: Settings, path: str | os.PathLike[str]) -> Path:
    """``settings`` as a YAML file that :func:`load_settings` reads back to the same values, secrets included:
    readable by its owner only (it is how `touchpoint submit` hands a job its settings, off the command line)."""
    p = Path(path)
    p.touch(mode=0o600)
    p.chmod(0o600)
    p.write_text(yaml.safe_dump(_revealed(settings)))
    return p


def _revealed(model: BaseModel) -> dict[str, Any]:
    """``model_dump(mode="json")`` with each SecretStr's value instead of its mask."""
    data = model.model_dump(mode="json")
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
        elif isinstance(value, BaseModel):
            data[name] = _revealed(value)
    return data


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the settings hold (set directly or in a file): what no log line or error may show."""
    s = settings
    found = [s.kafka.password(), s.clickhouse.login_password(), s.grafana.api_token()]
    found += [read_secret(s.privacy.pseudonym_key, s.privacy.pseudonym_key_file, "privacy.pseudonym_key")]
    return [x for x in found if x]


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Load settings from ``path`` (or ``$TOUCHPOINT_CONFIG``) plus environment variables."""
    path = path or os.environ.get("TOUCHPOINT_CONFIG")
    data: dict[str, Any] = {}
    if path:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file not found: {p}")
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"config file {p} is not valid YAML: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config file {p} must hold a mapping at the top level")
    _merge(data, overrides)
    try:
        return Settings(**data)
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(str(x) for x in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {field}: {msg}") from None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v
