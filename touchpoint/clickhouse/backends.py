"""The two ClickHouse backends behind ``clickhouse.url``, with one interface (``execute``, ``query``, ``insert``).

- ``chdb:`` — embedded ClickHouse (chdb, a modern engine) with its data in ``paths.work_dir/chdb``;
  ``chdb:///ABS/PATH`` (or ``chdb:REL/PATH``) elsewhere. A process hosts one chdb data directory and a data
  directory is used by one process at a time, so whoever opens it (the loader, a migration) holds it.
- ``clickhouse://[USER[:PASSWORD]@]HOST[:PORT]`` — a server over the native protocol (clickhouse-driver). Rows
  are always sent as data, never as inline ``VALUES`` text (that hangs on 18.16).

Both detect the engine version with ``SELECT version()`` and derive :data:`FEATURES` from it, so the migrations
(touchpoint.clickhouse.migrations) can render one file for either.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from touchpoint.config import Settings

#: Feature -> first ClickHouse version that has it (without experimental settings). chdb is always modern.
FEATURES: dict[str, tuple[int, int]] = {
    "ttl": (19, 6),  # column/table TTL
    "skip_indexes": (20, 1),  # data-skipping indexes incl. bloom_filter, no experimental setting
    "low_cardinality": (19, 1),  # LowCardinality without allow_experimental_low_cardinality_type
    "datetime64": (20, 1),
    "map": (21, 8),
    "window_functions": (21, 9),
}


class ClickHouseError(RuntimeError):
    """A ClickHouse operation failed; the message is one line and says what."""


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:4])


def features_of(version: tuple[int, ...]) -> frozenset[str]:
    return frozenset(f for f, since in FEATURES.items() if version[:2] >= since)


class Backend:
    """One ClickHouse: ``execute`` DDL, ``query`` rows as tuples, ``insert`` rows (sent as data)."""

    kind = "?"
    where = "?"

    def __init__(self, database: str):
        self.database = database
        self.version = ""
        self.version_tuple: tuple[int, ...] = ()

    def _detect(self) -> None:
        self.version = str(self.query("SELECT version()")[0][0])
        self.version_tuple = parse_version(self.version)

    @property
    def features(self) -> frozenset[str]:
        return features_of(self.version_tuple)

    def supports(self, feature: str) -> bool:
        if feature not in FEATURES:
            raise ValueError(f"unknown ClickHouse feature {feature!r}; known: {', '.join(FEATURES)}")
        return feature in self.features

    def describe(self) -> str:
        return f"{self.kind} {self.version} at {self.where}"

    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def query(self, sql: str) -> list[tuple]:
        raise NotImplementedError

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        """Insert ``rows`` (tuples in ``columns`` order; DateTime as int seconds) into ``database.table`` (or into
        ``table`` if it names its database: ``db.table``)."""
        raise NotImplementedError

    def qualified(self, table: str) -> str:
        return table if "." in table else f"{self.database}.{table}"

    def scalar(self, sql: str) -> Any:
        rows = self.query(sql)
        return rows[0][0] if rows else None

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _utc_naive(text: str) -> datetime:
    return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")


def _converter(ch_type: str):
    t = ch_type
    if t.startswith("Nullable("):
        t = t[len("Nullable(") : -1]
    if t.startswith("LowCardinality("):
        t = t[len("LowCardinality(") : -1]
    if t == "DateTime" or t.startswith("DateTime("):
        return lambda v: None if v is None else _utc_naive(v)
    if t == "Date":
        return lambda v: None if v is None else date.fromisoformat(v)
    return None


#: chdb data directories this process has open (path -> connections): a process hosts one at a time.
_CHDB_OPEN: dict[Path, int] = {}


def _check_chdb_free(path: Path) -> None:
    """Fail with a clear message if another process holds the chdb directory (the engine would print its own
    error to stderr and fail with a vague one). ClickHouse keeps an flock on ``PATH/status`` while it runs."""
    import fcntl

    status = path / "status"
    if not status.exists():
        return
    with status.open("rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = next(
                (
                    ln.split(":", 1)[1].strip()
                    for ln in status.read_text(errors="replace").splitlines()
                    if ln.startswith("PID:")
                ),
                "?",
            )
            raise ClickHouseError(
                f"chdb data directory {path} is in use by process {holder} (one process per "
                "chdb directory: stop it, or use a ClickHouse server)"
            ) from None
        fcntl.flock(f, fcntl.LOCK_UN)


class ChdbBackend(Backend):
    """Embedded chdb at a data directory (``chdb.session.Session(path)``); the session uses UTC."""

    kind = "chdb"

    def __init__(self, path: Path, database: str):
        super().__init__(database)
        from chdb.session import Session

        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.where = str(self.path)
        if _CHDB_OPEN.get(self.path, 0) == 0:
            _check_chdb_free(self.path)
        try:
            self._session = Session(
                f"{self.path}?session_timezone=UTC&output_format_json_quote_64bit_integers=0"
                "&output_format_json_quote_denormals=0"
            )
        except Exception as e:
            raise ClickHouseError(
                f"chdb: cannot open {self.path}: {_one_line(e)} (a chdb data directory is "
                "used by one process at a time; is a loader running on it?)"
            ) from None
        _CHDB_OPEN[self.path] = _CHDB_OPEN.get(self.path, 0) + 1
        self._detect()

    def execute(self, sql: str) -> None:
        try:
            self._session.query(sql, "Null")
        except Exception as e:
            raise ClickHouseError(f"chdb: {_one_line(e)}") from None

    def query(self, sql: str) -> list[tuple]:
        import orjson

        try:
            res = self._session.query(sql, "JSONCompact")
        except Exception as e:
            raise ClickHouseError(f"chdb: {_one_line(e)}") from None
        raw = res.bytes() if hasattr(res, "bytes") else bytes(res)
        if not raw.strip():
            return []
        doc = orjson.loads(raw)
        convs = [_converter(m["type"]) for m in doc["meta"]]
        if not any(convs):
            return [tuple(r) for r in doc["data"]]
        return [tuple(c(v) if c else v for c, v in zip(convs, r)) for r in doc["data"]]

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        import orjson

        if not rows:
            return 0
        data = b"\n".join(map(orjson.dumps, rows))
        try:
            ins = self._session.send_insert(
                f"INSERT INTO {self.qualified(table)} ({', '.join(columns)})", "JSONCompactEachRow"
            )
            try:
                ins.append(data)
                ins.finish()
            except BaseException:
                ins.cancel()
                raise
        except Exception as e:
            raise ClickHouseError(f"chdb: insert into {table}: {_one_line(e)}") from None
        return len(rows)

    def close(self) -> None:
        s, self._session = getattr(self, "_session", None), None
        if s is not None:
            s.close()
            _CHDB_OPEN[self.path] -= 1


class ServerBackend(Backend):
    """A ClickHouse server over the native protocol (clickhouse-driver)."""

    kind = "server"

    def __init__(
        self,
        host: str,
        port: int,
        database: str,
        user: str = "default",
        password: str = "",
        connect_timeout: float = 3.0,
        send_receive_timeout: float = 60.0,
        secure: bool = False,
        ca_file: str | None = None,
    ):
        super().__init__(database)
        import logging

        from clickhouse_driver import Client

        # it logs every failed connection attempt with a traceback; the error reaches the caller anyway
        logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)

        self.host, self.port = host, port
        self.where = f"{host}:{port}"
        self._client = Client(
            host,
            port=port,
            user=user,
            password=password,
            connect_timeout=connect_timeout,
            send_receive_timeout=send_receive_timeout,
            sync_request_timeout=connect_timeout,
            secure=secure,
            verify=True,
            **({"ca_certs": ca_file} if ca_file else {}),
        )
        self._detect()
        if self.version_tuple[:2] < FEATURES["low_cardinality"]:
            self._client.settings["allow_experimental_low_cardinality_type"] = 1

    def _run(self, sql: str, data=None, **kw):
        try:
            return self._client.execute(sql, data, **kw) if data is not None else self._client.execute(sql, **kw)
        except Exception as e:
            self._client.disconnect()  # a broken connection is re-opened by the next call
            raise ClickHouseError(f"ClickHouse {self.where}: {_one_line(e)}") from None

    def execute(self, sql: str) -> None:
        self._run(sql)

    def query(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self._run(sql)]

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
        if not rows:
            return 0
        # columnar: ~20 % faster than rows through clickhouse-driver
        self._run(
            f"INSERT INTO {self.qualified(table)} ({', '.join(columns)}) VALUES",
            list(zip(*rows)),
            columnar=True,
            types_check=False,
        )
        return len(rows)

    def close(self) -> None:
        c = getattr(self, "_client", None)
        if c is not None:
            c.disconnect()


def _one_line(e: BaseException) -> str:
    """The first meaningful line: a server error's own message, whose str() starts with a bare "Code: N." line."""
    message = getattr(e, "message", None)
    if isinstance(message, str) and message.strip():
        text = f"code {getattr(e, 'code', '?')}: {message.strip()}"
    else:
        text = str(e).strip()
    return text.splitlines()[0][:500] if text else type(e).__name__


