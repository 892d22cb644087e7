"""The Flink table environment of one job, configured from the settings: state backend, checkpoints, restarts,
state TTL, event-time idleness, the Python execution mode, Touchpoint's JVM functions and the Kafka connector
jars for streaming."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal

from touchpoint.config import Settings
from touchpoint.flink.checkpoints import checkpoints_uri
from touchpoint.infra.functions import functions_jar
from touchpoint.infra.jars import jar_paths, jars_ok
from udfs.units import HOUR_MS

#: ``replay``: bounded files in and out; ``streaming``: Kafka in and out (touchpoint.flink.pipeline).
Mode = Literal["replay", "streaming"]


def table_environment(
    settings: Settings, mode: Mode, job_name: str, datastream: bool = False, extra_options: dict[str, str] | None = None
):
    """A streaming TableEnvironment configured from settings (one JVM per Python process); with
    ``datastream`` a StreamTableEnvironment, whose ``to_data_stream``/``from_data_stream`` mix in Python
    DataStream operators."""
    from pyflink.common import Configuration
    from pyflink.table import EnvironmentSettings, TableEnvironment

    log_dir = settings.paths.work_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("FLINK_LOG_DIR", str(log_dir))
    # Python functions run in thread mode (in this interpreter), which finds libpython/pemja via PATH.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    options = _job_options(settings, mode, job_name) | (extra_options or {})
    if datastream:
        from pyflink.datastream import StreamExecutionEnvironment
        from pyflink.table import StreamTableEnvironment

        env = StreamExecutionEnvironment.get_execution_environment(Configuration().from_dict(options))
        t_env = StreamTableEnvironment.create(env, EnvironmentSettings.in_streaming_mode())
    else:
        t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    for k, v in options.items():
        conf.set(k, v)
    return t_env


def _job_options(settings: Settings, mode: Mode, job_name: str) -> dict[str, str]:
    f = settings.flink
    interval = f.replay_checkpoint_interval_ms if mode == "replay" else f.checkpoint_interval_ms
    options = {
        "pipeline.name": f"touchpoint-{job_name}",
        "parallelism.default": str(f.parallelism),
        "execution.checkpointing.interval": f"{interval} ms",
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": str(f.restart_attempts),
        "restart-strategy.fixed-delay.delay": f"{f.restart_delay_ms} ms",
        "table.exec.source.idle-timeout": f"{settings.event_time.idle_timeout_ms} ms",
        "execution.checkpointing.dir": checkpoints_uri(settings, job_name),
        "table.local-time-zone": "UTC",
        "table.exec.state.ttl": f"{int(f.state_ttl_hours * HOUR_MS)} ms",
        "python.execution-mode": f.python_execution_mode,
        "python.executable": sys.executable,
        "python.client.executable": sys.executable,
        "python.fn-execution.bundle.size": str(f.python_bundle_size),
        # Chained operators hand records over without a defensive copy (Flink SQL operators do not keep them).
        "pipeline.object-reuse": "true",
        # A view read by several INSERTs is planned once when its plans are equal, even if the planner reached
        # them by different rewrites (e.g. the cells joined once for behaviour and region_metrics): without it,
        # one redundant projection on a side gives each reader an operator of its own (docs/performance.md).
        "table.optimizer.reuse-optimize-block-with-digest-enabled": "true",
    }
    if mode == "streaming":
        # Durable state: checkpoints outlive a cancelled or crashed job, so the next run resumes from them.
        options |= {
            "execution.checkpointing.incremental": str(f.incremental_checkpoints).lower(),
            "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
            "execution.checkpointing.num-retained": str(f.retained_checkpoints),
        }
        if f.state_backend:  # else the cluster's (the mini-cluster's: the heap)
            options["state.backend.type"] = f.state_backend
    else:  # bounded and re-runnable: nothing to recover, and the heap is fastest
        options["state.backend.type"] = "hashmap"
    # Touchpoint's JVM functions in both modes; the Kafka connector only when streaming.
    jars = [functions_jar(settings.paths.jars)]
    if mode == "streaming":
        if not jars_ok(settings.paths.jars):
            raise RuntimeError(f"Kafka connector jars missing in {settings.paths.jars}; run `make setup`")
        jars += jar_paths(settings.paths.jars)
    options["pipeline.jars"] = ";".join(p.as_uri() for p in jars)
    return options | f.options
