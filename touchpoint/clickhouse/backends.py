"""ClickHouse for Touchpoint: two backends, versioned migrations, retention.

Backends (``clickhouse.url``):

- ``chdb:`` — embedded ClickHouse (chdb, a modern engine) with its data in ``paths.work_dir/chdb``;
  ``chdb:///ABS/PATH`` (or ``chdb:REL/PATH``) elsewhere. A process hosts one chdb data directory and a data
  directory is used by one process at a time, so whoever opens it (the loader, a migration) holds it.
- ``clickhouse://[USER[:PASSWORD]@]HOST[:PORT]`` — a server over the native protocol (clickhouse-driver). Rows
  are always sent as data, never as inline ``VALUES`` text (that hangs on 18.16).

Both backends detect the engine version with ``SELECT version()`` and derive :data:`FEATURES` from it; the same
migration files (``sql/clickhouse/NNN_name.sql``) run on both, rendered per server:

- ``${db}`` → ``clickhouse.database``;
- ``${ttl(COL)}`` → ``TTL COL + INTERVAL <retention_days> DAY`` where the server has TTL, else nothing;
  ``${ttl(COL, N)}`` caps the retention of that table at N days. Tables without TTL are trimmed by
  :func:`prune` (``touchpoint db prune``), which drops whole partitions older than the retention, so such tables
  are partitioned by ``toYYYYMM(COL)`` or ``toYYYYMMDD(COL)``;
- lines between ``-- @if FEATURE`` (or ``-- @if !FEATURE``) and ``-- @endif`` (optional ``-- @else``) are kept
  only where the server has (lacks) FEATURE.

Applied migrations are recorded in ``<database>.schema_migrations`` (version, name, checksum, applied_at);
applying again is a no-op, and an applied file that changed since is an error naming it.
"""

from __future__ import annotations

import csv
import hashlib
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from touchpoint import ROOT
from touchpoint.config import Settings

MIGRATIONS_DIR = ROOT / "sql" / "clickhouse"

#: Feature -> first ClickHouse version that has it (without experimental settings). chdb is always modern.
FEATURES: dict[str, tuple[int, int]] = {
    "ttl": (19, 6),                # column/table TTL
    "skip_indexes": (20, 1),       # data-skipping indexes incl. bloom_filter, no experimental setting
    "low_cardinality": (19, 1),    # LowCardinality without allow_experimental_low_cardinality_type
    "datetime64": (20, 1),
    "map": (21, 8),
    "window_functions": (21, 9),
}


class ClickHouseError(RuntimeError):
    """A ClickHouse operation failed; the message is one line and says what."""


class MigrationError(ClickHouseError):
    """The migrations cannot be applied (a changed or unknown migration, a bad file, a failing statement)."""


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:4])


def features_of(version: tuple[int, ...]) -> frozenset[str]:
    return frozenset(f for f, since in FEATURES.items() if version[:2] >= since)


# --- backends ------------------------------------------------------------------------------------------------


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
        """Insert ``rows`` (tuples in ``columns`` order; DateTime as int seconds) into ``database.table``."""
        raise NotImplementedError

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
        t = t[len("Nullable("):-1]
    if t.startswith("LowCardinality("):
        t = t[len("LowCardinality("):-1]
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
            holder = next((ln.split(":", 1)[1].strip() for ln in status.read_text(errors="replace").splitlines()
                           if ln.startswith("PID:")), "?")
            raise ClickHouseError(f"chdb data directory {path} is in use by process {holder} (one process per "
                                  "chdb directory: stop it, or use a ClickHouse server)") from None
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
            self._session = Session(f"{self.path}?session_timezone=UTC&output_format_json_quote_64bit_integers=0"
                                    "&output_format_json_quote_denormals=0")
        except Exception as e:
            raise ClickHouseError(f"chdb: cannot open {self.path}: {_one_line(e)} (a chdb data directory is "
                                  "used by one process at a time; is a loader running on it?)") from None
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
            ins = self._session.send_insert(f"INSERT INTO {self.database}.{table} ({', '.join(columns)})",
                                            "JSONCompactEachRow")
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

    def __init__(self, host: str, port: int, database: str, user: str = "default", password: str = "",
                 connect_timeout: float = 3.0, send_receive_timeout: float = 60.0):
        super().__init__(database)
        import logging

        from clickhouse_driver import Client

        # it logs every failed connection attempt with a traceback; the error reaches the caller anyway
        logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)

        self.host, self.port = host, port
        self.where = f"{host}:{port}"
        self._client = Client(host, port=port, user=user, password=password, connect_timeout=connect_timeout,
                              send_receive_timeout=send_receive_timeout, sync_request_timeout=connect_timeout)
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
        self._run(f"INSERT INTO {self.database}.{table} ({', '.join(columns)}) VALUES", list(zip(*rows)),
                  columnar=True, types_check=False)
        return len(rows)

    def close(self) -> None:
        c = getattr(self, "_client", None)
        if c is not None:
            c.disconnect()


