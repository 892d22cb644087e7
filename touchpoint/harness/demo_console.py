"""The demo's last step: the marketers' console (docs/console.md), started in the background on what the demo
made — the local broker with the example campaigns in force, the demo's ClickHouse data (embedded chdb, readable
once the demo process has let it go), and the loop's larger city as the history a draft is previewed over — and
left running with the local stack; `touchpoint stack down` stops them all."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from touchpoint.config import Settings, write_settings


def _history(demo: Path) -> Path:
    """The loop's city (step 10) as a recorded history: its replayed triggers and behaviour, its reference data."""
    history = demo / "history"
    history.mkdir(parents=True, exist_ok=True)
    for link, target in (
        ("triggers.jsonl", demo / "loop" / "run" / "events" / "triggers.jsonl"),
        ("behaviour.jsonl", demo / "loop" / "run" / "events" / "behaviour.jsonl"),
        ("reference", demo / "loop" / "city" / "reference"),
    ):
        (history / link).unlink(missing_ok=True)
        (history / link).symlink_to(target)
    return history


def start(settings: Settings, chdb_dir: Path) -> bool:
    """Step 11: start the console for the demo and print where it is and how to log in; False when it did not."""
    from touchpoint.console import users
    from touchpoint.console.server import start_detached

    print("\n[11] The marketers' console, on what the demo made (left running with the local stack)", flush=True)
    demo = settings.paths.work_dir / "demo"
    s = settings.model_copy(deep=True)
    s.console.history_dir = _history(demo)
    s.console.users_file = demo / "console-users.json"
    s.clickhouse.url = f"chdb://{chdb_dir}"
    password = secrets.token_urlsafe(12)
    users.add_user(s, "demo", "admin", password)
    secret = demo / "console-password"
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    config = write_settings(s, demo / "console.yaml")
    try:
        svc = start_detached(s, config, demo / "console.log")
    except Exception as e:  # the port taken, ...: said, and the demo fails
        print(f"    the console did not start: {e}")
        return False
    print(f"    console: http://{s.console.host}:{svc.port}/  (pid {svc.pid}, log {demo / 'console.log'})")
    print(f"    log in as demo (admin); the password is in {secret}")
    print(f"    add users: touchpoint --config {config} console add-user NAME --role marketer  (password on stdin)")
    print("    left running with the local broker and ClickHouse: `touchpoint stack down` stops them all")
    return True
