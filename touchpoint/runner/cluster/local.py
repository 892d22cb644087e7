"""The local standalone Flink cluster, started from the PyFlink distribution itself: one JobManager and
``cluster.taskmanagers`` TaskManagers as background processes on loopback.

Its configuration, logs and PID files live under ``<work_dir>/flink-cluster``; stopping kills only the PIDs it
recorded (and only while they still run a Flink process). RocksDB with incremental checkpoints is the default
state backend, and checkpoints are retained when a job is cancelled or fails (docs/operations.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import yaml

from touchpoint.config import Settings
from touchpoint.flink.checkpoints import checkpoints_uri
from touchpoint.infra import stack
from touchpoint.runner.cluster import rest

#: What the PID of each process runs (checked before stopping it).
JOBMANAGER = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"
TASKMANAGER = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner"


def flink_home() -> Path:
    import pyflink

    return Path(pyflink.__file__).parent


def cluster_dir(settings: Settings) -> Path:
    return settings.paths.work_dir / "flink-cluster"


def rest_port(settings: Settings) -> int:
    parsed = urlparse(settings.cluster.rest_url)
    return parsed.port or 8081


def configuration(settings: Settings) -> dict[str, object]:
    """The cluster's config.yaml (flat keys), from settings."""
    c, f = settings.cluster, settings.flink
    template = yaml.safe_load((flink_home() / "conf" / "config.yaml").read_text())
    base = cluster_dir(settings)
    return {
        "env.java.opts.all": template["env"]["java"]["opts"]["all"],  # the module opens Flink needs on Java 17
        "jobmanager.rpc.address": "127.0.0.1",
        "jobmanager.rpc.port": c.rpc_port,
        "jobmanager.bind-host": "127.0.0.1",
        "jobmanager.memory.process.size": c.jobmanager_memory,
        "jobmanager.execution.failover-strategy": "region",
        "taskmanager.bind-host": "127.0.0.1",
        "taskmanager.host": "127.0.0.1",
        "taskmanager.numberOfTaskSlots": c.slots_per_taskmanager,
        # a job's parallel subtasks spread over the TaskManagers, not packed into the first one
        "taskmanager.load-balance.mode": "SLOTS",
        "taskmanager.memory.process.size": c.taskmanager_memory,
        "rest.address": "127.0.0.1",
        "rest.bind-address": "127.0.0.1",
        "rest.port": rest_port(settings),
        # A killed TaskManager is noticed within seconds: its heartbeat RPCs fail (two in a row mark it unreachable,
        # heartbeat.rpc-failure-threshold), whatever the timeout. The timeout is for one alive but silent: on two
        # busy cores a TaskManager deploying a large PyFlink job has gone 15 s without answering, and losing it
        # then made Flink kill the other one too (a Kafka writer failing while its task was cancelled is fatal).
        "heartbeat.interval": 2000,
        "heartbeat.timeout": 60000,
        # A TaskManager busy deploying a large job on a loaded machine may answer an RPC after Flink's 10 s
        # default, which fails the deployment and restarts the job; a dead one is still noticed by its heartbeat.
        "pekko.ask.timeout": "60 s",
        "parallelism.default": f.parallelism,
        "io.tmp.dirs": str(base / "tmp"),
        "state.backend.type": f.state_backend or "rocksdb",
        "execution.checkpointing.incremental": f.incremental_checkpoints,
        "execution.checkpointing.dir": checkpoints_uri(settings, "cluster"),
        "execution.checkpointing.savepoint-dir": (settings.paths.work_dir / "savepoints").as_uri(),
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": f.retained_checkpoints,
        "python.executable": c.python_executable or sys.executable,
        "python.client.executable": c.python_executable or sys.executable,
    }


@dataclass
class Status:
    jobmanager: stack.Service | None
    taskmanagers: list[stack.Service]
    overview: dict | None  # the REST /overview answer, None if it does not answer


def _names(settings: Settings) -> list[tuple[str, str]]:
    return [("jobmanager", JOBMANAGER)] + [
        (f"taskmanager-{i}", TASKMANAGER) for i in range(settings.cluster.taskmanagers)
    ]


