"""The CLI contract: subcommands, exit codes, one-line errors without tracebacks."""

import subprocess

import pytest

from touchpoint.cli import PLANNED
from tests.support import TOUCHPOINT



def run(*args, **kw):
    return subprocess.run([TOUCHPOINT, *args], capture_output=True, text=True, timeout=120, **kw)


def test_help_lists_every_subcommand():
    out = run("--help")
    assert out.returncode == 0
    for name in ["simulate", "replay", "run", "load", "db", "submit", "campaigns", "leads", "dashboards", "report",
                 "demo", "bench", "stack"]:
        assert name in out.stdout


@pytest.mark.parametrize("name", sorted(PLANNED))
def test_planned_commands_say_so_and_exit_2(name):
    out = run(name, "whatever")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "not implemented yet" in out.stderr


@pytest.mark.parametrize(
    "args, needle",
    [
        (["simulate", "--subscribers", "-5", "--out", "x"], "must be > 0"),
        (["simulate", "--hours", "lots", "--out", "x"], "expected a number"),
        (["simulate", "--seed", "1"], "needs --out DIR or --kafka"),
        (["replay", "nosuchjob", "--input", "a", "--output", "b"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, needle):
    out = run(*args)
    assert out.returncode == 2
    assert needle in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_runtime_errors_exit_1_with_one_line(tmp_path):
    out = run("replay", "ingest", "--input", str(tmp_path / "missing"), "--output", str(tmp_path / "o"))
    assert out.returncode == 1
    assert out.stderr.strip() == f"touchpoint: error: input directory {tmp_path / 'missing'} not found"
    bad = tmp_path / "bad.yaml"
    bad.write_text("triggers:\n  dwell_minutes: 0\n")
    out = run("simulate", "--config", str(bad), "--out", str(tmp_path / "c"))
    assert out.returncode == 1
    assert "invalid setting triggers.dwell_minutes" in out.stderr and out.stderr.count("\n") == 1
