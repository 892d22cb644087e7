"""The trigger kinds: the one catalogue every other list of kinds is derived from.

A *kind* is one module of udfs/kinds/ (its entry, definition, rule and placeholders; see that package's
docstring); this module collects them, in the order of their names. The settings (which kinds the triggers job
runs, which kinds need location consent), campaign validation (the context fields a campaign may filter on), the
ground truth (which runs :data:`RULES`) and the triggers job's recipes are derived from :data:`KINDS`; the copies
that cannot be derived — the kind enums of the JSON Schemas and docs/triggers.md's table — are generated from it
(``touchpoint kinds sync``) and held current by tests/udfs/test_trigger_kinds.py.

The data-plan reminders are one *family*: ``quota_<n>mb`` for every threshold in
``triggers.quota_thresholds_mb``, one parameterised recipe rendered per threshold.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable

from udfs import kinds as _package
from udfs.kinds import Rule, TriggerKind
from udfs.kinds.quota import quota_kind

__all__ = ["KINDS", "QUOTA_PATTERN", "RULES", "TriggerKind", "quota_kind", "quota_threshold", "spec"]


def _collect() -> tuple[TriggerKind, ...]:
    found = []
    for module in sorted(m.name for m in pkgutil.iter_modules(_package.__path__)):
        kind = importlib.import_module(f"{_package.__name__}.{module}").KIND
        if kind.name != module:
            raise ValueError(f"udfs/kinds/{module}.py defines the kind {kind.name!r}; a kind's module is its name")
        found.append(kind)
    return tuple(found)


#: Every kind, in the order of their names (the order of docs/triggers.md's table).
KINDS: tuple[TriggerKind, ...] = _collect()
#: kind (the quota family: ``quota``) -> its rule
RULES: dict[str, Rule] = {k.name: k.rule for k in KINDS}

_BY_NAME = {k.name: k for k in KINDS}
#: The quota kinds: in the JSON Schemas (which accept any threshold) and here.
QUOTA_PATTERN = r"^quota_[0-9]+mb$"


def quota_threshold(kind: str) -> int | None:
    """The threshold of a quota kind (``quota_20mb`` -> 20); None for any other kind."""
    return int(kind[len("quota_") : -len("mb")]) if re.fullmatch(QUOTA_PATTERN, kind) else None


def spec(kind: str) -> TriggerKind:
    """The catalogue entry of ``kind`` (the quota family for ``quota_<n>mb``); KeyError for an unknown kind."""
    if quota_threshold(kind) is not None:
        return _BY_NAME["quota"]
    if kind not in _BY_NAME or _BY_NAME[kind].per_threshold:
        raise KeyError(f"unknown trigger kind {kind!r}; known: {', '.join(describe_names())}")
    return _BY_NAME[kind]


def fixed_names() -> list[str]:
    """Every kind that is not one of a family, in catalogue order."""
    return [k.name for k in KINDS if not k.per_threshold]


def describe_names() -> list[str]:
    """Every kind for messages: the fixed names and ``quota_<n>mb``."""
    return [("quota_<n>mb" if k.per_threshold else k.name) for k in KINDS]


def names(quota_thresholds_mb: Iterable[int]) -> list[str]:
    """Every kind for these quota thresholds (highest first), in catalogue order."""
    out: list[str] = []
    for k in KINDS:
        if k.per_threshold:
            out += [quota_kind(t) for t in sorted(set(quota_thresholds_mb), reverse=True)]
        else:
            out.append(k.name)
    return out


def location_names() -> list[str]:
    """Kinds that reveal where the subscriber is (a lead needs location consent)."""
    return [k.name for k in KINDS if k.location]