def _one_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0][:500] if text else type(e).__name__


def parse_url(url: str, settings: Settings) -> dict[str, Any]:
    """``chdb:``, ``chdb:///abs/path``, ``chdb:rel/path`` or ``clickhouse://[user[:pw]@]host[:port]``."""
    if url.startswith("chdb:"):
        rest = url[len("chdb:"):]
        if rest.startswith("//"):
            rest = rest[2:]
        path = Path(rest) if rest else settings.paths.work_dir / "chdb"
        return {"kind": "chdb", "path": path.resolve()}
    if url.startswith("clickhouse://"):
        u = urllib.parse.urlsplit(url)
        if not u.hostname:
            raise ClickHouseError(f"clickhouse.url {url!r} has no host; expected clickhouse://HOST:PORT")
        return {"kind": "server", "host": u.hostname, "port": u.port or 9000,
                "user": urllib.parse.unquote(u.username or "default"),
                "password": urllib.parse.unquote(u.password or "")}
    raise ClickHouseError(f"clickhouse.url {url!r} not understood; expected chdb:, chdb:///PATH or "
                          "clickhouse://HOST:PORT")


def connect(settings: Settings, url: str | None = None, database: str | None = None) -> Backend:
    """The backend ``url`` (default ``clickhouse.url``) names, version detected."""
    spec = parse_url(url or settings.clickhouse.url, settings)
    db = database or settings.clickhouse.database
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", db):
        raise ClickHouseError(f"clickhouse.database {db!r} must be a plain identifier")
    if spec["kind"] == "chdb":
        return ChdbBackend(spec["path"], db)
    return ServerBackend(spec["host"], spec["port"], db, spec["user"], spec["password"])


# --- migrations ---------------------------------------------------------------------------------------------

_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_TTL = re.compile(r"\$\{ttl\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:,\s*(\d+)\s*)?\)\}")
_CREATE_TABLE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?\$\{db\}\.([A-Za-z_][A-Za-z0-9_]*)",
                           re.IGNORECASE)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path
    text: str = field(repr=False)

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """``NNN_name.sql`` files in version order; other names are an error (a typo would be skipped silently)."""
    out: dict[int, Migration] = {}
    for p in sorted(Path(directory).glob("*.sql")):
        m = _FILE.match(p.name)
        if not m:
            raise MigrationError(f"migration file {p.name}: name must be NNN_name.sql (3 digits, lower-case name)")
        version = int(m.group(1))
        if version in out:
            raise MigrationError(f"migrations {out[version].path.name} and {p.name} have the same version")
        out[version] = Migration(version, p.stem, p, p.read_text())
    return [out[v] for v in sorted(out)]


