"""Settings of the Flink runtime: every job's checkpoints, restarts, state and options, and the cluster jobs are
submitted to."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from touchpoint.config.base import Section


class Flink(Section):
    """How every Flink job runs (docs/operations.md): parallelism, checkpoints, restarts, state."""

    parallelism: int = Field(1, ge=1)
    """Parallelism of every operator (at most ``kafka.partitions`` reads the sources in parallel)."""
    checkpoint_interval_ms: int = Field(5000, ge=100)
    """Streaming jobs checkpoint this often; the Kafka offsets and the state go back to the newest checkpoint
    after a failure or a restart."""
    restart_attempts: int = 3
    """A failing job restarts from its newest checkpoint this many times before it fails for good."""
    restart_delay_ms: int = 2000
    """The wait before each restart."""
    state_ttl_hours: float = Field(48.0, gt=0)
    """Idle state (duplicate detection, a subscriber's previous events) expires after this long without
    updates; a subscriber silent for longer starts afresh (e.g. no handset_change on the first event back)."""
    python_execution_mode: Literal["thread", "process"] = "thread"
    """Python operators (decisions, effect, journeys: the low-volume logic) run in this mode; "thread" measured
    ~2x faster than "process" here."""
    python_bundle_size: int = Field(10_000, ge=1)
    """Records a Python operator takes in one bundle (Flink's ``python.fn-execution.bundle.size``)."""
    replay_checkpoint_interval_ms: int = Field(1000, ge=100)
    """Replay jobs checkpoint often: the file sink only publishes files on checkpoints."""
    state_backend: Literal["rocksdb", "hashmap"] | None = None
    """State backend of streaming jobs; None: the cluster's. The local cluster and the Kubernetes manifest use
    RocksDB (state on local disk, past memory; incremental checkpoints); the embedded mini-cluster of
    `touchpoint run` the heap, measured 5-8x faster there (docs/operations.md). Replay always uses the heap."""
    incremental_checkpoints: bool = True
    """With RocksDB, a checkpoint writes only what changed since the last one."""
    checkpoints_dir: str | None = None
    """Where streaming jobs' checkpoints go, one folder per job under it (default: <work_dir>/checkpoints).
    A URI: file:///... locally; s3://bucket/path or hdfs://... on a cluster (the file system plugin must be
    installed on the cluster)."""
    checkpoint_min_free_mb: float = Field(64.0, ge=0)
    """A streaming job does not start when its local checkpoint directory has less free space than this (a full
    disk fails every checkpoint, so the job would fail and restart in a loop)."""
    retained_checkpoints: int = Field(3, ge=1)
    """Completed checkpoints kept per job. They are kept when a job is cancelled or dies, so that
    `touchpoint run` resumes from the newest (docs/operations.md)."""
    options: dict[str, str] = {}
    """Any Flink configuration option for every job (key -> value as Flink's configuration reads it, e.g.
    ``table.optimizer.agg-phase-strategy: ONE_PHASE``); it overrides what Touchpoint sets for the same key."""

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


class Cluster(Section):
    """A Flink cluster to submit jobs to (`touchpoint submit`, `touchpoint jobs`), and the local one that
    `touchpoint cluster up` starts from the PyFlink distribution (loopback only)."""

    rest_url: str = "http://127.0.0.1:8081"
    """REST endpoint of the cluster's JobManager (any Flink 2.3 cluster, not only the local one)."""
    rpc_port: int = Field(6123, ge=1, le=65535)
    """The local cluster: its JobManager's RPC port."""
    taskmanagers: int = Field(2, ge=1)
    """The local cluster: TaskManager processes."""
    slots_per_taskmanager: int = Field(5, ge=1)
    """The local cluster: slots per TaskManager. 2 x 5 slots: the whole pipeline (events, decisions, effect) at
    parallelism 2, and a job more beside it."""
    jobmanager_memory: str = "1024m"
    """The local cluster: the JobManager's total process memory (Flink's ``jobmanager.memory.process.size``)."""
    taskmanager_memory: str = "2048m"
    """The local cluster: each TaskManager's total process memory (``taskmanager.memory.process.size``)."""
    python_executable: str | None = None
    """The Python interpreter the cluster's TaskManagers run Python functions with (default: the one running
    this command; in a container image, the image's interpreter)."""
