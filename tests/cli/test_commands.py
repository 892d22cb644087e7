"""The CLI contract: subcommands, help on every option, exit codes, one-line errors without tracebacks."""

import argparse

import pytest

from tests.support import run_cli as run
from touchpoint.cli import build_parser


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command path, parser) of every command that runs something, nested subcommands included."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if path and parser.get_default("func") is not None:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, path + (name,))


LEAVES = dict(_leaves(build_parser()))


def test_commands_nest_by_concern():
    assert {" ".join(p) for p in LEAVES} == {
        "simulate",
        "replay",
        "run",
        "submit",
        "reference publish",
        "reference delete",
        "campaigns publish",
        "campaigns validate",
        "campaigns backtest",
        "campaigns status",
        "campaigns resume",
        "campaigns results",
        "journeys publish",
        "journeys validate",
        "console serve",
        "console add-user",
        "console remove-user",
        "console users",
        "console hash-password",
        "leads tail",
        "soak",
        "privacy pseudonym",
        "settings show",
        "setup",
        "settings reference",
        "load",
        "db migrate",
        "db status",
        "db prune",
        "db load-reference",
        "dashboards check",
        "dashboards push",
        "report",
        "demo",
        "bench",
        "bench loader",
        "bench publish",
        "bench scale",
        "bench stages",
        "stack up",
        "stack down",
        "stack status",
        "cluster up",
        "cluster down",
        "cluster status",
        "jobs list",
        "jobs stop",
        "jobs cancel",
    }


@pytest.mark.parametrize("path", sorted(LEAVES), ids=" ".join)
def test_every_option_has_help_and_config_is_everywhere(path):
    parser = LEAVES[path]
    actions = [a for a in parser._actions if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]
    assert all(a.help for a in actions), [a.dest for a in actions if not a.help]
    assert "--config" in parser._option_string_actions


@pytest.mark.parametrize(
    "option, commands",
    [
        (
            "--url",
            {
                "load",
                "db migrate",
                "db status",
                "db prune",
                "db load-reference",
                "dashboards check",
                "report",
                "bench loader",
                "campaigns results",
                "console serve",
            },
        ),
        ("--group", {"run", "submit", "leads tail", "load"}),
        ("--max-seconds", {"run", "load"}),
    ],
)
def test_shared_options_mean_one_thing(option, commands):
    """An option several commands take is defined once: same help everywhere, and only where it applies."""
    having = {
        " ".join(p): parser._option_string_actions[option]
        for p, parser in LEAVES.items()
        if option in parser._option_string_actions
    }
    assert set(having) == commands
    assert len({a.help for a in having.values()}) == 1


def test_help_lists_every_subcommand():
    out = run("--help")
    assert out.returncode == 0
    for name in [
        "simulate",
        "replay",
        "run",
        "load",
        "db",
        "submit",
        "campaigns",
        "leads",
        "dashboards",
        "report",
        "demo",
        "bench",
        "stack",
    ]:
        assert name in out.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["simulate", "--subscribers", "-5", "--out", "x"], "must be > 0"),
        (["simulate", "--hours", "lots", "--out", "x"], "expected a number"),
        (["simulate", "--seed", "1"], "needs --out DIR or --kafka"),
        (["replay", "nosuchjob", "--input", "a", "--output", "b"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
        (["bench", "stages", "--option", "pipeline.auto-watermark-interval"], "expected KEY=VALUE"),
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


@pytest.mark.parametrize(
    "argv, config",
    [
        (["bench", "--config", "x.yaml", "loader"], "x.yaml"),  # given to the parent, kept by the subcommand
        (["bench", "loader", "--config", "y.yaml"], "y.yaml"),
        (["db", "migrate", "--config", "z.yaml"], "z.yaml"),
        (["db", "migrate"], None),
    ],
)
def test_config_reaches_the_command_wherever_it_is_given(argv, config):
    assert getattr(build_parser().parse_args(argv), "config", None) == config