def _lib(lib: Path) -> None:
    """The distribution's lib/ plus flink-python from opt/ (links): Python operators are deserialised on the
    JobManager and TaskManagers, so the cluster itself needs the class, as Flink's PyFlink images do."""
    shutil.rmtree(lib, ignore_errors=True)
    lib.mkdir(parents=True)
    for jar in [*(flink_home() / "lib").glob("*.jar"), *(flink_home() / "opt").glob("flink-python-*.jar")]:
        (lib / jar.name).symlink_to(jar)


def _start(settings: Settings, name: str, script: str) -> stack.Service:
    base = cluster_dir(settings)
    log = base / "log" / f"{name}.out"
    env = {
        **os.environ,
        "FLINK_CONF_DIR": str(base / "conf"),
        "FLINK_LIB_DIR": str(base / "lib"),
        "FLINK_LOG_DIR": str(base / "log"),
        "FLINK_PID_DIR": str(base / "pid"),
        "FLINK_IDENT_STRING": name,
        # Python functions run inside the TaskManager (thread mode): its embedded interpreter must see the
        # virtualenv's packages (pemja, PyFlink, the project), which a container image installs system-wide.
        "PYTHONPATH": os.pathsep.join(
            [sysconfig.get_paths()["purelib"], *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    proc = subprocess.Popen(
        ["bash", str(flink_home() / "bin" / script), "start-foreground"],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # Ctrl-C in the shell that ran `cluster up` does not reach the cluster
    )
    return stack.Service(name, proc.pid, rest_port(settings) if name == "jobmanager" else 0, str(log))


def up(settings: Settings, timeout: float = 90.0) -> Status:
    """Start the cluster (idempotent) and wait until every TaskManager has registered."""
    c = settings.cluster
    run = cluster_dir(settings) / "pid"
    current = status(settings)
    if current.jobmanager is None:
        port = rest_port(settings)
        for p in (port, c.rpc_port):
            if stack.port_open(p):
                raise stack.StackError(f"port {p} is taken by another program; set cluster.rest_url / cluster.rpc_port")
        base = cluster_dir(settings)
        for d in ("conf", "log", "tmp"):
            (base / d).mkdir(parents=True, exist_ok=True)
        for f in (flink_home() / "conf").glob("log*"):
            shutil.copy(f, base / "conf" / f.name)
        _lib(base / "lib")
        (base / "conf" / "config.yaml").write_text(yaml.safe_dump(configuration(settings), sort_keys=True))
        stack.record(run, _start(settings, "jobmanager", "jobmanager.sh"))
    for name, program in _names(settings)[1:]:
        if stack.running(run, name, program) is None:
            stack.record(run, _start(settings, name, "taskmanager.sh"))
    wanted = c.taskmanagers

    def healthy() -> bool:
        o = rest.overview(settings.cluster.rest_url, quiet=True)
        return o is not None and o.get("slots-total", 0) >= wanted * c.slots_per_taskmanager

    stack.wait_healthy(healthy, "Flink cluster", cluster_dir(settings) / "log" / "jobmanager.out", timeout)
    return status(settings)


def status(settings: Settings) -> Status:
    run = cluster_dir(settings) / "pid"
    procs = {name: stack.running(run, name, program) for name, program in _names(settings)}
    jm = procs.pop("jobmanager")
    return Status(
        jm, [p for p in procs.values() if p], rest.overview(settings.cluster.rest_url, quiet=True) if jm else None
    )


def down(settings: Settings) -> list[str]:
    """Stop what :func:`up` started (TaskManagers first); returns the names stopped."""
    run = cluster_dir(settings) / "pid"
    recorded = sorted(f.stem for f in run.glob("*.json")) if run.is_dir() else []  # also ones settings no longer name
    order = [n for n in recorded if n != "jobmanager"] + [n for n in recorded if n == "jobmanager"]
    return [n for n in order if stack.stop(run, n, JOBMANAGER if n == "jobmanager" else TASKMANAGER)]
