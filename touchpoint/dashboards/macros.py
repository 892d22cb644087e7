"""A port of what Grafana and the ClickHouse plugin do to a panel's SQL before ClickHouse sees it.

Template variables are substituted as Grafana's frontend does (``$v``, ``${v}``, ``${v:singlequote}``, ``[[v]]``;
a multi-value variable without a format becomes ``'a','b'`` as in the plugin), then the plugin's backend macros
are expanded for a time range: ``$__timeFilter(col)``, ``$__fromTime``/``$__toTime`` (and ``_ms``),
``$__timeInterval(col)``, ``$__interval_s``, ``$__dateFilter``, and sqlds' ``$__conditionalAll(cond, $var)``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from touchpoint.dashboards.model import DashboardError

#: Backend macros of the ClickHouse plugin (pkg/macros) and sqlds' conditionalAll (applied in the frontend).
PLUGIN_MACROS = {
    "timeFilter",
    "timeFilter_ms",
    "dateFilter",
    "dateTimeFilter",
    "dt",
    "fromTime",
    "toTime",
    "fromTime_ms",
    "toTime_ms",
    "timeInterval",
    "timeInterval_ms",
    "interval_s",
    "conditionalAll",
}

#: Grafana's global variables (frontend), substituted before the plugin's macros.
GLOBAL_VARIABLES = {
    "__from",
    "__to",
    "__interval",
    "__interval_ms",
    "__range",
    "__range_s",
    "__range_ms",
    "__dashboard",
    "__org",
    "__user",
}

_VAR_REF = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")


def referenced_variables(sql: str) -> set[str]:
    names = set()
    for m in _VAR_REF.finditer(sql):
        name = m.group(1) or m.group(2) or m.group(3)
        if name.startswith("__"):
            continue
        names.add(name)
    return names


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime
    interval_s: int

    @classmethod
    def of(cls, start: datetime, end: datetime, max_points: int = 1000) -> TimeRange:
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        if end.tzinfo is None:
            end = end.replace(tzinfo=UTC)
        if end <= start:
            raise DashboardError(
                f"time range ends ({end:%Y-%m-%dT%H:%M:%SZ}) before it starts ({start:%Y-%m-%dT%H:%M:%SZ})"
            )
        return cls(start, end, nice_interval((end - start).total_seconds() / max_points))

    def __str__(self) -> str:
        return (
            f"{self.start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} .. "
            f"{self.end.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} (interval {self.interval_s}s)"
        )


#: Grafana rounds the panel interval to one of these (seconds).
_NICE = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400]


def nice_interval(seconds: float) -> int:
    for step in _NICE:
        if seconds <= step:
            return step
    return int(math.ceil(seconds / 86400) * 86400)


@dataclass(frozen=True)
class Variable:
    """A template variable's current value: ``values`` selected, ``all`` when "All" is selected (then ``values``
    are all its options, as Grafana expands them)."""

    name: str
    values: tuple[str, ...]
    all: bool = False
    multi: bool = True

    def describe(self) -> str:
        return f"{self.name}=All" if self.all else f"{self.name}={','.join(self.values)}"


def sql_quote(value: str) -> str:
    """A ClickHouse string literal: backslashes and quotes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _format(var: Variable, fmt: str | None) -> str:
    vals = list(var.values)
    if fmt in ("singlequote",):
        return ",".join(sql_quote(v) for v in vals)
    if fmt == "sqlstring":
        return ",".join("'" + v.replace("'", "''") + "'" for v in vals)
    if fmt == "doublequote":
        return ",".join('"' + v.replace('"', '\\"') + '"' for v in vals)
    if fmt in ("csv", "raw"):
        return ",".join(vals)
    if fmt == "pipe":
        return "|".join(vals)
    if fmt == "regex":
        return "(" + "|".join(re.escape(v) for v in vals) + ")" if len(vals) != 1 else re.escape(vals[0])
    if fmt == "text":
        return "All" if var.all else " + ".join(vals)
    if fmt is not None:
        raise DashboardError(f"variable format {fmt!r} is not supported by the checker")
    # no format: the plugin's own formatter — a list becomes 'a','b', a single value stays raw
    if var.multi or var.all or len(vals) != 1:
        return "'" + "','".join(vals) + "'"
    return vals[0]


