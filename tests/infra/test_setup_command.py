"""`touchpoint setup` builds what the jobs need under the configured paths (what an installed Touchpoint runs once,
as `make setup` does in a checkout): the Kafka connector jars, the JVM functions and the PLMN table, each checked;
a path it cannot write is one line and exit 1. It reuses the pinned wheels `make setup` downloaded, so the test
downloads nothing."""

from __future__ import annotations

import os
import shutil
import zipfile

import pytest

from tests.support import run_cli
from touchpoint.config import load_settings
from touchpoint.infra.jars import jar_paths, jars_ok

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path):
    built = load_settings().paths
    work = tmp_path / "work"
    (work / "cache").mkdir(parents=True)
    for wheel in (built.work_dir / "cache").glob("*.whl"):
        shutil.copy(wheel, work / "cache" / wheel.name)
    settings = {
        "TOUCHPOINT_PATHS__WORK_DIR": str(work),
        "TOUCHPOINT_PATHS__JARS": str(tmp_path / "jars"),
        "TOUCHPOINT_PATHS__PLMN": str(tmp_path / "reference" / "plmn.csv"),
    }
    return os.environ | settings


def test_it_builds_the_jars_the_functions_and_the_plmn_table_where_the_settings_say(env, tmp_path):
    done = run_cli("setup", env=env)
    assert done.returncode == 0, done.stderr
    jars = tmp_path / "jars"
    assert jars_ok(jars)
    functions = jars / "touchpoint-functions.jar"
    assert "touchpoint/ingest/CheckSignaling.class" in zipfile.ZipFile(functions).namelist()
    plmn = tmp_path / "reference" / "plmn.csv"
    assert plmn.read_text() == load_settings().paths.plmn.read_text()
    assert done.stdout.split() == [str(p) for p in [*jar_paths(jars), functions, plmn]]
    again = run_cli("setup", env=env)  # idempotent: the same files, nothing rebuilt
    assert again.returncode == 0 and again.stdout == done.stdout


def test_a_jars_path_it_cannot_write_is_one_line_and_exit_1(env, tmp_path):
    (tmp_path / "jars").write_text("a file where the jars folder should be")
    done = run_cli("setup", env=env)
    assert done.returncode == 1
    assert done.stderr.startswith("touchpoint: error: ") and done.stderr.count("\n") == 1, done.stderr
