"""deploy/ holds together: the FlinkDeployment runs a real job through the same entry point as `touchpoint
submit`, with the jar and image of the Flink version the project pins, durable RocksDB state and savepoint
upgrades; its settings are valid Touchpoint settings; the image ships what a submission ships. (No Kubernetes
here: this checks the manifest's structure, not a deployment.)"""

from __future__ import annotations

import re
from importlib.metadata import version

import yaml

from jobs import JOBS
from touchpoint import ROOT
from touchpoint.config import Settings

DEPLOY = ROOT / "deploy"
FLINK = version("apache-flink")


def _docs() -> dict[str, dict]:
    return {d["kind"]: d for d in yaml.safe_load_all((DEPLOY / "events.yaml").read_text())}


def test_flink_deployment_runs_a_job_through_the_submit_entry_point():
    d = _docs()["FlinkDeployment"]
    assert d["apiVersion"] == "flink.apache.org/v1beta1"
    assert re.fullmatch(r"v2_\d+", d["spec"]["flinkVersion"])
    job = d["spec"]["job"]
    assert job["entryClass"] == "org.apache.flink.client.python.PythonDriver"
    assert job["jarURI"] == f"local:///opt/flink/lib/flink-python-{FLINK}.jar"
    args = job["args"]
    assert args[:2] == ["-pym", "touchpoint.runner.cluster.entry"] and args[2] in JOBS
    assert args[args.index("--config") + 1].startswith("/opt/touchpoint/config/")
    assert job["upgradeMode"] == "savepoint" and job["state"] == "running" and job["parallelism"] >= 2
    for part in ("jobManager", "taskManager"):
        assert set(d["spec"][part]["resource"]) == {"memory", "cpu"}


def test_state_is_durable_and_the_python_interpreter_is_the_images():
    d = _docs()["FlinkDeployment"]
    conf = d["spec"]["flinkConfiguration"]
    assert all(isinstance(v, str) for v in conf.values()), "the operator wants string values"
    assert conf["state.backend.type"] == "rocksdb"
    assert conf["execution.checkpointing.incremental"] == "true"
    assert conf["execution.checkpointing.externalized-checkpoint-retention"] == "RETAIN_ON_CANCELLATION"
    for key in ("execution.checkpointing.dir", "execution.checkpointing.savepoint-dir", "high-availability.storageDir"):
        assert conf[key].startswith(("s3://", "hdfs://", "gs://", "abfs://")), key
    container = d["spec"]["podTemplate"]["spec"]["containers"][0]
    assert container["name"] == "flink-main-container"
    mount = container["volumeMounts"][0]["mountPath"]
    assert d["spec"]["job"]["args"][-1].startswith(mount + "/")
    settings = yaml.safe_load(_docs()["ConfigMap"]["data"]["touchpoint.yaml"])
    assert conf["python.executable"] == settings["cluster"]["python_executable"]


def test_configmap_settings_are_valid_touchpoint_settings():
    cm = _docs()["ConfigMap"]
    assert (
        cm["metadata"]["name"]
        == _docs()["FlinkDeployment"]["spec"]["podTemplate"]["spec"]["volumes"][0]["configMap"]["name"]
    )
    ((name, text),) = cm["data"].items()
    s = Settings.model_validate(yaml.safe_load(text))
    assert s.flink.checkpoints_dir.startswith("s3://") and s.kafka.partitions >= s.flink.parallelism


def test_image_is_the_pinned_flink_with_the_projects_wheel():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(rf"^FROM flink:{re.escape(FLINK)}-java17$", text, re.M)
    assert "cp /opt/flink/opt/flink-python-*.jar /opt/flink/lib/" in text
    # the wheel (tests/test_install.py: it carries every package a submission ships), not the source tree
    assert re.search(r"^RUN python3 -m pip install .* /tmp/touchpoint-\*\.whl", text, re.M)
    assert not re.search(r"^COPY (touchpoint|jobs|udfs|sql|schemas) ", text, re.M)
    assert " -e ." not in text
    assert "ENV TOUCHPOINT_CONFIG=" in text