def _macro_args(sql: str, open_paren: int) -> tuple[list[str], int]:
    """Arguments of a macro call whose ``(`` is at ``open_paren``: (args, index after the closing paren)."""
    depth, start, args, i, quote = 0, open_paren + 1, [], open_paren, None
    while i < len(sql):
        c = sql[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "'\"`":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                args.append(sql[start:i])
                return [a.strip() for a in args], i + 1
        elif c == "," and depth == 1:
            args.append(sql[start:i])
            start = i + 1
        i += 1
    raise DashboardError(f"unbalanced parentheses after {sql[max(0, open_paren - 20) : open_paren + 1]!r}")


def _conditional_all(sql: str, variables: dict[str, Variable]) -> str:
    """``$__conditionalAll(condition, $var)``: the condition, or ``1=1`` when ``$var`` is All or empty."""
    macro = "$__conditionalAll("
    while (i := sql.rfind(macro)) >= 0:
        args, end = _macro_args(sql, i + len(macro) - 1)
        if len(args) != 2:
            raise DashboardError(f"$__conditionalAll needs 2 arguments, got {len(args)}")
        m = re.search(r"\$\{(\w+)\}|\$(\w+)", args[1])
        var = variables.get(m.group(1) or m.group(2)) if m else None
        phrase = args[0]
        if var is not None and (var.all or not var.values or var.values == ("",)):
            phrase = "1=1"
        sql = sql[:i] + phrase + sql[end:]
    return sql


def _epoch_s(dt: datetime) -> int:
    return int(dt.timestamp())


def _epoch_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def _backend_macro(name: str, args: list[str], rng: TimeRange) -> str:
    frm, to = rng.start, rng.end

    def need(n: int) -> None:
        if len(args) != n:
            raise DashboardError(f"$__{name} expects {n} argument(s), got {len(args)}")

    if name == "fromTime":
        return f"toDateTime({_epoch_s(frm)})"
    if name == "toTime":
        return f"toDateTime({_epoch_s(to)})"
    if name == "fromTime_ms":
        return f"fromUnixTimestamp64Milli({_epoch_ms(frm)})"
    if name == "toTime_ms":
        return f"fromUnixTimestamp64Milli({_epoch_ms(to)})"
    if name == "timeFilter":
        need(1)
        return f"{args[0]} >= toDateTime({_epoch_s(frm)}) AND {args[0]} <= toDateTime({_epoch_s(to)})"
    if name == "timeFilter_ms":
        need(1)
        return (
            f"{args[0]} >= fromUnixTimestamp64Milli({_epoch_ms(frm)}) AND "
            f"{args[0]} <= fromUnixTimestamp64Milli({_epoch_ms(to)})"
        )
    if name == "dateFilter":
        need(1)
        return (
            f"{args[0]} >= toDate('{frm.astimezone(UTC):%Y-%m-%d}') AND "
            f"{args[0]} <= toDate('{to.astimezone(UTC):%Y-%m-%d}')"
        )
    if name in ("dateTimeFilter", "dt"):
        need(2)
        return (
            f"({args[0]} >= toDate('{frm.astimezone(UTC):%Y-%m-%d}') AND "
            f"{args[0]} <= toDate('{to.astimezone(UTC):%Y-%m-%d}')) AND "
            f"({args[1]} >= toDateTime({_epoch_s(frm)}) AND {args[1]} <= toDateTime({_epoch_s(to)}))"
        )
    if name == "timeInterval":
        need(1)
        return f"toStartOfInterval(toDateTime({args[0]}), INTERVAL {max(rng.interval_s, 1)} second)"
    if name == "timeInterval_ms":
        need(1)
        return f"toStartOfInterval(toDateTime64({args[0]}, 3), INTERVAL {max(rng.interval_s, 1) * 1000} millisecond)"
    if name == "interval_s":
        return str(max(rng.interval_s, 1))
    raise DashboardError(f"unknown macro $__{name}")


def expand(sql: str, rng: TimeRange, variables: dict[str, Variable] | None = None) -> str:
    """The SQL the plugin sends to ClickHouse for ``rng`` and ``variables``: Grafana's variable substitution
    (frontend), then the plugin's macros (backend)."""
    variables = variables or {}
    sql = _conditional_all(sql, variables)
    globals_ = {
        "__from": str(_epoch_ms(rng.start)),
        "__to": str(_epoch_ms(rng.end)),
        "__interval": f"{rng.interval_s}s",
        "__interval_ms": str(rng.interval_s * 1000),
        "__range_s": str(int((rng.end - rng.start).total_seconds())),
        "__range_ms": str(int((rng.end - rng.start).total_seconds() * 1000)),
        "__range": f"{int((rng.end - rng.start).total_seconds())}s",
    }

    def substitute(m: re.Match) -> str:
        whole = m.group(0)
        name = m.group(1) or m.group(3) or m.group(5)
        fmt = m.group(2) or m.group(4)
        if name in globals_:
            return globals_[name]
        var = variables.get(name)
        if var is None:
            return whole  # a backend macro ($__timeFilter) or an unknown name: left as Grafana leaves it
        return _format(var, fmt)

    sql = re.sub(r"\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]|\$(\w+)(?!\w)", substitute, sql)

    out, i = [], 0
    for m in re.finditer(r"\$__(\w+)", sql):
        if m.start() < i:
            continue
        name = m.group(1)
        out.append(sql[i : m.start()])
        end = m.end()
        args: list[str] = []
        if (
            end < len(sql)
            and sql[end] == "("
            and name not in ("fromTime", "toTime", "fromTime_ms", "toTime_ms", "interval_s")
        ):
            args, end = _macro_args(sql, end)
        out.append(_backend_macro(name, args, rng))
        i = end
    out.append(sql[i:])
    return "".join(out)


def parse_time(text: str) -> datetime:
    """ISO-8601 (a naive value is UTC) or Unix seconds."""
    t = text.strip()
    if re.fullmatch(r"\d{9,11}", t):
        return datetime.fromtimestamp(int(t), UTC)
    try:
        dt = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise DashboardError(f"time {text!r}: expected ISO-8601 (2026-11-02T08:00:00Z) or Unix seconds") from None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