def render(text: str, *, database: str, features: Iterable[str], retention_days: int, name: str = "") -> str:
    """Resolve ``-- @if`` blocks and ``${...}`` placeholders for one server."""
    features = set(features)
    keep: list[bool] = []
    lines = []
    for n, line in enumerate(text.splitlines(), 1):
        d = line.strip()
        if d.startswith("-- @"):
            word, _, arg = d[4:].partition(" ")
            arg = arg.strip()
            if word == "if":
                neg = arg.startswith("!")
                feat = arg.lstrip("!")
                if feat not in FEATURES:
                    raise MigrationError(f"{name}:{n}: unknown feature {feat!r} (known: {', '.join(FEATURES)})")
                keep.append((feat in features) != neg)
            elif word == "else" and keep:
                keep[-1] = not keep[-1]
            elif word == "endif" and keep:
                keep.pop()
            else:
                raise MigrationError(f"{name}:{n}: unexpected directive {d!r}")
            continue
        if all(keep) and not d.startswith("--"):  # whole-line comments go (placeholders in them stay inert)
            lines.append(line)
    if keep:
        raise MigrationError(f"{name}: -- @if without -- @endif")
    out = "\n".join(lines)

    def ttl(m: re.Match) -> str:
        if "ttl" not in features:
            return ""
        days = retention_days if m.group(2) is None else min(int(m.group(2)), retention_days)
        return f"TTL {m.group(1)} + INTERVAL {days} DAY"

    out = _TTL.sub(ttl, out).replace("${db}", database)
    if "${" in out:
        raise MigrationError(f"{name}: unknown placeholder {out[out.index('${'):].split('}')[0]}}}")
    return out


def split_statements(sql: str) -> list[str]:
    """Statements separated by ``;`` outside quotes and comments; comment-only pieces are dropped."""
    out, buf, i, n = [], [], 0, len(sql)
    quote = None
    while i < n:
        c = sql[i]
        if quote:
            buf.append(c)
            if c == "\\" and i + 1 < n:
                buf.append(sql[i + 1])
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in ("'", '"', "`"):
            quote = c
            buf.append(c)
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            buf.append(sql[i:j])
            i = j
            continue
        elif c == ";":
            out.append("".join(buf))
            buf = []
        else:
            buf.append(c)
        i += 1
    out.append("".join(buf))

    def meaningful(s: str) -> bool:
        return any(ln.strip() and not ln.strip().startswith("--") for ln in s.splitlines())

    return [s.strip() for s in out if meaningful(s)]


def _ensure_bookkeeping(backend: Backend) -> None:
    db = backend.database
    backend.execute(f"CREATE DATABASE IF NOT EXISTS {db}")
    backend.execute(
        f"CREATE TABLE IF NOT EXISTS {db}.schema_migrations (version UInt32, name String, checksum String, "
        f"applied_at DateTime) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version")


def applied(backend: Backend) -> dict[int, tuple[str, str, datetime]]:
    """version -> (name, checksum, applied_at) of the migrations recorded in ``schema_migrations``."""
    _ensure_bookkeeping(backend)
    rows = backend.query(f"SELECT version, name, checksum, applied_at FROM {backend.database}.schema_migrations "
                         "FINAL ORDER BY version")
    return {int(v): (n, c, a) for v, n, c, a in rows}


