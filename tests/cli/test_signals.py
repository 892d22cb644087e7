"""A stop signal at any moment of a command's life ends it cleanly (touchpoint/cli/signals.py): while it starts, with
a one-line message and the usual status; once a long-running command has claimed the signals, at its next check."""

import os
import signal
import subprocess
import sys

import pytest

from touchpoint import ROOT
from touchpoint.cli import signals


@pytest.fixture
def fresh_signals():
    """The module's state and this process's handlers as a new ``touchpoint`` process has them, restored after."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for event in (signals.STOP, signals._claimed, signals._main):
        event.clear()
    signals.install()
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    for event in (signals.STOP, signals._claimed, signals._main):
        event.clear()


def test_sigterm_while_starting_exits_143_with_one_line(fresh_signals, capsys):
    with pytest.raises(SystemExit) as done:
        os.kill(os.getpid(), signal.SIGTERM)
    assert done.value.code == 143
    assert capsys.readouterr().err == "touchpoint: stopped by SIGTERM\n"


def test_sigint_before_main_exits_130_and_in_main_is_a_keyboard_interrupt(fresh_signals, capsys):
    with pytest.raises(SystemExit) as done:
        os.kill(os.getpid(), signal.SIGINT)
    assert done.value.code == 130
    signals.started()
    with pytest.raises(KeyboardInterrupt):  # main reports it: "touchpoint: interrupted", 130
        os.kill(os.getpid(), signal.SIGINT)


def test_a_command_that_claims_the_signals_finds_an_early_one(fresh_signals):
    signals._claimed.set()  # a signal after the claim: the command stops at its next check
    os.kill(os.getpid(), signal.SIGTERM)
    assert signals.STOP.is_set()
    signals.STOP.clear()
    signals._claimed.clear()
    # before the claim (while starting) it ends the process; a command claiming afterwards sees it too
    with pytest.raises(SystemExit):
        os.kill(os.getpid(), signal.SIGTERM)
    assert signals.claim().is_set()


def test_the_handlers_come_before_the_slow_imports():
    """A touchpoint process has them by the time touchpoint.cli's other modules (settings, pydantic) load."""
    probe = (
        "import importlib.abc, signal, sys\n"
        "class Trap(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'touchpoint.config':\n"
        "            print(getattr(signal.getsignal(signal.SIGTERM), '__module__', None))\n"
        "sys.meta_path.insert(0, Trap())\n"
        "import touchpoint.cli\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "touchpoint.cli.signals"
