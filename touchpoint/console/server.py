"""Serving the console: waitress (a production WSGI server, pure Python) on ``console.host:console.port``, until a
stop signal; and starting it in the background for the demo, recorded with the local stack's services so that
`touchpoint stack down` stops it too."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from touchpoint.config import Settings

#: what the local stack records the background console as (its PID file), and finds in its command line
SERVICE = "console"


def serve(
    settings: Settings,
    stop: threading.Event,
    clickhouse_url: str | None = None,
    ready: Callable[[str], None] = print,
) -> None:
    """Serve until ``stop`` is set; ``ready`` gets the address once it listens."""
    from waitress import create_server

    from touchpoint.console.app import create_app

    app = create_app(settings, clickhouse_url)
    c = settings.console
    server = create_server(app, host=c.host, port=c.port, threads=6, ident="touchpoint-console")
    thread = threading.Thread(target=server.run, name="console-http", daemon=True)
    thread.start()
    ready(f"http://{server.effective_host}:{server.effective_port}/")
    try:
        stop.wait()
    finally:
        server.close()
        app.extensions["touchpoint"].live.stop()
        app.extensions["touchpoint"].figures.close()


def start_detached(settings: Settings, config: Path, log: Path, clickhouse_url: str | None = None):
    """``touchpoint --config CONFIG console serve`` in the background, its output in ``log``; returns the stack
    Service once it listens (a console already running is stopped first)."""
    from touchpoint.infra import stack

    run = settings.paths.run
    stack.stop(run, SERVICE, SERVICE)
    exe = Path(sys.executable).with_name("touchpoint")
    cmd = [str(exe), "console", "serve", "--config", str(config)]
    if clickhouse_url:
        cmd += ["--url", clickhouse_url]
    log.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    port = settings.console.port
    svc = stack.record(run, stack.Service(SERVICE, proc.pid, port, str(log)))
    stack.wait_healthy(lambda: stack.port_open(port) or proc.poll() is not None, "the console", log, 60)
    if proc.poll() is not None:
        stack.stop(run, SERVICE, SERVICE)
        raise RuntimeError(f"the console did not start: see {log}")
    return svc
