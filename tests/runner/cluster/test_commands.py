"""The cluster commands' contract without a cluster: a cluster that is down, a port in use, a savepoint that
does not exist, an unknown job — one line on stderr, exit 1 (runtime) or 2 (usage), no traceback."""

from __future__ import annotations

import socket

import pytest

from tests.support import make_settings, run_cli
from touchpoint.config import write_settings
from touchpoint.infra import stack


@pytest.fixture
def config(tmp_path):
    """Settings naming a cluster that is not there (a free port)."""
    s = make_settings(tmp_path / "work", cluster={"rest_url": f"http://127.0.0.1:{stack.free_port()}"})
    return write_settings(s, tmp_path / "config.yaml")


def _one_line(out, code: int, needle: str) -> None:
    assert out.returncode == code, (out.returncode, out.stderr)
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr, out.stderr
    assert needle in out.stderr, out.stderr


@pytest.mark.parametrize(
    "args",
    [("submit", "ingest"), ("jobs", "list"), ("jobs", "stop", "ingest"), ("jobs", "cancel", "decisions")],
    ids=" ".join,
)
def test_a_cluster_that_is_down_is_one_line_exit_1(config, args):
    _one_line(run_cli(*args, "--config", str(config)), 1, "no Flink cluster answers at http://127.0.0.1:")


@pytest.mark.parametrize(
    "args, needle",
    [
        (("submit", "nosuchjob"), "invalid choice"),
        (("submit", "ingest", "--parallelism", "0"), "must be > 0"),
        (("submit", "ingest", "--from-savepoint", "/no/such/savepoint"), "does not exist"),
        (("run", "decisions", "--from-savepoint", "/no/such/savepoint"), "does not exist"),
        (("run", "decisions", "--fresh", "--from-savepoint", "x"), "not allowed with"),
        (("jobs", "stop"), "the following arguments are required: JOB"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else "",
)
def test_bad_arguments_are_one_line_exit_2(config, args, needle):
    _one_line(run_cli(*args, "--config", str(config)), 2, needle)


def test_cluster_up_on_a_port_in_use_names_the_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        s = make_settings(tmp_path / "work", cluster={"rest_url": f"http://127.0.0.1:{port}"})
        path = write_settings(s, tmp_path / "config.yaml")
        _one_line(run_cli("cluster", "up", "--config", str(path)), 1, f"port {port} is taken")
    assert not (tmp_path / "work" / "flink-cluster" / "pid").exists() or not list(
        (tmp_path / "work" / "flink-cluster" / "pid").glob("*.json")
    ), "nothing may be started when a port is taken"


def test_cluster_status_of_a_cluster_that_is_down_exits_1(config):
    out = run_cli("cluster", "status", "--config", str(config))
    assert out.returncode == 1
    assert "jobmanager     stopped" in out.stdout


def test_local_cluster_configuration_comes_from_settings(tmp_path):
    from touchpoint.runner.cluster import local

    s = make_settings(
        tmp_path / "work",
        cluster={"rest_url": "http://127.0.0.1:18081", "rpc_port": 16123, "slots_per_taskmanager": 3},
        flink={"retained_checkpoints": 2},
    )
    conf = local.configuration(s)
    assert conf["rest.port"] == 18081 and conf["jobmanager.rpc.port"] == 16123
    assert conf["taskmanager.numberOfTaskSlots"] == 3
    assert {conf[k] for k in ("rest.address", "rest.bind-address", "jobmanager.bind-host", "taskmanager.host")} == {
        "127.0.0.1"
    }
    assert conf["state.backend.type"] == "rocksdb" and conf["execution.checkpointing.incremental"] is True
    assert conf["execution.checkpointing.externalized-checkpoint-retention"] == "RETAIN_ON_CANCELLATION"
    assert conf["execution.checkpointing.num-retained"] == 2
