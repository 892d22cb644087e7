"""A release installs as one: the wheel built from this repository, installed (not editable) into a clean venv,
runs `touchpoint simulate` and `touchpoint replay all` from a directory outside the repository, with the SQL
recipes, schemas, examples and JVM sources it carries, and the replay's triggers equal the city's ground truth.

The new venv takes the pinned dependencies from the project's venv through a .pth file (installing Flink again
would only cost minutes); Touchpoint's own packages come from the wheel alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from touchpoint import ROOT
from touchpoint.config import load_settings
from touchpoint.resources import FILES, SHIPPED

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    build = ROOT / "build"  # setuptools' staging folder, removed so it cannot leak an old file into the wheel
    subprocess.run(["rm", "-rf", str(build)], check=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    subprocess.run(["rm", "-rf", str(build)], check=True)
    assert done.returncode == 0, done.stderr
    (found,) = out.glob("touchpoint-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; returns its bin/."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True
    ).stdout.strip()
    (Path(purelib) / "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300)
    return env_dir / "bin"


def _env(bin_dir: Path) -> dict[str, str]:
    """Nothing of the repository or of the suite's own settings: the PATH of the new venv, and the PLMN table
    `make setup` built (as a user's settings would name theirs)."""
    keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "JAVA_HOME", "TMPDIR")}
    plmn = load_settings().paths.plmn
    return keep | {"PATH": f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin", "TOUCHPOINT_PATHS__PLMN": str(plmn)}


def test_the_wheel_carries_the_packages_and_every_shipped_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("touchpoint/cli/__init__.py", "jobs/events.py", "udfs/trigger_kinds.py", "jobs/ordered.py"):
        assert package in names
    for name, folder in SHIPPED.items():
        on_disk = {p for glob in FILES[name] for p in (ROOT / folder).glob(glob) if p.is_file()}
        assert on_disk, name
        missing = [p for p in on_disk if f"touchpoint/resources/{name}/{p.relative_to(ROOT / folder)}" not in names]
        assert not missing, f"{name}: {missing[:3]}"
    # the console's pages and styles travel with its package
    console = ROOT / "touchpoint" / "console"
    shipped = [p for sub in ("templates", "static") for p in (console / sub).iterdir()]
    assert shipped and all(f"touchpoint/console/{p.relative_to(console)}" in names for p in shipped)


def test_installed_it_runs_outside_the_repository_and_the_replay_equals_the_ground_truth(installed, tmp_path):
    env = _env(installed)
    where = subprocess.run(
        [installed / "python", "-c", "import touchpoint, jobs, udfs; print(touchpoint.__file__, jobs.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    ).stdout
    assert str(ROOT) not in where and str(installed.parent) in where, where

    def run(*args: str) -> None:
        done = subprocess.run(
            [installed / "touchpoint", *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600
        )
        assert done.returncode == 0, done.stderr[-2000:]

    run("simulate", "--quiet", "--subscribers", "40", "--hours", "6", "--out", "city")
    run("replay", "all", "--input", "city", "--output", "out")

    def keys(path: Path) -> list[tuple]:
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        return sorted((r["kind"], r["msisdn"], r["ts"]) for r in rows)

    truth = keys(tmp_path / "city" / "ground_truth.jsonl")
    assert truth and keys(tmp_path / "out" / "triggers.jsonl") == truth
    # generated files went to the directory it ran in, not to the installation
    assert (tmp_path / "work" / "jars" / "touchpoint-functions.jar").is_file()