def parse_url(url: str, settings: Settings) -> dict[str, Any]:
    """``chdb:``, ``chdb:///abs/path``, ``chdb:rel/path`` or ``clickhouse://[user@]host[:port]``; the login is
    ``clickhouse.user``/``password`` unless the URL names a user (a password in the URL still works, but sits in
    a setting that is printed: use ``clickhouse.password``)."""
    if url.startswith("chdb:"):
        rest = url[len("chdb:") :]
        if rest.startswith("//"):
            rest = rest[2:]
        path = Path(rest) if rest else settings.paths.work_dir / "chdb"
        return {"kind": "chdb", "path": path.resolve()}
    if url.startswith("clickhouse://"):
        u = urllib.parse.urlsplit(url)
        if not u.hostname:
            raise ClickHouseError(f"clickhouse.url {redact_url(url)!r} has no host; expected clickhouse://HOST:PORT")
        ch = settings.clickhouse
        return {
            "kind": "server",
            "host": u.hostname,
            "port": u.port or (9440 if ch.secure else 9000),
            "user": urllib.parse.unquote(u.username) if u.username else ch.user,
            "password": urllib.parse.unquote(u.password) if u.password else ch.login_password(),
            "secure": ch.secure,
            "ca_file": str(ch.ca_file) if ch.ca_file else None,
        }
    raise ClickHouseError(
        f"clickhouse.url {redact_url(url)!r} not understood; expected chdb:, chdb:///PATH or clickhouse://HOST:PORT"
    )


def redact_url(url: str) -> str:
    """``url`` without a password, for messages."""
    u = urllib.parse.urlsplit(url)
    if u.password is None:
        return url
    host = u.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(u._replace(netloc=f"{u.username}:***@{host}"))


def connect(settings: Settings, url: str | None = None, database: str | None = None) -> Backend:
    """The backend ``url`` (default ``clickhouse.url``) names, version detected."""
    spec = parse_url(url or settings.clickhouse.url, settings)
    db = database or settings.clickhouse.database
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", db):
        raise ClickHouseError(f"clickhouse.database {db!r} must be a plain identifier")
    if spec["kind"] == "chdb":
        return ChdbBackend(spec["path"], db)
    return ServerBackend(
        spec["host"],
        spec["port"],
        db,
        spec["user"],
        spec["password"],
        secure=spec["secure"],
        ca_file=spec["ca_file"],
    )