def check(backend: Backend, migrations: list[Migration], directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The pending migrations; raises if an applied one changed or is unknown here."""
    done = applied(backend)
    files = {m.version: m for m in migrations}
    for v, (name, checksum, _) in sorted(done.items()):
        m = files.get(v)
        if m is None:
            raise MigrationError(f"migration {v:03d} ({name}) is applied in {backend.database} but not in "
                                 f"{directory}: the database is newer than this code")
        if m.checksum != checksum:
            raise MigrationError(f"migration {m.path.name} was changed after it was applied to {backend.database} "
                                 f"(checksum {m.checksum[:12]}, applied {checksum[:12]}): restore it and put the "
                                 "change in a new migration")
    return [m for m in migrations if m.version not in done]


def migrate(backend: Backend, settings: Settings, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply the pending migrations in order; returns them (empty: nothing to do)."""
    pending = check(backend, discover(directory), directory)
    for m in pending:
        sql = render(m.text, database=backend.database, features=backend.features,
                     retention_days=settings.clickhouse.retention_days, name=m.path.name)
        for stmt in split_statements(sql):
            try:
                backend.execute(stmt)
            except ClickHouseError as e:
                first = " ".join(stmt.split())[:80]
                raise MigrationError(f"migration {m.path.name} failed at `{first}...`: {e}") from None
        backend.insert("schema_migrations", ["version", "name", "checksum", "applied_at"],
                       [(m.version, m.name, m.checksum, int(datetime.now(timezone.utc).timestamp()))])
    return pending


# --- retention ----------------------------------------------------------------------------------------------


def retention_tables(settings: Settings, directory: Path = MIGRATIONS_DIR) -> dict[str, int]:
    """table -> retention days, from the ``${ttl(...)}`` markers of the migrations."""
    out: dict[str, int] = {}
    for m in discover(directory):
        for stmt in split_statements(m.text):
            t, ttl = _CREATE_TABLE.search(stmt), _TTL.search(stmt)
            if t and ttl:
                days = settings.clickhouse.retention_days
                out[t.group(1)] = days if ttl.group(2) is None else min(days, int(ttl.group(2)))
    return out


def _partition_end(partition: str) -> datetime | None:
    """End (exclusive) of a ``toYYYYMM`` / ``toYYYYMMDD`` partition, or None for other partition keys."""
    p = partition.strip("'")
    try:
        if re.fullmatch(r"\d{6}", p):
            y, m = int(p[:4]), int(p[4:])
            return datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=timezone.utc)
        if re.fullmatch(r"\d{8}", p):
            return datetime(int(p[:4]), int(p[4:6]), int(p[6:]), tzinfo=timezone.utc) + timedelta(days=1)
    except ValueError:
        return None
    return None


def prune(backend: Backend, settings: Settings, now: datetime | None = None,
          dry_run: bool = False) -> list[tuple[str, str]]:
    """Drop the partitions whose whole period is older than the table's retention; returns (table, partition).

    Needed where the server has no TTL (18.16); harmless elsewhere. A monthly partition goes when its last day
    is older than the retention, so such a table keeps up to a month more than ``retention_days``."""
    now = now or datetime.now(timezone.utc)
    db = backend.database
    dropped = []
    for table, days in sorted(retention_tables(settings).items()):
        cutoff = now - timedelta(days=days)
        parts = backend.query(f"SELECT DISTINCT partition FROM system.parts WHERE database = '{db}' "
                              f"AND table = '{table}' AND active ORDER BY partition")
        for (partition,) in parts:
            end = _partition_end(str(partition))
            if end is not None and end <= cutoff:
                if not dry_run:
                    backend.execute(f"ALTER TABLE {db}.{table} DROP PARTITION {str(partition).strip(chr(39))}")
                dropped.append((table, str(partition)))
    return dropped


# --- reference data -----------------------------------------------------------------------------------------

_REFERENCE = {
    "handsets": (["tac", "brand", "model", "tier", "g3_capable"], "handsets.csv"),
    "regions": (["region_id", "name", "kind", "watched", "lat", "lon"], "regions.csv"),
}


def load_reference(backend: Backend, directory: Path) -> dict[str, int]:
    """Replace ``handsets`` and ``regions`` with ``DIR/handsets.csv`` and ``DIR/regions.csv``; table -> rows."""
    directory = Path(directory)
    loaded = {}
    for table, (columns, filename) in _REFERENCE.items():
        path = directory / filename
        if not path.is_file():
            raise ClickHouseError(f"reference file {path} not found")
        rows = []
        with path.open(newline="") as f:
            for n, rec in enumerate(csv.DictReader(f), 2):
                try:
                    rows.append(tuple(_ref_value(c, rec[c]) for c in columns))
                except (KeyError, TypeError, ValueError) as e:
                    raise ClickHouseError(f"{path}:{n}: bad or missing value ({e})") from None
        backend.execute(f"TRUNCATE TABLE {backend.database}.{table}")
        backend.insert(table, columns, rows)
        loaded[table] = len(rows)
    return loaded


def _ref_value(column: str, text: str | None) -> Any:
    if text is None:
        raise KeyError(column)
    if column in ("g3_capable", "watched"):
        if text.strip().lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"{column} must be true or false, got {text!r}")
        return int(text.strip().lower() in ("true", "1"))
    if column in ("lat", "lon"):
        return float(text)
    return text
