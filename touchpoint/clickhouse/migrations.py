"""Versioned ClickHouse migrations: ``sql/clickhouse/NNN_name.sql``, the same files on every backend.

Each file is rendered for the server it runs on (its :data:`~touchpoint.clickhouse.backends.FEATURES`):

- ``${db}`` → ``clickhouse.database``; ``${lookup_db}`` → ``privacy.lookup_database`` (default ``<db>_pii``),
  the database of the one table holding subscribers' numbers (docs/privacy.md);
- ``${ttl(COL)}`` → ``TTL COL + INTERVAL <retention_days> DAY`` where the server has TTL, else nothing;
  ``${ttl(COL, N)}`` caps the retention of that table at N days. Tables without TTL are trimmed by
  touchpoint.clickhouse.retention (``touchpoint db prune``), so such tables are partitioned by ``toYYYYMM(COL)``
  or ``toYYYYMMDD(COL)``;
- lines between ``-- @if FEATURE`` (or ``-- @if !FEATURE``) and ``-- @endif`` (optional ``-- @else``) are kept
  only where the server has (lacks) FEATURE.

Applied migrations are recorded in ``<database>.schema_migrations`` (version, name, checksum, applied_at);
applying again is a no-op, and an applied file that changed since is an error naming it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from touchpoint.clickhouse.backends import FEATURES, Backend, ClickHouseError
from touchpoint.config import Settings
from touchpoint.resources import resource_dir

MIGRATIONS_DIR = resource_dir("sql") / "clickhouse"


class MigrationError(ClickHouseError):
    """The migrations cannot be applied (a changed or unknown migration, a bad file, a failing statement)."""


_FILE = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
TTL_MARKER = re.compile(r"\$\{ttl\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:,\s*(\d+)\s*)?\)\}")
CREATE_TABLE = re.compile(
    r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?\$\{db\}\.([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE
)


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


def render(
    text: str,
    *,
    database: str,
    features: Iterable[str],
    retention_days: int,
    name: str = "",
    lookup_database: str | None = None,
) -> str:
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

    out = TTL_MARKER.sub(ttl, out).replace("${db}", database)
    out = out.replace("${lookup_db}", lookup_database or lookup_database_of(database))
    if "${" in out:
        raise MigrationError(f"{name}: unknown placeholder {out[out.index('${') :].split('}')[0]}}}")
    return out


def lookup_database_of(database: str, configured: str | None = None) -> str:
    """The database of the subscriber lookup table beside analytics database ``database``."""
    return configured or f"{database}_pii"


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
        f"applied_at DateTime) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version"
    )


def applied(backend: Backend) -> dict[int, tuple[str, str, datetime]]:
    """version -> (name, checksum, applied_at) of the migrations recorded in ``schema_migrations``."""
    _ensure_bookkeeping(backend)
    rows = backend.query(
        f"SELECT version, name, checksum, applied_at FROM {backend.database}.schema_migrations FINAL ORDER BY version"
    )
    return {int(v): (n, c, a) for v, n, c, a in rows}


def check(backend: Backend, migrations: list[Migration], directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The pending migrations; raises if an applied one changed or is unknown here."""
    done = applied(backend)
    files = {m.version: m for m in migrations}
    for v, (name, checksum, _) in sorted(done.items()):
        m = files.get(v)
        if m is None:
            raise MigrationError(
                f"migration {v:03d} ({name}) is applied in {backend.database} but not in "
                f"{directory}: the database is newer than this code"
            )
        if m.checksum != checksum:
            raise MigrationError(
                f"migration {m.path.name} was changed after it was applied to {backend.database} "
                f"(checksum {m.checksum[:12]}, applied {checksum[:12]}): restore it and put the "
                "change in a new migration"
            )
    return [m for m in migrations if m.version not in done]


def migrate(backend: Backend, settings: Settings, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply the pending migrations in order; returns them (empty: nothing to do)."""
    pending = check(backend, discover(directory), directory)
    for m in pending:
        sql = render(
            m.text,
            database=backend.database,
            features=backend.features,
            retention_days=settings.clickhouse.retention_days,
            name=m.path.name,
            lookup_database=lookup_database_of(backend.database, settings.privacy.lookup_database),
        )
        for stmt in split_statements(sql):
            try:
                backend.execute(stmt)
            except ClickHouseError as e:
                first = " ".join(stmt.split())[:80]
                raise MigrationError(f"migration {m.path.name} failed at `{first}...`: {e}") from None
        backend.insert(
            "schema_migrations",
            ["version", "name", "checksum", "applied_at"],
            [(m.version, m.name, m.checksum, int(datetime.now(UTC).timestamp()))],
        )
    return pending
