"""Who may use the console: users with a role and a salted password hash (the users file, which
`touchpoint console add-user` writes, and ``console.users`` in the settings), and the throttle that slows
repeated failed log-ins down. No clear-text password is ever stored or logged."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from touchpoint.config import Settings
from touchpoint.config.console import ROLES

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
MIN_PASSWORD = 8
#: compared against when the name is unknown, so a wrong name takes as long as a wrong password
_DUMMY = generate_password_hash("not a password of anyone")


class UserError(ValueError):
    """A bad user name, role or password; the message is one line."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    #: stands for the password hash in a session: a changed password ends the sessions made with the old one
    stamp: str = field(default="", compare=False)

    def may(self, role: str) -> bool:
        """True when this user's role is ``role`` or above it (viewer < marketer < admin)."""
        return ROLES.index(self.role) >= ROLES.index(role)


def users_file(settings: Settings) -> Path:
    return settings.console.users_file or settings.paths.work_dir / "console" / "users.json"


def _read_file(settings: Settings) -> dict[str, dict]:
    path = users_file(settings)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"users file {path}: not valid JSON: {e}") from None
    return data if isinstance(data, dict) else {}


def all_users(settings: Settings) -> dict[str, dict]:
    """name -> {"role", "password_hash"}: the users file, then the settings' users over it."""
    users = _read_file(settings)
    users.update(
        {
            n: {"role": u.role, "password_hash": u.password_hash.get_secret_value()}
            for n, u in settings.console.users.items()
        }
    )
    return users


def check_name(name: str) -> str:
    if not NAME.match(name or ""):
        raise UserError(
            f"user name {name!r}: letters, digits and _ . @ - only, at most 64, starting with a letter or digit"
        )
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role {role!r}: one of {', '.join(ROLES)}")
    return role


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    return generate_password_hash(password)


def write_private(path: Path, text: str) -> Path:
    """Replace ``path`` atomically with ``text``, readable by its owner only (a temporary file of its own in the
    same folder, so that two writers never share one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


#: the users file is read, changed and written again under this lock (the console serves from several threads)
_LOCK = threading.Lock()


def _write(settings: Settings, users: dict[str, dict]) -> Path:
    return write_private(users_file(settings), json.dumps(users, indent=2, sort_keys=True))


def add_user(settings: Settings, name: str, role: str, password: str) -> Path:
    """Add ``name`` (or set its role and password) in the users file."""
    return set_user(settings, check_name(name), check_role(role), hash_password(password))


def set_user(settings: Settings, name: str, role: str, password_hash: str) -> Path:
    """Write a checked user's role and password hash into the users file."""
    with _LOCK:
        users = _read_file(settings)
        users[name] = {"role": role, "password_hash": password_hash}
        return _write(settings, users)


def remove_user(settings: Settings, name: str) -> bool:
    with _LOCK:
        users = _read_file(settings)
        if users.pop(name, None) is None:
            return False
        _write(settings, users)
        return True


def _stamp(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def authenticate(settings: Settings, name: str, password: str) -> User | None:
    """The user when ``password`` is theirs, else None (an unknown name costs as much as a wrong password)."""
    entry = all_users(settings).get(name)
    if entry is None:
        check_password_hash(_DUMMY, password)
        return None
    if not check_password_hash(entry["password_hash"], password):
        return None
    return User(name, entry["role"], _stamp(entry["password_hash"]))


def current(settings: Settings, name: str, stamp: str | None = None) -> User | None:
    """The user ``name`` as the users are now: None once removed or, given the session's ``stamp``, once their
    password changed (the session ends); a changed role applies at once."""
    entry = all_users(settings).get(name)
    if entry is None or (stamp is not None and stamp != _stamp(entry["password_hash"])):
        return None
    return User(name, entry["role"], _stamp(entry["password_hash"]))


class Throttle:
    """Failed log-ins per key (the name tried and the client's address): after ``free`` failures in a row each
    further attempt must wait 1 s, then 2, 4, ... up to ``max_s``; a success clears the name's count."""

    def __init__(self, free: int, max_s: float, clock=time.monotonic):
        self.free, self.max_s, self.clock = free, max_s, clock
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, *keys: str) -> float:
        """How long until an attempt for any of ``keys`` is allowed (0: now)."""
        now = self.clock()
        with self._lock:
            waits = [self._until(k) - now for k in keys]
        return max([0.0, *waits])

    def _until(self, key: str) -> float:
        count, last = self._failures.get(key, (0, 0.0))
        if count < self.free:
            return 0.0
        return last + min(2.0 ** (count - self.free), self.max_s)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for k in keys:
                self._failures[k] = (self._failures.get(k, (0, 0.0))[0] + 1, now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)
