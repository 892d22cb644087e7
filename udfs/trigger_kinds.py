"""The trigger kinds: the one catalogue every other list of kinds is derived from.

A *kind* names one marketing moment defined in docs/triggers.md. The settings (which kinds the triggers job
runs, which kinds need location consent), campaign validation (the context fields a campaign may filter on),
the rules (udfs/trigger_rules.py, which the ground truth runs) and the triggers job's recipes are all derived
from :data:`KINDS`; the copies that cannot be
derived — the JSON Schemas, docs/triggers.md and the recipe files in sql/triggers/kinds/ — are held equal to it
by tests/udfs/test_trigger_kinds.py.

The data-plan reminders are one *family*: ``quota_<n>mb`` for every threshold in
``triggers.quota_thresholds_mb``, one parameterised recipe rendered per threshold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Source = Literal["signaling", "xdr", "orders"]


@dataclass(frozen=True)
class TriggerKind:
    """One kind (or the quota family) of docs/triggers.md."""

    #: the kind's name; for the quota family, the recipe name ``quota``
    name: str
    #: the stream the situation is found in
    source: Source
    #: the fields of a trigger's ``context`` (campaigns filter on these and use them in messages)
    context: tuple[str, ...]
    #: the kind reveals where the subscriber is, so a lead needs location consent
    location: bool = False
    #: one kind per quota threshold (``quota_<n>mb``)
    per_threshold: bool = False
    #: whose timeline the rule follows (udfs/trigger_rules.py): the subscriber's, or the SIM's (IMSI) for a kind
    #: about the handset in it
    key: Literal["msisdn", "imsi"] = "msisdn"


#: In the order of docs/triggers.md.
KINDS: tuple[TriggerKind, ...] = (
    TriggerKind("region_entry", "signaling", ("region_id", "region_kind"), location=True),
    TriggerKind("dwell", "signaling", ("region_id", "region_kind", "stay_start", "dwell_minutes"), location=True),
    TriggerKind("dial_114", "signaling", ("called_number",)),
    TriggerKind("dial_hotline", "signaling", ("called_number",)),
    TriggerKind(
        "handset_change",
        "signaling",
        (
            "old_imei",
            "new_imei",
            "old_tac",
            "new_tac",
            "old_brand",
            "old_model",
            "old_tier",
            "old_g3_capable",
            "new_brand",
            "new_model",
            "new_tier",
            "new_g3_capable",
        ),
        key="imsi",
    ),
    TriggerKind("handset_store_visits", "signaling", ("visits", "region_ids"), location=True),
    TriggerKind("roam_in", "signaling", ("plmn", "province", "country", "operator")),
    TriggerKind("roam_out", "signaling", ("vlr_plmn", "country", "operator"), location=True),
    TriggerKind("power_on", "signaling", ("off_minutes",)),
    TriggerKind("call_forward_set", "signaling", ("forward_to",)),
    TriggerKind("quota", "xdr", ("threshold_mb", "remaining_bytes"), per_threshold=True),
    TriggerKind("zero_usage", "orders", ("order_id", "product_id")),
    TriggerKind("abnormal_usage", "xdr", ("hour_start", "bytes")),
)

_BY_NAME = {k.name: k for k in KINDS}
#: The quota kinds: in the JSON Schemas (which accept any threshold) and here.
QUOTA_PATTERN = r"^quota_[0-9]+mb$"


def quota_kind(threshold_mb: int) -> str:
    """The kind of one quota threshold: 20 -> ``quota_20mb``."""
    return f"quota_{threshold_mb}mb"


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
