"""Stop signals (SIGINT, SIGTERM) from the first moment of a ``touchpoint`` process.

``touchpoint.cli`` imports this module before anything else, so that a signal arriving while the command is still
starting (imports, settings) ends it cleanly instead of killing it half-way:

- a command that handles stops itself (:func:`claim`: ``simulate --kafka``, ``run``, ``load``, ``leads tail``)
  finds :data:`STOP` already set and stops at its first check, as it would later;
- otherwise SIGTERM ends the process with status 143 and a one-line message, SIGINT with 130 (once ``main`` runs,
  as Python's KeyboardInterrupt, which ``main`` reports in one line); never a traceback.

Nothing heavy is imported here: this must run before the slow imports.
"""

from __future__ import annotations

import signal
import sys
import threading

#: Set by SIGINT or SIGTERM.
STOP = threading.Event()
_claimed = threading.Event()
_main = threading.Event()


def _on_signal(signum: int, _frame) -> None:
    STOP.set()
    if _claimed.is_set():  # the command stops at its next check
        return
    if signum == signal.SIGINT and _main.is_set():
        raise KeyboardInterrupt
    print(f"touchpoint: stopped by {signal.Signals(signum).name}", file=sys.stderr)
    raise SystemExit(128 + signum)


def started() -> None:
    """``main`` is running the command: a SIGINT is a KeyboardInterrupt from now on (``main`` reports it)."""
    _main.set()


def claim() -> threading.Event:
    """For a long-running command that stops between steps: from now on a signal only sets :data:`STOP` (set
    already if one came while the command was starting)."""
    _claimed.set()
    return STOP


def install() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _on_signal)


install()
