"""The trigger kinds, one module each, and the vocabulary they share.

A module here *is* a kind: its catalogue entry (:class:`TriggerKind`: source stream, context fields, whether it
reveals a location, whose timeline it follows), its definition as docs/triggers.md states it, its rule in plain
Python, and the ``${placeholders}`` its Flink SQL recipe (``sql/triggers/kinds/<kind>.sql``) gets from the
settings. The catalogue (udfs/trigger_kinds.py) collects the modules; the ground truth runs their rules and the
triggers job renders their recipes, and tests hold the recipes equal to the rules.

Every rule has one shape, ``rule(timeline, ref, params) -> rows``: it takes **one key's clean timeline**
(:class:`Timeline`: valid records only, exact duplicates removed, sorted by ``ts``; the key is the msisdn, or the
IMSI for a kind keyed by IMSI) and returns rows ``{"msisdn", "kind", "ts", "context"}``. A rule's docstring says
how it settles the points its definition leaves open.

Points settled for every location kind: a *location event* is a signaling event whose ``cell_id`` is in
``reference/cells.csv``; signaling events without such a cell (abroad, an unknown cell) are skipped entirely by
the location rules: they neither break a stay nor count as "outside".
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from udfs.units import MINUTE_MS

Source = Literal["signaling", "xdr", "orders"]
Row = dict[str, Any]
Located = list[tuple[dict[str, Any], str | None]]


@dataclass
class Reference:
    """The lookups the rules need, built from the reference data (touchpoint.harness.simulator.lookups reads
    them from the reference files)."""

    #: cell_id -> region_id (None when the cell is in no micro-region). Only cells in this map are "location" cells.
    cell_region: dict[int, str | None] = field(default_factory=dict)
    #: region_id -> (kind, watched)
    regions: dict[str, tuple[str, bool]] = field(default_factory=dict)
    #: tac -> handset row (brand, model, tier, g3_capable)
    handsets: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: msisdn -> (data_quota_mb, data_used_mb)
    profiles: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: 7-digit msisdn prefix -> province code
    number_ranges: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(
        cls,
        cells: Iterable[dict[str, Any]],
        regions: Iterable[dict[str, Any]],
        handsets: Iterable[dict[str, Any]],
        profiles: Iterable[dict[str, Any]],
        number_ranges: Iterable[dict[str, Any]],
    ) -> Reference:
        return cls(
            cell_region={c["cell_id"]: c["region_id"] for c in cells},
            regions={r["region_id"]: (r["kind"], r["watched"]) for r in regions},
            handsets={h["tac"]: {k: h[k] for k in ("brand", "model", "tier", "g3_capable")} for h in handsets},
            profiles={p["msisdn"]: (p["data_quota_mb"], p["data_used_mb"]) for p in profiles},
            number_ranges={n["prefix"]: n["province"] for n in number_ranges},
        )


@dataclass
class Timeline:
    """One key's clean records, each list in ``ts`` order: valid, exact duplicates removed. For a kind keyed by
    msisdn, one subscriber's signaling, xDRs and orders and their profile's ``(data_quota_mb, data_used_mb)``; for a
    kind keyed by IMSI, one IMSI's signaling."""

    signaling: list[dict[str, Any]] = field(default_factory=list)
    xdrs: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    profile: tuple[int, int] | None = None
    _located: Located | None = None

    def located(self, ref: Reference) -> Located:
        """The location events (:func:`location_events`), computed once for every location kind."""
        if self._located is None:
            self._located = location_events(self.signaling, ref)
        return self._located


# ------------------------------------------------------------------------------------------------ parameters


@lru_cache(maxsize=8)
def _month_starts(tz: str) -> tuple[int, ...]:
    z = ZoneInfo(tz)
    return tuple(int(datetime(y, m, 1, tzinfo=z).timestamp() * 1000) for y in range(1969, 2302) for m in range(1, 13))


def billing_month(ts: int, tz: str) -> int:
    """Index of the calendar month (in ``tz``) that contains ``ts``; equal indexes = same billing month."""
    return bisect_right(_month_starts(tz), ts)


def month_index(month: str, tz: str) -> int:
    """The :func:`billing_month` index of ``yyyy-MM``."""
    year, number = map(int, month.split("-"))
    return billing_month(int(datetime(year, number, 1, tzinfo=ZoneInfo(tz)).timestamp() * 1000), tz)


