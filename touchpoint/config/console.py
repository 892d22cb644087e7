"""Settings of the marketers' console (`touchpoint console serve`, docs/console.md): where it listens, who may log
in, where drafts and the preview's recorded history are kept."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from touchpoint.config.base import Section

#: The roles, least to most: a viewer reads; a marketer also edits, previews, publishes, pauses and resumes; an
#: admin also manages users.
ROLES = ("viewer", "marketer", "admin")
Role = Literal["viewer", "marketer", "admin"]


class ConsoleUser(Section):
    """A user given in the settings instead of the users file (a password hash, never the password)."""

    role: Role = "viewer"
    """viewer, marketer or admin."""
    password_hash: SecretStr
    """The hash `touchpoint console hash-password` prints (scrypt, salted); masked by `touchpoint settings show`."""


class Console(Section):
    """`touchpoint console serve`: the marketers' web console (docs/console.md)."""

    host: str = "127.0.0.1"
    """The address it listens on: loopback by default; put it behind a TLS proxy before opening it wider."""
    port: int = Field(8050, ge=0, le=65535)
    """The port it listens on (0: any free port, printed at start)."""
    users_file: Path | None = None
    """The users file (JSON: name -> role and password hash) that `touchpoint console add-user` writes; default
    ``<work_dir>/console/users.json``."""
    users: dict[str, ConsoleUser] = {}
    """Users given here as well (e.g. from a mounted config); a name in both is taken from here."""
    drafts_dir: Path | None = None
    """Where saved drafts are kept, one JSON file each; default ``<work_dir>/console/drafts``."""
    history_dir: Path | None = None
    """The recorded history a draft is previewed over (`touchpoint campaigns backtest --input`): a directory laid
    out like `touchpoint simulate`'s output, or holding a replay's triggers and behaviour files and reference/.
    Without it the preview says so."""
    secret_key_file: Path | None = None
    """The key that signs session cookies and CSRF tokens (made once, readable by its owner only); default
    ``<work_dir>/console/secret-key``. Every console process sharing it accepts the others' sessions."""
    session_hours: float = Field(8.0, gt=0)
    """A log-in lasts this long."""
    refresh_seconds: int = Field(30, ge=5)
    """How often the open map and campaign list fetch fresh figures from ClickHouse."""
    trusted_proxies: int = Field(0, ge=0)
    """How many reverse proxies (TLS terminators) stand in front of the console: the client's address is then
    taken from that many X-Forwarded-For hops, so that the log-in throttle counts clients, not the proxy. 0: none,
    the header is ignored (a client could forge it)."""
    failed_logins: int = Field(3, ge=1)
    """After this many failed log-ins in a row for one name or from one address, each further attempt must wait:
    1 s, then twice as long each time, up to ``lockout_max_s``; a right password resets it."""
    lockout_max_s: float = Field(300.0, gt=0)
    """The longest wait between two log-in attempts after repeated failures."""
    figures_timeout_s: float = Field(5.0, gt=0)
    """How long a page waits for Kafka or ClickHouse before it says which is unreachable and shows what it has."""