@dataclass(frozen=True)
class Params:
    """The settings the rules read (``triggers`` and ``network``), in milliseconds where they are durations."""

    region_entry_min_outside_ms: int
    dwell_minutes: int
    directory_number: str
    hotline_numbers: frozenset[str]
    handset_store_visits: int
    handset_store_window_ms: int
    power_on_min_off_ms: int
    #: highest first
    quota_thresholds_mb: tuple[int, ...]
    zero_usage_window_ms: int
    abnormal_usage_bytes: int
    roam_in_gap_ms: int
    home_plmns: frozenset[str]
    home_province: str
    #: billing months are calendar months here (``triggers.timezone``)
    timezone: str
    #: :func:`billing_month` index of ``triggers.billing_month``: the month ``data_used_mb`` belongs to
    usage_month: int

    @property
    def dwell_ms(self) -> int:
        return self.dwell_minutes * MINUTE_MS

    @classmethod
    def from_settings(cls, settings: Any) -> Params:
        t, n = settings.triggers, settings.network
        return cls(
            region_entry_min_outside_ms=t.region_entry_min_outside_ms,
            dwell_minutes=t.dwell_minutes,
            directory_number=t.directory_number,
            hotline_numbers=frozenset(t.hotline_numbers),
            handset_store_visits=t.handset_store_visits,
            handset_store_window_ms=t.handset_store_window_ms,
            power_on_min_off_ms=t.power_on_min_off_ms,
            quota_thresholds_mb=tuple(sorted(set(t.quota_thresholds_mb), reverse=True)),
            zero_usage_window_ms=t.zero_usage_window_ms,
            abnormal_usage_bytes=t.abnormal_usage_bytes,
            roam_in_gap_ms=t.roam_in_gap_ms,
            home_plmns=frozenset(n.home_plmns),
            home_province=n.home_province,
            timezone=t.timezone,
            usage_month=month_index(t.billing_month, t.timezone),
        )


# ------------------------------------------------------------------------------------------------ the unit

Rule = Callable[[Timeline, Reference, Params], list[Row]]
#: settings -> the values of the ``${placeholders}`` a recipe adds to the job's common ones; a list or set is
#: rendered as a SQL ``IN`` list, anything else as it is
Placeholders = Callable[[Any], dict[str, Any]]


def no_placeholders(settings: Any) -> dict[str, Any]:
    """For a recipe that needs nothing of the settings beyond the job's common placeholders."""
    return {}


@dataclass(frozen=True)
class TriggerKind:
    """One kind (or the quota family) of docs/triggers.md: what the catalogue, the docs, the ground truth and the
    triggers job need to know of it."""

    #: the kind's name, also its module's and its recipe's; for the quota family, ``quota``
    name: str
    #: the stream the situation is found in
    source: Source
    #: the fields of a trigger's ``context`` (campaigns filter on these and use them in messages)
    context: tuple[str, ...]
    #: the definition, as docs/triggers.md's table states it (markdown)
    fires_when: str
    #: the rule: the definition in plain Python
    rule: Rule = field(compare=False)
    #: what docs/triggers.md adds after the context fields (markdown)
    context_note: str = ""
    #: the kind reveals where the subscriber is, so a lead needs location consent
    location: bool = False
    #: one kind per quota threshold (``quota_<n>mb``)
    per_threshold: bool = False
    #: whose timeline the rule follows: the subscriber's, or the SIM's (IMSI) for a kind about the handset in it
    key: Literal["msisdn", "imsi"] = "msisdn"
    #: how the settings reach the recipe
    placeholders: Placeholders = field(default=no_placeholders, compare=False)


# ------------------------------------------------------------------------------------------------ shared pieces


def row(e: dict[str, Any], kind: str, ts: int, context: dict[str, Any]) -> Row:
    """A trigger row of ``e``'s subscriber."""
    return {"msisdn": e["msisdn"], "kind": kind, "ts": ts, "context": context}


def location_events(signaling: Iterable[dict[str, Any]], ref: Reference) -> Located:
    """A *location event* is any signaling event with a ``cell_id`` that is in ``reference/cells.csv``; the
    subscriber's region at that event is the cell's ``region_id``. Returns ``(event, region_id)`` pairs."""
    cr = ref.cell_region
    return [(e, cr[c]) for e in signaling if (c := e.get("cell_id")) is not None and c in cr]


def calls_to(t: Timeline, kind: str, numbers: frozenset[str]) -> list[Row]:
    """``kind`` on every ``mo_call`` whose ``called_number`` is one of ``numbers``. Context: ``called_number``."""
    return [
        row(e, kind, e["ts"], {"called_number": e["called_number"]})
        for e in t.signaling
        if e["event_type"] == "mo_call" and e.get("called_number") in numbers
    ]
